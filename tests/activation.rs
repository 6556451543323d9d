//! Activations against independent `f64` references: values (extreme and tiny inputs
//! included), derivatives by central finite differences, slice paths against scalar paths,
//! NaN and infinity handling, the gain table (recomputed by quadrature) and the initializer
//! pairs.

use nninit::{
    Activation, Elu, Gelu, GeluTanh, Identity, LeakyRelu, Nonlinearity, Relu, Selu, Sigmoid, Silu,
    Softplus, Softsign, Tanh, calculate_gain,
};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng, rngs::Xoshiro256PlusPlus};

/// `f64` references, written from the published formulas with the standard library's `f64`
/// functions (plus `erfc`, which `std` lacks).
mod reference {
    use std::f64::consts::{FRAC_1_SQRT_2, PI};

    /// erfc by `erf(x) = 2/√π e^(-x²) Σ 2^n x^(2n+1) / (1·3·…·(2n+1))` (positive terms, no
    /// cancellation) below 3, and by the continued fraction
    /// `erfc(x) = e^(-x²)/√π / (x + (1/2)/(x + 1/(x + (3/2)/(x + …))))` above (Abramowitz and
    /// Stegun 7.1.6 and 7.1.14). Checked against mpmath below.
    pub fn erfc(x: f64) -> f64 {
        if x < 0.0 {
            return 2.0 - erfc(-x);
        }
        if x < 3.0 {
            let mut term = x;
            let mut sum = x;
            for n in 1..200 {
                term *= 2.0 * x * x / (2 * n + 1) as f64;
                sum += term;
            }
            1.0 - 2.0 / PI.sqrt() * (-x * x).exp() * sum
        } else {
            let mut fraction = x;
            for k in (1..=300).rev() {
                fraction = x + (k as f64 / 2.0) / fraction;
            }
            (-x * x).exp() / (PI.sqrt() * fraction)
        }
    }

    pub fn normal_cdf(x: f64) -> f64 {
        0.5 * erfc(-x * FRAC_1_SQRT_2)
    }

    pub fn normal_density(x: f64) -> f64 {
        (-0.5 * x * x).exp() / (2.0 * PI).sqrt()
    }

    pub fn sigmoid(x: f64) -> f64 {
        if x >= 0.0 {
            1.0 / (1.0 + (-x).exp())
        } else {
            x.exp() / (1.0 + x.exp())
        }
    }

    pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_284_817_042_991_671_7;
    pub const SELU_SCALE: f64 = 1.050_700_987_355_480_493_419_334_985_294_6;
    pub const GELU_CUBIC: f64 = 0.044_715;

    pub fn gelu_tanh_inner(x: f64) -> f64 {
        (2.0 / PI).sqrt() * (x + GELU_CUBIC * x * x * x)
    }
}

/// One activation with its `f64` reference and its derivative.
struct Case {
    activation: Box<dyn Activation>,
    f: Box<dyn Fn(f64) -> f64>,
    df: Box<dyn Fn(f64) -> f64>,
    /// Points where `f` is not differentiable (finite differences skip their neighbourhood).
    kinks: Vec<f64>,
    /// Relative tolerance of the `f32` implementation (a few ulp; GELU's erfc a little more).
    rtol: f64,
}

fn case(
    activation: impl Activation + 'static,
    f: impl Fn(f64) -> f64 + 'static,
    df: impl Fn(f64) -> f64 + 'static,
    kinks: &[f64],
    rtol: f64,
) -> Case {
    Case {
        activation: Box::new(activation),
        f: Box::new(f),
        df: Box::new(df),
        kinks: kinks.to_vec(),
        rtol,
    }
}

fn cases() -> Vec<Case> {
    use reference::*;
    let elu = |alpha: f64| move |x: f64| if x > 0.0 { x } else { alpha * x.exp_m1() };
    let elu_d = |alpha: f64| move |x: f64| if x > 0.0 { 1.0 } else { alpha * x.exp() };
    let softplus = |beta: f64, threshold: f64| {
        move |x: f64| {
            if beta * x > threshold {
                x
            } else {
                (beta * x).exp().ln_1p() / beta
            }
        }
    };
    let softplus_d = |beta: f64, threshold: f64| {
        move |x: f64| {
            if beta * x > threshold {
                1.0
            } else {
                sigmoid(beta * x)
            }
        }
    };
    const RTOL: f64 = 2e-6; // about 16 ulp
    vec![
        case(Identity, |x| x, |_| 1.0, &[], 0.0),
        case(Sigmoid, sigmoid, |x| sigmoid(x) * sigmoid(-x), &[], RTOL),
        case(Tanh, f64::tanh, |x| 1.0 / x.cosh().powi(2), &[], RTOL),
        case(
            Softsign,
            |x| x / (1.0 + x.abs()),
            |x| 1.0 / (1.0 + x.abs()).powi(2),
            &[0.0],
            RTOL,
        ),
        case(
            Relu,
            |x| if x > 0.0 { x } else { 0.0 },
            |x| if x > 0.0 { 1.0 } else { 0.0 },
            &[0.0],
            0.0,
        ),
        case(
            LeakyRelu::new(0.2),
            |x| if x > 0.0 { x } else { 0.2 * x },
            |x| if x > 0.0 { 1.0 } else { 0.2 },
            &[0.0],
            1e-7,
        ),
        case(Elu::default(), elu(1.0), elu_d(1.0), &[0.0], RTOL),
        case(Elu::new(0.5), elu(0.5), elu_d(0.5), &[0.0], RTOL),
        case(
            Selu,
            |x| SELU_SCALE * if x > 0.0 { x } else { SELU_ALPHA * x.exp_m1() },
            |x| SELU_SCALE * if x > 0.0 { 1.0 } else { SELU_ALPHA * x.exp() },
            &[0.0],
            RTOL,
        ),
        case(
            Gelu,
            |x| x * normal_cdf(x),
            |x| normal_cdf(x) + x * normal_density(x),
            &[],
            6e-6,
        ),
        case(
            GeluTanh,
            |x| x * sigmoid(2.0 * gelu_tanh_inner(x)),
            |x| {
                let s = sigmoid(2.0 * gelu_tanh_inner(x));
                let du = (2.0 / std::f64::consts::PI).sqrt() * (1.0 + 3.0 * GELU_CUBIC * x * x);
                s + 2.0 * x * du * s * (1.0 - s)
            },
            &[],
            RTOL,
        ),
        case(
            Silu,
            |x| x * sigmoid(x),
            |x| sigmoid(x) * (1.0 + x * sigmoid(-x)),
            &[],
            RTOL,
        ),
        case(
            Softplus::default(),
            softplus(1.0, 20.0),
            softplus_d(1.0, 20.0),
            &[20.0],
            RTOL,
        ),
        case(
            Softplus::new(2.0, 10.0),
            softplus(2.0, 10.0),
            softplus_d(2.0, 10.0),
            &[5.0],
            RTOL,
        ),
    ]
}

/// Inputs from -1e4 to 1e4, with the tiny, the moderate and the saturating ranges.
const TABLE_INPUTS: [f32; 29] = [
    -1e4, -1e3, -100.0, -80.0, -30.0, -20.0, -10.0, -5.0, -3.0, -1.0, -0.5, -1e-3, -1e-7, -1e-30,
    0.0, 1e-30, 1e-7, 1e-3, 0.5, 1.0, 3.0, 5.0, 10.0, 19.0, 30.0, 80.0, 100.0, 1e3, 1e4,
];

/// Results below this magnitude are subnormal in `f32`, where only absolute accuracy exists.
const SUBNORMAL: f64 = f32::MIN_POSITIVE as f64;

fn assert_close(got: f32, want: f64, rtol: f64, context: &str) {
    let error = (got as f64 - want).abs();
    assert!(
        error <= rtol * want.abs() + SUBNORMAL,
        "{context}: got {got:e}, want {want:e} (error {error:e}, rtol {rtol:e})"
    );
}

#[test]
fn reference_erfc_matches_mpmath() {
    // mpmath, mp.dps = 30: erfc(0.5), erfc(2), erfc(5), erfc(10), erfc(26).
    let golden = [
        (0.5, 0.479_500_122_186_953_5),
        (2.0, 0.004_677_734_981_047_266),
        (5.0, 1.537_459_794_428_035e-12),
        (10.0, 2.088_487_583_762_545e-45),
        (26.0, 5.663_192_408_856_143e-296),
    ];
    for (x, want) in golden {
        let got = reference::erfc(x);
        assert!((got - want).abs() <= 1e-12 * want, "erfc({x}) = {got:e}");
    }
}

#[test]
fn forward_and_derivative_match_reference_table() {
    for case in cases() {
        let name = case.activation.name().to_string();
        for &x in &TABLE_INPUTS {
            let xf = x as f64;
            assert_close(
                case.activation.forward(x),
                (case.f)(xf),
                case.rtol,
                &format!("{name}({x})"),
            );
            if !case.kinks.contains(&xf) {
                let want = (case.df)(xf);
                let got = case.activation.derivative(x);
                assert_close(got, want, case.rtol.max(1e-7), &format!("{name}'({x})"));
            }
        }
    }
}

#[test]
fn golden_values_from_mpmath() {
    // mpmath, mp.dps = 30: x * ncdf(x); z/2 (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)));
    // -20 / (1 + exp(20)); log1p(exp(-20)); 1 / (1 + exp(80)).
    let golden: [(&dyn Activation, f32, f64); 7] = [
        (&Gelu, -3.0, -0.004_049_694_094_890_283_6),
        (&Gelu, 1.0, 0.841_344_746_068_542_9),
        (&Gelu, -10.0, -7.619_853_024_160_526e-23),
        (&GeluTanh, 1.0, 0.841_191_990_608_276_7),
        (&Silu, -20.0, -4.122_307_236_380_407e-8),
        (&Softplus::default(), -20.0, 2.061_153_620_314_381e-9),
        (&Sigmoid, -80.0, 1.804_851_387_845_415_2e-35),
    ];
    for (activation, x, want) in golden {
        assert_close(
            activation.forward(x),
            want,
            6e-6,
            &format!("{}({x})", activation.name()),
        );
    }
}

#[test]
fn kinks_follow_pytorch() {
    assert_eq!(Relu.derivative(0.0), 0.0);
    assert_eq!(LeakyRelu::new(0.2).derivative(0.0), 0.2);
    assert_eq!(Elu::new(0.5).derivative(0.0), 0.5);
    assert!((Selu.derivative(0.0) - 1.050_701 * 1.673_263_2).abs() < 1e-6);
    assert_eq!(Softsign.derivative(0.0), 1.0);
    // Softplus above its threshold is the identity, derivative 1.
    assert_eq!(Softplus::default().forward(20.5), 20.5);
    assert_eq!(Softplus::default().derivative(20.5), 1.0);
}

/// Central difference of the `f64` reference at `x`, step `h = 1e-6 max(1, |x|)`:
/// truncation `h² f''' / 6` and rounding `1e-16 / h` are both below 1e-9.
fn central_difference(f: &dyn Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-6 * x.abs().max(1.0);
    (f(x + h) - f(x - h)) / (2.0 * h)
}

fn check_against_finite_difference(case: &Case, x: f32) {
    let xf = x as f64;
    if case.kinks.iter().any(|k| (xf - k).abs() < 1e-3) {
        return;
    }
    let numeric = central_difference(&case.f, xf);
    let analytic = case.activation.derivative(x) as f64;
    assert!(
        (analytic - numeric).abs() <= 1e-5 * numeric.abs() + 1e-6,
        "{}'({x}): analytic {analytic:e}, finite difference {numeric:e}",
        case.activation.name()
    );
}

#[test]
fn derivatives_match_finite_differences_on_a_grid() {
    for case in cases() {
        for i in -600..=600 {
            check_against_finite_difference(&case, i as f32 / 40.0 + 0.003);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn derivatives_match_finite_differences(x in -30.0f32..30.0) {
        for case in cases() {
            check_against_finite_difference(&case, x);
        }
    }

    #[test]
    fn slices_agree_with_scalars(values in prop::collection::vec(-50.0f32..50.0, 0..40)) {
        for case in cases() {
            check_slices(case.activation.as_ref(), &values);
        }
    }
}

/// The slice methods give the scalar results (bit for bit for `forward` and `derivative`,
/// within a few `f32::EPSILON` for `backward_slice`, which may use the output).
fn check_slices(activation: &dyn Activation, x: &[f32]) {
    let name = activation.name();
    let mut y = vec![f32::NAN; x.len()];
    activation.forward_slice(x, &mut y);
    let mut derivative = vec![f32::NAN; x.len()];
    activation.derivative_slice(x, &mut derivative);
    let mut gradient: Vec<f32> = (0..x.len()).map(|i| 1.0 - 0.1 * i as f32).collect();
    let upstream = gradient.clone();
    activation.backward_slice(x, &y, &mut gradient);
    for i in 0..x.len() {
        let (forward, d) = (activation.forward(x[i]), activation.derivative(x[i]));
        assert_eq!(y[i].to_bits(), forward.to_bits(), "{name}({})", x[i]);
        assert_eq!(derivative[i].to_bits(), d.to_bits(), "{name}'({})", x[i]);
        let want = upstream[i] * d;
        let tolerance = 1e-6 * upstream[i].abs().max(1.0);
        assert!(
            (gradient[i] - want).abs() <= tolerance,
            "{name} backward at {}: {} vs {want}",
            x[i],
            gradient[i]
        );
    }
}

#[test]
fn slices_cover_every_tail_length_and_special_value() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
    let special = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0, 1e-30];
    for case in cases() {
        for len in 0..=35 {
            let mut x: Vec<f32> = (0..len).map(|_| rng.random_range(-12.0..12.0)).collect();
            if len > 0 {
                x[len / 2] = special[len % special.len()];
            }
            // Every value but the NaN and infinities also goes through the backward check.
            let finite: Vec<f32> = x.iter().copied().filter(|v| v.is_finite()).collect();
            check_slices(case.activation.as_ref(), &finite);
            let mut out = vec![0.0; len];
            case.activation.forward_slice(&x, &mut out);
            for (o, &v) in out.iter().zip(&x) {
                assert_eq!(
                    o.is_nan(),
                    v.is_nan(),
                    "{}({v}) = {o}",
                    case.activation.name()
                );
            }
        }
    }
}

#[test]
fn slices_use_the_common_length() {
    for case in cases() {
        let x = [1.0f32, 2.0, 3.0];
        let mut out = [7.0f32; 5];
        case.activation.forward_slice(&x, &mut out);
        assert_eq!(&out[3..], &[7.0, 7.0]);
        let mut short = [7.0f32; 2];
        case.activation.derivative_slice(&x, &mut short);
        assert_eq!(short[1], case.activation.derivative(2.0));
    }
}

#[test]
fn nan_in_gives_nan_out() {
    for case in cases() {
        let activation = case.activation.as_ref();
        let name = activation.name();
        assert!(activation.forward(f32::NAN).is_nan(), "{name}");
        assert!(activation.derivative(f32::NAN).is_nan(), "{name}'");
        let mut gradient = [1.0f32];
        activation.backward_slice(&[f32::NAN], &[activation.forward(f32::NAN)], &mut gradient);
        assert!(gradient[0].is_nan(), "{name} backward");
    }
}

#[test]
fn infinities_give_the_limits() {
    for case in cases() {
        let activation = case.activation.as_ref();
        for x in [f32::INFINITY, f32::NEG_INFINITY] {
            // The reference at ±1e30 is the limit value in f64 arithmetic.
            let far = if x > 0.0 { 1e30 } else { -1e30 };
            let forward = activation.forward(x);
            let derivative = activation.derivative(x);
            assert!(
                !forward.is_nan() && !derivative.is_nan(),
                "{}({x})",
                activation.name()
            );
            let want = (case.f)(far);
            if want.abs() < 1e29 {
                assert_close(forward, want, 1e-6, &format!("{}({x})", activation.name()));
            } else {
                assert_eq!(forward, x, "{}({x})", activation.name());
            }
            assert_close(derivative, (case.df)(far), 1e-6, activation.name());
        }
    }
}

/// `1 / sqrt(E[f(z)²])`, `z ~ N(0, 1)`, by the composite Simpson rule on [-14, 14] with
/// 28,000 intervals (h = 1e-3: error below 1e-12 for smooth `f`, about h³ = 1e-9 at a kink;
/// truncation below the normal density at 14, 1e-43).
fn quadrature_gain(f: &dyn Fn(f64) -> f64) -> f64 {
    let (a, n) = (14.0, 28_000);
    let h = 2.0 * a / n as f64;
    let integrand = |i: usize| {
        let z = -a + h * i as f64;
        f(z).powi(2) * reference::normal_density(z)
    };
    let inner: f64 = (1..n)
        .map(|i| if i % 2 == 1 { 4.0 } else { 2.0 } * integrand(i))
        .sum();
    let second_moment = (integrand(0) + inner + integrand(n)) * h / 3.0;
    1.0 / second_moment.sqrt()
}

#[test]
fn gains_follow_pytorch_where_it_tabulates_one() {
    assert_eq!(Identity.gain(), calculate_gain(Nonlinearity::Identity));
    assert_eq!(Sigmoid.gain(), 1.0);
    assert_eq!(Tanh.gain(), 5.0 / 3.0);
    assert_eq!(Relu.gain(), 2f64.sqrt());
    for slope in [0.01, 0.2, 0.0] {
        let pytorch = calculate_gain(Nonlinearity::LeakyRelu(slope));
        assert_eq!(LeakyRelu::new(slope).gain(), pytorch);
        assert_eq!(pytorch, (2.0 / (1.0 + slope * slope)).sqrt());
    }
    assert_eq!(LeakyRelu::default().gain(), 1.414_142_856_997_835_4);
    assert_eq!(Selu.gain(), 0.75);
}

#[test]
fn other_gains_are_variance_preserving() {
    // The table in the activation module's docs.
    let table: [(&dyn Activation, f64); 7] = [
        (&Elu::default(), 1.245_198),
        (&Gelu, 1.533_530),
        (&GeluTanh, 1.533_581),
        (&Silu, 1.676_532),
        (&Softsign, 2.337_533),
        (&Softplus::default(), 1.041_867),
        (&Elu::new(0.5), 1.365_594),
    ];
    for (activation, documented) in table {
        assert!(
            (activation.gain() - documented).abs() < 1e-6,
            "{}",
            activation.name()
        );
    }
    // Recomputed by quadrature from the f64 references, for these and a few parameters more.
    let extra: Vec<Case> = vec![
        case(
            Softplus::new(2.0, 10.0),
            |x| {
                if 2.0 * x > 10.0 {
                    x
                } else {
                    (2.0 * x).exp().ln_1p() / 2.0
                }
            },
            |_| 0.0,
            &[],
            0.0,
        ),
        case(
            Softplus::new(0.5, 20.0),
            |x| {
                if 0.5 * x > 20.0 {
                    x
                } else {
                    (0.5 * x).exp().ln_1p() / 0.5
                }
            },
            |_| 0.0,
            &[],
            0.0,
        ),
        case(
            Elu::new(2.0),
            |x| if x > 0.0 { x } else { 2.0 * x.exp_m1() },
            |_| 0.0,
            &[],
            0.0,
        ),
    ];
    let tabulated = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "selu"];
    for case in cases().into_iter().chain(extra) {
        if tabulated.contains(&case.activation.name()) {
            continue;
        }
        let numeric = quadrature_gain(&case.f);
        let gain = case.activation.gain();
        assert!(
            (gain - numeric).abs() < 1e-6,
            "{:?}: gain {gain}, quadrature {numeric}",
            case.activation
        );
    }
    // The variance-preserving gain of ReLU is PyTorch's sqrt(2), which validates the rule.
    assert!((quadrature_gain(&|x: f64| x.max(0.0)) - 2f64.sqrt()).abs() < 1e-8);
}

#[test]
fn recommended_initializers_pair_with_the_activation() {
    let pairs: [(&dyn Activation, &str); 13] = [
        (&Identity, "GlorotUniform"),
        (&Sigmoid, "GlorotUniform"),
        (&Tanh, "GlorotUniform"),
        (&Softsign, "GlorotUniform"),
        (&Relu, "HeNormal"),
        (&LeakyRelu::default(), "HeNormal"),
        (&Elu::default(), "HeNormal"),
        (&Gelu, "HeNormal"),
        (&GeluTanh, "HeNormal"),
        (&Silu, "HeNormal"),
        (&Softplus::default(), "HeNormal"),
        (&Selu, "LecunNormal"),
        (&LeakyRelu::new(0.2), "HeNormal"),
    ];
    for (activation, initializer) in pairs {
        assert_eq!(
            activation.recommended_init().name(),
            initializer,
            "{}",
            activation.name()
        );
    }
}

#[test]
fn names_defaults_and_diagnostic_hints() {
    let names: Vec<String> = cases()
        .iter()
        .map(|c| c.activation.name().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "identity",
            "sigmoid",
            "tanh",
            "softsign",
            "relu",
            "leaky_relu",
            "elu",
            "elu",
            "selu",
            "gelu",
            "gelu_tanh",
            "silu",
            "softplus",
            "softplus"
        ]
    );
    assert_eq!(LeakyRelu::default(), LeakyRelu::new(0.01));
    assert_eq!(Elu::default().alpha(), 1.0);
    assert_eq!(
        (Softplus::default().beta(), Softplus::default().threshold()),
        (1.0, 20.0)
    );
    assert_eq!(Gelu.tanh_approximation(), GeluTanh);
    assert_eq!(Sigmoid.saturation_bounds(), Some((0.0, 1.0)));
    assert_eq!(Tanh.saturation_bounds(), Some((-1.0, 1.0)));
    assert_eq!(Softsign.saturation_bounds(), Some((-1.0, 1.0)));
    for case in cases() {
        let a = case.activation.as_ref();
        let bounded = ["sigmoid", "tanh", "softsign"].contains(&a.name());
        assert_eq!(a.saturation_bounds().is_some(), bounded, "{}", a.name());
        assert_eq!(a.is_rectifier(), a.name() == "relu", "{}", a.name());
    }
    assert!(LeakyRelu::new(0.0).is_rectifier());
}

#[test]
fn activations_are_object_safe_send_sync() {
    fn assert_bounds<T: Send + Sync + std::fmt::Debug + ?Sized>() {}
    assert_bounds::<dyn Activation>();
    let boxed: Box<dyn Activation> = Box::new(LeakyRelu::new(0.1));
    assert_eq!(format!("{boxed:?}"), "LeakyRelu { slope: 0.1 }");
}
