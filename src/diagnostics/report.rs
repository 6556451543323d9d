//! [`Report`] and [`LayerStats`]: what one diagnostic pass measured, printable as a table.

use std::fmt;

use crate::activation::ActivationFamily;
use crate::init::InitializerFamily;
use crate::nn::History;

use super::Histogram;
use super::warnings::Warning;

/// What the diagnostics measured about one layer (from [`Network::diagnose`] or a
/// [`Probe`](super::Probe)).
///
/// [`Network::diagnose`]: crate::Network::diagnose
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct LayerStats {
    /// The layer's index (0 = first layer).
    pub index: usize,
    /// Inputs per unit.
    pub in_features: usize,
    /// Units.
    pub out_features: usize,
    /// The activation's name.
    pub activation: String,
    /// The activation's family (what the warnings decide on).
    pub activation_family: ActivationFamily,
    /// The name of the initializer that filled the weight (`"custom"` if set by hand).
    pub initializer: &'static str,
    /// The initializer's family (what the warnings decide on).
    pub initializer_family: InitializerFamily,
    /// Mean of the layer's outputs over the batch and the units.
    pub activation_mean: f32,
    /// Standard deviation of the layer's outputs over the batch and the units.
    pub activation_std: f32,
    /// Standard deviation of the layer's pre-activations `z = x Wᵀ + b` (what LSUV targets).
    pub pre_activation_std: f32,
    /// `activation_std` divided by the std of the network's input batch (NaN for a constant
    /// input): how much the signal grew or shrank up to this layer.
    pub std_ratio: f32,
    /// Fraction of outputs within 2% of a bounded activation's asymptotes (0 for unbounded
    /// activations).
    pub saturated_fraction: f32,
    /// Fraction of units whose output is zero for every sample (0 unless the activation can
    /// die, as ReLU).
    pub dead_fraction: f32,
    /// Number of units that duplicate another unit of the layer: identical incoming weights
    /// and bias, or identical outputs on every sample that vary and are not all saturated.
    pub symmetric_units: usize,
    /// L2 norm of the weight gradient on the batch.
    pub gradient_norm: f32,
    /// Standard deviation of the back-propagated gradient `∂L/∂y` with respect to the layer's
    /// outputs (Glorot & Bengio's Figure 7 shows its histogram).
    pub gradient_std: f32,
    /// `std(∂L/∂W) / std(W)`: how large the gradient is relative to the weights it moves
    /// (`None` when the weights do not vary, e.g. all zero).
    pub gradient_to_data: Option<f32>,
    /// `std(ΔW) / std(W)` for the optimizer's step `ΔW` (Karpathy's update-to-data ratio; about
    /// 1e-3 is healthy, much larger means too high a learning rate). `None` when no step was
    /// given or the weights do not vary.
    pub update_to_data: Option<f32>,
    /// Standard deviation of the weights.
    pub weight_std: f32,
    /// Histogram of the layer's outputs (over the asymptotes for a bounded activation).
    pub activation_histogram: Histogram,
    /// Histogram of the back-propagated gradient `∂L/∂y`.
    pub gradient_histogram: Histogram,
}

/// The result of [`Network::diagnose`] or of a [`Probe`](super::Probe): per-layer statistics
/// and warnings.
///
/// Prints as a table followed by the warnings.
///
/// [`Network::diagnose`]: crate::Network::diagnose
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Report {
    /// The loss on the batch.
    pub loss: f32,
    /// The accuracy on the batch, for classification losses.
    pub accuracy: Option<f32>,
    /// The loss of uninformed predictions for this loss (`ln C`, `ln 2`), when it has one:
    /// see [`Loss::uninformed_loss`](crate::Loss::uninformed_loss).
    pub uninformed_loss: Option<f32>,
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
    /// Weights count as diverged when `weight_std · sqrt(fan_in)` exceeds this: a
    /// variance-preserving initializer gives about 1 (up to 5/3 for tanh's gain, sqrt(2) for
    /// He), and even N(0, 1) weights on 1000 inputs give about 32.
    pub const DIVERGED_SCALE: f32 = 1e3;
    /// The loss is reported as confidently wrong when above this multiple of its uninformed
    /// value (ln C, ln 2): random small logits stay within a few percent of it.
    pub const UNINFORMED_LOSS_FACTOR: f32 = 1.5;

    /// A report from its parts (the struct is `#[non_exhaustive]`: fields added later get their
    /// neutral value, e.g. `uninformed_loss` is `None`), e.g. to test code that reads reports.
    ///
    /// ```
    /// let report = nninit::Report::new(0.25, Some(0.9), 1.0, vec![], vec![]);
    /// assert_eq!((report.loss, report.accuracy, report.uninformed_loss), (0.25, Some(0.9), None));
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
            uninformed_loss: None,
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

/// A ratio for the table: `1.234e-3`, or `-` when there is none.
fn ratio_cell(value: Option<f32>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.3e}"))
}

impl fmt::Display for Report {
    /// A table, one row per layer, then the loss and the warnings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>5}  {:<11}  {:<11}  {:<14}  {:>9}  {:>9}  {:>9}  {:>9}  {:>6}  {:>9}  {:>9}  {:>9}  {:>9}  {:>10}",
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
            "grad std",
            "grad/data",
            "upd/data",
            "weight std"
        )?;
        for s in &self.layers {
            writeln!(
                f,
                "{:>5}  {:<11}  {:<11}  {:<14}  {:>9.4}  {:>9.4}  {:>9.3e}  {:>8.1}%  {:>5.1}%  {:>9.3e}  {:>9.3e}  {:>9}  {:>9}  {:>10.4}",
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
                s.gradient_std,
                ratio_cell(s.gradient_to_data),
                ratio_cell(s.update_to_data),
                s.weight_std,
            )?;
        }
        write!(f, "loss {:.6}", self.loss)?;
        if let Some(uninformed) = self.uninformed_loss {
            write!(f, " (uninformed {uninformed:.4})")?;
        }
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
