//! Elementary functions in `f32` written so that a loop over a slice vectorizes.
//!
//! `f32::exp` and friends call into libm one element at a time, which stops the compiler from
//! vectorizing the loops of [`Activation::forward_slice`](crate::Activation::forward_slice).
//! The functions here use only arithmetic, comparisons (selects) and bit casts, so LLVM turns
//! a loop of them into SIMD code even for the baseline x86-64 target (SSE2). They follow the
//! Cephes single-precision algorithms (range reduction plus a minimax polynomial) and are
//! accurate to a few units in the last place; the unit tests below measure that against the
//! `f64` functions of the standard library.
//!
//! Every function maps NaN to NaN: clamps use `f32::clamp` (which keeps NaN) and every branch
//! is written so that a NaN input flows into the arithmetic, never into a constant.

/// `1.5 * 2^23`: adding and subtracting it rounds an `f32` of magnitude below `2^22` to the
/// nearest integer without a libm call (`roundps` is not in SSE2).
const ROUND_MAGIC: f32 = 12_582_912.0;

/// `c[0] x^(n-1) + c[1] x^(n-2) + ... + c[n-1]` by Horner's rule (unrolled: `c` is constant).
#[inline(always)]
fn horner(x: f32, c: &[f32]) -> f32 {
    c.iter().fold(0.0, |acc, &c| acc * x + c)
}

/// `2^n` for `n` in `-126..=127`, built from the exponent bits.
#[inline(always)]
fn pow2(n: i32) -> f32 {
    f32::from_bits(((n + 127) as u32) << 23)
}

/// `e^x`, within 2 ulp; overflows to `+inf` above about 88.72, underflows gracefully through
/// the subnormals to 0 below about -103.97.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    // ln 2 split so that `n * LN2_HI` is exact for |n| <= 2^9 (Cody and Waite).
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Beyond these bounds the result is +inf or 0 anyway; clamping keeps `n` in range.
    let x = x.clamp(-104.0, 89.0);
    // n = round(x / ln 2); its value also sits in the low mantissa bits of `shifted`, which
    // gives the integer without a float-to-int conversion (SSE2 has no saturating one).
    let shifted = x * std::f32::consts::LOG2_E + ROUND_MAGIC;
    let n = shifted - ROUND_MAGIC;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    // Cephes expf: e^r = 1 + r + r^2 P(r) on |r| <= ln(2) / 2.
    let p = horner(
        r,
        &[
            1.987_569_2e-4,
            1.398_199_9e-3,
            8.333_452e-3,
            4.166_579_6e-2,
            0.166_666_65,
            0.5,
        ],
    );
    let e = p * r * r + r + 1.0;
    // n is in -150..=128: scale in two halves so that subnormal results round only once.
    let n = shifted.to_bits() as i32 - ROUND_MAGIC.to_bits() as i32;
    let half = n >> 1;
    e * pow2(half) * pow2(n - half)
}

/// `e^x - 1`, accurate near 0 where `exp(x) - 1` would cancel.
#[inline(always)]
pub(crate) fn expm1(x: f32) -> f32 {
    // Taylor series to degree 8 on |x| <= 1/2: truncation error below 1.1e-8 relative.
    let series = x + x
        * x
        * horner(
            x,
            &[
                1.0 / 40320.0,
                1.0 / 5040.0,
                1.0 / 720.0,
                1.0 / 120.0,
                1.0 / 24.0,
                1.0 / 6.0,
                0.5,
            ],
        );
    if x.abs() <= 0.5 { series } else { exp(x) - 1.0 }
}

/// `ln(w)` for `w >= 1` finite (the only case [`ln_1p`] needs).
#[inline(always)]
fn ln_at_least_one(w: f32) -> f32 {
    const SQRT_HALF: f32 = std::f32::consts::FRAC_1_SQRT_2;
    // w = m * 2^k with m in [1/2, 1).
    let bits = w.to_bits();
    let mut k = ((bits >> 23) & 0xff) as i32 - 126;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f00_0000);
    // Move m into [sqrt(1/2), sqrt(2)) and take f = m - 1, so |f| <= 0.41.
    if m < SQRT_HALF {
        k -= 1;
        m += m;
    }
    let f = m - 1.0;
    let z = f * f;
    // Cephes logf: ln(1 + f) = f - f^2 / 2 + f^3 P(f).
    let p = horner(
        f,
        &[
            7.037_683_6e-2,
            -1.151_461e-1,
            1.167_699_9e-1,
            -1.242_014_1e-1,
            1.424_932_3e-1,
            -1.666_805_8e-1,
            2.000_071_4e-1,
            -2.499_999_4e-1,
            3.333_333e-1,
        ],
    );
    let kf = k as f32;
    let y = f * z * p + kf * -2.121_944_4e-4 - 0.5 * z;
    f + y + kf * 0.693_359_4
}

/// `ln(1 + u)` for `u >= 0` (or NaN), accurate for tiny `u`.
#[inline(always)]
pub(crate) fn ln_1p(u: f32) -> f32 {
    let w = 1.0 + u;
    // Goldberg's trick: ln(w) * u / (w - 1) cancels the rounding error of `1 + u`.
    let corrected = ln_at_least_one(w) * (u / (w - 1.0));
    if w == 1.0 {
        u
    } else if w == f32::INFINITY {
        w
    } else {
        corrected
    }
}

/// `tanh(x)`.
#[inline(always)]
pub(crate) fn tanh(x: f32) -> f32 {
    let z = x * x;
    // Cephes tanhf: an odd polynomial near 0, where 1 - 2 / (e^2x + 1) would cancel.
    let p = horner(
        z,
        &[
            -5.704_988_7e-3,
            2.063_909e-2,
            -5.373_971_6e-2,
            1.333_144_2e-1,
            -3.333_328e-1,
        ],
    );
    let small = x + x * z * p;
    let large = (1.0 - 2.0 / (exp(2.0 * x.abs()) + 1.0)).copysign(x);
    if x.abs() < 0.625 { small } else { large }
}

/// `(sigmoid(x), 1 - sigmoid(x))`, each with full relative accuracy in both tails.
#[inline(always)]
pub(crate) fn sigmoid_pair(x: f32) -> (f32, f32) {
    // With e = exp(-|x|) <= 1 nothing overflows: sigmoid(|x|) = 1 / (1 + e) and
    // sigmoid(-|x|) = e / (1 + e).
    let e = exp(-x.abs());
    let r = 1.0 / (1.0 + e);
    if x >= 0.0 { (r, e * r) } else { (e * r, r) }
}

/// `erfc(z) = 1 - erf(z)`, with relative error below about `2e-6` everywhere (the tail
/// included, where `1 - erf` would round to 0).
#[inline(always)]
pub(crate) fn erfc(z: f32) -> f32 {
    // Numerical Recipes' `erfcc` (a Chebyshev fit of erfc(a) e^{a^2} in t = 1 / (1 + a / 2)),
    // fractional error below 1.2e-7 in exact arithmetic; f32 rounding of `a * a` adds up to
    // about 2e-6 relative for a near 10, where erfc is below 1e-43.
    let a = z.abs();
    let t = 1.0 / (1.0 + 0.5 * a);
    let poly = horner(
        t,
        &[
            0.170_872_77,
            -0.822_152_25,
            1.488_515_9,
            -1.135_204,
            0.278_868_07,
            -0.186_288_06,
            0.096_784_18,
            0.374_091_96,
            1.000_023_7,
            -1.265_512_2,
        ],
    );
    let tail = t * exp(poly - a * a);
    if z >= 0.0 { tail } else { 2.0 - tail }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Largest error of `f` against `reference` over `points`, in units of
    /// `f32::EPSILON * |reference|` (relative) with `floor` as the smallest magnitude counted.
    fn max_relative_error(
        points: impl Iterator<Item = f32>,
        f: impl Fn(f32) -> f32,
        reference: impl Fn(f64) -> f64,
        floor: f64,
    ) -> f64 {
        let mut worst: f64 = 0.0;
        for x in points {
            let want = reference(x as f64);
            let got = f(x) as f64;
            let error = (got - want).abs() / (want.abs().max(floor) * f32::EPSILON as f64);
            assert!(error.is_finite(), "x = {x}: got {got}, want {want}");
            worst = worst.max(error);
        }
        worst
    }

    /// 200,001 points evenly spread over `[low, high]`.
    fn grid(low: f32, high: f32) -> impl Iterator<Item = f32> {
        (0..=200_000).map(move |i| low + (high - low) * (i as f32 / 200_000.0))
    }

    #[test]
    fn exp_within_two_ulp() {
        // Normal results only: below e^-87.3 the result is subnormal and the relative error
        // grows as precision runs out (checked separately below).
        assert!(max_relative_error(grid(-87.0, 88.7), exp, f64::exp, 0.0) <= 2.0);
        assert!(max_relative_error(grid(-1e-3, 1e-3), exp, f64::exp, 0.0) <= 1.0);
    }

    #[test]
    fn exp_limits_and_subnormals() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(89.0), f32::INFINITY);
        assert_eq!(exp(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp(-104.0), 0.0);
        assert!(exp(f32::NAN).is_nan());
        // e^-100 = 3.72e-44 is subnormal (a multiple of 2^-149 = 1.4e-45).
        let sub = exp(-100.0) as f64;
        assert!((sub - (-100f64).exp()).abs() <= 2f64.powi(-149), "{sub}");
        assert!(exp(88.7).is_finite());
    }

    #[test]
    fn expm1_accurate_near_zero() {
        assert!(max_relative_error(grid(-0.5, 0.5), expm1, f64::exp_m1, 1e-30) <= 2.0);
        assert!(max_relative_error(grid(-1e-6, 1e-6), expm1, f64::exp_m1, 1e-30) <= 1.0);
        assert!(max_relative_error(grid(-80.0, 80.0), expm1, f64::exp_m1, 1e-30) <= 3.0);
        assert_eq!(expm1(f32::NEG_INFINITY), -1.0);
        assert!(expm1(f32::NAN).is_nan());
    }

    #[test]
    fn ln_1p_accurate_for_tiny_and_large() {
        assert!(max_relative_error(grid(0.0, 1e-5), ln_1p, f64::ln_1p, 1e-30) <= 2.0);
        assert!(max_relative_error(grid(0.0, 10.0), ln_1p, f64::ln_1p, 1e-30) <= 3.0);
        assert!(max_relative_error(grid(0.0, 1e30), ln_1p, f64::ln_1p, 1e-30) <= 3.0);
        assert_eq!(ln_1p(0.0), 0.0);
        assert_eq!(ln_1p(1e-30), 1e-30);
        assert_eq!(ln_1p(f32::INFINITY), f32::INFINITY);
        assert!(ln_1p(f32::NAN).is_nan());
    }

    #[test]
    fn tanh_accurate_everywhere() {
        assert!(max_relative_error(grid(-1.0, 1.0), tanh, f64::tanh, 1e-30) <= 3.0);
        assert!(max_relative_error(grid(-20.0, 20.0), tanh, f64::tanh, 1e-30) <= 3.0);
        assert!(max_relative_error(grid(-1e-6, 1e-6), tanh, f64::tanh, 1e-30) <= 1.0);
        assert_eq!(tanh(f32::INFINITY), 1.0);
        assert_eq!(tanh(f32::NEG_INFINITY), -1.0);
        assert!(tanh(f32::NAN).is_nan());
    }

    #[test]
    fn sigmoid_pair_accurate_in_both_tails() {
        let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
        let first = |x: f32| sigmoid_pair(x).0;
        let second = |x: f32| sigmoid_pair(x).1;
        assert!(max_relative_error(grid(-80.0, 80.0), first, sigmoid, 0.0) <= 3.0);
        assert!(max_relative_error(grid(-80.0, 80.0), second, |x| sigmoid(-x), 0.0) <= 3.0);
        assert!(sigmoid_pair(f32::NAN).0.is_nan());
        assert!(sigmoid_pair(f32::NAN).1.is_nan());
        assert_eq!(sigmoid_pair(f32::INFINITY), (1.0, 0.0));
        assert_eq!(sigmoid_pair(f32::NEG_INFINITY), (0.0, 1.0));
    }

    #[test]
    fn erfc_limits() {
        // erfc(0) = 1, erfc(1) = 0.15729920705028513 (Abramowitz and Stegun, table 7.1).
        assert!((erfc(0.0) - 1.0).abs() < 3e-7);
        assert!((erfc(1.0) as f64 - 0.157_299_207_050_285_13).abs() < 0.157 * 3e-7);
        assert!((erfc(-1.0) as f64 - 1.842_700_792_949_715).abs() < 3e-7);
        assert_eq!(erfc(f32::INFINITY), 0.0);
        assert_eq!(erfc(f32::NEG_INFINITY), 2.0);
        assert!(erfc(f32::NAN).is_nan());
    }
}
