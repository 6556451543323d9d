//! The recommended gain of each nonlinearity, as PyTorch's `torch.nn.init.calculate_gain`.
//!
//! The gain scales an initializer's standard deviation so that the variance of the signal is
//! preserved through the nonlinearity: ReLU halves the second moment, so He multiplies by
//! `sqrt(2)`.

use crate::error::{Result, check_finite};

/// A nonlinearity for [`calculate_gain`].
///
/// ```
/// use nninit::{calculate_gain, Nonlinearity};
/// assert_eq!(calculate_gain(Nonlinearity::Tanh), 5.0 / 3.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Nonlinearity {
    /// No nonlinearity (a linear layer): gain 1.
    Linear,
    /// The identity: gain 1.
    Identity,
    /// A convolution of any dimension (`conv1d`, `conv2d`, ...): gain 1.
    Conv,
    /// A transposed convolution of any dimension: gain 1.
    ConvTranspose,
    /// The logistic sigmoid: gain 1.
    Sigmoid,
    /// The hyperbolic tangent: gain 5/3.
    Tanh,
    /// The rectified linear unit: gain `sqrt(2)`.
    Relu,
    /// Leaky ReLU with the given negative slope: gain `sqrt(2 / (1 + slope²))`.
    LeakyRelu(f64),
    /// SELU: gain 3/4 (PyTorch's choice, meant for use with LeCun-style fan-in scaling).
    Selu,
}

impl Default for Nonlinearity {
    /// ReLU, the default of PyTorch's `kaiming_*_`.
    fn default() -> Self {
        Nonlinearity::Relu
    }
}

/// PyTorch's recommended gain for a nonlinearity.
///
/// | nonlinearity | gain |
/// |---|---|
/// | linear, identity, conv, sigmoid | 1 |
/// | tanh | 5/3 |
/// | relu | sqrt(2) |
/// | leaky_relu(slope) | sqrt(2 / (1 + slope²)) |
/// | selu | 3/4 |
///
/// PyTorch's default leaky-ReLU slope is 0.01; pass it explicitly. A NaN slope gives NaN (as
/// in PyTorch); [`try_calculate_gain`] refuses it with an error instead, and the initializers
/// that take a nonlinearity do. A slope too large to square still gives a positive gain.
///
/// ```
/// use nninit::{calculate_gain, Nonlinearity};
/// assert_eq!(calculate_gain(Nonlinearity::Relu), 2f64.sqrt());
/// let g = calculate_gain(Nonlinearity::LeakyRelu(0.01));
/// assert!((g - (2.0 / (1.0 + 0.01f64.powi(2))).sqrt()).abs() < 1e-15);
/// ```
pub fn calculate_gain(nonlinearity: Nonlinearity) -> f64 {
    match nonlinearity {
        Nonlinearity::Linear
        | Nonlinearity::Identity
        | Nonlinearity::Conv
        | Nonlinearity::ConvTranspose
        | Nonlinearity::Sigmoid => 1.0,
        Nonlinearity::Tanh => 5.0 / 3.0,
        Nonlinearity::Relu => 2f64.sqrt(),
        Nonlinearity::LeakyRelu(slope) => leaky_relu_gain(slope),
        Nonlinearity::Selu => 0.75,
    }
}

/// `sqrt(2 / (1 + slope²))`, also where `slope²` overflows (`|slope|` above about 1e154):
/// there it is `sqrt(2) / |slope|` to within rounding, not 0.
fn leaky_relu_gain(slope: f64) -> f64 {
    let square = slope * slope;
    if square.is_finite() {
        (2.0 / (1.0 + square)).sqrt()
    } else {
        std::f64::consts::SQRT_2 / slope.abs()
    }
}

/// [`calculate_gain`], refusing a nonlinearity whose gain is not a finite positive number: a
/// leaky ReLU with a NaN or infinite slope (whose gain would be NaN or 0).
///
/// ```
/// use nninit::{try_calculate_gain, Nonlinearity};
/// assert_eq!(try_calculate_gain(Nonlinearity::Relu)?, 2f64.sqrt());
/// let error = try_calculate_gain(Nonlinearity::LeakyRelu(f64::NAN)).unwrap_err();
/// assert_eq!(error.to_string(), "negative_slope must be finite, got NaN");
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn try_calculate_gain(nonlinearity: Nonlinearity) -> Result<f64> {
    if let Nonlinearity::LeakyRelu(slope) = nonlinearity {
        check_finite("negative_slope", slope)?;
    }
    Ok(calculate_gain(nonlinearity))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pytorch_table() {
        // torch.nn.init.calculate_gain(...) for each name.
        assert_eq!(calculate_gain(Nonlinearity::Linear), 1.0);
        assert_eq!(calculate_gain(Nonlinearity::Conv), 1.0);
        assert_eq!(calculate_gain(Nonlinearity::Sigmoid), 1.0);
        assert_eq!(calculate_gain(Nonlinearity::Tanh), 1.6666666666666667);
        assert_eq!(calculate_gain(Nonlinearity::Relu), std::f64::consts::SQRT_2);
        assert_eq!(
            calculate_gain(Nonlinearity::LeakyRelu(0.01)),
            1.4141428569978354
        );
        assert_eq!(
            calculate_gain(Nonlinearity::LeakyRelu(0.2)),
            1.3867504905630728
        );
        assert_eq!(calculate_gain(Nonlinearity::Selu), 0.75);
    }

    /// Issue 14.6: `calculate_gain(LeakyRelu(NaN))` was NaN with no way to get an error, and
    /// `LeakyRelu(1e200)` gave 0 (`slope²` overflowed).
    #[test]
    fn degenerate_slopes() {
        assert!(try_calculate_gain(Nonlinearity::LeakyRelu(f64::NAN)).is_err());
        assert!(try_calculate_gain(Nonlinearity::LeakyRelu(f64::INFINITY)).is_err());
        let gain = calculate_gain(Nonlinearity::LeakyRelu(1e200));
        assert!(gain > 0.0 && (gain * 1e200 - std::f64::consts::SQRT_2).abs() < 1e-15);
        assert_eq!(calculate_gain(Nonlinearity::LeakyRelu(-1e200)), gain);
    }
}
