//! The rectifiers: ReLU, leaky ReLU, ELU and SELU (linear for `x > 0`).
//!
//! Each formula tests `x > 0.0` and puts the negative branch in the `else`, so that a NaN input
//! (for which every comparison is false) flows into arithmetic and comes out NaN.

use super::variance::elu_gain;
use super::{Activation, pointwise_methods, scale_by, scale_by_pair};
use crate::error::{Result, check_finite_f32};
use crate::gain::{Nonlinearity, calculate_gain};
use crate::init::{HeNormal, Initializer};
use crate::special::{exp, expm1};

/// 0 for `x <= 0`, 1 above, NaN for NaN: the step that ReLU's derivative is.
#[inline(always)]
fn step(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x.is_nan() {
        x
    } else {
        0.0
    }
}

/// The rectified linear unit `max(x, 0)`, PyTorch's `nn.ReLU`.
///
/// Derivative 1 for `x > 0`, 0 for `x <= 0` (PyTorch's ReLU'(0) = 0), from the input.
/// `Relu.forward(NaN)` is NaN. Gain `sqrt(2)`, He normal (fan_in).
///
/// ```
/// use nninit::{Activation, Relu};
/// assert_eq!(Relu.forward(-2.0), 0.0);
/// assert_eq!(Relu.forward(2.0), 2.0);
/// assert!(Relu.forward(f32::NAN).is_nan());
/// assert_eq!(Relu.gain(), 2f64.sqrt());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Relu;

/// `max(x, 0)`, but not `x.max(0.0)`, which returns 0 for NaN.
#[inline(always)]
fn relu(x: f32) -> f32 {
    if x <= 0.0 { 0.0 } else { x }
}

impl Activation for Relu {
    fn name(&self) -> &str {
        "relu"
    }

    fn family(&self) -> super::ActivationFamily {
        super::ActivationFamily::Rectifier
    }

    pointwise_methods!(this, x => forward: relu(x), derivative: step(x));

    fn backward_slice(&self, x: &[f32], _y: &[f32], gradient: &mut [f32]) {
        scale_by(x, gradient, step)
    }

    fn gain(&self) -> f64 {
        calculate_gain(Nonlinearity::Relu)
    }

    fn is_rectifier(&self) -> bool {
        true
    }
}

/// Leaky ReLU: `x` for `x > 0`, `slope * x` otherwise, PyTorch's `nn.LeakyReLU(negative_slope)`.
///
/// Derivative 1 for `x > 0`, `slope` for `x <= 0` (as PyTorch), from the input. Gain
/// `sqrt(2 / (1 + slope²))`, He normal with that gain. `Default` is PyTorch's slope 0.01.
///
/// ```
/// use nninit::{Activation, LeakyRelu};
/// let leaky = LeakyRelu::new(0.1);
/// assert_eq!(leaky.forward(-2.0), -0.2);
/// assert_eq!(leaky.derivative(-2.0), 0.1);
/// assert_eq!(leaky.forward(3.0), 3.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyRelu {
    slope: f64,
}

impl LeakyRelu {
    /// A leaky ReLU with the given negative slope (any value, as in PyTorch; 0 is ReLU).
    ///
    /// ```
    /// use nninit::{Activation, LeakyRelu};
    /// assert_eq!(LeakyRelu::new(0.2).forward(-1.0), -0.2);
    /// ```
    pub fn new(slope: impl Into<f64>) -> Self {
        LeakyRelu {
            slope: slope.into(),
        }
    }

    /// A leaky ReLU whose slope is checked: it must be finite in `f32` (a NaN or infinite slope
    /// makes the output of every negative input NaN or infinite).
    ///
    /// ```
    /// assert_eq!(nninit::LeakyRelu::try_new(0.2)?.slope(), 0.2);
    /// let error = nninit::LeakyRelu::try_new(f64::NAN).unwrap_err();
    /// assert_eq!(error.to_string(), "negative_slope must be finite in f32, got NaN");
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn try_new(slope: impl Into<f64>) -> Result<Self> {
        let leaky = LeakyRelu::new(slope);
        leaky.validate()?;
        Ok(leaky)
    }

    /// The negative slope.
    ///
    /// ```
    /// assert_eq!(nninit::LeakyRelu::default().slope(), 0.01);
    /// ```
    pub fn slope(&self) -> f64 {
        self.slope
    }
}

#[inline(always)]
fn leaky_relu(x: f32, slope: f32) -> f32 {
    if x > 0.0 { x } else { slope * x }
}

#[inline(always)]
fn leaky_relu_derivative(x: f32, slope: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x.is_nan() {
        x
    } else {
        slope
    }
}

impl Default for LeakyRelu {
    /// PyTorch's default negative slope, 0.01.
    fn default() -> Self {
        LeakyRelu::new(0.01)
    }
}

impl Activation for LeakyRelu {
    fn name(&self) -> &str {
        "leaky_relu"
    }

    fn validate(&self) -> Result<()> {
        check_finite_f32("negative_slope", self.slope)
    }

    fn family(&self) -> super::ActivationFamily {
        super::ActivationFamily::Rectifier
    }

    pointwise_methods!(this, x =>
        forward: leaky_relu(x, this.slope as f32),
        derivative: leaky_relu_derivative(x, this.slope as f32),
    );

    fn backward_slice(&self, x: &[f32], _y: &[f32], gradient: &mut [f32]) {
        let slope = self.slope as f32;
        scale_by(x, gradient, |x| leaky_relu_derivative(x, slope))
    }

    fn gain(&self) -> f64 {
        calculate_gain(Nonlinearity::LeakyRelu(self.slope))
    }

    fn recommended_init(&self) -> Box<dyn Initializer<f32>> {
        Box::new(HeNormal::default().nonlinearity(Nonlinearity::LeakyRelu(self.slope)))
    }

    fn is_rectifier(&self) -> bool {
        self.slope == 0.0
    }
}

/// The exponential linear unit: `x` for `x > 0`, `alpha (e^x - 1)` otherwise (Clevert et al.
/// 2016), PyTorch's `nn.ELU(alpha)`.
///
/// Derivative 1 for `x > 0`, `alpha e^x` for `x <= 0` (so ELU'(0) = alpha, as PyTorch);
/// [`backward_slice`](Activation::backward_slice) takes the negative branch from the output,
/// `y + alpha`, saving the exponential. Gain `1 / sqrt(1/2 + alpha² K)` with
/// `K = E[(e^z - 1)²; z < 0] = 0.1449454…` (1.245198 for alpha = 1), He normal.
/// `Default` is PyTorch's alpha = 1.
///
/// ```
/// use nninit::{Activation, Elu};
/// let elu = Elu::default();
/// assert_eq!(elu.forward(2.0), 2.0);
/// assert!((elu.forward(-1.0) - (-0.632_120_56)).abs() < 1e-6); // e^-1 - 1
/// assert_eq!(Elu::new(2.0).derivative(0.0), 2.0); // PyTorch: alpha at the kink
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Elu {
    alpha: f64,
}

impl Elu {
    /// An ELU with the given `alpha` (the negative saturation value is `-alpha`).
    ///
    /// ```
    /// use nninit::{Activation, Elu};
    /// assert_eq!(Elu::new(2.0).forward(f32::NEG_INFINITY), -2.0);
    /// ```
    pub fn new(alpha: impl Into<f64>) -> Self {
        Elu {
            alpha: alpha.into(),
        }
    }

    /// An ELU whose `alpha` is checked: it must be finite in `f32` (a NaN or infinite `alpha`
    /// makes the output of negative inputs NaN or infinite).
    ///
    /// ```
    /// assert_eq!(nninit::Elu::try_new(0.5)?.alpha(), 0.5);
    /// assert!(nninit::Elu::try_new(f64::INFINITY).is_err());
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn try_new(alpha: impl Into<f64>) -> Result<Self> {
        let elu = Elu::new(alpha);
        elu.validate()?;
        Ok(elu)
    }

    /// `alpha`.
    ///
    /// ```
    /// assert_eq!(nninit::Elu::default().alpha(), 1.0);
    /// ```
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
}

#[inline(always)]
fn elu(x: f32, alpha: f32) -> f32 {
    if x > 0.0 { x } else { alpha * expm1(x) }
}

#[inline(always)]
fn elu_derivative(x: f32, alpha: f32) -> f32 {
    if x > 0.0 { 1.0 } else { alpha * exp(x) }
}

impl Default for Elu {
    /// PyTorch's default, alpha = 1.
    fn default() -> Self {
        Elu::new(1.0)
    }
}

impl Activation for Elu {
    fn name(&self) -> &str {
        "elu"
    }

    fn validate(&self) -> Result<()> {
        check_finite_f32("alpha", self.alpha)
    }

    fn family(&self) -> super::ActivationFamily {
        super::ActivationFamily::Rectifier
    }

    pointwise_methods!(this, x =>
        forward: elu(x, this.alpha as f32),
        derivative: elu_derivative(x, this.alpha as f32),
    );

    fn backward_slice(&self, x: &[f32], y: &[f32], gradient: &mut [f32]) {
        let alpha = self.alpha as f32;
        // y = alpha (e^x - 1), so alpha e^x = y + alpha.
        scale_by_pair(x, y, gradient, |x, y| if x > 0.0 { 1.0 } else { y + alpha })
    }

    fn gain(&self) -> f64 {
        elu_gain(self.alpha)
    }
}

/// SELU's `alpha` (Klambauer et al. 2017), as in PyTorch.
const SELU_ALPHA: f32 = 1.673_263_2;
/// SELU's `scale` (lambda), as in PyTorch.
const SELU_SCALE: f32 = 1.050_701;

/// The scaled ELU `scale * (x if x > 0 else alpha (e^x - 1))` with `alpha = 1.6732632` and
/// `scale = 1.0507010` (Klambauer et al. 2017, "Self-Normalizing Neural Networks"),
/// PyTorch's `nn.SELU`.
///
/// Derivative `scale` for `x > 0`, `scale alpha e^x` otherwise; from the output,
/// `y + scale alpha`. Gain 3/4 (PyTorch's table: with LeCun normal weights SELU keeps
/// `E[f(z)²] = 1` on its own), LeCun normal.
///
/// ```
/// use nninit::{Activation, Selu};
/// assert!((Selu.forward(1.0) - 1.050_701).abs() < 1e-6);
/// assert!((Selu.forward(f32::NEG_INFINITY) + 1.758_099_3).abs() < 1e-6); // -scale alpha
/// assert_eq!(Selu.gain(), 0.75);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Selu;

#[inline(always)]
fn selu(x: f32) -> f32 {
    if x > 0.0 {
        SELU_SCALE * x
    } else {
        SELU_SCALE * SELU_ALPHA * expm1(x)
    }
}

#[inline(always)]
fn selu_derivative(x: f32) -> f32 {
    if x > 0.0 {
        SELU_SCALE
    } else {
        SELU_SCALE * SELU_ALPHA * exp(x)
    }
}

impl Activation for Selu {
    fn name(&self) -> &str {
        "selu"
    }

    fn family(&self) -> super::ActivationFamily {
        super::ActivationFamily::SelfNormalizing
    }

    pointwise_methods!(this, x => forward: selu(x), derivative: selu_derivative(x));

    fn backward_slice(&self, x: &[f32], y: &[f32], gradient: &mut [f32]) {
        let floor = SELU_SCALE * SELU_ALPHA;
        scale_by_pair(
            x,
            y,
            gradient,
            |x, y| {
                if x > 0.0 { SELU_SCALE } else { y + floor }
            },
        )
    }

    fn gain(&self) -> f64 {
        calculate_gain(Nonlinearity::Selu)
    }
}
