//! The bounded, symmetric-around-their-midpoint activations: sigmoid, tanh, softsign.
//!
//! All three saturate: their derivative vanishes at both asymptotes, so they pair with Glorot
//! initialization, which keeps pre-activations in the near-linear region at the start.

use super::variance::SOFTSIGN_GAIN;
use super::{Activation, pointwise_methods, scale_by};
use crate::gain::{Nonlinearity, calculate_gain};
use crate::special::{exp, sigmoid_pair, tanh};

/// The logistic sigmoid `σ(x) = 1 / (1 + e^-x)`, PyTorch's `nn.Sigmoid`.
///
/// Derivative `σ(x) (1 - σ(x))`; [`backward_slice`](Activation::backward_slice) takes it from
/// the output, `y (1 - y)`, as PyTorch's `sigmoid_backward` does. Computed without overflow
/// in both tails (`σ(-100) = 3.7e-44`, not 0). Gain 1, Glorot uniform.
///
/// ```
/// use nninit::{Activation, Sigmoid};
/// assert_eq!(Sigmoid.forward(0.0), 0.5);
/// assert_eq!(Sigmoid.derivative(0.0), 0.25);
/// assert!(Sigmoid.forward(-1e4) >= 0.0 && Sigmoid.forward(1e4) == 1.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sigmoid;

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    sigmoid_pair(x).0
}

/// σ'(x) = e / (1 + e)² with e = exp(-|x|): accurate in both tails, no cancellation.
#[inline(always)]
fn sigmoid_derivative(x: f32) -> f32 {
    let e = exp(-x.abs());
    let r = 1.0 / (1.0 + e);
    e * r * r
}

impl Activation for Sigmoid {
    fn name(&self) -> &str {
        "sigmoid"
    }

    fn family(&self) -> super::ActivationFamily {
        super::ActivationFamily::Saturating
    }

    pointwise_methods!(this, x => forward: sigmoid(x), derivative: sigmoid_derivative(x));

    fn backward_slice(&self, _x: &[f32], y: &[f32], gradient: &mut [f32]) {
        scale_by(y, gradient, |y| y * (1.0 - y))
    }

    fn gain(&self) -> f64 {
        calculate_gain(Nonlinearity::Sigmoid)
    }

    fn saturation_bounds(&self) -> Option<(f32, f32)> {
        Some((0.0, 1.0))
    }
}

/// The hyperbolic tangent, PyTorch's `nn.Tanh`.
///
/// Derivative `1 - tanh²(x)`; [`backward_slice`](Activation::backward_slice) takes it from the
/// output, `1 - y²`, as PyTorch's `tanh_backward` does. Gain 5/3 (PyTorch's table),
/// Glorot uniform.
///
/// ```
/// use nninit::{Activation, Tanh};
/// assert_eq!(Tanh.forward(0.0), 0.0);
/// assert!((Tanh.forward(1.0) - 0.761_594_2).abs() < 1e-6);
/// assert_eq!(Tanh.derivative(0.0), 1.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tanh;

/// sech²(x) = 4e / (1 + e)² with e = exp(-2|x|): no cancellation when tanh(x) ≈ ±1.
#[inline(always)]
fn tanh_derivative(x: f32) -> f32 {
    let e = exp(-2.0 * x.abs());
    let r = 1.0 / (1.0 + e);
    4.0 * e * r * r
}

impl Activation for Tanh {
    fn name(&self) -> &str {
        "tanh"
    }

    fn family(&self) -> super::ActivationFamily {
        super::ActivationFamily::Saturating
    }

    pointwise_methods!(this, x => forward: tanh(x), derivative: tanh_derivative(x));

    fn backward_slice(&self, _x: &[f32], y: &[f32], gradient: &mut [f32]) {
        scale_by(y, gradient, |y| 1.0 - y * y)
    }

    fn gain(&self) -> f64 {
        calculate_gain(Nonlinearity::Tanh)
    }

    fn saturation_bounds(&self) -> Option<(f32, f32)> {
        Some((-1.0, 1.0))
    }
}

/// Softsign `x / (1 + |x|)`, PyTorch's `nn.Softsign`: like tanh, but approaching its
/// asymptotes polynomially rather than exponentially.
///
/// Derivative `1 / (1 + |x|)²`, taken from the input (a division is as cheap as anything the
/// output offers, and `1 - |y|` would cancel near saturation). Gain `1 / sqrt(E[f(z)²])`
/// = 2.337533 (PyTorch tabulates none), Glorot uniform.
///
/// ```
/// use nninit::{Activation, Softsign};
/// assert_eq!(Softsign.forward(1.0), 0.5);
/// assert_eq!(Softsign.derivative(1.0), 0.25);
/// assert_eq!(Softsign.forward(f32::INFINITY), 1.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Softsign;

#[inline(always)]
fn softsign(x: f32) -> f32 {
    // inf / (1 + inf) would be NaN: take the limit ±1.
    if x.is_infinite() {
        x.signum()
    } else {
        x / (1.0 + x.abs())
    }
}

#[inline(always)]
fn softsign_derivative(x: f32) -> f32 {
    let r = 1.0 / (1.0 + x.abs());
    r * r
}

impl Activation for Softsign {
    fn name(&self) -> &str {
        "softsign"
    }

    fn family(&self) -> super::ActivationFamily {
        super::ActivationFamily::Saturating
    }

    pointwise_methods!(this, x => forward: softsign(x), derivative: softsign_derivative(x));

    fn backward_slice(&self, x: &[f32], _y: &[f32], gradient: &mut [f32]) {
        scale_by(x, gradient, softsign_derivative)
    }

    fn gain(&self) -> f64 {
        SOFTSIGN_GAIN
    }

    fn saturation_bounds(&self) -> Option<(f32, f32)> {
        Some((-1.0, 1.0))
    }
}
