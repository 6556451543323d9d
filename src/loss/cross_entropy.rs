//! Cross entropy on logits: softmax and negative log-likelihood fused, as PyTorch's
//! `nn.CrossEntropyLoss`.

use super::{LANES, Loss, check_finite, check_length, check_predictions};
use crate::error::{Error, Result};
use crate::special::exp;

/// Softmax cross entropy on logits, PyTorch's `nn.CrossEntropyLoss()` (mean over samples).
///
/// Targets are either one class index per sample (`targets.len() == batch`, stored as `f32`,
/// e.g. `2.0`), or a `batch x outputs` matrix of class probabilities (soft labels). When
/// `outputs == 1` both readings coincide and targets are read as class indices.
///
/// Per sample, with `lse = ln Σ_k e^(x_k)`: `lse - x_c` for a class index `c`,
/// `Σ_k t_k (lse - x_k)` for probabilities. Gradient `(softmax(x) - onehot(c)) / batch`, or
/// `(softmax(x) Σ_k t_k - t) / batch`. The log-sum-exp subtracts the row maximum first, so
/// logits of ±1e4 give finite, exact results.
///
/// ```
/// use nninit::{CrossEntropy, Loss};
/// // Two samples, three classes; class indices 0 and 2.
/// let logits = [0.0, 0.0, 0.0, /* */ 1e4, 0.0, -1e4];
/// let loss = CrossEntropy.loss(&logits, &[0.0, 2.0], 3)?;
/// assert!((loss - (3f32.ln() + 2e4) / 2.0).abs() < 1e-2);
/// // The same with one-hot probability targets.
/// let one_hot = [1.0, 0.0, 0.0, /* */ 0.0, 0.0, 1.0];
/// assert_eq!(CrossEntropy.loss(&logits, &one_hot, 3)?, loss);
/// assert!(CrossEntropy.loss(&logits, &[0.0, 3.0], 3).is_err()); // class 3 of 0..3
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CrossEntropy;

/// How the targets of a batch are given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Targets {
    /// One class index per sample.
    Indices,
    /// A `batch x outputs` probability matrix.
    Probabilities,
}

impl CrossEntropy {
    /// Validates everything; returns the batch size and the targets' form.
    fn check(
        &self,
        predictions: &[f32],
        targets: &[f32],
        outputs: usize,
        gradient: Option<&[f32]>,
    ) -> Result<(usize, Targets)> {
        let batch = check_predictions(predictions, outputs)?;
        if let Some(gradient) = gradient {
            check_length("gradient", gradient, predictions.len())?;
        }
        if targets.len() == batch {
            check_finite("target", targets)?;
            if let Some(index) = targets.iter().position(|&t| class(t, outputs).is_none()) {
                return Err(Error::invalid(
                    "targets",
                    format!("class indices: integers in 0..{outputs}"),
                    format!("{} at index {index}", targets[index]),
                ));
            }
            Ok((batch, Targets::Indices))
        } else if targets.len() == predictions.len() {
            check_finite("target", targets)?;
            Ok((batch, Targets::Probabilities))
        } else {
            Err(Error::LengthMismatch {
                what: "targets".into(),
                expected: format!(
                    "{batch} (class indices) or {} (probabilities)",
                    predictions.len()
                ),
                found: targets.len(),
            })
        }
    }

    fn evaluate(
        &self,
        predictions: &[f32],
        targets: &[f32],
        outputs: usize,
        mut gradient: Option<&mut [f32]>,
    ) -> Result<f32> {
        let (batch, form) = self.check(predictions, targets, outputs, gradient.as_deref())?;
        let scale = 1.0 / batch as f32;
        let mut total = 0f64;
        for (row, logits) in predictions.chunks_exact(outputs).enumerate() {
            let exps = gradient
                .as_deref_mut()
                .map(|g| &mut g[row * outputs..(row + 1) * outputs]);
            let sample = match form {
                Targets::Indices => {
                    // `check` proved every index valid.
                    let c = class(targets[row], outputs).unwrap_or(0);
                    sample_with_index(logits, c, exps, scale)
                }
                Targets::Probabilities => {
                    let t = &targets[row * outputs..(row + 1) * outputs];
                    sample_with_probabilities(logits, t, exps, scale)
                }
            };
            total += sample as f64;
        }
        Ok((total / batch as f64) as f32)
    }
}

/// The class index a target encodes, if it is an integer in `0..outputs`.
fn class(target: f32, outputs: usize) -> Option<usize> {
    let valid = target >= 0.0 && target.fract() == 0.0 && (target as f64) < outputs as f64;
    valid.then_some(target as usize)
}

/// The row maximum and `Σ_k e^(x_k - max)`; if `exps` is given, `exps[k] = e^(x_k - max)`.
#[inline]
fn shifted_exp_sum(logits: &[f32], exps: Option<&mut [f32]>) -> (f32, f32) {
    let mut maxima = [f32::NEG_INFINITY; LANES];
    let blocks = logits.chunks_exact(LANES);
    let tail_max = blocks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    for block in blocks {
        for i in 0..LANES {
            maxima[i] = if block[i] > maxima[i] {
                block[i]
            } else {
                maxima[i]
            };
        }
    }
    let max = maxima.iter().fold(tail_max, |m, &v| m.max(v));
    let mut sums = [0f32; LANES];
    match exps {
        Some(exps) => {
            for (e, &x) in exps.iter_mut().zip(logits) {
                *e = exp(x - max);
            }
            lane_sum(&mut sums, exps);
        }
        None => {
            let blocks = logits.chunks_exact(LANES);
            let tail: f32 = blocks.remainder().iter().map(|&x| exp(x - max)).sum();
            for block in blocks {
                for i in 0..LANES {
                    sums[i] += exp(block[i] - max);
                }
            }
            sums[0] += tail;
        }
    }
    (max, sums.iter().sum())
}

/// Adds `values` into `sums`, lane by lane.
#[inline]
fn lane_sum(sums: &mut [f32; LANES], values: &[f32]) {
    let blocks = values.chunks_exact(LANES);
    sums[0] += blocks.remainder().iter().sum::<f32>();
    for block in blocks {
        for i in 0..LANES {
            sums[i] += block[i];
        }
    }
}

/// One sample's loss `lse - x_c`; turns `exps` (if given) into the scaled gradient.
fn sample_with_index(logits: &[f32], c: usize, mut exps: Option<&mut [f32]>, scale: f32) -> f32 {
    let (max, sum) = shifted_exp_sum(logits, exps.as_deref_mut());
    if let Some(gradient) = exps {
        let factor = scale / sum;
        for g in gradient.iter_mut() {
            *g *= factor;
        }
        gradient[c] -= scale;
    }
    (max - logits[c]) + sum.ln()
}

/// One sample's loss `Σ_k t_k (lse - x_k)`; turns `exps` (if given) into the scaled gradient.
fn sample_with_probabilities(
    logits: &[f32],
    targets: &[f32],
    mut exps: Option<&mut [f32]>,
    scale: f32,
) -> f32 {
    let (max, sum) = shifted_exp_sum(logits, exps.as_deref_mut());
    let log_sum = sum.ln();
    let mut loss = 0f32;
    let mut mass = 0f32;
    for (&x, &t) in logits.iter().zip(targets) {
        // lse - x = (max - x) + ln(sum), each part >= 0 or exact: no cancellation.
        loss += t * ((max - x) + log_sum);
        mass += t;
    }
    if let Some(gradient) = exps {
        let factor = mass / sum;
        for (g, &t) in gradient.iter_mut().zip(targets) {
            *g = scale * (*g * factor - t);
        }
    }
    loss
}

/// The index of the first maximum of a row (NaN never wins).
fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (k, &v) in row.iter().enumerate() {
        if v > row[best] || row[best].is_nan() {
            best = k;
        }
    }
    best
}

impl Loss for CrossEntropy {
    fn name(&self) -> &str {
        "cross_entropy"
    }

    /// `ln C`: the uniform softmax over `C = outputs` classes (`None` below two classes).
    fn uninformed_loss(&self, outputs: usize) -> Option<f32> {
        (outputs >= 2).then(|| (outputs as f32).ln())
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

    /// The fraction of samples whose argmax (first maximum) is the class index, or the
    /// argmax of the target row.
    fn accuracy(&self, predictions: &[f32], targets: &[f32], outputs: usize) -> Option<f32> {
        if outputs == 0 || predictions.is_empty() || !predictions.len().is_multiple_of(outputs) {
            return None;
        }
        let batch = predictions.len() / outputs;
        let rows = predictions.chunks_exact(outputs);
        let correct = if targets.len() == batch {
            let mut correct = 0;
            for (row, &t) in rows.zip(targets) {
                correct += usize::from(argmax(row) == class(t, outputs)?);
            }
            correct
        } else if targets.len() == predictions.len() {
            rows.zip(targets.chunks_exact(outputs))
                .filter(|(row, t)| argmax(row) == argmax(t))
                .count()
        } else {
            return None;
        };
        Some(correct as f32 / batch as f32)
    }
}
