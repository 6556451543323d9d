//! The `Activation` trait and the usual nonlinearities.

use std::fmt::Debug;

use crate::init::Initializer;

/// A pointwise nonlinearity `f`, with its derivative, its gain and the initializer that suits it.
///
/// Object-safe: a network stores its activations as `Box<dyn Activation>`. The slice methods
/// are what the network calls; implementations override them with loops the compiler
/// vectorizes, so there is no virtual call per element.
pub trait Activation: Debug + Send + Sync {
    /// A short lowercase name, e.g. `"relu"`.
    fn name(&self) -> &str;

    /// `f(x)`.
    fn forward(&self, x: f32) -> f32;

    /// `f'(x)` at the pre-activation `x` (at kinks, PyTorch's choice: ReLU'(0) = 0).
    fn derivative(&self, x: f32) -> f32;

    /// `out[i] = f(x[i])` over the common length of `x` and `out`.
    fn forward_slice(&self, x: &[f32], out: &mut [f32]) {
        for (o, &v) in out.iter_mut().zip(x) {
            *o = self.forward(v);
        }
    }

    /// `out[i] = f'(x[i])` over the common length of `x` and `out`.
    fn derivative_slice(&self, x: &[f32], out: &mut [f32]) {
        for (o, &v) in out.iter_mut().zip(x) {
            *o = self.derivative(v);
        }
    }

    /// Backpropagation through `f`: `gradient[i] *= f'(x[i])`, given the pre-activations `x`
    /// and the outputs `y = f(x)` of the forward pass. Implementations whose derivative is
    /// cheaper from the output (sigmoid: `y (1 - y)`, tanh: `1 - y²`) use `y`.
    fn backward_slice(&self, x: &[f32], y: &[f32], gradient: &mut [f32]) {
        let _ = y;
        for (g, &v) in gradient.iter_mut().zip(x) {
            *g *= self.derivative(v);
        }
    }

    /// The gain that preserves the signal's variance through `f` (PyTorch's `calculate_gain`
    /// where PyTorch tabulates one).
    fn gain(&self) -> f64;

    /// The initializer that suits this activation (ReLU family: He; tanh, sigmoid, softsign:
    /// Glorot; SELU: LeCun normal).
    fn recommended_init(&self) -> Box<dyn Initializer<f32>>;

    /// The asymptotes `(low, high)` of a bounded activation, used to detect saturation.
    fn saturation_bounds(&self) -> Option<(f32, f32)> {
        None
    }

    /// Whether a unit can "die": output exactly zero with zero gradient over a whole region
    /// (ReLU). Used by the diagnostics to report dead units.
    fn is_rectifier(&self) -> bool {
        false
    }
}
