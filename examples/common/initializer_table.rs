//! The quickstart's first table: fill one 784 x 256 layer (`fan_in` 784, `fan_out` 256, the
//! first layer of an MNIST classifier) with each initializer and compare the measured mean and
//! standard deviation with what the initializer's formula promises.

use nninit::init::Distribution;
use nninit::{
    Constant, FanMode, Fans, GlorotNormal, GlorotUniform, HeNormal, HeUniform, Identity,
    Initializer, LecunNormal, LecunUniform, Normal, Ones, Orthogonal, TruncatedNormal, Uniform,
    VarianceScaling, Zeros,
};

/// Inputs of the layer.
pub const FAN_IN: usize = 784;
/// Units of the layer.
pub const FAN_OUT: usize = 256;

/// Std of N(0, 1) truncated to [-2, 2], `TRUNCATED_NORMAL_STD_CORRECTION`'s formula:
/// `sqrt(1 - 4 φ(2) / (2 Φ(2) - 1))`.
const TRUNCATED_STD: f64 = 0.879_625_661_034_239_8;

/// One initializer and the moments its formula predicts for the 784 x 256 layer.
#[derive(Debug)]
pub struct Case {
    /// How the initializer is written in Rust.
    pub code: &'static str,
    /// Where the expected std comes from.
    pub formula: &'static str,
    /// The initializer.
    pub init: Box<dyn Initializer<f32>>,
    /// Expected mean of the weights.
    pub mean: f64,
    /// Expected standard deviation of the weights.
    pub std: f64,
}

/// A measured row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// How the initializer is written in Rust.
    pub code: &'static str,
    /// Where the expected std comes from.
    pub formula: &'static str,
    /// Expected and measured mean.
    pub mean: (f64, f64),
    /// Expected and measured std.
    pub std: (f64, f64),
    /// Whether the measurement agrees with the formula (see [`agrees`]).
    pub ok: bool,
}

/// Every initializer of the crate, with the moments its formula gives for `fans`.
pub fn cases() -> Vec<Case> {
    let (fan_in, fan_out) = (FAN_IN as f64, FAN_OUT as f64);
    let n = fan_in * fan_out;
    // Identity: `min(out, in)` ones among `n` weights, a Bernoulli(p) population.
    let p = fan_out.min(fan_in) / n;
    let case = |code, formula, init: Box<dyn Initializer<f32>>, mean, std| Case {
        code,
        formula,
        init,
        mean,
        std,
    };
    vec![
        case("Zeros", "constant", Box::new(Zeros), 0.0, 0.0),
        case("Ones", "constant", Box::new(Ones), 1.0, 0.0),
        case(
            "Constant::new(0.1)",
            "constant",
            Box::new(Constant::new(0.1)),
            0.1,
            0.0,
        ),
        case(
            "Uniform::new(-0.05, 0.05)",
            "(b - a) / sqrt(12)",
            Box::new(Uniform::new(-0.05, 0.05)),
            0.0,
            0.1 / 12f64.sqrt(),
        ),
        case(
            "Normal::new(0.0, 0.01)",
            "std",
            Box::new(Normal::new(0.0, 0.01)),
            0.0,
            0.01,
        ),
        case(
            "TruncatedNormal::new(0.0, 0.02, -0.04, 0.04)",
            "0.02 * 0.8796 (cut at 2 std)",
            Box::new(TruncatedNormal::new(0.0, 0.02, -0.04, 0.04)),
            0.0,
            0.02 * TRUNCATED_STD,
        ),
        case(
            "GlorotUniform::new()",
            "sqrt(2 / (in + out))",
            Box::new(GlorotUniform::new()),
            0.0,
            (2.0 / (fan_in + fan_out)).sqrt(),
        ),
        case(
            "GlorotNormal::new()",
            "sqrt(2 / (in + out))",
            Box::new(GlorotNormal::new()),
            0.0,
            (2.0 / (fan_in + fan_out)).sqrt(),
        ),
        case(
            "HeUniform::new()",
            "sqrt(2 / in)",
            Box::new(HeUniform::new()),
            0.0,
            (2.0 / fan_in).sqrt(),
        ),
        case(
            "HeNormal::new()",
            "sqrt(2 / in)",
            Box::new(HeNormal::new()),
            0.0,
            (2.0 / fan_in).sqrt(),
        ),
        case(
            "LecunUniform",
            "sqrt(1 / in)",
            Box::new(LecunUniform),
            0.0,
            (1.0 / fan_in).sqrt(),
        ),
        case(
            "LecunNormal",
            "sqrt(1 / in)",
            Box::new(LecunNormal),
            0.0,
            (1.0 / fan_in).sqrt(),
        ),
        case(
            "VarianceScaling::new(2.0, FanOut, TruncatedNormal)",
            "sqrt(2 / out)",
            Box::new(VarianceScaling::new(
                2.0,
                FanMode::FanOut,
                Distribution::TruncatedNormal,
            )),
            0.0,
            (2.0 / fan_out).sqrt(),
        ),
        // 256 orthonormal rows of length 784: the squares sum to 256 over 784 * 256 weights.
        case(
            "Orthogonal::new()",
            "sqrt(out / n) (unit rows)",
            Box::new(Orthogonal::new()),
            0.0,
            (fan_out / n).sqrt(),
        ),
        case(
            "Identity",
            "sqrt(p (1 - p)), p = out / n",
            Box::new(Identity),
            p,
            (p * (1.0 - p)).sqrt(),
        ),
    ]
}

/// Mean and (population) standard deviation, accumulated in f64.
pub fn mean_std(values: &[f32]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let variance = values
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean, variance.sqrt())
}

/// Whether a measurement over `n` weights agrees with the formula.
///
/// The sample mean of `n` draws has standard error `std / sqrt(n)`: we allow 5 of them
/// (n = 200,704 gives 0.011 std). The sample std of `n` normal draws has relative standard
/// error about `1 / sqrt(2n)` = 0.16%; 1.5% is over 9 standard errors, and still catches a
/// formula off by a factor such as `sqrt(1 + 1/n)` only if it matters. A 1e-7 absolute slack
/// covers f32 rounding of the deterministic fills.
pub fn agrees(n: usize, expected: (f64, f64), measured: (f64, f64)) -> bool {
    let (mean, std) = expected;
    let mean_ok = (measured.0 - mean).abs() <= 5.0 * std / (n as f64).sqrt() + 1e-7;
    let std_ok = (measured.1 - std).abs() <= 0.015 * std + 1e-7;
    mean_ok && std_ok
}

/// Fills a `FAN_OUT x FAN_IN` layer with every initializer (seed `seed`) and measures it.
pub fn measure(seed: u64) -> nninit::Result<Vec<Row>> {
    let fans = Fans::new(FAN_IN, FAN_OUT);
    let mut weights = vec![0.0f32; FAN_IN * FAN_OUT];
    cases()
        .into_iter()
        .map(|case| {
            weights.fill(f32::NAN); // a fill that skipped an element would show as NaN
            case.init.fill_seeded(&mut weights, fans, seed)?;
            let measured = mean_std(&weights);
            Ok(Row {
                code: case.code,
                formula: case.formula,
                mean: (case.mean, measured.0),
                std: (case.std, measured.1),
                ok: agrees(weights.len(), (case.mean, case.std), measured),
            })
        })
        .collect()
}
