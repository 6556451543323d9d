//! The standard normal CDF and its inverse in f64, for exact truncated-normal sampling.
//!
//! Truncated normals are drawn by inversion: `z = Φ⁻¹(Φ(α) + u (Φ(β) − Φ(α)))` with `u`
//! uniform, which consumes one uniform per value and never clips.

// AS 241's coefficients are kept digit for digit as published.
#![allow(clippy::excessive_precision)]

use std::f64::consts::PI;

/// The standard normal density `φ(x) = exp(-x²/2) / sqrt(2π)`.
pub(crate) fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * PI).sqrt()
}

/// The standard normal CDF `Φ(x)`, with small relative error in the lower tail.
///
/// For `|x| <= 3`: Marsaglia's series `Φ(x) = 1/2 + φ(x) (x + x³/3 + x⁵/(3·5) + ...)`, whose
/// terms are all of one sign, so nothing cancels. Beyond, the upper tail `Q(t) = φ(t) / (t +
/// 1/(t + 2/(t + 3/(t + ...))))` (Laplace's continued fraction for Mills' ratio), evaluated
/// backwards from a fixed depth that converges to double precision for `t > 3`.
pub(crate) fn normal_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < -3.0 {
        upper_tail(-x)
    } else if x > 3.0 {
        1.0 - upper_tail(x)
    } else {
        let mut term = x;
        let mut sum = x;
        let x2 = x * x;
        let mut n = 1.0;
        while term.abs() > 1e-17 * sum.abs().max(1e-300) {
            n += 2.0;
            term *= x2 / n;
            sum += term;
        }
        0.5 + normal_pdf(x) * sum
    }
}

/// `Q(t) = 1 − Φ(t)` for `t > 3` by the continued fraction for Mills' ratio.
fn upper_tail(t: f64) -> f64 {
    if t > 40.0 {
        return 0.0; // below the smallest subnormal
    }
    let mut fraction = t;
    for k in (1..=60).rev() {
        fraction = t + k as f64 / fraction;
    }
    normal_pdf(t) / fraction
}

/// The standard normal quantile `Φ⁻¹(p)` for `0 < p < 1` (Wichura 1988, Algorithm AS 241,
/// PPND16: relative accuracy about 1e-16). Returns ±inf at 0 and 1, NaN outside.
pub(crate) fn normal_quantile(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if is_central(p) {
        return central_quantile(q);
    }
    outer_quantile(q, tail_probability(p, q).ln())
}

/// The probability of the nearer tail, `min(p, 1 − p)`, for `q = p − 1/2`.
#[inline(always)]
fn tail_probability(p: f64, q: f64) -> f64 {
    if q < 0.0 { p } else { 1.0 - p }
}

/// `Φ⁻¹(1/2 + q)` outside the central region, from the logarithm of the tail probability:
/// AS 241's rational functions in `r = sqrt(−ln tail)`, for `r <= 5` and beyond.
#[inline(always)]
fn outer_quantile(q: f64, ln_tail: f64) -> f64 {
    let r = (-ln_tail).sqrt();
    let z = if r <= 5.0 {
        ratio(r - 1.6, &INTERMEDIATE_NUMERATOR, &INTERMEDIATE_DENOMINATOR)
    } else {
        ratio(r - 5.0, &FAR_NUMERATOR, &FAR_DENOMINATOR)
    };
    if q < 0.0 { -z } else { z }
}

/// `Φ⁻¹(p)` for every entry, bit for bit equal to [`normal_quantile`], faster on many values:
/// the central rational function runs on every entry as straight-line code the compiler
/// vectorizes; the entries outside the central region (`|p − 1/2| > 0.425`, about one draw in
/// ten under a ±2σ truncation), which need a logarithm, are then gathered and redone.
// Always inlined: it runs inside `dispatch::compiled_for`, which vectorizes what it inlines.
#[inline(always)]
pub(crate) fn normal_quantiles<const N: usize>(p: &[f64; N]) -> [f64; N] {
    let mut z = p.map(|pi| central_quantile(pi - 0.5));
    // The indices of the other entries (NaN included), gathered without a branch per entry.
    let mut outer = [0; N];
    let mut count = 0;
    for (i, &pi) in p.iter().enumerate() {
        outer[count] = i;
        count += usize::from(!is_central(pi));
    }
    let outer = &outer[..count];
    // Their logarithms first, one call each (std has no vector `ln`), then the rest: the calls
    // do not wait on each other's polynomials.
    let mut ln_tail = [0.0; N];
    for (ln_tail, &i) in ln_tail.iter_mut().zip(outer) {
        *ln_tail = tail_probability(p[i], p[i] - 0.5).ln();
    }
    for (&ln_tail, &i) in ln_tail.iter().zip(outer) {
        z[i] = if p[i] > 0.0 && p[i] < 1.0 {
            outer_quantile(p[i] - 0.5, ln_tail)
        } else {
            normal_quantile(p[i]) // ±inf at 0 and 1, NaN beyond
        };
    }
    z
}

/// AS 241's central region: `|p − 1/2| <= 0.425`.
const CENTRAL_HALF_WIDTH: f64 = 0.425;

/// Whether `p` lies in the central region (false for NaN).
#[inline(always)]
fn is_central(p: f64) -> bool {
    (p - 0.5).abs() <= CENTRAL_HALF_WIDTH
}

/// `Φ⁻¹(1/2 + q)` for `|q| <= 0.425`, AS 241's central rational function in `q²`.
#[inline(always)]
fn central_quantile(q: f64) -> f64 {
    let r = 0.180625 - q * q;
    q * ratio(r, &CENTRAL_NUMERATOR, &CENTRAL_DENOMINATOR)
}

/// `P(r) / Q(r)` with coefficients lowest degree first (Horner's rule).
#[inline(always)]
fn ratio(r: f64, numerator: &[f64; 8], denominator: &[f64; 8]) -> f64 {
    let horner = |c: &[f64; 8]| c.iter().rev().fold(0.0, |acc, &ci| acc * r + ci);
    horner(numerator) / horner(denominator)
}

// AS 241 coefficients, lowest degree first; each denominator's constant term is 1.
const CENTRAL_NUMERATOR: [f64; 8] = [
    3.387_132_872_796_366_608,
    1.331_416_678_917_843_774_5e2,
    1.971_590_950_306_551_442_7e3,
    1.373_169_376_550_946_112_5e4,
    4.592_195_393_154_987_145_7e4,
    6.726_577_092_700_870_085_3e4,
    3.343_057_558_358_812_810_5e4,
    2.509_080_928_730_122_672_7e3,
];
const CENTRAL_DENOMINATOR: [f64; 8] = [
    1.0,
    4.231_333_070_160_091_125_2e1,
    6.871_870_074_920_579_083e2,
    5.394_196_021_424_751_107_7e3,
    2.121_379_430_158_659_586_7e4,
    3.930_789_580_009_271_061e4,
    2.872_908_573_572_194_267_4e4,
    5.226_495_278_852_854_561e3,
];
const INTERMEDIATE_NUMERATOR: [f64; 8] = [
    1.423_437_110_749_683_577_34,
    4.630_337_846_156_545_295_9,
    5.769_497_221_460_691_405_5,
    3.647_848_324_763_204_605_04,
    1.270_458_252_452_368_382_58,
    2.417_807_251_774_506_117_7e-1,
    2.272_384_498_926_918_458_33e-2,
    7.745_450_142_783_414_076_4e-4,
];
const INTERMEDIATE_DENOMINATOR: [f64; 8] = [
    1.0,
    2.053_191_626_637_758_821_87,
    1.676_384_830_183_803_849_4,
    6.897_673_349_851_000_045_5e-1,
    1.481_039_764_274_800_745_9e-1,
    1.519_866_656_361_645_719_66e-2,
    5.475_938_084_995_344_946e-4,
    1.050_750_071_644_416_843_24e-9,
];
const FAR_NUMERATOR: [f64; 8] = [
    6.657_904_643_501_103_777_2,
    5.463_784_911_164_114_369_9,
    1.784_826_539_917_291_335_8,
    2.965_605_718_285_048_912_3e-1,
    2.653_218_952_657_612_309_3e-2,
    1.242_660_947_388_078_438_6e-3,
    2.711_555_568_743_487_578_15e-5,
    2.010_334_399_292_288_132_65e-7,
];
const FAR_DENOMINATOR: [f64; 8] = [
    1.0,
    5.998_322_065_558_879_376_9e-1,
    1.369_298_809_227_358_053_1e-1,
    1.487_536_129_085_061_485_25e-2,
    7.868_691_311_456_132_591e-4,
    1.846_318_317_510_054_681_8e-5,
    1.421_511_758_316_445_888_7e-7,
    2.044_263_103_389_939_785_64e-15,
];

/// `Φ(x)` via the complementary error function, for tests: `erfc(-x/√2) / 2`.
#[cfg(test)]
fn normal_cdf_by_symmetry(x: f64) -> f64 {
    1.0 - normal_cdf(-x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_reference_values() {
        // Python: [0.5 * math.erfc(-x / math.sqrt(2)) for x in (0, 1, -1, 2, -2, -3, -5, -10, -30)]
        let cases = [
            (0.0, 0.5),
            (1.0, 0.8413447460685429),
            (-1.0, 0.15865525393145707),
            (2.0, 0.9772498680518208),
            (-2.0, 0.02275013194817922),
            (-3.0, 0.0013498980316300957),
            (-5.0, 2.866515718791946e-07),
            (-10.0, 7.619853024160593e-24),
            (-30.0, 4.906713927148764e-198),
        ];
        for (x, expected) in cases {
            let got = normal_cdf(x);
            assert!(
                ((got - expected) / expected).abs() < 1e-12,
                "Φ({x}) = {got}, expected {expected}"
            );
        }
        assert_eq!(normal_cdf(-50.0), 0.0);
        assert!(normal_cdf(f64::NAN).is_nan());
        assert!((normal_cdf_by_symmetry(1.0) - 0.841_344_746_068_542_9).abs() < 1e-15);
    }

    #[test]
    fn quantile_inverts_cdf() {
        for &p in &[
            1e-300, 1e-100, 1e-20, 1e-8, 0.001, 0.02, 0.3, 0.5, 0.7, 0.975, 0.999_999,
        ] {
            let z = normal_quantile(p);
            let back = normal_cdf(z);
            assert!(((back - p) / p).abs() < 1e-12, "Φ(Φ⁻¹({p})) = {back}");
        }
        // scipy.stats.norm.ppf(0.975), also Φ⁻¹ of the two-sided 95% point.
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-15);
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
        assert!(normal_quantile(1.5).is_nan());
    }

    #[test]
    fn batch_quantiles_equal_the_scalar_ones_bit_for_bit() {
        // Every region and both edges of the central one, then a fine grid.
        let edges = [
            0.0,
            1e-300,
            0.075,
            0.5 - CENTRAL_HALF_WIDTH,
            0.925,
            0.5 + CENTRAL_HALF_WIDTH,
        ];
        let special = edges
            .into_iter()
            .flat_map(|p: f64| [p, p.next_up(), p.next_down()])
            .chain([0.5, 1.0, 1.5, -0.5, f64::NAN]);
        let grid = (0..4097).map(|i| (f64::from(i) + 0.5) / 4097.0);
        let p: Vec<f64> = special.chain(grid).collect();
        assert_eq!(p.len() % 8, 0);
        for chunk in p.chunks_exact(8) {
            let chunk: &[f64; 8] = chunk.try_into().unwrap();
            for (&pi, zi) in chunk.iter().zip(normal_quantiles(chunk)) {
                assert_eq!(zi.to_bits(), normal_quantile(pi).to_bits(), "Φ⁻¹({pi:e})");
            }
        }
    }
}
