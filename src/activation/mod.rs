//! The [`Activation`] trait and the usual nonlinearities.
//!
//! | activation | `f(x)` | backward uses | [`gain`](Activation::gain) | PyTorch `calculate_gain` | [`recommended_init`](Activation::recommended_init) |
//! |---|---|---|---|---|---|
//! | [`Identity`] | `x` | — | 1 | 1 | `GlorotUniform` |
//! | [`Sigmoid`] | `1 / (1 + e^-x)` | output: `y (1 - y)` | 1 | 1 | `GlorotUniform` |
//! | [`Tanh`] | `tanh x` | output: `1 - y²` | 5/3 | 5/3 | `GlorotUniform` |
//! | [`Softsign`] | `x / (1 + \|x\|)` | input: `1 / (1 + \|x\|)²` | 2.337533 | — | `GlorotUniform` |
//! | [`Relu`] | `max(x, 0)` | input | sqrt(2) | sqrt(2) | `HeNormal` |
//! | [`LeakyRelu`] | `x` or `slope x` | input | sqrt(2 / (1 + slope²)) | same | `HeNormal` (leaky_relu gain) |
//! | [`Elu`] | `x` or `alpha (e^x - 1)` | output: `y + alpha` | 1 / sqrt(1/2 + alpha² K) (1.245198 at alpha = 1) | — | `HeNormal` |
//! | [`Selu`] | `scale` × ELU(`alpha`) | output: `y + scale alpha` | 3/4 | 3/4 | `LecunNormal` |
//! | [`Gelu`] | `x Φ(x)` | input | 1.533530 | — | `HeNormal` |
//! | [`GeluTanh`] | `x/2 (1 + tanh(√(2/π)(x + 0.044715 x³)))` | input | 1.533581 | — | `HeNormal` |
//! | [`Silu`] | `x / (1 + e^-x)` | input | 1.676532 | — | `HeNormal` |
//! | [`Softplus`] | `ln(1 + e^(beta x)) / beta` | input: `sigmoid(beta x)` | 1.041867 (defaults) | — | `HeNormal` |
//!
//! **Gains.** Where PyTorch's `calculate_gain` tabulates a value, [`Activation::gain`] returns
//! it (so `Tanh.gain() == calculate_gain(Nonlinearity::Tanh)`). For the others it returns the
//! variance-preserving gain `1 / sqrt(E[f(z)²])`, `z ~ N(0, 1)`: the factor that keeps the
//! pre-activation variance at 1 from one layer to the next (it gives PyTorch's `sqrt(2)` for
//! ReLU). Those constants were computed with mpmath (see `variance.rs`) and are checked by
//! quadrature in the tests; `K = e² Φ(-2) - 2 √e Φ(-1) + 1/2 = 0.1449454…` for ELU.
//!
//! **Initializers.** The ReLU family (ReLU, leaky ReLU, ELU, GELU, SiLU, softplus) gets
//! `HeNormal` (fan_in, He et al. 2015), with the leaky-ReLU gain for [`LeakyRelu`]; the
//! symmetric saturating ones and the identity get `GlorotUniform` with gain 1 (Glorot and
//! Bengio 2010); SELU gets `LecunNormal` (Klambauer et al. 2017).
//!
//! **Derivatives.** [`Activation::derivative`] takes the pre-activation `x`; at kinks it takes
//! PyTorch's value (ReLU'(0) = 0, leaky ReLU'(0) = slope, ELU'(0) = alpha).
//! [`Activation::backward_slice`] receives both `x` and the output `y` and uses whichever is
//! cheaper ("backward uses" above): sigmoid, tanh, ELU and SELU need no exponential from `y`.
//!
//! **Special values.** A NaN input gives a NaN output and a NaN derivative (as in PyTorch; no
//! `max(x, 0)` that would turn NaN into 0). Infinite inputs give the limits (`Silu(-inf) = 0`,
//! `Softsign(inf) = 1`), where a naive formula would give `inf * 0 = NaN`.
//!
//! **Speed.** The slice methods are loops over inlined, branch-free kernels built from
//! arithmetic and bit casts only (no libm call), which the compiler vectorizes.

use std::fmt::Debug;

use crate::error::Result;
use crate::init::{GlorotUniform, HeNormal, Initializer, LecunNormal};

mod rectifier;
mod smooth;
mod squashing;
mod variance;

/// `Identity` is one type: the identity activation here, the identity-matrix initializer in
/// [`crate::init`].
pub use crate::init::Identity;
pub use rectifier::{Elu, LeakyRelu, Relu, Selu};
pub use smooth::{Gelu, GeluTanh, Silu, Softplus};
pub use squashing::{Sigmoid, Softsign, Tanh};

/// A pointwise nonlinearity `f`, with its derivative, its gain and the initializer that suits it.
///
/// Object-safe: a network stores its activations as `Box<dyn Activation>`. The slice methods
/// are what the network calls; implementations override them with loops the compiler
/// vectorizes, so there is no virtual call per element.
///
/// ```
/// use nninit::{Activation, Relu, Tanh};
/// let layers: Vec<Box<dyn Activation>> = vec![Box::new(Relu), Box::new(Tanh)];
/// let mut out = [0.0; 3];
/// layers[0].forward_slice(&[-1.0, 0.0, 2.0], &mut out);
/// assert_eq!(out, [0.0, 0.0, 2.0]);
/// assert_eq!(layers[1].name(), "tanh");
/// assert_eq!(layers[1].gain(), 5.0 / 3.0);
/// ```
pub trait Activation: Debug + Send + Sync {
    /// A short lowercase name, as PyTorch's `calculate_gain` spells it where it has one, e.g.
    /// `"relu"`, `"leaky_relu"`.
    ///
    /// ```
    /// use nninit::{Activation, LeakyRelu};
    /// assert_eq!(LeakyRelu::default().name(), "leaky_relu");
    /// ```
    fn name(&self) -> &str;

    /// `f(x)`.
    ///
    /// ```
    /// use nninit::{Activation, Sigmoid};
    /// assert_eq!(Sigmoid.forward(0.0), 0.5);
    /// ```
    fn forward(&self, x: f32) -> f32;

    /// `f'(x)` at the pre-activation `x` (at kinks, PyTorch's choice: ReLU'(0) = 0).
    ///
    /// ```
    /// use nninit::{Activation, Relu};
    /// assert_eq!(Relu.derivative(0.0), 0.0);
    /// assert_eq!(Relu.derivative(3.0), 1.0);
    /// ```
    fn derivative(&self, x: f32) -> f32;

    /// `out[i] = f(x[i])` over the common length of `x` and `out`.
    ///
    /// ```
    /// use nninit::{Activation, Relu};
    /// let mut out = [9.0; 2];
    /// Relu.forward_slice(&[-3.0, 3.0], &mut out);
    /// assert_eq!(out, [0.0, 3.0]);
    /// ```
    fn forward_slice(&self, x: &[f32], out: &mut [f32]) {
        for (o, &v) in out.iter_mut().zip(x) {
            *o = self.forward(v);
        }
    }

    /// `out[i] = f'(x[i])` over the common length of `x` and `out`.
    ///
    /// ```
    /// use nninit::{Activation, Tanh};
    /// let mut out = [0.0; 1];
    /// Tanh.derivative_slice(&[0.0], &mut out);
    /// assert_eq!(out, [1.0]);
    /// ```
    fn derivative_slice(&self, x: &[f32], out: &mut [f32]) {
        for (o, &v) in out.iter_mut().zip(x) {
            *o = self.derivative(v);
        }
    }

    /// Backpropagation through `f`: `gradient[i] *= f'(x[i])` over the common length, given
    /// the pre-activations `x` and the outputs `y = f(x)` of the forward pass.
    ///
    /// Implementations whose derivative is cheaper from the output use `y` (sigmoid:
    /// `y (1 - y)`, tanh: `1 - y²`, ELU: `y + alpha`); `y` must then be `f(x)`. From the
    /// output the result agrees with [`derivative`](Activation::derivative) to an absolute
    /// error of a few `f32::EPSILON`.
    ///
    /// ```
    /// use nninit::{Activation, Sigmoid};
    /// let x = [0.0f32];
    /// let y = [Sigmoid.forward(0.0)];
    /// let mut gradient = [2.0];
    /// Sigmoid.backward_slice(&x, &y, &mut gradient);
    /// assert_eq!(gradient, [0.5]); // 2 * 0.5 * (1 - 0.5)
    /// ```
    fn backward_slice(&self, x: &[f32], y: &[f32], gradient: &mut [f32]) {
        let _ = y;
        for (g, &v) in gradient.iter_mut().zip(x) {
            *g *= self.derivative(v);
        }
    }

    /// The gain that preserves the signal's variance through `f`: PyTorch's `calculate_gain`
    /// where PyTorch tabulates one, otherwise `1 / sqrt(E[f(z)²])` for `z ~ N(0, 1)` (see the
    /// [module table](crate::activation)).
    ///
    /// ```
    /// use nninit::{Activation, Relu, calculate_gain, Nonlinearity};
    /// assert_eq!(Relu.gain(), calculate_gain(Nonlinearity::Relu));
    /// ```
    fn gain(&self) -> f64;

    /// The initializer that suits this activation. By default the one its
    /// [`family`](Activation::family) calls for ([`ActivationFamily::recommended_init`]: ReLU
    /// family: He normal; tanh, sigmoid, softsign, identity: Glorot uniform; SELU: LeCun
    /// normal); [`LeakyRelu`] refines it with its slope's gain.
    ///
    /// ```
    /// use nninit::{Activation, Selu};
    /// assert_eq!(Selu.recommended_init().name(), "LecunNormal");
    /// ```
    fn recommended_init(&self) -> Box<dyn Initializer<f32>> {
        self.family().recommended_init()
    }

    /// Checks the activation's parameters: an error for one that would make
    /// [`forward`](Activation::forward) or [`derivative`](Activation::derivative) infinite, NaN
    /// or degenerate on finite inputs (a softplus with `beta = 0`, a NaN slope).
    /// [`Dense::new`](crate::Dense::new) and the network builder call it, so a layer never holds
    /// an invalid activation. `Ok` unless an implementation says more.
    ///
    /// ```
    /// use nninit::{Activation, Softplus};
    /// assert!(Softplus::default().validate().is_ok());
    /// let error = Softplus::new(0.0, 20.0).validate().unwrap_err();
    /// assert_eq!(error.to_string(), "beta must be finite and >= 1.1754944e-38 (f32's smallest normal number), got 0");
    /// ```
    fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// `Some((low, high))` for an activation bounded on both sides whose derivative vanishes
    /// at both asymptotes (sigmoid, tanh, softsign), so that outputs close to `low` or `high`
    /// mean a saturated unit; `None` otherwise.
    ///
    /// ```
    /// use nninit::{Activation, Relu, Tanh};
    /// assert_eq!(Tanh.saturation_bounds(), Some((-1.0, 1.0)));
    /// assert_eq!(Relu.saturation_bounds(), None);
    /// ```
    fn saturation_bounds(&self) -> Option<(f32, f32)> {
        None
    }

    /// Whether a unit can "die": output exactly zero with zero gradient over a whole region
    /// (ReLU, and a leaky ReLU of slope 0). Used by the diagnostics to report dead units.
    ///
    /// ```
    /// use nninit::{Activation, LeakyRelu, Relu};
    /// assert!(Relu.is_rectifier());
    /// assert!(!LeakyRelu::new(0.01).is_rectifier());
    /// ```
    fn is_rectifier(&self) -> bool {
        false
    }

    /// The family this activation belongs to, for decisions that depend on what it *is* (the
    /// initializer it suits, the diagnostics' warnings): never decided by [`name`](Activation::name).
    /// `Other` unless an implementation says more.
    ///
    /// ```
    /// use nninit::{Activation, ActivationFamily, Gelu, Selu, Tanh};
    /// assert_eq!(Gelu.family(), ActivationFamily::Rectifier);
    /// assert_eq!(Tanh.family(), ActivationFamily::Saturating);
    /// assert_eq!(Selu.family(), ActivationFamily::SelfNormalizing);
    /// ```
    fn family(&self) -> ActivationFamily {
        ActivationFamily::Other
    }
}

/// The family an activation belongs to, by the initializer theory that covers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ActivationFamily {
    /// The identity: no nonlinearity (Glorot with gain 1, or LeCun).
    Linear,
    /// Bounded and saturating at both ends, near-linear at 0: sigmoid, tanh, softsign
    /// (Glorot and Bengio 2010).
    Saturating,
    /// The ReLU family, roughly halving the variance it passes on: ReLU, leaky ReLU, ELU,
    /// GELU, SiLU, softplus (He et al. 2015).
    Rectifier,
    /// Self-normalizing: SELU, with LeCun normal weights (Klambauer et al. 2017).
    SelfNormalizing,
    /// Anything else, e.g. a user's own activation.
    Other,
}

impl ActivationFamily {
    /// The initializer the theory of this family calls for: He normal (fan_in, ReLU gain) for
    /// [`Rectifier`](ActivationFamily::Rectifier), LeCun normal for
    /// [`SelfNormalizing`](ActivationFamily::SelfNormalizing), Glorot uniform (gain 1) for
    /// [`Saturating`](ActivationFamily::Saturating), [`Linear`](ActivationFamily::Linear) and
    /// [`Other`](ActivationFamily::Other) (the neutral choice for an activation nothing is known
    /// about).
    ///
    /// ```
    /// use nninit::ActivationFamily;
    /// assert_eq!(ActivationFamily::Rectifier.recommended_init().name(), "HeNormal");
    /// assert_eq!(ActivationFamily::Saturating.recommended_init().name(), "GlorotUniform");
    /// ```
    pub fn recommended_init(self) -> Box<dyn Initializer<f32>> {
        match self {
            ActivationFamily::Rectifier => Box::new(HeNormal::default()),
            ActivationFamily::SelfNormalizing => Box::new(LecunNormal),
            ActivationFamily::Linear | ActivationFamily::Saturating | ActivationFamily::Other => {
                Box::new(GlorotUniform::default())
            }
        }
    }
}

/// `gradient[i] *= d(v[i])`, where `v` is either the input or the output of the activation.
///
/// Pass a function item or a capture-free closure whose body is small or `#[inline(always)]`:
/// a large closure may be compiled as a call per element, which stops vectorization.
#[inline(always)]
fn scale_by(v: &[f32], gradient: &mut [f32], d: impl Fn(f32) -> f32) {
    crate::dispatch::compiled_for(
        crate::dispatch::Isa::active(),
        #[inline(always)]
        || {
            for (g, &v) in gradient.iter_mut().zip(v) {
                *g *= d(v);
            }
        },
    )
}

/// `gradient[i] *= d(x[i], y[i])`, for derivatives that need the input's sign and the output.
#[inline(always)]
fn scale_by_pair(x: &[f32], y: &[f32], gradient: &mut [f32], d: impl Fn(f32, f32) -> f32) {
    crate::dispatch::compiled_for(
        crate::dispatch::Isa::active(),
        #[inline(always)]
        || {
            for ((g, &x), &y) in gradient.iter_mut().zip(x).zip(y) {
                *g *= d(x, y);
            }
        },
    )
}

/// The four per-element methods of [`Activation`] from two expressions of the input `$x`
/// that may read the activation's fields through `$this` (a copy of `*self`).
///
/// The expressions are pasted into the loops themselves, calling `#[inline(always)]` kernel
/// functions: passing closures instead leaves LLVM free to compile a large kernel as a call per
/// element, and the loop then no longer vectorizes. The slice loops run inside
/// [`compiled_for`](crate::dispatch::compiled_for), at the active ISA's width; the formulas
/// make no ISA-dependent choice (Rust never fuses `a * b + c` on its own), so every width
/// computes the same bits. The scalar and the slice paths share one formula, so they agree
/// bit for bit.
macro_rules! pointwise_methods {
    ($this:ident, $x:ident => forward: $forward:expr, derivative: $derivative:expr $(,)?) => {
        fn forward(&self, $x: f32) -> f32 {
            #[allow(unused_variables)]
            let $this = *self;
            $forward
        }

        fn derivative(&self, $x: f32) -> f32 {
            #[allow(unused_variables)]
            let $this = *self;
            $derivative
        }

        fn forward_slice(&self, x: &[f32], out: &mut [f32]) {
            #[allow(unused_variables)]
            let $this = *self;
            $crate::dispatch::compiled_for(
                $crate::dispatch::Isa::active(),
                #[inline(always)]
                || {
                    for (out, &$x) in out.iter_mut().zip(x) {
                        *out = $forward;
                    }
                },
            )
        }

        fn derivative_slice(&self, x: &[f32], out: &mut [f32]) {
            #[allow(unused_variables)]
            let $this = *self;
            $crate::dispatch::compiled_for(
                $crate::dispatch::Isa::active(),
                #[inline(always)]
                || {
                    for (out, &$x) in out.iter_mut().zip(x) {
                        *out = $derivative;
                    }
                },
            )
        }
    };
}
use pointwise_methods;

/// A derivative that is 1 for every number, NaN for NaN.
#[inline(always)]
fn one_unless_nan(x: f32) -> f32 {
    if x.is_nan() { x } else { 1.0 }
}

impl Activation for crate::init::Identity {
    fn name(&self) -> &str {
        "identity"
    }

    fn family(&self) -> ActivationFamily {
        ActivationFamily::Linear
    }

    fn forward(&self, x: f32) -> f32 {
        x
    }

    fn derivative(&self, x: f32) -> f32 {
        one_unless_nan(x)
    }

    fn forward_slice(&self, x: &[f32], out: &mut [f32]) {
        let n = x.len().min(out.len());
        out[..n].copy_from_slice(&x[..n]);
    }

    fn derivative_slice(&self, x: &[f32], out: &mut [f32]) {
        for (out, &x) in out.iter_mut().zip(x) {
            *out = one_unless_nan(x);
        }
    }

    fn backward_slice(&self, x: &[f32], _y: &[f32], gradient: &mut [f32]) {
        scale_by(x, gradient, one_unless_nan)
    }

    /// 1, as `calculate_gain("linear")`.
    fn gain(&self) -> f64 {
        crate::calculate_gain(crate::Nonlinearity::Identity)
    }
}
