//! `Network::diagnose`: the depth facts of the initialization literature, measured, and the
//! warnings that explain them.

use std::ops::ControlFlow;

use nninit::{
    BinaryCrossEntropy, Constant, CrossEntropy, FitConfig, GlorotUniform, HeNormal, Identity, Mse,
    Network, NetworkBuilder, Normal, Relu, Report, Selu, Sgd, Sigmoid, Tanh, Warning, Zeros,
};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

const XOR_X: [f32; 8] = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
const XOR_Y: [f32; 4] = [0.0, 1.0, 1.0, 0.0];

/// `samples x features` standard-normal-ish inputs (uniform with variance 1: ±√3).
fn inputs(samples: usize, features: usize, seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let bound = 3f32.sqrt();
    (0..samples * features)
        .map(|_| rng.random_range(-bound..bound))
        .collect()
}

/// `depth` layers of `width` units of `activation`, then one linear output.
fn deep<A: nninit::Activation + Clone + 'static>(
    depth: usize,
    width: usize,
    activation: A,
) -> NetworkBuilder {
    let mut builder = Network::builder(width);
    for _ in 0..depth {
        builder = builder.dense(width, activation.clone());
    }
    builder.dense(1, Identity)
}

/// The activation std of the first and of the `depth`-th layer at initialization.
fn first_and_last_std(builder: NetworkBuilder, depth: usize) -> (f32, f32, Report) {
    let mut net = builder.build().unwrap();
    let x = inputs(256, 64, 99);
    let y = vec![0.0; 256];
    let report = net.diagnose(&x, &y, &Mse).unwrap();
    (
        report.layers[0].activation_std,
        report.layers[depth - 1].activation_std,
        report,
    )
}

#[test]
fn he_keeps_a_deep_relu_signal_and_glorot_loses_it() {
    // 30 ReLU layers of width 64, 8 seeds. He's variance 2/fan_in preserves E[y²] in
    // expectation, but at finite width each layer multiplies the squared norm by a random
    // factor of mean 1 and variance 5/64 (relu(z)² has variance 5/4 σ⁴ per unit), so over 29
    // layers log(std ratio) has a spread of about ½·√(29 · 5/64) ≈ 0.75: a single seed can
    // leave the factor-2 band, the median over seeds does not. Glorot (variance 1/64 here)
    // halves E[y²] per layer: the std shrinks by 2^14.5 ≈ 2e4, far past 100x, on every seed.
    let mut he_log_ratios = Vec::new();
    for seed in 0..8 {
        let he = deep(30, 64, Relu).init(HeNormal::default()).seed(seed);
        let (first, last, _) = first_and_last_std(he, 30);
        he_log_ratios.push((last / first).ln());
        assert!(
            (last / first) > 0.25 && (last / first) < 4.0,
            "He seed {seed}: {first} -> {last}"
        );
        let glorot = deep(30, 64, Relu).init(GlorotUniform::default()).seed(seed);
        let (first, last, report) = first_and_last_std(glorot, 30);
        assert!(
            first / last > 100.0,
            "Glorot seed {seed}: {first} -> {last}"
        );
        assert!(
            report
                .warnings
                .iter()
                .any(|w| matches!(w, Warning::VanishingSignal { .. }))
        );
        assert!(report.warnings.iter().any(|w| matches!(
            w,
            Warning::MismatchedInit { initializer, .. } if initializer == "GlorotUniform"
        )));
    }
    he_log_ratios.sort_by(f32::total_cmp);
    let median = 0.5 * (he_log_ratios[3] + he_log_ratios[4]);
    assert!(median.abs() < 2f32.ln(), "He median ratio {}", median.exp());
}

#[test]
fn tanh_with_glorot_keeps_the_signal_over_ten_layers() {
    for seed in 0..4 {
        let builder = deep(10, 64, Tanh).init(GlorotUniform::default()).seed(seed);
        let (first, last, report) = first_and_last_std(builder, 10);
        let ratio = last / first;
        assert!(
            ratio > 0.25 && ratio < 4.0,
            "seed {seed}: {first} -> {last}"
        );
        assert!(
            !report
                .warnings
                .iter()
                .any(|w| matches!(w, Warning::SaturatedUnits { .. })),
            "{report}"
        );
    }
}

#[test]
fn sigmoid_with_unit_normal_weights_saturates_and_diagnose_says_so() {
    // N(0, 1) weights on 64 inputs of variance 1: pre-activations have std 8, and sigmoid is
    // within 0.02 of 0 or 1 beyond |z| = ln 49 ≈ 3.9, about half a std: ~60% saturate.
    let builder = deep(5, 64, Sigmoid).init(Normal::new(0.0, 1.0)).seed(3);
    let (_, _, report) = first_and_last_std(builder, 5);
    assert!(report.layers[0].saturated_fraction > 0.5, "{report}");
    let saturated: Vec<usize> = report
        .warnings
        .iter()
        .filter_map(|w| match w {
            Warning::SaturatedUnits { layer, .. } => Some(*layer),
            _ => None,
        })
        .collect();
    assert!(saturated.contains(&0), "{report}");
    assert!(report.to_string().contains("saturated"));
    // Glorot on the same architecture does not saturate.
    let builder = deep(5, 64, Sigmoid).init(GlorotUniform::default()).seed(3);
    let (_, _, report) = first_and_last_std(builder, 5);
    assert!(
        report.layers.iter().all(|l| l.saturated_fraction < 0.05),
        "{report}"
    );
}

#[test]
fn zero_initialization_is_reported_as_symmetric_and_stalled() {
    let mut net = Network::builder(2)
        .dense(4, Tanh)
        .dense(1, Sigmoid)
        .init(Zeros)
        .build()
        .unwrap();
    let weights_before: Vec<Vec<f32>> = net.layers().iter().map(|l| l.weight().to_vec()).collect();
    let report = net.diagnose(&XOR_X, &XOR_Y, &BinaryCrossEntropy).unwrap();
    let weights_after: Vec<Vec<f32>> = net.layers().iter().map(|l| l.weight().to_vec()).collect();
    assert_eq!(weights_before, weights_after, "diagnose must not train");
    assert_eq!(
        report.warnings[0],
        Warning::SymmetricUnits {
            layer: 0,
            units: 4,
            of: 4
        }
    );
    let text = report.to_string();
    assert!(
        text.contains(
            "initialized to the same value; use a random initializer such as GlorotUniform"
        ),
        "{text}"
    );

    let history = net
        .fit(
            &XOR_X,
            &XOR_Y,
            &BinaryCrossEntropy,
            &mut Sgd::new(0.5),
            FitConfig::new(20, 4),
            |_| ControlFlow::Continue(()),
        )
        .unwrap();
    let report = report.with_history(&history);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| matches!(w, Warning::StalledLoss { epochs: 10, .. }))
    );

    // A random initialization is symmetric in no layer and does not stall.
    let mut net = Network::builder(2)
        .dense(4, Tanh)
        .dense(1, Sigmoid)
        .seed(1)
        .build()
        .unwrap();
    let history = net
        .fit(
            &XOR_X,
            &XOR_Y,
            &BinaryCrossEntropy,
            &mut Sgd::new(0.5),
            FitConfig::new(20, 4),
            |_| ControlFlow::Continue(()),
        )
        .unwrap();
    let report = net
        .diagnose(&XOR_X, &XOR_Y, &BinaryCrossEntropy)
        .unwrap()
        .with_history(&history);
    assert!(report.is_healthy(), "{report}");
}

#[test]
fn dead_relu_layers_are_reported() {
    // A bias of -10 against inputs of std 1 and He weights (pre-activation std ~1.4): no unit
    // can fire on any sample.
    let mut net = Network::builder(8)
        .dense(16, Relu)
        .dense(2, Identity)
        .layer_init(0, HeNormal::default())
        .bias_init(Constant::new(-10.0))
        .seed(2)
        .build()
        .unwrap();
    let x = inputs(64, 8, 1);
    let y: Vec<f32> = (0..64).map(|i| (i % 2) as f32).collect();
    let report = net.diagnose(&x, &y, &CrossEntropy).unwrap();
    assert_eq!(report.layers[0].dead_fraction, 1.0);
    assert!(report.warnings.contains(&Warning::DeadUnits {
        layer: 0,
        fraction: 1.0
    }));
    assert_eq!(report.layers[0].gradient_norm, 0.0);
}

#[test]
fn he_with_tanh_is_a_mismatched_pair() {
    let mut net = Network::builder(8)
        .dense(16, Tanh)
        .dense(16, Tanh)
        .dense(1, Identity)
        .init(HeNormal::default())
        .build()
        .unwrap();
    let report = net.diagnose(&inputs(32, 8, 5), &[0.0; 32], &Mse).unwrap();
    let mismatch = report.warnings.iter().find_map(|w| match w {
        Warning::MismatchedInit {
            layers,
            activation,
            initializer,
            ..
        } => Some((layers.clone(), activation.clone(), initializer.clone())),
        _ => None,
    });
    assert_eq!(
        mismatch,
        Some((vec![0, 1], "tanh".to_string(), "HeNormal".to_string()))
    );
}

/// The initializers named by the network's mismatch warnings.
fn mismatched_initializers(report: &Report) -> Vec<(Vec<usize>, String, &'static str)> {
    report
        .warnings
        .iter()
        .filter_map(|w| match w {
            Warning::MismatchedInit {
                layers,
                initializer,
                suggestion,
                ..
            } => Some((layers.clone(), initializer.clone(), *suggestion)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_sigmoid_output_under_he_is_not_a_mismatch_but_selu_under_he_is() {
    // He suits the ReLU layers; the sigmoid output is chosen for the loss.
    let mut relu = Network::builder(8)
        .dense(16, Relu)
        .dense(16, Relu)
        .dense(1, Sigmoid)
        .init(HeNormal::default())
        .build()
        .unwrap();
    let targets = [1.0; 32];
    let report = relu
        .diagnose(&inputs(32, 8, 5), &targets, &BinaryCrossEntropy)
        .unwrap();
    assert_eq!(mismatched_initializers(&report), []);
    // He doubles SELU's variance at every layer; LeCun normal keeps it at one.
    let mut selu = Network::builder(8)
        .dense(16, Selu)
        .dense(16, Selu)
        .dense(1, Identity)
        .init(HeNormal::default())
        .build()
        .unwrap();
    let report = selu.diagnose(&inputs(32, 8, 5), &[0.0; 32], &Mse).unwrap();
    let found = mismatched_initializers(&report);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (&found[0].0[..], &found[0].1[..]),
        (&[0, 1][..], "HeNormal")
    );
    assert!(found[0].2.contains("LeCun"), "{}", found[0].2);
}

#[test]
fn deep_sigmoid_gradients_vanish_and_large_linear_weights_explode_the_signal() {
    // Each sigmoid layer multiplies the backward signal by sigmoid' <= 1/4 times a Glorot
    // weight (gain ~1): over 10 layers the first layer's gradient is ~4^-9 ≈ 4e-6 of the
    // last's, beyond the 1e-3 threshold.
    let builder = deep(10, 64, Sigmoid).init(GlorotUniform::default()).seed(1);
    let (_, _, report) = first_and_last_std(builder, 10);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| matches!(w, Warning::VanishingGradients { .. })),
        "{report}"
    );
    // Identity layers with std 2/√64 = 0.25 weights double the signal per layer: 2^9 > 100.
    let builder = deep(10, 64, Identity).init(Normal::new(0.0, 0.25)).seed(1);
    let (first, last, report) = first_and_last_std(builder, 10);
    assert!(last / first > 100.0);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| matches!(w, Warning::ExplodingSignal { .. }))
    );
}

#[test]
fn the_report_prints_a_table_and_exposes_its_numbers() {
    let mut net = Network::builder(4)
        .dense(8, Relu)
        .dense(3, Identity)
        .seed(3)
        .build()
        .unwrap();
    let x = inputs(16, 4, 8);
    let y: Vec<f32> = (0..16).map(|i| (i % 3) as f32).collect();
    let report = net.diagnose(&x, &y, &CrossEntropy).unwrap();
    assert_eq!(report.layers.len(), 2);
    let layer = &report.layers[0];
    assert_eq!((layer.in_features, layer.out_features), (4, 8));
    assert_eq!(layer.activation, "relu");
    assert!(layer.initializer.starts_with("He"));
    assert!(layer.activation_std > 0.0 && layer.weight_std > 0.0 && layer.gradient_norm > 0.0);
    assert!((layer.std_ratio - layer.activation_std / report.input_std).abs() < 1e-5);
    assert!(report.accuracy.is_some());
    let text = report.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].contains("layer") && lines[0].contains("grad norm"),
        "{text}"
    );
    assert!(
        lines[1].contains("4 -> 8") && lines[2].contains("8 -> 3"),
        "{text}"
    );
}
