//! Numerics shared by initializers, activations and losses: a leaf module that depends on
//! nothing else in the crate, so that `loss` and `activation` need not import from each other.
//!
//! - `elementary`: `f32` exp, expm1, ln(1 + x), tanh, sigmoid and erfc written so that loops
//!   over slices vectorize (activations, losses);
//! - `normal`: the standard normal density, CDF and quantile in `f64` (truncated-normal
//!   sampling, the truncation's variance correction).

mod elementary;
mod normal;

pub(crate) use elementary::{erfc, exp, expm1, ln_1p, sigmoid_pair, tanh};
#[cfg(test)]
pub(crate) use normal::normal_pdf;
pub(crate) use normal::{normal_cdf, normal_quantile, normal_quantiles};
