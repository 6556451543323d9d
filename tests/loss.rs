//! Losses against `f64` references (extreme logits included), gradients against central
//! finite differences, the error cases, and accuracy.

use nninit::{BceWithLogits, BinaryCrossEntropy, CrossEntropy, Error, Huber, Loss, Mae, Mse};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng, rngs::Xoshiro256PlusPlus};

/// `f64` references from the published formulas (PyTorch's documentation of each loss).
mod reference {
    pub fn mse(p: &[f64], t: &[f64]) -> f64 {
        p.iter().zip(t).map(|(p, t)| (p - t).powi(2)).sum::<f64>() / p.len() as f64
    }

    pub fn mae(p: &[f64], t: &[f64]) -> f64 {
        p.iter().zip(t).map(|(p, t)| (p - t).abs()).sum::<f64>() / p.len() as f64
    }

    pub fn huber(delta: f64) -> impl Fn(&[f64], &[f64]) -> f64 {
        move |p, t| {
            let term = |d: f64| {
                if d.abs() < delta {
                    0.5 * d * d
                } else {
                    delta * (d.abs() - 0.5 * delta)
                }
            };
            p.iter().zip(t).map(|(p, t)| term(p - t)).sum::<f64>() / p.len() as f64
        }
    }

    pub fn bce(p: &[f64], t: &[f64]) -> f64 {
        let term =
            |p: f64, t: f64| -(t * p.ln().max(-100.0) + (1.0 - t) * (1.0 - p).ln().max(-100.0));
        p.iter().zip(t).map(|(&p, &t)| term(p, t)).sum::<f64>() / p.len() as f64
    }

    pub fn bce_with_logits(x: &[f64], t: &[f64]) -> f64 {
        // -(t ln σ(x) + (1 - t) ln(1 - σ(x))) with ln σ(x) = -ln(1 + e^-x) written stably.
        let log_sigmoid = |x: f64| {
            -(if x > 0.0 {
                (-x).exp().ln_1p()
            } else {
                -x + x.exp().ln_1p()
            })
        };
        let term = |x: f64, t: f64| -(t * log_sigmoid(x) + (1.0 - t) * log_sigmoid(-x));
        x.iter().zip(t).map(|(&x, &t)| term(x, t)).sum::<f64>() / x.len() as f64
    }

    fn log_softmax(row: &[f64]) -> Vec<f64> {
        let max = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = max + row.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
        row.iter().map(|v| v - lse).collect()
    }

    /// Cross entropy with class indices (`t.len() == batch`) or probabilities.
    pub fn cross_entropy(outputs: usize) -> impl Fn(&[f64], &[f64]) -> f64 {
        move |x, t| {
            let batch = x.len() / outputs;
            let mut total = 0.0;
            for (b, row) in x.chunks(outputs).enumerate() {
                let log_p = log_softmax(row);
                if t.len() == batch {
                    total -= log_p[t[b] as usize];
                } else {
                    let target = &t[b * outputs..(b + 1) * outputs];
                    total -= target.iter().zip(&log_p).map(|(t, l)| t * l).sum::<f64>();
                }
            }
            total / batch as f64
        }
    }
}

type Reference = Box<dyn Fn(&[f64], &[f64]) -> f64>;

fn widen(values: &[f32]) -> Vec<f64> {
    values.iter().map(|&v| v as f64).collect()
}

/// Compares the loss (both methods) with the reference, relative tolerance `rtol`.
fn check_value(
    loss: &dyn Loss,
    reference: &Reference,
    p: &[f32],
    t: &[f32],
    outputs: usize,
    rtol: f64,
) {
    let want = reference(&widen(p), &widen(t));
    let got = loss.loss(p, t, outputs).unwrap();
    let mut gradient = vec![0.0; p.len()];
    let got_too = loss
        .loss_and_gradient(p, t, outputs, &mut gradient)
        .unwrap();
    assert_eq!(got.to_bits(), got_too.to_bits(), "{}", loss.name());
    assert!(got.is_finite(), "{}: {got}", loss.name());
    assert!(
        gradient.iter().all(|g| g.is_finite()),
        "{}: {gradient:?}",
        loss.name()
    );
    assert!(
        (got as f64 - want).abs() <= rtol * want.abs() + 1e-7,
        "{}: got {got}, want {want}",
        loss.name()
    );
}

#[test]
fn regression_losses_match_references() {
    let p = [0.5f32, -2.0, 3.0, 1e-30, 1e4, -7.25, 0.0, 2.0];
    let t = [0.0f32, 1.0, 3.0, 0.0, -1e4, -7.0, 1e-7, 1.5];
    let huber_cases: [(Huber, Reference); 2] = [
        (Huber::default(), Box::new(reference::huber(1.0))),
        (Huber::new(0.5), Box::new(reference::huber(0.5))),
    ];
    for outputs in [1, 2, 4, 8] {
        check_value(
            &Mse,
            &(Box::new(reference::mse) as Reference),
            &p,
            &t,
            outputs,
            1e-6,
        );
        check_value(
            &Mae,
            &(Box::new(reference::mae) as Reference),
            &p,
            &t,
            outputs,
            1e-6,
        );
        for (huber, reference) in &huber_cases {
            check_value(huber, reference, &p, &t, outputs, 1e-6);
        }
    }
}

#[test]
fn binary_losses_match_references_at_extremes() {
    let probabilities = [0.9f32, 0.2, 0.0, 1.0, 1e-30, 1.0 - 1e-7, 0.5, 0.999];
    let targets = [1.0f32, 0.0, 1.0, 1.0, 0.0, 1.0, 0.3, 0.0];
    let bce: Reference = Box::new(reference::bce);
    check_value(&BinaryCrossEntropy, &bce, &probabilities, &targets, 2, 1e-6);

    let logits = [3.0f32, -2.0, 1e4, -1e4, 0.0, 1e-30, 100.0, -100.0];
    let with_logits: Reference = Box::new(reference::bce_with_logits);
    check_value(&BceWithLogits, &with_logits, &logits, &targets, 4, 1e-6);
}

#[test]
fn golden_values_from_python() {
    // Python's math module, the formulas of nn.BCEWithLogitsLoss, nn.CrossEntropyLoss and
    // nn.BCELoss (mean reduction):
    //   x = [3, -2, 1e4, -1e4]; y = [1, 0, 0, 1]
    //   sum(max(a, 0) - a*b + log1p(exp(-abs(a))) for a, b in zip(x, y)) / 4
    //   rows = [[1, 2, 3], [1e4, 0, -1e4]]; t = [2, 1]; mean of lse(r) - r[c]
    //   p = [0.9, 0.2, 0.0, 1.0]; y = [1, 0, 1, 1]; logs clamped at -100
    let with_logits = BceWithLogits
        .loss(&[3.0, -2.0, 1e4, -1e4], &[1.0, 0.0, 0.0, 1.0], 1)
        .unwrap();
    assert!((with_logits as f64 - 5_000.043_878_840_654).abs() < 5e-4);
    let ce = CrossEntropy
        .loss(&[1.0, 2.0, 3.0, 1e4, 0.0, -1e4], &[2.0, 1.0], 3)
        .unwrap();
    assert!((ce as f64 - 5_000.203_802_982_222).abs() < 5e-4);
    let bce = BinaryCrossEntropy
        .loss(&[0.9, 0.2, 0.0, 1.0], &[1.0, 0.0, 1.0, 1.0], 2)
        .unwrap();
    assert!((bce as f64 - 25.082_126_016_743_008).abs() < 1e-5);
}

#[test]
fn cross_entropy_matches_reference_with_indices_and_probabilities() {
    let logits = [
        1.0f32, 2.0, 3.0, 0.5, //
        1e4, 0.0, -1e4, 5.0, //
        1e-30, -1e-30, 0.0, 0.0, //
        -1e4, -1e4, -1e4, -1e4,
    ];
    let reference: Reference = Box::new(reference::cross_entropy(4));
    check_value(
        &CrossEntropy,
        &reference,
        &logits,
        &[2.0, 1.0, 0.0, 3.0],
        4,
        1e-6,
    );
    let soft = [
        0.1f32, 0.2, 0.7, 0.0, //
        0.0, 1.0, 0.0, 0.0, //
        0.25, 0.25, 0.25, 0.25, //
        0.5, 0.0, 0.0, 0.5,
    ];
    check_value(&CrossEntropy, &reference, &logits, &soft, 4, 1e-6);
}

#[test]
fn cross_entropy_with_one_hot_probabilities_equals_indices() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let (batch, outputs) = (7, 13);
    let logits: Vec<f32> = (0..batch * outputs)
        .map(|_| rng.random_range(-30.0..30.0))
        .collect();
    let classes: Vec<f32> = (0..batch).map(|b| ((b * 5) % outputs) as f32).collect();
    let mut one_hot = vec![0.0; batch * outputs];
    for (b, &c) in classes.iter().enumerate() {
        one_hot[b * outputs + c as usize] = 1.0;
    }
    let mut g_index = vec![0.0; logits.len()];
    let mut g_prob = vec![0.0; logits.len()];
    let a = CrossEntropy
        .loss_and_gradient(&logits, &classes, outputs, &mut g_index)
        .unwrap();
    let b = CrossEntropy
        .loss_and_gradient(&logits, &one_hot, outputs, &mut g_prob)
        .unwrap();
    assert!((a - b).abs() <= 1e-5 * a.abs());
    for (x, y) in g_index.iter().zip(&g_prob) {
        assert!((x - y).abs() <= 1e-7, "{x} vs {y}");
    }
    // Each row of the gradient sums to 0 (softmax sums to 1, one-hot sums to 1).
    for row in g_index.chunks(outputs) {
        assert!(row.iter().sum::<f32>().abs() < 1e-7);
    }
}

/// Central differences of the `f64` reference with respect to each prediction, step
/// `h = 1e-6 max(1, |p|)`: truncation and rounding errors both below 1e-9.
fn numeric_gradient(reference: &Reference, p: &[f32], t: &[f32]) -> Vec<f64> {
    let p = widen(p);
    let t = widen(t);
    (0..p.len())
        .map(|i| {
            let h = 1e-6 * p[i].abs().max(1.0);
            let mut up = p.clone();
            up[i] += h;
            let mut down = p.clone();
            down[i] -= h;
            (reference(&up, &t) - reference(&down, &t)) / (2.0 * h)
        })
        .collect()
}

fn check_gradient(loss: &dyn Loss, reference: &Reference, p: &[f32], t: &[f32], outputs: usize) {
    let mut gradient = vec![f32::NAN; p.len()];
    loss.loss_and_gradient(p, t, outputs, &mut gradient)
        .unwrap();
    let numeric = numeric_gradient(reference, p, t);
    let scale = numeric.iter().fold(0f64, |m, g| m.max(g.abs())).max(1e-3);
    for (i, (&g, &n)) in gradient.iter().zip(&numeric).enumerate() {
        assert!(
            (g as f64 - n).abs() <= 1e-4 * scale,
            "{} gradient[{i}]: analytic {g:e}, finite difference {n:e} (p = {}, t = {})",
            loss.name(),
            p[i],
            t.get(i).copied().unwrap_or(f32::NAN)
        );
    }
}

/// A batch with `outputs` columns, predictions in `[-3, 3]` kept away from the targets (the
/// kinks of MAE and Huber).
fn regression_batch(rng: &mut Xoshiro256PlusPlus, n: usize) -> (Vec<f32>, Vec<f32>) {
    let t: Vec<f32> = (0..n).map(|_| rng.random_range(-2.0..2.0)).collect();
    let p = t
        .iter()
        .map(|&t| {
            let offset: f32 = rng.random_range(0.05..1.5);
            let huber_kink_free = if (offset - 1.0).abs() < 0.02 || (offset - 0.5).abs() < 0.02 {
                offset + 0.1
            } else {
                offset
            };
            if rng.random_range(0.0..1.0) < 0.5 {
                t + huber_kink_free
            } else {
                t - huber_kink_free
            }
        })
        .collect();
    (p, t)
}

fn check_all_gradients(seed: u64, batch: usize, outputs: usize) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let n = batch * outputs;
    let (p, t) = regression_batch(&mut rng, n);
    check_gradient(
        &Mse,
        &(Box::new(reference::mse) as Reference),
        &p,
        &t,
        outputs,
    );
    check_gradient(
        &Mae,
        &(Box::new(reference::mae) as Reference),
        &p,
        &t,
        outputs,
    );
    check_gradient(
        &Huber::default(),
        &(Box::new(reference::huber(1.0)) as Reference),
        &p,
        &t,
        outputs,
    );
    check_gradient(
        &Huber::new(0.5),
        &(Box::new(reference::huber(0.5)) as Reference),
        &p,
        &t,
        outputs,
    );

    let probabilities: Vec<f32> = (0..n).map(|_| rng.random_range(0.05..0.95)).collect();
    let soft: Vec<f32> = (0..n).map(|_| rng.random_range(0.0..1.0)).collect();
    check_gradient(
        &BinaryCrossEntropy,
        &(Box::new(reference::bce) as Reference),
        &probabilities,
        &soft,
        outputs,
    );
    let logits: Vec<f32> = (0..n).map(|_| rng.random_range(-8.0..8.0)).collect();
    check_gradient(
        &BceWithLogits,
        &(Box::new(reference::bce_with_logits) as Reference),
        &logits,
        &soft,
        outputs,
    );

    let ce: Reference = Box::new(reference::cross_entropy(outputs));
    let classes: Vec<f32> = (0..batch)
        .map(|_| rng.random_range(0..outputs) as f32)
        .collect();
    check_gradient(&CrossEntropy, &ce, &logits, &classes, outputs);
    if outputs > 1 {
        check_gradient(&CrossEntropy, &ce, &logits, &soft, outputs);
    }
}

#[test]
fn gradients_match_finite_differences() {
    for (seed, (batch, outputs)) in [(1, 1), (3, 1), (1, 5), (4, 3), (2, 17)]
        .into_iter()
        .enumerate()
    {
        check_all_gradients(seed as u64, batch, outputs);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn gradients_match_finite_differences_random(seed in any::<u64>(), batch in 1usize..6, outputs in 1usize..12) {
        check_all_gradients(seed, batch, outputs);
    }

    #[test]
    fn extreme_logits_stay_finite(values in prop::collection::vec(prop_oneof![Just(1e4f32), Just(-1e4f32), -1e4f32..1e4], 1..24)) {
        let outputs = values.len();
        let mut gradient = vec![0.0; values.len()];
        let ce = CrossEntropy.loss_and_gradient(&values, &[0.0], outputs, &mut gradient).unwrap();
        prop_assert!(ce.is_finite() && ce >= 0.0);
        prop_assert!(gradient.iter().all(|g| g.is_finite() && g.abs() <= 1.0));
        let targets: Vec<f32> = values.iter().map(|v| if *v > 0.0 { 0.0 } else { 1.0 }).collect();
        let bce = BceWithLogits.loss_and_gradient(&values, &targets, 1, &mut gradient).unwrap();
        prop_assert!(bce.is_finite() && bce >= 0.0);
        prop_assert!(gradient.iter().all(|g| g.is_finite()));
    }
}

#[test]
fn bce_clamps_logs_at_minus_100() {
    let mut gradient = [0.0; 2];
    let loss = BinaryCrossEntropy
        .loss_and_gradient(&[0.0, 1.0], &[1.0, 0.0], 1, &mut gradient)
        .unwrap();
    assert_eq!(loss, 100.0);
    // PyTorch: (p - t) / max(p (1 - p), 1e-12) / n.
    assert_eq!(gradient, [-1e12 / 2.0, 1e12 / 2.0]);
}

#[test]
fn long_batches_sum_accurately() {
    // 10^6 elements of squared error 0.01 (0.1 is inexact in f32: the mean is its square).
    let n = 1_000_000;
    let p = vec![0.1f32; n];
    let t = vec![0.0f32; n];
    let want = (0.1f32 as f64).powi(2);
    let got = Mse.loss(&p, &t, 1000).unwrap() as f64;
    assert!((got - want).abs() <= 1e-7 * want, "{got} vs {want}");
}

fn message(result: nninit::Result<f32>) -> String {
    result.unwrap_err().to_string()
}

#[test]
fn bad_input_is_a_typed_error() {
    let losses: [&dyn Loss; 6] = [
        &Mse,
        &Mae,
        &Huber::default(),
        &BinaryCrossEntropy,
        &BceWithLogits,
        &CrossEntropy,
    ];
    for loss in losses {
        let name = loss.name();
        assert!(
            matches!(
                loss.loss(&[], &[], 1),
                Err(Error::InvalidArgument {
                    name: "predictions",
                    ..
                })
            ),
            "{name}"
        );
        assert!(
            matches!(
                loss.loss(&[0.5], &[0.0], 0),
                Err(Error::InvalidArgument {
                    name: "outputs",
                    ..
                })
            ),
            "{name}"
        );
        assert!(
            matches!(
                loss.loss(&[0.5; 3], &[0.0; 3], 2),
                Err(Error::LengthMismatch { .. })
            ),
            "{name}"
        );
        assert!(
            matches!(
                loss.loss(&[0.5; 4], &[0.0; 3], 2),
                Err(Error::LengthMismatch { .. })
            ),
            "{name}"
        );
        let mut short = [0.0; 3];
        assert!(
            matches!(
                loss.loss_and_gradient(&[0.5; 4], &[0.0; 4], 2, &mut short),
                Err(Error::LengthMismatch { .. })
            ),
            "{name}"
        );
        let nan = loss.loss(&[0.5, 0.5, f32::NAN, 0.5], &[0.0; 4], 2);
        assert!(matches!(nan, Err(Error::NonFinite { .. })), "{name}");
        assert_eq!(
            message(nan),
            "prediction at index 2 is not finite (NaN)",
            "{name}"
        );
        let inf = loss.loss(&[f32::NEG_INFINITY, 0.5], &[0.0; 2], 1);
        assert_eq!(
            message(inf),
            "prediction at index 0 is not finite (-inf)",
            "{name}"
        );
    }
    assert_eq!(
        message(Mse.loss(&[0.0; 3], &[1.0; 2], 1)),
        "targets has length 2, expected 3"
    );
    assert_eq!(
        message(Mse.loss(&[0.0, 1.0], &[0.0, f32::NAN], 1)),
        "target at index 1 is not finite (NaN)"
    );
}

#[test]
fn binary_targets_and_probabilities_must_be_in_unit_interval() {
    assert_eq!(
        message(BceWithLogits.loss(&[0.0, 0.0], &[0.0, 1.5], 1)),
        "targets must be in [0, 1], got 1.5 at index 1"
    );
    assert_eq!(
        message(BinaryCrossEntropy.loss(&[0.5, 0.5], &[-0.5, 1.0], 2)),
        "targets must be in [0, 1], got -0.5 at index 0"
    );
    assert_eq!(
        message(BinaryCrossEntropy.loss(&[0.5, 1.01], &[0.0, 1.0], 2)),
        "predictions must be in [0, 1], got 1.01 at index 1"
    );
    assert!(BinaryCrossEntropy.loss(&[0.0, 1.0], &[0.0, 1.0], 2).is_ok());
}

#[test]
fn class_indices_must_be_integers_in_range() {
    let logits = [0.0f32; 6];
    let expect = "targets must be class indices: integers in 0..3, got";
    assert_eq!(
        message(CrossEntropy.loss(&logits, &[0.0, 3.0], 3)),
        format!("{expect} 3 at index 1")
    );
    assert_eq!(
        message(CrossEntropy.loss(&logits, &[1.5, 0.0], 3)),
        format!("{expect} 1.5 at index 0")
    );
    assert_eq!(
        message(CrossEntropy.loss(&logits, &[-1.0, 0.0], 3)),
        format!("{expect} -1 at index 0")
    );
    assert!(matches!(
        CrossEntropy.loss(&logits, &[0.0, f32::NAN], 3),
        Err(Error::NonFinite { .. })
    ));
    assert_eq!(
        message(CrossEntropy.loss(&logits, &[0.0; 4], 3)),
        "targets has length 4, expected 2 (class indices) or 6 (probabilities)"
    );
    // Uniform logits: the loss is ln 3 for any valid class.
    let loss = CrossEntropy.loss(&logits, &[2.0, 0.0], 3).unwrap();
    assert!((loss - 3f32.ln()).abs() < 1e-6);
}

#[test]
fn huber_delta_must_be_positive() {
    for delta in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let err = Huber::new(delta).loss(&[0.0], &[0.0], 1).unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument { name: "delta", .. }),
            "{delta}"
        );
    }
}

#[test]
fn gradient_is_untouched_on_error() {
    let losses: [&dyn Loss; 6] = [
        &Mse,
        &Mae,
        &Huber::default(),
        &BinaryCrossEntropy,
        &BceWithLogits,
        &CrossEntropy,
    ];
    for loss in losses {
        let mut gradient = [7.0f32; 4];
        let result =
            loss.loss_and_gradient(&[0.5, 0.5, 0.5, f32::NAN], &[0.0; 4], 2, &mut gradient);
        assert!(result.is_err());
        assert_eq!(gradient, [7.0; 4], "{}", loss.name());
    }
}

#[test]
fn accuracy_counts_correct_predictions() {
    // Binary: per element, threshold 0.5 on probabilities and 0 on logits.
    let probabilities = [0.9f32, 0.4, 0.5, 0.1];
    let targets = [1.0f32, 1.0, 1.0, 0.0];
    assert_eq!(
        BinaryCrossEntropy.accuracy(&probabilities, &targets, 2),
        Some(0.75)
    );
    assert_eq!(
        BceWithLogits.accuracy(&[2.0, -0.1, 0.0, -3.0], &targets, 1),
        Some(0.75)
    );
    // Cross entropy: argmax against class indices or the target row's argmax.
    let logits = [
        0.1f32, 0.9, 0.0, /* */ 5.0, 1.0, 1.0, /* */ 0.0, 0.0, 0.0,
    ];
    assert_eq!(
        CrossEntropy.accuracy(&logits, &[1.0, 2.0, 0.0], 3),
        Some(2.0 / 3.0)
    );
    let soft = [
        0.2f32, 0.7, 0.1, /* */ 0.6, 0.3, 0.1, /* */ 0.1, 0.1, 0.8,
    ];
    assert_eq!(CrossEntropy.accuracy(&logits, &soft, 3), Some(2.0 / 3.0));
    // Regression losses and ill-fitting arguments: None.
    assert_eq!(Mse.accuracy(&logits, &logits, 3), None);
    assert_eq!(Mae.accuracy(&logits, &logits, 3), None);
    assert_eq!(Huber::default().accuracy(&logits, &logits, 3), None);
    assert_eq!(CrossEntropy.accuracy(&logits, &[1.0, 2.0], 3), None);
    assert_eq!(CrossEntropy.accuracy(&logits, &[1.0, 2.0, 7.0], 3), None);
    assert_eq!(BceWithLogits.accuracy(&[0.0; 3], &[0.0; 3], 0), None);
}

#[test]
fn losses_are_object_safe_send_sync() {
    fn assert_bounds<T: Send + Sync + std::fmt::Debug + ?Sized>() {}
    assert_bounds::<dyn Loss>();
    let huber = Huber::default();
    let losses: [&dyn Loss; 6] = [
        &Mse,
        &Mae,
        &huber,
        &BinaryCrossEntropy,
        &BceWithLogits,
        &CrossEntropy,
    ];
    let names: Vec<&str> = losses.iter().map(|l| l.name()).collect();
    assert_eq!(
        names,
        [
            "mse",
            "mae",
            "huber",
            "binary_cross_entropy",
            "bce_with_logits",
            "cross_entropy"
        ]
    );
    assert_eq!(format!("{:?}", Huber::new(2.0)), "Huber { delta: 2.0 }");
}
