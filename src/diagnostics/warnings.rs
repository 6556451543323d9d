//! [`Warning`]s: the rules that turn a report's numbers into a cause and a remedy.
//!
//! Each rule names only a cause its numbers support: units whose outputs agree because they
//! sit at an asymptote are saturated, not symmetric; weights far beyond any initializer's scale
//! diverged during training and are reported as such, not blamed on the initializer.

use std::fmt;

use crate::activation::ActivationFamily;
use crate::init::InitializerFamily;

use super::{LayerStats, Report};

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
    /// A layer's weights are orders of magnitude beyond any initializer's scale
    /// (`weight_std · sqrt(fan_in)` above [`Report::DIVERGED_SCALE`]): training diverged
    /// (too high a learning rate), so every bounded unit saturates and the gradients vanish.
    DivergedWeights {
        /// The layers concerned.
        layers: Vec<usize>,
        /// The largest weight std among them.
        weight_std: f32,
    },
    /// The loss is far above the loss of uninformed predictions (`ln C` for softmax cross
    /// entropy over `C` classes, `ln 2` for binary cross entropy): the outputs are confidently
    /// wrong, typically because the readout layer's weights are too large at initialization.
    LossAboveUninformed {
        /// The loss on the batch.
        loss: f32,
        /// The loss of uninformed predictions.
        uninformed: f32,
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
            Warning::DivergedWeights { layers, weight_std } => write!(
                f,
                "layers {layers:?}: the weights have diverged (std up to {weight_std:.3e}, over \
                 {:.0e}x a variance-preserving scale), so bounded units saturate and gradients \
                 vanish or overflow: training diverged; lower the learning rate (or clip \
                 gradients) and re-initialize",
                Report::DIVERGED_SCALE
            ),
            Warning::LossAboveUninformed { loss, uninformed } => write!(
                f,
                "the loss ({loss:.4}) is far above that of uninformed predictions ({uninformed:.4}, \
                 ln C for C classes or ln 2 for binary outputs): the outputs are confidently \
                 wrong before anything is learned; scale the output layer's weights down (e.g. \
                 by 0.1, or initialize it with a small gain) and start its bias at zero"
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

/// Everything the statistics call for, most fundamental first.
pub(crate) fn warnings(report: &Report) -> Vec<Warning> {
    let stats = &report.layers;
    let diverged = diverged_layers(stats);
    let explained = |s: &&LayerStats| !diverged.contains(&s.index);
    let mut found: Vec<Warning> = Vec::new();
    if let Some(warning) = diverged_weights(stats, &diverged) {
        found.push(warning);
    }
    found.extend(
        stats
            .iter()
            .filter(explained)
            .filter(|s| s.symmetric_units > 0)
            .map(|s| Warning::SymmetricUnits {
                layer: s.index,
                units: s.symmetric_units,
                of: s.out_features,
            }),
    );
    found.extend(loss_above_uninformed(report));
    found.extend(mismatched_pairs(stats));
    found.extend(depth_warnings(stats));
    for s in stats.iter().filter(explained) {
        if s.dead_fraction >= Report::DEAD_THRESHOLD {
            found.push(Warning::DeadUnits {
                layer: s.index,
                fraction: s.dead_fraction,
            });
        }
        if s.saturated_fraction >= Report::SATURATED_THRESHOLD {
            found.push(Warning::SaturatedUnits {
                layer: s.index,
                fraction: s.saturated_fraction,
                activation: s.activation.clone(),
            });
        }
    }
    found
}

/// Layers whose weights are far beyond a variance-preserving scale (`std ~ 1 / sqrt(fan_in)`).
fn diverged_layers(stats: &[LayerStats]) -> Vec<usize> {
    stats
        .iter()
        .filter(|s| {
            let scale = f64::from(s.weight_std) * (s.in_features as f64).sqrt();
            scale > f64::from(Report::DIVERGED_SCALE)
        })
        .map(|s| s.index)
        .collect()
}

fn diverged_weights(stats: &[LayerStats], diverged: &[usize]) -> Option<Warning> {
    let weight_std = diverged
        .iter()
        .map(|&i| stats[i].weight_std)
        .fold(None, |max: Option<f32>, s| {
            Some(max.map_or(s, |m| m.max(s)))
        })?;
    Some(Warning::DivergedWeights {
        layers: diverged.to_vec(),
        weight_std,
    })
}

/// The loss far above its uninformed value (by [`Report::UNINFORMED_LOSS_FACTOR`]).
fn loss_above_uninformed(report: &Report) -> Option<Warning> {
    let uninformed = report.uninformed_loss?;
    (report.loss > Report::UNINFORMED_LOSS_FACTOR * uninformed).then_some(
        Warning::LossAboveUninformed {
            loss: report.loss,
            uninformed,
        },
    )
}

/// Hidden layers whose initializer was derived for another activation: the ReLU family with
/// Glorot in a deep net, saturating activations (tanh, sigmoid) with He, SELU with He. The
/// output layer is left out: its activation is chosen for the loss, and a mismatch there does
/// not compound layer after layer.
fn mismatched_pairs(stats: &[LayerStats]) -> Vec<Warning> {
    let deep = stats.len() >= Report::DEEP_NETWORK_LAYERS;
    let hidden = &stats[..stats.len().saturating_sub(1)];
    let mut found: Vec<Warning> = Vec::new();
    for layer in hidden {
        let Some(suggestion) = suggestion(layer.activation_family, layer.initializer_family, deep)
        else {
            continue;
        };
        let same_pair = found.iter_mut().find_map(|w| match w {
            Warning::MismatchedInit {
                layers,
                activation,
                initializer,
                ..
            } if *activation == layer.activation && initializer == layer.initializer => {
                Some(layers)
            }
            _ => None,
        });
        match same_pair {
            Some(layers) => layers.push(layer.index),
            None => found.push(Warning::MismatchedInit {
                layers: vec![layer.index],
                activation: layer.activation.clone(),
                initializer: layer.initializer.to_string(),
                suggestion,
            }),
        }
    }
    found
}

/// The initializer family to suggest when `initializer` does not suit `activation`.
fn suggestion(
    activation: ActivationFamily,
    initializer: InitializerFamily,
    deep: bool,
) -> Option<&'static str> {
    use {ActivationFamily as A, InitializerFamily as I};
    match (activation, initializer) {
        (A::Rectifier, I::Glorot) if deep => {
            Some("He (HeNormal or HeUniform), derived for ReLU's halved variance")
        }
        (A::Saturating, I::He) => {
            Some("Glorot (GlorotUniform or GlorotNormal), derived for tanh and sigmoid")
        }
        (A::SelfNormalizing, I::He) => {
            Some("LeCun normal (LecunNormal), which keeps SELU's activations self-normalizing")
        }
        _ => None,
    }
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
