//! Statistics shared by the integration tests: moments, the Kolmogorov–Smirnov distance and
//! the standard normal CDF (computed independently of the crate's own).
#![allow(dead_code)]

/// Sample mean and (unbiased) variance.
pub fn moments(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, variance)
}

/// The Kolmogorov–Smirnov statistic `sup |F_n(x) - F(x)|` of `values` against `cdf`.
pub fn ks_statistic(values: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    sorted
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf(x);
            (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
        })
        .fold(0.0, f64::max)
}

/// The KS critical value at significance about 0.001: `1.95 / sqrt(n)` (the asymptotic
/// Kolmogorov distribution has P(K > 1.95) = 0.0010).
pub fn ks_critical(n: usize) -> f64 {
    1.95 / (n as f64).sqrt()
}

/// The standard normal CDF by Marsaglia's series `1/2 + φ(x) Σ x^(2k+1) / (2k+1)!!`, exact to
/// about 1e-15 in absolute terms for |x| <= 8 (enough for KS distances).
pub fn normal_cdf(x: f64) -> f64 {
    if x < -8.0 {
        return 0.0;
    }
    if x > 8.0 {
        return 1.0;
    }
    let (mut term, mut sum, mut k) = (x, x, 1.0);
    while term.abs() > 1e-18 {
        k += 2.0;
        term *= x * x / k;
        sum += term;
    }
    0.5 + sum * (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Lag-1 autocorrelation of a sequence.
pub fn lag1_autocorrelation(values: &[f64]) -> f64 {
    let (mean, variance) = moments(values);
    let n = values.len();
    let covariance = values
        .windows(2)
        .map(|w| (w[0] - mean) * (w[1] - mean))
        .sum::<f64>()
        / (n - 1) as f64;
    covariance / variance
}

/// Pearson correlation of two equally long sequences.
pub fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let (mean_a, var_a) = moments(a);
    let (mean_b, var_b) = moments(b);
    let covariance = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - mean_a) * (y - mean_b))
        .sum::<f64>()
        / (a.len() - 1) as f64;
    covariance / (var_a * var_b).sqrt()
}
