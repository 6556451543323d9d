//! The [`Loss`] trait and the usual losses.
//!
//! | loss | per element / sample | mean over | gradient w.r.t. the prediction (before the mean) | PyTorch |
//! |---|---|---|---|---|
//! | [`Mse`] | `(p - t)²` | elements | `2 (p - t)` | `nn.MSELoss()` |
//! | [`Mae`] | `\|p - t\|` | elements | `sign(p - t)` (0 at 0) | `nn.L1Loss()` |
//! | [`Huber`] | `(p - t)² / 2` if `\|p - t\| < delta`, else `delta (\|p - t\| - delta / 2)` | elements | `clamp(p - t, -delta, delta)` | `nn.HuberLoss(delta)` |
//! | [`BinaryCrossEntropy`] | `-(t ln p + (1 - t) ln(1 - p))`, each log clamped at -100 | elements | `(p - t) / max(p (1 - p), 1e-12)` | `nn.BCELoss()` |
//! | [`BceWithLogits`] | `max(x, 0) - x t + ln(1 + e^-\|x\|)` | elements | `σ(x) - t` | `nn.BCEWithLogitsLoss()` |
//! | [`CrossEntropy`] | `-Σ_k t_k log_softmax(x)_k` | samples | `softmax(x) Σ_k t_k - t` | `nn.CrossEntropyLoss()` |
//!
//! **Shapes.** Predictions are `batch x outputs`, row-major; `outputs` is passed explicitly and
//! the batch size is `predictions.len() / outputs`. Targets have the same shape, except for
//! [`CrossEntropy`], which also takes one class index per sample.
//!
//! **Errors.** `outputs == 0`, an empty batch, a length that `outputs` does not divide, targets
//! or gradient of the wrong length, a NaN or infinite prediction or target (the error names its
//! index), a binary target or probability outside `[0, 1]`, a class index that is not an
//! integer in `0..outputs`, and an invalid Huber `delta` are all [`Error`]s, checked
//! before anything is written to `gradient`.
//!
//! **Precision.** Per-element terms are computed in `f32` and summed in `f64` lanes (the loop
//! vectorizes and the sum does not drift with the batch size).

use std::fmt::Debug;

use crate::error::{Error, Result};

mod binary;
mod cross_entropy;
mod regression;

pub use binary::{BceWithLogits, BinaryCrossEntropy};
pub use cross_entropy::CrossEntropy;
pub use regression::{Huber, Mae, Mse};

/// A loss over a batch: predictions are `batch x outputs`, row-major, with `outputs` explicit.
///
/// The reduction is PyTorch's default `reduction='mean'`: over all elements for the
/// element-wise losses, over samples for [`CrossEntropy`]. Object-safe:
///
/// ```
/// use nninit::{Loss, Mse, CrossEntropy};
/// let losses: Vec<Box<dyn Loss>> = vec![Box::new(Mse), Box::new(CrossEntropy)];
/// let loss = losses[0].loss(&[1.0, 2.0], &[1.0, 4.0], 2)?;
/// assert_eq!(loss, 2.0); // (0² + 2²) / 2
/// # Ok::<(), nninit::Error>(())
/// ```
pub trait Loss: Debug + Send + Sync {
    /// A short lowercase name, e.g. `"mse"`.
    ///
    /// ```
    /// use nninit::{Loss, BceWithLogits};
    /// assert_eq!(BceWithLogits.name(), "bce_with_logits");
    /// ```
    fn name(&self) -> &str;

    /// The mean loss of `predictions` against `targets`.
    ///
    /// ```
    /// use nninit::{Loss, Mae};
    /// assert_eq!(Mae.loss(&[0.0, 0.0, 0.0, 0.0], &[1.0, -1.0, 2.0, 0.0], 2)?, 1.0);
    /// assert!(Mae.loss(&[0.0, f32::NAN], &[0.0, 0.0], 1).is_err());
    /// # Ok::<(), nninit::Error>(())
    /// ```
    fn loss(&self, predictions: &[f32], targets: &[f32], outputs: usize) -> Result<f32>;

    /// The mean loss, and in `gradient` (same length as `predictions`) its gradient with
    /// respect to the predictions, computed in the same pass. On error `gradient` is untouched.
    ///
    /// ```
    /// use nninit::{Loss, Mse};
    /// let mut gradient = [0.0; 2];
    /// let loss = Mse.loss_and_gradient(&[1.0, 2.0], &[0.0, 0.0], 1, &mut gradient)?;
    /// assert_eq!(loss, 2.5);
    /// assert_eq!(gradient, [1.0, 2.0]); // 2 (p - t) / 2
    /// # Ok::<(), nninit::Error>(())
    /// ```
    fn loss_and_gradient(
        &self,
        predictions: &[f32],
        targets: &[f32],
        outputs: usize,
        gradient: &mut [f32],
    ) -> Result<f32>;

    /// The loss of uninformed predictions, the value a classifier should start near: `ln C`
    /// for [`CrossEntropy`] over `C = outputs` classes (uniform softmax), `ln 2` for the
    /// binary losses (probability 1/2, logit 0), whatever the targets. `None` for regression
    /// losses, whose value depends on the targets' scale. The diagnostics compare the initial
    /// loss with it: far above means confidently wrong outputs (an over-scaled readout).
    ///
    /// ```
    /// use nninit::{BinaryCrossEntropy, CrossEntropy, Loss, Mse};
    /// assert_eq!(CrossEntropy.uninformed_loss(10), Some(10f32.ln()));
    /// assert_eq!(BinaryCrossEntropy.uninformed_loss(1), Some(2f32.ln()));
    /// assert_eq!(Mse.uninformed_loss(1), None);
    /// ```
    fn uninformed_loss(&self, outputs: usize) -> Option<f32> {
        let _ = outputs;
        None
    }

    /// The fraction of correct predictions, for classification losses: per element for the
    /// binary losses (probability `>= 0.5`, logit `>= 0`, against target `>= 0.5`), per sample
    /// for [`CrossEntropy`] (argmax against the class index or the target row's argmax).
    /// `None` for regression losses, and when the arguments do not fit together (the loss
    /// reports those as errors).
    ///
    /// ```
    /// use nninit::{Loss, CrossEntropy, Mse};
    /// let logits = [2.0, 1.0, 0.0, /* */ 0.0, 0.0, 3.0];
    /// assert_eq!(CrossEntropy.accuracy(&logits, &[0.0, 1.0], 3), Some(0.5));
    /// assert_eq!(Mse.accuracy(&logits, &logits, 3), None);
    /// ```
    fn accuracy(&self, predictions: &[f32], targets: &[f32], outputs: usize) -> Option<f32> {
        let _ = (predictions, targets, outputs);
        None
    }
}

/// Checks `outputs` and the predictions' layout, and that every prediction is finite;
/// returns the batch size.
fn check_predictions(predictions: &[f32], outputs: usize) -> Result<usize> {
    if outputs == 0 {
        return Err(Error::invalid("outputs", "> 0", 0));
    }
    if predictions.is_empty() {
        return Err(Error::invalid(
            "predictions",
            "a non-empty batch",
            "0 elements",
        ));
    }
    if !predictions.len().is_multiple_of(outputs) {
        return Err(Error::LengthMismatch {
            what: "predictions".into(),
            expected: format!("a multiple of outputs = {outputs}"),
            found: predictions.len(),
        });
    }
    check_finite("prediction", predictions)?;
    Ok(predictions.len() / outputs)
}

/// Checks that `values` has length `expected`.
fn check_length(what: &str, values: &[f32], expected: usize) -> Result<()> {
    if values.len() == expected {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            what: what.into(),
            expected: expected.to_string(),
            found: values.len(),
        })
    }
}

/// Checks that every value is finite; the error names the first offender, e.g.
/// "prediction at index 3 is not finite (NaN)".
fn check_finite(what: &str, values: &[f32]) -> Result<()> {
    // A branch-free OR over blocks vectorizes; the index is searched only on failure.
    let all_finite = values
        .chunks(256)
        .all(|block| !block.iter().fold(false, |bad, v| bad | !v.is_finite()));
    if all_finite {
        return Ok(());
    }
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(Error::NonFinite {
            what: format!("{what} at index {index}"),
            value: values[index] as f64,
        }),
        None => Ok(()),
    }
}

/// Checks that every value lies in `[0, 1]` (finite values assumed).
fn check_unit_interval(name: &'static str, values: &[f32]) -> Result<()> {
    match values.iter().position(|v| !(0.0..=1.0).contains(v)) {
        Some(index) => Err(Error::invalid(
            name,
            "in [0, 1]",
            format!("{} at index {index}", values[index]),
        )),
        None => Ok(()),
    }
}

/// Validation shared by the element-wise losses: layout, same-shape finite targets and, if
/// given, a gradient of the same length.
fn check_elementwise(
    predictions: &[f32],
    targets: &[f32],
    outputs: usize,
    gradient: Option<&[f32]>,
) -> Result<()> {
    check_predictions(predictions, outputs)?;
    check_length("targets", targets, predictions.len())?;
    check_finite("target", targets)?;
    if let Some(gradient) = gradient {
        check_length("gradient", gradient, predictions.len())?;
    }
    Ok(())
}

/// Number of independent accumulators: wide enough for the compiler to vectorize the sum.
const LANES: usize = 8;

/// `Σ term(p[i], t[i]).0` in `f64` lanes, and, if `gradient` is given,
/// `gradient[i] = scale * term(p[i], t[i]).1`, in one pass.
///
/// `term` returns the per-element loss and its derivative with respect to `p`; when no
/// gradient is asked for, the derivative is dead code after inlining.
#[inline(always)]
fn sum_elementwise(
    predictions: &[f32],
    targets: &[f32],
    gradient: Option<&mut [f32]>,
    scale: f32,
    term: impl Fn(f32, f32) -> (f32, f32),
) -> f64 {
    let mut lanes = [0f64; LANES];
    let p_blocks = predictions.chunks_exact(LANES);
    let t_blocks = targets.chunks_exact(LANES);
    let (p_tail, t_tail) = (p_blocks.remainder(), t_blocks.remainder());
    let mut tail = 0f64;
    match gradient {
        Some(gradient) => {
            let g_blocks = gradient.chunks_exact_mut(LANES);
            for ((p, t), g) in p_blocks.zip(t_blocks).zip(g_blocks) {
                for i in 0..LANES {
                    let (value, slope) = term(p[i], t[i]);
                    lanes[i] += value as f64;
                    g[i] = scale * slope;
                }
            }
            let g_tail = &mut gradient[predictions.len() - p_tail.len()..];
            for ((&p, &t), g) in p_tail.iter().zip(t_tail).zip(g_tail) {
                let (value, slope) = term(p, t);
                tail += value as f64;
                *g = scale * slope;
            }
        }
        None => {
            for (p, t) in p_blocks.zip(t_blocks) {
                for i in 0..LANES {
                    lanes[i] += term(p[i], t[i]).0 as f64;
                }
            }
            for (&p, &t) in p_tail.iter().zip(t_tail) {
                tail += term(p, t).0 as f64;
            }
        }
    }
    lanes.iter().sum::<f64>() + tail
}

/// The mean of an element-wise loss, with validation, for both trait methods.
#[inline(always)]
fn elementwise_mean(
    predictions: &[f32],
    targets: &[f32],
    outputs: usize,
    gradient: Option<&mut [f32]>,
    term: impl Fn(f32, f32) -> (f32, f32),
) -> Result<f32> {
    check_elementwise(predictions, targets, outputs, gradient.as_deref())?;
    let n = predictions.len();
    let total = sum_elementwise(predictions, targets, gradient, 1.0 / n as f32, term);
    Ok((total / n as f64) as f32)
}

/// The fraction of elements where `predicted(p)` equals `target >= 0.5`.
fn binary_accuracy(
    predictions: &[f32],
    targets: &[f32],
    outputs: usize,
    predicted: impl Fn(f32) -> bool,
) -> Option<f32> {
    let fits = outputs > 0
        && !predictions.is_empty()
        && predictions.len().is_multiple_of(outputs)
        && targets.len() == predictions.len();
    if !fits {
        return None;
    }
    let correct = predictions
        .iter()
        .zip(targets)
        .filter(|&(&p, &t)| predicted(p) == (t >= 0.5))
        .count();
    Some(correct as f32 / predictions.len() as f32)
}
