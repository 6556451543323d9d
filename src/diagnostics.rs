//! Diagnostics: per-layer statistics and warnings that explain why a network does not learn.
//!
//! [`Network::diagnose`] runs one forward and one backward pass on a batch (the weights are not
//! touched) and measures, per layer, what the initialization literature looks at: the spread of
//! the activations and how it evolves with depth (Glorot & Bengio, 2010; He et al., 2015),
//! saturated and dead units, and the size of the weight gradients. Rules of thumb turn the
//! numbers into [`Warning`]s, each naming a cause and a remedy.

use std::fmt;

use crate::activation::ActivationFamily;
use crate::error::Result;
use crate::init::InitializerFamily;
use crate::loss::Loss;
use crate::nn::{Dense, History, Network, l2_norm};

/// What [`Network::diagnose`] measured about one layer.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct LayerStats {
    /// The layer's index (0 = first dense layer).
    pub index: usize,
    /// Inputs per unit.
    pub in_features: usize,
    /// Units.
    pub out_features: usize,
    /// The activation's name.
    pub activation: String,
    /// The name of the initializer that filled the weight (`"custom"` if set by hand).
    pub initializer: &'static str,
    /// Mean of the layer's outputs over the batch and the units.
    pub activation_mean: f32,
    /// Standard deviation of the layer's outputs over the batch and the units.
    pub activation_std: f32,
    /// `activation_std` divided by the std of the network's input batch (NaN for a constant
    /// input): how much the signal grew or shrank up to this layer.
    pub std_ratio: f32,
    /// Fraction of outputs within 2% of a bounded activation's asymptotes (0 for unbounded
    /// activations).
    pub saturated_fraction: f32,
    /// Fraction of units whose output is zero for every sample (0 unless the activation is a
    /// rectifier).
    pub dead_fraction: f32,
    /// Number of units that duplicate another unit of the layer: identical incoming weights
    /// and bias, or identical non-constant outputs on every sample.
    pub symmetric_units: usize,
    /// L2 norm of the weight gradient on the batch.
    pub gradient_norm: f32,
    /// Standard deviation of the weights.
    pub weight_std: f32,
}

/// Why a network may not learn, in words; [`Display`](fmt::Display) gives cause and remedy.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Warning {
    /// Units of a layer compute the same function, so they receive the same gradient and stay
    /// identical forever: the layer is as good as one unit.
    SymmetricUnits {
        /// The layer.
        layer: usize,
        /// How many units duplicate another.
        units: usize,
        /// The layer's width.
        of: usize,
    },
    /// The first layer's weight gradient is over 1000x smaller than the last layer's.
    VanishingGradients {
        /// First layer's weight-gradient norm.
        first: f32,
        /// Last layer's weight-gradient norm.
        last: f32,
    },
    /// The first layer's weight gradient is over 1000x larger than the last layer's.
    ExplodingGradients {
        /// First layer's weight-gradient norm.
        first: f32,
        /// Last layer's weight-gradient norm.
        last: f32,
    },
    /// The activations' std shrinks over 100x from the first to the last hidden layer.
    VanishingSignal {
        /// First layer's activation std.
        first: f32,
        /// Last hidden layer's activation std.
        last: f32,
    },
    /// The activations' std grows over 100x from the first to the last hidden layer.
    ExplodingSignal {
        /// First layer's activation std.
        first: f32,
        /// Last hidden layer's activation std.
        last: f32,
    },
    /// Most units of a rectifier layer output zero for every sample and get no gradient.
    DeadUnits {
        /// The layer.
        layer: usize,
        /// Fraction of dead units.
        fraction: f32,
    },
    /// Many outputs of a bounded activation sit at its asymptotes, where its slope is ~0.
    SaturatedUnits {
        /// The layer.
        layer: usize,
        /// Fraction of saturated outputs.
        fraction: f32,
        /// The activation's name.
        activation: String,
    },
    /// An initializer designed for another kind of activation.
    MismatchedInit {
        /// The layers concerned.
        layers: Vec<usize>,
        /// The activation's name.
        activation: String,
        /// The initializer's name.
        initializer: String,
        /// The initializer family that suits the activation.
        suggestion: &'static str,
    },
    /// The training loss stopped improving (from [`Report::with_history`]).
    StalledLoss {
        /// How many final epochs were looked at.
        epochs: usize,
        /// The loss at the start of that window.
        first: f32,
        /// The best loss within the window.
        best: f32,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::SymmetricUnits { layer, units, of } => write!(
                f,
                "layer {layer}: {units} of {of} units are identical (they get the same \
                 gradient, so they can never become different): initialized to the same value; \
                 use a random initializer such as GlorotUniform"
            ),
            Warning::VanishingGradients { first, last } => write!(
                f,
                "vanishing gradients: the first layer's weight gradient ({first:.3e}) is over \
                 1000x smaller than the last layer's ({last:.3e}), so the early \
                 layers barely learn; use the initializer that matches the activation (He for \
                 ReLU, Glorot for tanh/sigmoid) or a non-saturating activation"
            ),
            Warning::ExplodingGradients { first, last } => write!(
                f,
                "exploding gradients: the first layer's weight gradient ({first:.3e}) is over \
                 1000x larger than the last layer's ({last:.3e}), so training \
                 will be unstable; the weights are too large: use a variance-scaled \
                 initializer (Glorot or He) instead"
            ),
            Warning::VanishingSignal { first, last } => write!(
                f,
                "vanishing signal: the activations' std falls from {first:.3e} in the first \
                 layer to {last:.3e} in the last hidden layer, so deep layers see almost \
                 nothing; the weights are too small for the activation: use He for ReLU, \
                 Glorot for tanh/sigmoid"
            ),
            Warning::ExplodingSignal { first, last } => write!(
                f,
                "exploding signal: the activations' std grows from {first:.3e} in the first \
                 layer to {last:.3e} in the last hidden layer; the weights are too large: use \
                 a variance-scaled initializer (Glorot or He)"
            ),
            Warning::DeadUnits { layer, fraction } => write!(
                f,
                "layer {layer}: {:.0}% of the units are dead (zero for every sample), so they \
                 get no gradient and never recover; use He initialization, zero or small \
                 positive biases, a lower learning rate, or LeakyRelu",
                100.0 * fraction
            ),
            Warning::SaturatedUnits {
                layer,
                fraction,
                activation,
            } => write!(
                f,
                "layer {layer}: {:.0}% of the {activation} outputs are saturated (at their \
                 asymptotes, where the slope is nearly zero), so gradients do not flow; the \
                 weights are too large: use Glorot initialization (gain 1 for sigmoid, 5/3 \
                 for tanh) or normalize the inputs",
                100.0 * fraction
            ),
            Warning::MismatchedInit {
                layers,
                activation,
                initializer,
                suggestion,
            } => write!(
                f,
                "layers {layers:?}: {initializer} does not suit {activation}: its variance is \
                 derived for another activation, so the signal shrinks or grows layer after \
                 layer; use {suggestion}"
            ),
            Warning::StalledLoss {
                epochs,
                first,
                best,
            } => write!(
                f,
                "stalled loss: over the last {epochs} epochs the loss went from {first:.6} to \
                 at best {best:.6} (less than {:.1}% better); unless it cannot go lower, look \
                 for symmetric, dead or saturated units above, or raise the learning rate",
                100.0 * Report::STALL_TOLERANCE
            ),
        }
    }
}

/// The result of [`Network::diagnose`]: per-layer statistics and warnings.
///
/// Prints as a table followed by the warnings.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Report {
    /// The loss on the batch.
    pub loss: f32,
    /// The accuracy on the batch, for classification losses.
    pub accuracy: Option<f32>,
    /// Standard deviation of the input batch.
    pub input_std: f32,
    /// One entry per layer, input side first.
    pub layers: Vec<LayerStats>,
    /// Everything that looks wrong, most fundamental first.
    pub warnings: Vec<Warning>,
}

impl Report {
    /// A layer is reported as mostly dead when at least this fraction of its units never fire.
    pub const DEAD_THRESHOLD: f32 = 0.5;
    /// A layer is reported as saturated when at least this fraction of its outputs sit within 2%
    /// of an asymptote (their gradient is then below about 2% of its peak).
    pub const SATURATED_THRESHOLD: f32 = 0.3;
    /// How close to an asymptote counts as saturated, relative to the asymptote's magnitude.
    pub const SATURATION_MARGIN: f32 = 0.02;
    /// First-layer / last-layer weight-gradient norm ratios outside `[1e-3, 1e3]` are reported
    /// as vanishing or exploding gradients.
    pub const GRADIENT_RATIO: f32 = 1e3;
    /// Activation-std ratios (last hidden layer / first layer) outside `[1e-2, 1e2]` are
    /// reported as a vanishing or exploding signal.
    pub const SIGNAL_RATIO: f32 = 1e2;
    /// A ReLU-family net initialized with Glorot is reported from this many layers on: each layer
    /// halves the signal's variance, so by then its std has shrunk about 4x or more.
    pub const DEEP_NETWORK_LAYERS: usize = 5;
    /// The loss counts as stalled when it improved by less than this fraction over the window.
    pub const STALL_TOLERANCE: f32 = 1e-3;
    /// The number of final epochs [`Report::with_history`] looks at (at least 3 are needed).
    pub const STALL_WINDOW: usize = 10;

    /// A report from its parts (the struct is `#[non_exhaustive]`: fields added later get their
    /// neutral value), e.g. to test code that reads reports.
    ///
    /// ```
    /// let report = nninit::Report::new(0.25, Some(0.9), 1.0, vec![], vec![]);
    /// assert_eq!((report.loss, report.accuracy), (0.25, Some(0.9)));
    /// ```
    pub fn new(
        loss: f32,
        accuracy: Option<f32>,
        input_std: f32,
        layers: Vec<LayerStats>,
        warnings: Vec<Warning>,
    ) -> Report {
        Report {
            loss,
            accuracy,
            input_std,
            layers,
            warnings,
        }
    }

    /// Adds a [`Warning::StalledLoss`] if the loss of `history`'s last epochs (up to
    /// [`Report::STALL_WINDOW`], at least 3) improved by less than
    /// [`Report::STALL_TOLERANCE`] relative, while staying above 1e-4.
    ///
    /// ```
    /// use nninit::{EpochMetrics, History, Report, Warning};
    /// let flat = |epoch| EpochMetrics::new(epoch, 0.693, None, vec![]);
    /// let history = History::new((0..5).map(flat).collect(), false);
    /// let report = Report::new(0.693, None, 1.0, vec![], vec![]);
    /// let report = report.with_history(&history);
    /// assert!(matches!(report.warnings[0], Warning::StalledLoss { epochs: 5, .. }));
    /// ```
    pub fn with_history(mut self, history: &History) -> Report {
        if let Some(warning) = stalled_loss(history) {
            self.warnings.push(warning);
        }
        self
    }

    /// Whether nothing looked wrong.
    ///
    /// ```
    /// let report = nninit::Report::new(0.1, None, 1.0, vec![], vec![]);
    /// assert!(report.is_healthy());
    /// ```
    pub fn is_healthy(&self) -> bool {
        self.warnings.is_empty()
    }
}

/// The stalled-loss warning for `history`, if its last epochs did not improve.
fn stalled_loss(history: &History) -> Option<Warning> {
    let epochs = history.epochs.len().min(Report::STALL_WINDOW);
    if epochs < 3 {
        return None;
    }
    let window = &history.epochs[history.epochs.len() - epochs..];
    let first = window[0].loss;
    let best = window[1..]
        .iter()
        .map(|e| e.loss)
        .fold(f32::INFINITY, f32::min);
    let stalled = first - best < Report::STALL_TOLERANCE * first.abs() && best > 1e-4;
    stalled.then_some(Warning::StalledLoss {
        epochs,
        first,
        best,
    })
}

impl Network {
    /// One forward and backward pass on `x` / `y`, measured layer by layer, with warnings.
    ///
    /// The weights are not touched (the layers' stored gradients are overwritten).
    ///
    /// # Shapes
    /// As [`Network::train_step`].
    ///
    /// ```
    /// use nninit::{BinaryCrossEntropy, Network, Sigmoid, Tanh, Warning, Zeros};
    /// let mut net = Network::builder(2).dense(4, Tanh).dense(1, Sigmoid).init(Zeros).build()?;
    /// let x = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
    /// let y = [0.0, 1.0, 1.0, 0.0];
    /// let report = net.diagnose(&x, &y, &BinaryCrossEntropy)?;
    /// assert!(matches!(report.warnings[0], Warning::SymmetricUnits { layer: 0, units: 4, of: 4 }));
    /// println!("{report}");
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn diagnose(&mut self, x: &[f32], y: &[f32], loss: &dyn Loss) -> Result<Report> {
        let outcome = self.forward_backward(x, y, loss, true)?;
        let batch = x.len() / self.inputs();
        let input_std = mean_std(x).1;
        let layers: Vec<LayerStats> = (0..self.layers().len())
            .map(|index| self.layer_stats(index, batch, input_std))
            .collect();
        let warnings = warnings(self.layers(), &layers);
        Ok(Report {
            loss: outcome.loss,
            accuracy: outcome.accuracy,
            input_std: input_std as f32,
            layers,
            warnings,
        })
    }

    fn layer_stats(&self, index: usize, batch: usize, input_std: f64) -> LayerStats {
        let layer = &self.layers()[index];
        let outputs = self
            .activations(index)
            .expect("diagnose ran a forward pass over every layer");
        let (mean, std) = mean_std(outputs);
        LayerStats {
            index,
            in_features: layer.in_features(),
            out_features: layer.out_features(),
            activation: layer.activation().name().to_string(),
            initializer: layer.initializer(),
            activation_mean: mean as f32,
            activation_std: std as f32,
            std_ratio: (std / input_std) as f32,
            saturated_fraction: saturated_fraction(layer, outputs),
            dead_fraction: dead_fraction(layer, outputs, batch),
            symmetric_units: symmetric_units(layer, outputs, batch),
            gradient_norm: l2_norm(layer.weight_gradient()) as f32,
            weight_std: mean_std(layer.weight()).1 as f32,
        }
    }
}

/// Mean and (population) standard deviation, in f64.
fn mean_std(values: &[f32]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let variance = values
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean, variance.sqrt())
}

/// Fraction of `outputs` within [`Report::SATURATION_MARGIN`] of the activation's finite asymptotes.
fn saturated_fraction(layer: &Dense, outputs: &[f32]) -> f32 {
    let Some((low, high)) = layer.activation().saturation_bounds() else {
        return 0.0;
    };
    let scale = [low, high]
        .into_iter()
        .filter(|b| b.is_finite())
        .map(f32::abs)
        .fold(0.0, f32::max);
    let margin = Report::SATURATION_MARGIN * scale;
    let near = |value: f32, bound: f32| bound.is_finite() && (value - bound).abs() <= margin;
    let saturated = outputs
        .iter()
        .filter(|&&v| near(v, low) || near(v, high))
        .count();
    saturated as f32 / outputs.len().max(1) as f32
}

/// Fraction of a rectifier layer's units that output zero for every sample.
fn dead_fraction(layer: &Dense, outputs: &[f32], batch: usize) -> f32 {
    if !layer.activation().is_rectifier() {
        return 0.0;
    }
    let units = layer.out_features();
    let dead = (0..units)
        .filter(|&u| (0..batch).all(|s| outputs[s * units + u] == 0.0))
        .count();
    dead as f32 / units as f32
}

/// Number of units that duplicate another: identical weight rows and bias, or identical
/// non-constant output columns.
fn symmetric_units(layer: &Dense, outputs: &[f32], batch: usize) -> usize {
    let (inputs, units) = (layer.in_features(), layer.out_features());
    // `+ 0.0` maps -0.0 to 0.0, so equal values have equal bits.
    let bits = |v: f32| (v + 0.0).to_bits();
    let by_weights: Vec<Vec<u32>> = (0..units)
        .map(|u| {
            let row = &layer.weight()[u * inputs..(u + 1) * inputs];
            row.iter()
                .chain([&layer.bias()[u]])
                .map(|&v| bits(v))
                .collect()
        })
        .collect();
    let by_outputs: Vec<Vec<u32>> = (0..units)
        .map(|u| (0..batch).map(|s| bits(outputs[s * units + u])).collect())
        .collect();
    let varies = |column: &Vec<u32>| column.iter().any(|&b| b != column[0]);
    let mut duplicated = vec![false; units];
    mark_duplicates(&by_weights, |_| true, &mut duplicated);
    mark_duplicates(&by_outputs, varies, &mut duplicated);
    duplicated.iter().filter(|&&d| d).count()
}

/// Marks every key (among those passing `eligible`) that equals another.
fn mark_duplicates(keys: &[Vec<u32>], eligible: impl Fn(&Vec<u32>) -> bool, marks: &mut [bool]) {
    let mut order: Vec<usize> = (0..keys.len()).filter(|&i| eligible(&keys[i])).collect();
    order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
    for pair in order.windows(2) {
        if keys[pair[0]] == keys[pair[1]] {
            marks[pair[0]] = true;
            marks[pair[1]] = true;
        }
    }
}

/// The warnings the statistics call for, most fundamental first.
fn warnings(layers: &[Dense], stats: &[LayerStats]) -> Vec<Warning> {
    let mut warnings: Vec<Warning> = stats
        .iter()
        .filter(|s| s.symmetric_units > 0)
        .map(|s| Warning::SymmetricUnits {
            layer: s.index,
            units: s.symmetric_units,
            of: s.out_features,
        })
        .collect();
    warnings.extend(mismatched_pairs(layers));
    warnings.extend(depth_warnings(stats));
    for s in stats {
        if s.dead_fraction >= Report::DEAD_THRESHOLD {
            warnings.push(Warning::DeadUnits {
                layer: s.index,
                fraction: s.dead_fraction,
            });
        }
        if s.saturated_fraction >= Report::SATURATED_THRESHOLD {
            warnings.push(Warning::SaturatedUnits {
                layer: s.index,
                fraction: s.saturated_fraction,
                activation: s.activation.clone(),
            });
        }
    }
    warnings
}

/// Hidden layers whose initializer was derived for another activation: the ReLU family with
/// Glorot in a deep net, bounded activations (tanh, sigmoid) with He, SELU with He. The
/// output layer is left out: its activation is chosen for the loss, and a mismatch there does
/// not compound layer after layer.
fn mismatched_pairs(layers: &[Dense]) -> Vec<Warning> {
    let deep = layers.len() >= Report::DEEP_NETWORK_LAYERS;
    let hidden = &layers[..layers.len().saturating_sub(1)];
    let mut found: Vec<Warning> = Vec::new();
    for (index, layer) in hidden.iter().enumerate() {
        let activation = layer.activation();
        let initializer = layer.initializer();
        // Decided by the typed families, never by names: a custom "HeavyTail" is not He.
        let family = activation.family();
        let he = layer.initializer_family() == InitializerFamily::He;
        let glorot = layer.initializer_family() == InitializerFamily::Glorot;
        let suggestion = if family == ActivationFamily::Rectifier && deep && glorot {
            "He (HeNormal or HeUniform), derived for ReLU's halved variance"
        } else if family == ActivationFamily::Saturating && he {
            "Glorot (GlorotUniform or GlorotNormal), derived for tanh and sigmoid"
        } else if family == ActivationFamily::SelfNormalizing && he {
            "LeCun normal (LecunNormal), which keeps SELU's activations self-normalizing"
        } else {
            continue;
        };
        let same_pair = found.iter_mut().find_map(|w| match w {
            Warning::MismatchedInit {
                layers,
                activation: a,
                initializer: i,
                ..
            } if a == activation.name() && i == initializer => Some(layers),
            _ => None,
        });
        match same_pair {
            Some(layers) => layers.push(index),
            None => found.push(Warning::MismatchedInit {
                layers: vec![index],
                activation: activation.name().to_string(),
                initializer: initializer.to_string(),
                suggestion,
            }),
        }
    }
    found
}

/// Vanishing or exploding gradients (first vs last layer) and signal (first vs last hidden).
fn depth_warnings(stats: &[LayerStats]) -> Vec<Warning> {
    let mut found = Vec::new();
    let (Some(first), Some(last)) = (stats.first(), stats.last()) else {
        return found;
    };
    if stats.len() < 2 {
        return found;
    }
    let (g_first, g_last) = (first.gradient_norm, last.gradient_norm);
    if g_last > 0.0 && g_first / g_last < 1.0 / Report::GRADIENT_RATIO {
        found.push(Warning::VanishingGradients {
            first: g_first,
            last: g_last,
        });
    } else if g_last > 0.0 && g_first / g_last > Report::GRADIENT_RATIO {
        found.push(Warning::ExplodingGradients {
            first: g_first,
            last: g_last,
        });
    }
    // The output layer's activation is chosen for the loss, not the signal: compare hidden ones.
    let last_hidden = &stats[stats.len() - 2];
    if stats.len() >= 3 && first.activation_std > 0.0 {
        let ratio = last_hidden.activation_std / first.activation_std;
        let (first, last) = (first.activation_std, last_hidden.activation_std);
        if ratio < 1.0 / Report::SIGNAL_RATIO {
            found.push(Warning::VanishingSignal { first, last });
        } else if ratio > Report::SIGNAL_RATIO {
            found.push(Warning::ExplodingSignal { first, last });
        }
    }
    found
}

impl fmt::Display for Report {
    /// A table, one row per layer, then the loss and the warnings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>5}  {:<11}  {:<11}  {:<14}  {:>9}  {:>9}  {:>9}  {:>9}  {:>6}  {:>9}  {:>10}",
            "layer",
            "shape",
            "activation",
            "initializer",
            "act mean",
            "act std",
            "std/input",
            "saturated",
            "dead",
            "grad norm",
            "weight std"
        )?;
        for s in &self.layers {
            writeln!(
                f,
                "{:>5}  {:<11}  {:<11}  {:<14}  {:>9.4}  {:>9.4}  {:>9.3e}  {:>8.1}%  {:>5.1}%  {:>9.3e}  {:>10.4}",
                s.index,
                format!("{} -> {}", s.in_features, s.out_features),
                s.activation,
                s.initializer,
                s.activation_mean,
                s.activation_std,
                s.std_ratio,
                100.0 * s.saturated_fraction,
                100.0 * s.dead_fraction,
                s.gradient_norm,
                s.weight_std,
            )?;
        }
        write!(f, "loss {:.6}", self.loss)?;
        if let Some(accuracy) = self.accuracy {
            write!(f, ", accuracy {:.1}%", 100.0 * accuracy)?;
        }
        writeln!(f, ", input std {:.4}", self.input_std)?;
        if self.warnings.is_empty() {
            return writeln!(f, "no warnings");
        }
        writeln!(f, "warnings:")?;
        for warning in &self.warnings {
            writeln!(f, "  - {warning}")?;
        }
        Ok(())
    }
}
