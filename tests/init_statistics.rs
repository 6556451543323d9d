//! Every random initializer against its target distribution: mean, variance, support and a
//! Kolmogorov–Smirnov test, for f32 and f64, through both the seeded (Philox) path and a
//! caller-supplied generator.
//!
//! Tolerances, for n = 100,000 samples at 5 standard errors:
//! - mean: `5 σ / sqrt(n)`;
//! - variance: the sample variance has standard error `σ² sqrt((κ − 1) / n)` with kurtosis
//!   κ = 1.8 for a uniform (5 SE = 1.41 %) and κ = 3 for a normal (5 SE = 2.24 %); a truncated
//!   normal has κ < 3, so the normal bound is conservative for it;
//! - KS distance: below `1.95 / sqrt(n)` = 0.00617 (significance 0.001).

mod common;

use common::{ks_critical, ks_statistic, moments, normal_cdf};
use nninit::init::Distribution;
use nninit::{
    Element, FanMode, Fans, GlorotNormal, GlorotUniform, HeNormal, HeUniform, Initializer,
    LecunNormal, LecunUniform, Nonlinearity, Normal, TruncatedNormal, Uniform, VarianceScaling,
};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

const N: usize = 100_000;
const FANS: Fans = Fans {
    fan_in: 784,
    fan_out: 256,
};

/// The distribution an initializer must produce, written from the published formulas.
#[derive(Clone, Copy, Debug)]
enum Target {
    Uniform { low: f64, high: f64 },
    Normal { mean: f64, std: f64 },
    Truncated { mean: f64, std: f64, a: f64, b: f64 },
}

fn pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

impl Target {
    fn symmetric(bound: f64) -> Target {
        Target::Uniform {
            low: -bound,
            high: bound,
        }
    }

    fn mean_variance(self) -> (f64, f64) {
        match self {
            Target::Uniform { low, high } => ((low + high) / 2.0, (high - low).powi(2) / 12.0),
            Target::Normal { mean, std } => (mean, std * std),
            Target::Truncated { mean, std, a, b } => {
                let (alpha, beta) = ((a - mean) / std, (b - mean) / std);
                let z = normal_cdf(beta) - normal_cdf(alpha);
                let shift = (pdf(alpha) - pdf(beta)) / z;
                let variance = 1.0 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - shift * shift;
                (mean + std * shift, std * std * variance)
            }
        }
    }

    fn cdf(self, x: f64) -> f64 {
        match self {
            Target::Uniform { low, high } => ((x - low) / (high - low)).clamp(0.0, 1.0),
            Target::Normal { mean, std } => normal_cdf((x - mean) / std),
            Target::Truncated { mean, std, a, b } => {
                let lower = normal_cdf((a - mean) / std);
                let mass = normal_cdf((b - mean) / std) - lower;
                ((normal_cdf((x - mean) / std) - lower) / mass).clamp(0.0, 1.0)
            }
        }
    }

    /// The variance's relative tolerance at 5 standard errors (see the file header).
    fn variance_tolerance(self) -> f64 {
        let excess = match self {
            Target::Uniform { .. } => 0.8,
            Target::Normal { .. } | Target::Truncated { .. } => 2.0,
        };
        5.0 * (excess / N as f64).sqrt()
    }

    fn in_support(self, x: f64) -> bool {
        match self {
            Target::Uniform { low, high } => x >= low && x < high,
            Target::Normal { .. } => x.is_finite(),
            Target::Truncated { a, b, .. } => x >= a && x <= b,
        }
    }
}

/// Checks `values` against `target`; the error says which statistic failed.
fn check(values: &[f64], target: Target) -> Result<(), String> {
    // Values rounded to f32 may sit on a bound computed in f64; allow one f32 ulp there.
    let slack = |x: f64| x + x.abs() * f64::from(f32::EPSILON);
    if let Some(x) = values.iter().find(|&&x| {
        !target.in_support(x) && !target.in_support(slack(x)) && !target.in_support(-slack(-x))
    }) {
        return Err(format!("{x} outside the support of {target:?}"));
    }
    let (mean, variance) = moments(values);
    let (expected_mean, expected_variance) = target.mean_variance();
    let mean_tolerance = 5.0 * (expected_variance / N as f64).sqrt();
    if (mean - expected_mean).abs() > mean_tolerance {
        return Err(format!(
            "mean {mean} vs {expected_mean} (tolerance {mean_tolerance})"
        ));
    }
    let relative = (variance / expected_variance - 1.0).abs();
    if relative > target.variance_tolerance() {
        return Err(format!(
            "variance {variance} vs {expected_variance} (relative error {relative})"
        ));
    }
    let distance = ks_statistic(values, |x| target.cdf(x));
    if distance > ks_critical(N) {
        return Err(format!("KS distance {distance} > {}", ks_critical(N)));
    }
    Ok(())
}

fn sample<T: Element>(init: &dyn Initializer<T>, seeded: bool, seed: u64) -> Vec<f64> {
    let mut weights = vec![T::zero(); N];
    if seeded {
        init.fill_seeded(&mut weights, FANS, seed)
            .expect("valid initializer");
    } else {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        init.fill(&mut weights, FANS, &mut rng)
            .expect("valid initializer");
    }
    weights.iter().map(|x| x.into_f64()).collect()
}

fn cases<T: Element>() -> Vec<(&'static str, Box<dyn Initializer<T>>, Target)>
where
    Uniform: Initializer<T>,
{
    let (fan_in, fan_out) = (FANS.fan_in as f64, FANS.fan_out as f64);
    let lecun_sigma = (1.0 / fan_in).sqrt() / 0.879_625_661_034_239_8;
    let leaky_gain = (2.0 / (1.0 + 0.2f64 * 0.2)).sqrt();
    vec![
        (
            "uniform",
            Box::new(Uniform::new(-0.3, 0.7)),
            Target::Uniform {
                low: -0.3,
                high: 0.7,
            },
        ),
        (
            "normal",
            Box::new(Normal::new(0.5, 2.0)),
            Target::Normal {
                mean: 0.5,
                std: 2.0,
            },
        ),
        (
            "truncated normal (default)",
            Box::new(TruncatedNormal::default()),
            Target::Truncated {
                mean: 0.0,
                std: 1.0,
                a: -2.0,
                b: 2.0,
            },
        ),
        (
            "truncated normal (asymmetric)",
            Box::new(TruncatedNormal::new(0.1, 0.5, -0.5, 1.0)),
            Target::Truncated {
                mean: 0.1,
                std: 0.5,
                a: -0.5,
                b: 1.0,
            },
        ),
        (
            "truncated normal (upper tail)",
            Box::new(TruncatedNormal::new(0.0, 1.0, 3.0, 4.0)),
            Target::Truncated {
                mean: 0.0,
                std: 1.0,
                a: 3.0,
                b: 4.0,
            },
        ),
        (
            "glorot uniform, gain 5/3",
            Box::new(GlorotUniform::default().gain(5.0 / 3.0)),
            Target::symmetric(5.0 / 3.0 * (6.0 / (fan_in + fan_out)).sqrt()),
        ),
        (
            "glorot normal",
            Box::new(GlorotNormal::default()),
            Target::Normal {
                mean: 0.0,
                std: (2.0 / (fan_in + fan_out)).sqrt(),
            },
        ),
        (
            "he uniform",
            Box::new(HeUniform::default()),
            Target::symmetric((6.0 / fan_in).sqrt()),
        ),
        (
            "he uniform, fan_out, leaky 0.2",
            Box::new(
                HeUniform::default()
                    .mode(FanMode::FanOut)
                    .nonlinearity(Nonlinearity::LeakyRelu(0.2)),
            ),
            Target::symmetric(leaky_gain * (3.0 / fan_out).sqrt()),
        ),
        (
            "he normal",
            Box::new(HeNormal::default()),
            Target::Normal {
                mean: 0.0,
                std: (2.0 / fan_in).sqrt(),
            },
        ),
        (
            "he normal, fan_out, tanh",
            Box::new(
                HeNormal::default()
                    .mode(FanMode::FanOut)
                    .nonlinearity(Nonlinearity::Tanh),
            ),
            Target::Normal {
                mean: 0.0,
                std: 5.0 / 3.0 / fan_out.sqrt(),
            },
        ),
        (
            "lecun uniform",
            Box::new(LecunUniform),
            Target::symmetric((3.0 / fan_in).sqrt()),
        ),
        (
            "lecun normal",
            Box::new(LecunNormal),
            Target::Truncated {
                mean: 0.0,
                std: lecun_sigma,
                a: -2.0 * lecun_sigma,
                b: 2.0 * lecun_sigma,
            },
        ),
        (
            "variance scaling 2, fan_avg, normal",
            Box::new(VarianceScaling::new(
                2.0,
                FanMode::FanAvg,
                Distribution::Normal,
            )),
            Target::Normal {
                mean: 0.0,
                std: (2.0 / ((fan_in + fan_out) / 2.0)).sqrt(),
            },
        ),
        (
            "variance scaling 0.5, fan_out, uniform",
            Box::new(VarianceScaling::new(
                0.5,
                FanMode::FanOut,
                Distribution::Uniform,
            )),
            Target::symmetric((3.0 * 0.5 / fan_out).sqrt()),
        ),
    ]
}

fn check_all<T: Element>(seeded: bool)
where
    Uniform: Initializer<T>,
{
    let mut failures = Vec::new();
    for (i, (name, init, target)) in cases::<T>().into_iter().enumerate() {
        let values = sample(init.as_ref(), seeded, 1000 + i as u64);
        if let Err(why) = check(&values, target) {
            failures.push(format!("{name}: {why}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn seeded_f32_matches_targets() {
    check_all::<f32>(true);
}

#[test]
fn seeded_f64_matches_targets() {
    check_all::<f64>(true);
}

#[test]
fn generator_f32_matches_targets() {
    check_all::<f32>(false);
}

#[test]
fn generator_f64_matches_targets() {
    check_all::<f64>(false);
}

/// The checks have teeth: a bound 10 % too wide, or all zeros, fails them.
#[test]
fn broken_initializers_are_caught() {
    let bound = (6.0f64 / 1040.0).sqrt();
    let too_wide = sample::<f32>(&GlorotUniform::default().gain(1.1), true, 1);
    assert!(check(&too_wide, Target::symmetric(bound)).is_err());
    let slightly_wide = sample::<f32>(&GlorotUniform::default().gain(1.02), true, 1);
    assert!(check(&slightly_wide, Target::symmetric(bound)).is_err());
    let zeros = vec![0.0; N];
    assert!(
        check(
            &zeros,
            Target::Normal {
                mean: 0.0,
                std: bound
            }
        )
        .is_err()
    );
    let clipped: Vec<f64> = sample::<f64>(&Normal::new(0.0, 1.0), true, 2)
        .into_iter()
        .map(|x| x.clamp(-2.0, 2.0))
        .collect();
    let truncated = Target::Truncated {
        mean: 0.0,
        std: 1.0,
        a: -2.0,
        b: 2.0,
    };
    assert!(
        check(&clipped, truncated).is_err(),
        "clipping is not truncation"
    );
}
