//! The binary classification losses: cross entropy on probabilities and on logits.
//!
//! Each element is an independent binary problem (multi-label classification when
//! `outputs > 1`); targets are probabilities in `[0, 1]`, usually exactly 0 or 1.

use super::{Loss, binary_accuracy, check_elementwise, check_unit_interval, sum_elementwise};
use crate::error::Result;
use crate::special::{exp, ln_1p, sigmoid_pair};

/// Binary cross entropy on probabilities, PyTorch's `nn.BCELoss()`.
///
/// Per element `-(t ln p + (1 - t) ln(1 - p))` with each logarithm clamped at -100 (as
/// PyTorch, so `p = 0` with `t = 1` costs 100, not infinity); gradient
/// `(p - t) / max(p (1 - p), 1e-12) / n`, PyTorch's formula. Predictions and targets must lie
/// in `[0, 1]`. Prefer [`BceWithLogits`] on raw scores: it is exact where a sigmoid output
/// has rounded to 0 or 1.
///
/// ```
/// use nninit::{BinaryCrossEntropy, Loss};
/// let loss = BinaryCrossEntropy.loss(&[0.5, 0.0], &[1.0, 1.0], 2)?;
/// assert!((loss - (std::f32::consts::LN_2 + 100.0) / 2.0).abs() < 1e-5);
/// assert!(BinaryCrossEntropy.loss(&[1.5], &[1.0], 1).is_err());
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BinaryCrossEntropy;

/// PyTorch's floor on `p (1 - p)` in the gradient's denominator.
const BCE_EPSILON: f32 = 1e-12;

/// PyTorch's floor on each logarithm.
const LOG_FLOOR: f32 = -100.0;

/// The per-element loss and its derivative for a probability `p` and target `t`.
#[inline(always)]
fn bce_term(p: f32, t: f32) -> (f32, f32) {
    let log_p = p.ln().max(LOG_FLOOR);
    let log_q = (1.0 - p).ln().max(LOG_FLOOR);
    let value = -(t * log_p + (1.0 - t) * log_q);
    let slope = (p - t) / (p * (1.0 - p)).max(BCE_EPSILON);
    (value, slope)
}

impl BinaryCrossEntropy {
    fn evaluate(
        &self,
        predictions: &[f32],
        targets: &[f32],
        outputs: usize,
        gradient: Option<&mut [f32]>,
    ) -> Result<f32> {
        check_elementwise(predictions, targets, outputs, gradient.as_deref())?;
        check_unit_interval("predictions", predictions)?;
        check_unit_interval("targets", targets)?;
        let n = predictions.len();
        let total = sum_elementwise(predictions, targets, gradient, 1.0 / n as f32, bce_term);
        Ok((total / n as f64) as f32)
    }
}

impl Loss for BinaryCrossEntropy {
    fn name(&self) -> &str {
        "binary_cross_entropy"
    }

    /// `ln 2`: every probability 1/2 (logit 0).
    fn uninformed_loss(&self, _outputs: usize) -> Option<f32> {
        Some(std::f32::consts::LN_2)
    }

    fn loss(&self, predictions: &[f32], targets: &[f32], outputs: usize) -> Result<f32> {
        self.evaluate(predictions, targets, outputs, None)
    }

    fn loss_and_gradient(
        &self,
        predictions: &[f32],
        targets: &[f32],
        outputs: usize,
        gradient: &mut [f32],
    ) -> Result<f32> {
        self.evaluate(predictions, targets, outputs, Some(gradient))
    }

    /// The fraction of elements where `p >= 0.5` agrees with `t >= 0.5`.
    fn accuracy(&self, predictions: &[f32], targets: &[f32], outputs: usize) -> Option<f32> {
        binary_accuracy(predictions, targets, outputs, |p| p >= 0.5)
    }
}

/// Binary cross entropy on logits (a sigmoid fused into the loss), PyTorch's
/// `nn.BCEWithLogitsLoss()`.
///
/// Per element `max(x, 0) - x t + ln(1 + e^-|x|)`, which equals
/// `-(t ln σ(x) + (1 - t) ln(1 - σ(x)))` without ever forming `σ(x)` (finite and exact for
/// logits of ±1e4); gradient `(σ(x) - t) / n`. Targets must lie in `[0, 1]`.
///
/// ```
/// use nninit::{BceWithLogits, Loss};
/// let mut gradient = [0.0; 2];
/// let loss = BceWithLogits.loss_and_gradient(&[0.0, -1e4], &[1.0, 1.0], 1, &mut gradient)?;
/// assert!((loss - (std::f32::consts::LN_2 + 1e4) / 2.0).abs() < 1e-2);
/// assert_eq!(gradient, [-0.25, -0.5]);
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BceWithLogits;

/// The per-element loss and its derivative for a logit `x` and target `t`.
#[inline(always)]
fn logit_term(x: f32, t: f32) -> (f32, f32) {
    let value = x.max(0.0) - x * t + ln_1p(exp(-x.abs()));
    (value, sigmoid_pair(x).0 - t)
}

impl BceWithLogits {
    fn evaluate(
        &self,
        predictions: &[f32],
        targets: &[f32],
        outputs: usize,
        gradient: Option<&mut [f32]>,
    ) -> Result<f32> {
        check_elementwise(predictions, targets, outputs, gradient.as_deref())?;
        check_unit_interval("targets", targets)?;
        let n = predictions.len();
        let total = sum_elementwise(predictions, targets, gradient, 1.0 / n as f32, logit_term);
        Ok((total / n as f64) as f32)
    }
}

impl Loss for BceWithLogits {
    fn name(&self) -> &str {
        "bce_with_logits"
    }

    /// `ln 2`: every probability 1/2 (logit 0).
    fn uninformed_loss(&self, _outputs: usize) -> Option<f32> {
        Some(std::f32::consts::LN_2)
    }

    fn loss(&self, predictions: &[f32], targets: &[f32], outputs: usize) -> Result<f32> {
        self.evaluate(predictions, targets, outputs, None)
    }

    fn loss_and_gradient(
        &self,
        predictions: &[f32],
        targets: &[f32],
        outputs: usize,
        gradient: &mut [f32],
    ) -> Result<f32> {
        self.evaluate(predictions, targets, outputs, Some(gradient))
    }

    /// The fraction of elements where `x >= 0` (`σ(x) >= 0.5`) agrees with `t >= 0.5`.
    fn accuracy(&self, predictions: &[f32], targets: &[f32], outputs: usize) -> Option<f32> {
        binary_accuracy(predictions, targets, outputs, |x| x >= 0.0)
    }
}
