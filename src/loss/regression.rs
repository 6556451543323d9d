//! The regression losses: mean squared error, mean absolute error, Huber.

use super::{Loss, elementwise_mean};
use crate::error::{Result, check_positive_f32};

/// Mean squared error `mean((p - t)²)`, PyTorch's `nn.MSELoss()`.
///
/// Gradient `2 (p - t) / n` for `n` elements.
///
/// ```
/// use nninit::{Loss, Mse};
/// let mut gradient = [0.0; 3];
/// let loss = Mse.loss_and_gradient(&[1.0, 2.0, 3.0], &[1.0, 2.0, 6.0], 3, &mut gradient)?;
/// assert_eq!(loss, 3.0);
/// assert_eq!(gradient, [0.0, 0.0, -2.0]); // 2 (3 - 6) / 3
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mse;

/// `(d², 2d)` for `d = p - t`.
#[inline(always)]
fn squared(p: f32, t: f32) -> (f32, f32) {
    let d = p - t;
    (d * d, 2.0 * d)
}

impl Loss for Mse {
    fn name(&self) -> &str {
        "mse"
    }

    fn loss(&self, predictions: &[f32], targets: &[f32], outputs: usize) -> Result<f32> {
        elementwise_mean(predictions, targets, outputs, None, squared)
    }

    fn loss_and_gradient(
        &self,
        predictions: &[f32],
        targets: &[f32],
        outputs: usize,
        gradient: &mut [f32],
    ) -> Result<f32> {
        elementwise_mean(predictions, targets, outputs, Some(gradient), squared)
    }
}

/// Mean absolute error `mean(|p - t|)`, PyTorch's `nn.L1Loss()`.
///
/// Gradient `sign(p - t) / n`, 0 where `p == t` (as PyTorch).
///
/// ```
/// use nninit::{Loss, Mae};
/// let mut gradient = [0.0; 2];
/// let loss = Mae.loss_and_gradient(&[1.0, 5.0], &[1.0, 2.0], 1, &mut gradient)?;
/// assert_eq!(loss, 1.5);
/// assert_eq!(gradient, [0.0, 0.5]);
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mae;

/// `(|d|, sign d)` with `sign 0 = 0`.
#[inline(always)]
fn absolute(p: f32, t: f32) -> (f32, f32) {
    let d = p - t;
    let sign = if d > 0.0 {
        1.0
    } else if d < 0.0 {
        -1.0
    } else {
        0.0
    };
    (d.abs(), sign)
}

impl Loss for Mae {
    fn name(&self) -> &str {
        "mae"
    }

    fn loss(&self, predictions: &[f32], targets: &[f32], outputs: usize) -> Result<f32> {
        elementwise_mean(predictions, targets, outputs, None, absolute)
    }

    fn loss_and_gradient(
        &self,
        predictions: &[f32],
        targets: &[f32],
        outputs: usize,
        gradient: &mut [f32],
    ) -> Result<f32> {
        elementwise_mean(predictions, targets, outputs, Some(gradient), absolute)
    }
}

/// The Huber loss, PyTorch's `nn.HuberLoss(delta=delta)`: quadratic near the target, linear
/// beyond `delta`, so outliers pull with a bounded force.
///
/// Per element, with `d = p - t`: `d² / 2` if `|d| < delta`, else `delta (|d| - delta / 2)`;
/// gradient `clamp(d, -delta, delta) / n`. `delta` must be finite and at least `f32`'s smallest
/// normal number (checked by [`Huber::try_new`], and when the loss is evaluated). `Default` is
/// PyTorch's `delta = 1`.
///
/// ```
/// use nninit::{Huber, Loss};
/// let huber = Huber::new(1.0);
/// assert_eq!(huber.loss(&[0.5, 3.0], &[0.0, 0.0], 2)?, (0.125 + 2.5) / 2.0);
/// assert!(Huber::new(0.0).loss(&[0.0], &[0.0], 1).is_err());
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Huber {
    delta: f64,
}

impl Huber {
    /// A Huber loss with threshold `delta` (PyTorch's default is 1).
    ///
    /// ```
    /// assert_eq!(nninit::Huber::new(2.0).delta(), 2.0);
    /// ```
    pub fn new(delta: impl Into<f64>) -> Self {
        Huber {
            delta: delta.into(),
        }
    }

    /// A Huber loss whose `delta` is checked now rather than when the loss is evaluated: finite
    /// in `f32` and at least `f32`'s smallest normal number (a `delta` that rounds to 0 would
    /// make the loss and its gradient 0 everywhere).
    ///
    /// ```
    /// assert_eq!(nninit::Huber::try_new(0.5)?.delta(), 0.5);
    /// assert!(nninit::Huber::try_new(0.0).is_err());
    /// assert!(nninit::Huber::try_new(1e-50).is_err());
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn try_new(delta: impl Into<f64>) -> Result<Self> {
        let delta = delta.into();
        check_positive_f32("delta", delta)?;
        Ok(Huber { delta })
    }

    /// The threshold between the quadratic and the linear part.
    ///
    /// ```
    /// assert_eq!(nninit::Huber::default().delta(), 1.0);
    /// ```
    pub fn delta(&self) -> f64 {
        self.delta
    }

    /// The per-element term, after checking `delta`.
    fn term(&self) -> Result<impl Fn(f32, f32) -> (f32, f32)> {
        check_positive_f32("delta", self.delta)?;
        let delta = self.delta as f32;
        Ok(move |p: f32, t: f32| {
            let d = p - t;
            let value = if d.abs() < delta {
                0.5 * d * d
            } else {
                delta * (d.abs() - 0.5 * delta)
            };
            (value, d.clamp(-delta, delta))
        })
    }
}

impl Default for Huber {
    /// PyTorch's default, `delta = 1`.
    fn default() -> Self {
        Huber::new(1.0)
    }
}

impl Loss for Huber {
    fn name(&self) -> &str {
        "huber"
    }

    fn loss(&self, predictions: &[f32], targets: &[f32], outputs: usize) -> Result<f32> {
        elementwise_mean(predictions, targets, outputs, None, self.term()?)
    }

    fn loss_and_gradient(
        &self,
        predictions: &[f32],
        targets: &[f32],
        outputs: usize,
        gradient: &mut [f32],
    ) -> Result<f32> {
        elementwise_mean(predictions, targets, outputs, Some(gradient), self.term()?)
    }
}
