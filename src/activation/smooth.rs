//! The smooth relatives of ReLU: GELU (exact and tanh-approximated), SiLU and softplus.
//!
//! All are unbounded above and close to 0 far below; they pair with He initialization like
//! ReLU. None can die (their derivative is nowhere exactly 0 on a region).

use super::variance::{
    GELU_GAIN, GELU_TANH_GAIN, SILU_GAIN, SOFTPLUS_GAIN, variance_preserving_gain,
};
use super::{Activation, pointwise_methods, scale_by};
use crate::error::{Result, check_positive_f32};
use crate::special::{erfc, exp, ln_1p, sigmoid_pair};

/// `1 / sqrt(2)`.
const FRAC_1_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
/// `1 / sqrt(2 pi)`, the standard normal density at 0.
const FRAC_1_SQRT_2PI: f32 = 0.398_942_3;
/// `sqrt(2 / pi)`, the slope at 0 of the tanh approximation's argument.
const SQRT_2_OVER_PI: f32 = 0.797_884_6;
/// The cubic coefficient of the tanh approximation (Hendrycks and Gimpel 2016).
const GELU_CUBIC: f32 = 0.044_715;

/// The Gaussian error linear unit `x Φ(x)`, with `Φ` the standard normal CDF (Hendrycks and
/// Gimpel 2016), PyTorch's `nn.GELU()` (`approximate='none'`).
///
/// Computed as `x erfc(-x / √2) / 2`, which keeps full relative accuracy far into the negative
/// tail (`Gelu.forward(-10.0)` is `-7.6e-23`, where `x (1 + erf(x / √2)) / 2` gives 0).
/// Derivative `Φ(x) + x φ(x)` from the input. Gain `1 / sqrt(E[f(z)²])` = 1.533530, He normal.
/// For PyTorch's `approximate='tanh'` use [`GeluTanh`] (or [`Gelu::tanh_approximation`]).
///
/// ```
/// use nninit::{Activation, Gelu};
/// assert!((Gelu.forward(1.0) - 0.841_344_7).abs() < 1e-6);
/// assert_eq!(Gelu.forward(0.0), 0.0);
/// assert!((Gelu.derivative(0.0) - 0.5).abs() < 1e-6);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Gelu;

impl Gelu {
    /// The tanh approximation of GELU, PyTorch's `nn.GELU(approximate='tanh')`.
    ///
    /// ```
    /// use nninit::{Activation, Gelu};
    /// assert_eq!(Gelu.tanh_approximation().name(), "gelu_tanh");
    /// ```
    pub fn tanh_approximation(self) -> GeluTanh {
        GeluTanh
    }
}

#[inline(always)]
fn gelu(x: f32) -> f32 {
    // -inf * erfc(inf) would be -inf * 0 = NaN: take the limit.
    if x == f32::NEG_INFINITY {
        -0.0
    } else {
        0.5 * x * erfc(-x * FRAC_1_SQRT_2)
    }
}

#[inline(always)]
fn gelu_derivative(x: f32) -> f32 {
    let cdf = 0.5 * erfc(-x * FRAC_1_SQRT_2);
    let density = FRAC_1_SQRT_2PI * exp(-0.5 * x * x);
    // At ±inf, x φ(x) is inf * 0: the limit is Φ alone.
    if x.is_infinite() {
        cdf
    } else {
        cdf + x * density
    }
}

impl Activation for Gelu {
    fn name(&self) -> &str {
        "gelu"
    }

    fn family(&self) -> super::ActivationFamily {
        super::ActivationFamily::Rectifier
    }

    pointwise_methods!(this, x => forward: gelu(x), derivative: gelu_derivative(x));

    fn backward_slice(&self, x: &[f32], _y: &[f32], gradient: &mut [f32]) {
        scale_by(x, gradient, gelu_derivative)
    }

    fn gain(&self) -> f64 {
        GELU_GAIN
    }
}

/// GELU's tanh approximation `x/2 (1 + tanh(√(2/π) (x + 0.044715 x³)))`, PyTorch's
/// `nn.GELU(approximate='tanh')`.
///
/// Computed as `x σ(2u)` with `u = √(2/π) (x + 0.044715 x³)` (the same function, since
/// `(1 + tanh u) / 2 = σ(2u)`), which does not cancel for negative `x`. Derivative
/// `σ(2u) + 2 x u' σ(2u) (1 - σ(2u))` from the input. Gain 1.533581, He normal.
///
/// ```
/// use nninit::{Activation, GeluTanh};
/// assert!((GeluTanh.forward(1.0) - 0.841_192).abs() < 1e-6);
/// assert_eq!(GeluTanh.forward(0.0), 0.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GeluTanh;

/// Beyond this magnitude `σ(2u)` is exactly 0 or 1 in `f32`, and `x³` may overflow.
const GELU_TANH_LINEAR: f32 = 1e6;

#[inline(always)]
fn gelu_tanh(x: f32) -> f32 {
    let u = SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x);
    let (s, _) = sigmoid_pair(2.0 * u);
    if x.abs() > GELU_TANH_LINEAR {
        if x > 0.0 { x } else { -0.0 }
    } else {
        x * s
    }
}

#[inline(always)]
fn gelu_tanh_derivative(x: f32) -> f32 {
    let u = SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x);
    let du = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_CUBIC * x * x);
    let (s, c) = sigmoid_pair(2.0 * u);
    if x.abs() > GELU_TANH_LINEAR {
        if x > 0.0 { 1.0 } else { 0.0 }
    } else {
        s + 2.0 * x * du * s * c
    }
}

impl Activation for GeluTanh {
    fn name(&self) -> &str {
        "gelu_tanh"
    }

    fn family(&self) -> super::ActivationFamily {
        super::ActivationFamily::Rectifier
    }

    pointwise_methods!(this, x => forward: gelu_tanh(x), derivative: gelu_tanh_derivative(x));

    fn backward_slice(&self, x: &[f32], _y: &[f32], gradient: &mut [f32]) {
        scale_by(x, gradient, gelu_tanh_derivative)
    }

    fn gain(&self) -> f64 {
        GELU_TANH_GAIN
    }
}

/// The sigmoid linear unit (swish) `x σ(x)` (Elfwing et al. 2018, Ramachandran et al. 2017),
/// PyTorch's `nn.SiLU`.
///
/// Derivative `σ(x) (1 + x (1 - σ(x)))` from the input. Gain 1.676532, He normal.
///
/// ```
/// use nninit::{Activation, Silu};
/// assert_eq!(Silu.forward(0.0), 0.0);
/// assert!((Silu.forward(1.0) - 0.731_058_6).abs() < 1e-6);
/// assert_eq!(Silu.derivative(0.0), 0.5);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Silu;

#[inline(always)]
fn silu(x: f32) -> f32 {
    let (s, _) = sigmoid_pair(x);
    // -inf * σ(-inf) = -inf * 0: take the limit.
    if x == f32::NEG_INFINITY { -0.0 } else { x * s }
}

#[inline(always)]
fn silu_derivative(x: f32) -> f32 {
    let (s, c) = sigmoid_pair(x);
    // At ±inf, x σ (1 - σ) is inf * 0: the limit is σ alone (1 or 0).
    if x.is_infinite() { s } else { s + x * s * c }
}

impl Activation for Silu {
    fn name(&self) -> &str {
        "silu"
    }

    fn family(&self) -> super::ActivationFamily {
        super::ActivationFamily::Rectifier
    }

    pointwise_methods!(this, x => forward: silu(x), derivative: silu_derivative(x));

    fn backward_slice(&self, x: &[f32], _y: &[f32], gradient: &mut [f32]) {
        scale_by(x, gradient, silu_derivative)
    }

    fn gain(&self) -> f64 {
        SILU_GAIN
    }
}

/// Softplus `ln(1 + e^(beta x)) / beta`, and `x` where `beta x > threshold`, PyTorch's
/// `nn.Softplus(beta, threshold)`: a smooth ReLU.
///
/// Derivative `σ(beta x)` (1 above the threshold, as PyTorch), from the input. Gain
/// `1 / sqrt(E[f(z)²])` = 1.041867 for the defaults (other parameters: computed by
/// quadrature on each call, tens of microseconds), He normal. `Default` is PyTorch's
/// `beta = 1`, `threshold = 20`.
///
/// ```
/// use nninit::{Activation, Softplus};
/// let softplus = Softplus::default();
/// assert!((softplus.forward(0.0) - std::f32::consts::LN_2).abs() < 1e-7);
/// assert_eq!(softplus.forward(30.0), 30.0); // above the threshold
/// assert_eq!(softplus.derivative(0.0), 0.5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Softplus {
    beta: f64,
    threshold: f64,
}

impl Softplus {
    /// A softplus with sharpness `beta` that reverts to the identity where
    /// `beta x > threshold`. Any values are accepted here, as in PyTorch;
    /// [`try_new`](Softplus::try_new) checks them, and a layer refuses invalid ones
    /// ([`Activation::validate`]).
    ///
    /// ```
    /// use nninit::{Activation, Softplus};
    /// let sharp = Softplus::new(10.0, 20.0);
    /// assert!((sharp.forward(1.0) - 1.0).abs() < 1e-5);
    /// ```
    pub fn new(beta: impl Into<f64>, threshold: impl Into<f64>) -> Self {
        Softplus {
            beta: beta.into(),
            threshold: threshold.into(),
        }
    }

    /// A softplus whose parameters are checked: `beta` finite and at least `f32`'s smallest
    /// normal number (`beta = 0` divides by zero: infinite outputs and a gain of 0; a negative
    /// `beta` turns softplus upside down), `threshold` not NaN.
    ///
    /// ```
    /// assert_eq!(nninit::Softplus::try_new(2.0, 20.0)?.beta(), 2.0);
    /// assert!(nninit::Softplus::try_new(0.0, 20.0).is_err());
    /// assert!(nninit::Softplus::try_new(1.0, f64::NAN).is_err());
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn try_new(beta: impl Into<f64>, threshold: impl Into<f64>) -> Result<Self> {
        let softplus = Softplus::new(beta, threshold);
        softplus.validate()?;
        Ok(softplus)
    }

    /// The threshold the `f32` kernels use: at most [`LINEAR_ABOVE`], beyond which
    /// `ln(1 + e^(beta x)) / beta` equals `x` to `f32` precision and `e^(beta x)` would soon
    /// overflow (to an infinite output) if computed.
    fn kernel_threshold(&self) -> f32 {
        (self.threshold as f32).min(LINEAR_ABOVE)
    }

    /// `beta`.
    ///
    /// ```
    /// assert_eq!(nninit::Softplus::default().beta(), 1.0);
    /// ```
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// `threshold`.
    ///
    /// ```
    /// assert_eq!(nninit::Softplus::default().threshold(), 20.0);
    /// ```
    pub fn threshold(&self) -> f64 {
        self.threshold
    }
}

/// Where softplus becomes `x` in `f32` whatever the threshold: `ln(1 + e^y) = y` to `f32`
/// precision once `e^-y` is below half an ulp of `y` (from `y` about 17), and `e^y` overflows
/// `f32` above 88.7.
const LINEAR_ABOVE: f32 = 80.0;

#[inline(always)]
fn softplus(x: f32, beta: f32, threshold: f32) -> f32 {
    let bx = beta * x;
    let smooth = ln_1p(exp(bx)) / beta;
    if bx > threshold { x } else { smooth }
}

#[inline(always)]
fn softplus_derivative(x: f32, beta: f32, threshold: f32) -> f32 {
    let bx = beta * x;
    let (s, _) = sigmoid_pair(bx);
    if bx > threshold { 1.0 } else { s }
}

impl Default for Softplus {
    /// PyTorch's defaults: `beta = 1`, `threshold = 20`.
    fn default() -> Self {
        Softplus::new(1.0, 20.0)
    }
}

impl Activation for Softplus {
    fn name(&self) -> &str {
        "softplus"
    }

    fn validate(&self) -> Result<()> {
        check_positive_f32("beta", self.beta)?;
        if self.threshold.is_nan() {
            return Err(crate::Error::invalid(
                "threshold",
                "a number",
                self.threshold,
            ));
        }
        Ok(())
    }

    fn family(&self) -> super::ActivationFamily {
        super::ActivationFamily::Rectifier
    }

    pointwise_methods!(this, x =>
        forward: softplus(x, this.beta as f32, this.kernel_threshold()),
        derivative: softplus_derivative(x, this.beta as f32, this.kernel_threshold()),
    );

    fn backward_slice(&self, x: &[f32], _y: &[f32], gradient: &mut [f32]) {
        let (beta, threshold) = (self.beta as f32, self.kernel_threshold());
        for (g, &x) in gradient.iter_mut().zip(x) {
            *g *= softplus_derivative(x, beta, threshold);
        }
    }

    fn gain(&self) -> f64 {
        if *self == Softplus::default() {
            return SOFTPLUS_GAIN;
        }
        let Softplus { beta, threshold } = *self;
        variance_preserving_gain(|z| {
            if beta * z > threshold {
                z
            } else {
                (beta * z).exp().ln_1p() / beta
            }
        })
    }
}
