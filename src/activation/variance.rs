//! Variance-preserving gains `1 / sqrt(E[f(z)^2])`, `z ~ N(0, 1)`, for the activations that
//! PyTorch's `calculate_gain` does not tabulate.
//!
//! A layer `y = W x` with `Var(W) = g^2 / fan_in` and inputs of second moment `E[x^2]` gives
//! pre-activations of variance `g^2 E[x^2]`; with `x = f(z)` from the layer below, the choice
//! `g = 1 / sqrt(E[f(z)^2])` keeps the pre-activation variance at 1 from layer to layer when
//! `z` is standard normal. For ReLU that is `sqrt(2)`, PyTorch's value.
//!
//! The constants were computed once with mpmath at 40 digits:
//!
//! ```python
//! from mpmath import mp, mpf, quad, exp, sqrt, tanh, log1p, pi, inf, ncdf
//! mp.dps = 40
//! phi = lambda z: exp(-z*z/2)/sqrt(2*pi)
//! gain = lambda f: 1/sqrt(quad(lambda z: f(z)**2*phi(z), [-inf, -5, 0, 5, inf]))
//! K = exp(2)*ncdf(-2) - 2*exp(mpf(1)/2)*ncdf(-1) + mpf(1)/2          # ELU_K
//! gain(lambda z: z*ncdf(z))                                          # GELU_GAIN
//! c = sqrt(2/pi)
//! gain(lambda z: z/2*(1+tanh(c*(z+mpf('0.044715')*z**3))))           # GELU_TANH_GAIN
//! gain(lambda z: z/(1+exp(-z)))                                      # SILU_GAIN
//! gain(lambda z: z/(1+abs(z)))                                       # SOFTSIGN_GAIN
//! gain(lambda z: z if z > 20 else log1p(exp(z)))                     # SOFTPLUS_GAIN
//! ```
//!
//! `tests/activation.rs` recomputes each by quadrature in `f64` and checks them to 1e-6.

/// `E[(e^z - 1)^2; z < 0] = e^2 Phi(-2) - 2 e^(1/2) Phi(-1) + 1/2`, from
/// `E[e^(t z); z < 0] = e^(t^2 / 2) Phi(-t)`. ELU's second moment is `1/2 + alpha^2 ELU_K`.
pub(crate) const ELU_K: f64 = 0.144_945_417_492_923_863_063_461_440_337_786_7;

/// GELU (exact erf form).
pub(crate) const GELU_GAIN: f64 = 1.533_530_441_195_535_233_767_745_505_390_402;

/// GELU (tanh approximation).
pub(crate) const GELU_TANH_GAIN: f64 = 1.533_580_521_666_146_918_056_821_812_941_806;

/// SiLU.
pub(crate) const SILU_GAIN: f64 = 1.676_532_470_331_091_158_604_257_543_664_852;

/// Softsign.
pub(crate) const SOFTSIGN_GAIN: f64 = 2.337_533_363_108_539_659_856_224_307_171_576;

/// Softplus with PyTorch's defaults `beta = 1`, `threshold = 20`.
pub(crate) const SOFTPLUS_GAIN: f64 = 1.041_866_835_535_301_708_043_960_594_985_481;

/// ELU's gain for any `alpha`, in closed form.
pub(crate) fn elu_gain(alpha: f64) -> f64 {
    1.0 / (0.5 + alpha * alpha * ELU_K).sqrt()
}

/// `1 / sqrt(E[f(z)^2])` by the composite Simpson rule on `[-12, 12]` with step 1/200.
///
/// The standard normal density is below `1e-31` beyond 12, so the truncation is far below
/// 1e-6 for any `f` growing at most polynomially; Simpson's error `h^4 / 180 max|g''''|` is
/// about `1e-12` for smooth `f`, and about `h^3` near a kink (1e-7). Cost: 4,801 evaluations
/// of `f`, tens of microseconds.
pub(crate) fn variance_preserving_gain(f: impl Fn(f64) -> f64) -> f64 {
    const HALF_WIDTH: f64 = 12.0;
    const INTERVALS: usize = 4_800;
    let h = 2.0 * HALF_WIDTH / INTERVALS as f64;
    let density = |z: f64| (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let integrand = |i: usize| {
        let z = -HALF_WIDTH + h * i as f64;
        let y = f(z);
        y * y * density(z)
    };
    let mut sum = integrand(0) + integrand(INTERVALS);
    for i in 1..INTERVALS {
        let weight = if i % 2 == 1 { 4.0 } else { 2.0 };
        sum += weight * integrand(i);
    }
    1.0 / (sum * h / 3.0).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadrature_reproduces_closed_forms() {
        // ReLU: E[f^2] = 1/2, gain sqrt(2); identity: gain 1.
        let relu = variance_preserving_gain(|z| z.max(0.0));
        assert!((relu - 2f64.sqrt()).abs() < 1e-6, "{relu}");
        assert!((variance_preserving_gain(|z| z) - 1.0).abs() < 1e-9);
        // ELU's closed form against the quadrature, for a few alphas.
        for alpha in [0.5, 1.0, 2.0] {
            let numeric =
                variance_preserving_gain(|z| if z > 0.0 { z } else { alpha * z.exp_m1() });
            assert!((numeric - elu_gain(alpha)).abs() < 1e-6, "{alpha}");
        }
    }

    #[test]
    fn softplus_constant_matches_quadrature() {
        let numeric = variance_preserving_gain(|z| if z > 20.0 { z } else { z.exp().ln_1p() });
        assert!((numeric - SOFTPLUS_GAIN).abs() < 1e-6);
    }
}
