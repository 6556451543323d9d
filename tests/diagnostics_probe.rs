//! The model-agnostic probe, the statistics of the literature on cases computed by hand, the
//! initial-loss check, diverged weights (issue 14 point 8) and the training monitor.

use std::ops::ControlFlow;

use nninit::{
    BinaryCrossEntropy, CrossEntropy, Fans, FitConfig, GlorotUniform, Histogram, Identity,
    InitializerFamily, LayerStats, Monitor, Network, Probe, ProbeLayer, Relu, Report, Sgd, Sigmoid,
    Tanh, Warning,
};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

const XOR_X: [f32; 8] = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
const XOR_Y: [f32; 4] = [0.0, 1.0, 1.0, 0.0];

/// `samples x features` values uniform in ±√3 (variance 1).
fn inputs(samples: usize, features: usize, seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let bound = 3f32.sqrt();
    (0..samples * features)
        .map(|_| rng.random_range(-bound..bound))
        .collect()
}

/// `a · bᵀ` for row-major `a` (`m x k`) and `b` (`n x k`), in f64.
fn matmul_transposed(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
    let mut out = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let dot: f64 = (0..k)
                .map(|p| f64::from(a[i * k + p]) * f64::from(b[j * k + p]))
                .sum();
            out[i * n + j] = dot as f32;
        }
    }
    out
}

/// The transpose of a row-major `rows x columns` matrix.
fn transpose(a: &[f32], rows: usize, columns: usize) -> Vec<f32> {
    (0..columns)
        .flat_map(|c| (0..rows).map(move |r| a[r * columns + c]))
        .collect()
}

fn assert_close(what: &str, a: f32, b: f32) {
    let tolerance = 1e-5 * a.abs().max(b.abs()).max(1e-6);
    assert!((a - b).abs() <= tolerance, "{what}: {a} vs {b}");
}

fn assert_same_stats(probe: &LayerStats, network: &LayerStats) {
    let pairs = [
        (
            "activation_mean",
            probe.activation_mean,
            network.activation_mean,
        ),
        (
            "activation_std",
            probe.activation_std,
            network.activation_std,
        ),
        (
            "pre_activation_std",
            probe.pre_activation_std,
            network.pre_activation_std,
        ),
        ("std_ratio", probe.std_ratio, network.std_ratio),
        ("gradient_norm", probe.gradient_norm, network.gradient_norm),
        ("gradient_std", probe.gradient_std, network.gradient_std),
        ("weight_std", probe.weight_std, network.weight_std),
        (
            "saturated_fraction",
            probe.saturated_fraction,
            network.saturated_fraction,
        ),
        (
            "gradient_to_data",
            probe.gradient_to_data.unwrap(),
            network.gradient_to_data.unwrap(),
        ),
    ];
    for (what, a, b) in pairs {
        assert_close(&format!("layer {} {what}", probe.index), a, b);
    }
    assert_eq!(probe.symmetric_units, network.symmetric_units);
    assert_eq!(probe.dead_fraction, network.dead_fraction);
    assert_eq!(
        (
            &probe.activation,
            probe.activation_family,
            probe.initializer,
            probe.initializer_family
        ),
        (
            &network.activation,
            network.activation_family,
            network.initializer,
            network.initializer_family
        )
    );
    assert_eq!(
        probe.activation_histogram.total(),
        network.activation_histogram.total()
    );
    assert_eq!(probe.update_to_data, network.update_to_data);
}

#[test]
fn probe_on_a_hand_built_two_layer_model_gives_the_diagnose_report() {
    // 2 inputs -> 3 tanh -> 1 sigmoid, binary cross entropy, two samples, weights set by hand.
    let x = [1.0f32, 2.0, -1.0, 0.5];
    let t = [1.0f32, 0.0];
    let (w0, b0) = ([0.5f32, -0.3, 0.8, 0.1, -0.6, 0.4], [0.1f32, 0.0, -0.2]);
    let (w1, b1) = ([0.7f32, -1.2, 0.9], [0.05f32]);
    let mut net = Network::builder(2)
        .dense(3, Tanh)
        .dense(1, Sigmoid)
        .build()
        .unwrap();
    for (layer, (w, b)) in net
        .layers_mut()
        .iter_mut()
        .zip([(&w0[..], &b0[..]), (&w1, &b1)])
    {
        layer.weight_mut().copy_from_slice(w);
        layer.bias_mut().copy_from_slice(b);
    }
    let network = net.diagnose(&x, &t, &BinaryCrossEntropy).unwrap();

    // Forward by hand: z0 = x W0ᵀ + b0, a0 = tanh z0, z1 = a0 W1ᵀ + b1, p = σ(z1).
    let mut z0 = matmul_transposed(&x, &w0, 2, 2, 3);
    z0.iter_mut().enumerate().for_each(|(i, z)| *z += b0[i % 3]);
    let a0: Vec<f32> = z0.iter().map(|z| z.tanh()).collect();
    let z1: Vec<f32> = matmul_transposed(&a0, &w1, 2, 3, 1)
        .iter()
        .map(|z| z + b1[0])
        .collect();
    let p: Vec<f32> = z1.iter().map(|z| 1.0 / (1.0 + (-z).exp())).collect();
    let loss = -(t[0] * p[0].ln() + (1.0 - t[1]) * (1.0 - p[1]).ln()) / 2.0;
    // Backward: ∂L/∂p = (p - t) / (p (1 - p)) / n, ∂L/∂z1 = (p - t) / n,
    // ∂L/∂W1 = (∂L/∂z1)ᵀ a0, ∂L/∂a0 = ∂L/∂z1 · W1, ∂L/∂z0 = ∂L/∂a0 (1 - a0²), ∂L/∂W0 = (∂L/∂z0)ᵀ x.
    let dp: Vec<f32> = (0..2)
        .map(|i| (p[i] - t[i]) / (p[i] * (1.0 - p[i])) / 2.0)
        .collect();
    let dz1: Vec<f32> = (0..2).map(|i| (p[i] - t[i]) / 2.0).collect();
    let dw1 = matmul_transposed(&transpose(&dz1, 2, 1), &transpose(&a0, 2, 3), 1, 2, 3);
    let da0: Vec<f32> = (0..6).map(|i| dz1[i / 3] * w1[i % 3]).collect();
    let dz0: Vec<f32> = (0..6).map(|i| da0[i] * (1.0 - a0[i] * a0[i])).collect();
    let dw0 = matmul_transposed(&transpose(&dz0, 2, 3), &transpose(&x, 2, 2), 3, 2, 2);

    let mut probe = Probe::new(&x, loss)
        .unwrap()
        .uninformed_loss(Some(2f32.ln()))
        .accuracy(network.accuracy.unwrap());
    let custom = ("custom", InitializerFamily::Other);
    probe
        .layer(
            ProbeLayer::new(&Tanh, Fans::new(2, 3), &w0)
                .bias(&b0)
                .outputs(&z0, &a0)
                .gradients(&dw0, &da0)
                .initializer(custom.0, custom.1),
        )
        .unwrap();
    probe
        .layer(
            ProbeLayer::new(&Sigmoid, Fans::new(3, 1), &w1)
                .bias(&b1)
                .outputs(&z1, &p)
                .gradients(&dw1, &dp)
                .initializer(custom.0, custom.1),
        )
        .unwrap();
    let by_hand = probe.report();

    assert_close("loss", by_hand.loss, network.loss);
    assert_eq!(by_hand.uninformed_loss, network.uninformed_loss);
    assert_eq!(by_hand.input_std, network.input_std);
    assert_eq!(by_hand.layers.len(), 2);
    for (a, b) in by_hand.layers.iter().zip(&network.layers) {
        assert_same_stats(a, b);
    }
    assert_eq!(by_hand.warnings, network.warnings);
}

#[test]
fn each_statistic_on_a_case_computed_by_hand() {
    // One ReLU layer, 2 inputs -> 2 units, batch of 2.
    //   W = [[1, -1], [3, 1]]: mean 1, deviations (0, -2, 2, 0), std sqrt(8/4) = sqrt 2.
    //   ∂L/∂W = [[0.1, 0.3], [0.1, 0.3]]: deviations ±0.1, std 0.1 -> gradient/data 0.1/√2.
    //   ΔW = -0.01 ∂L/∂W: std 0.001 -> update/data 0.001/√2.
    //   ∂L/∂y = [1, -1, 3, -3]: mean 0, std sqrt((1 + 1 + 9 + 9)/4) = √5.
    //   z = [-2, 1, 0.5, 4], y = relu(z) = [0, 1, 0.5, 4]: unit 0 fires on sample 1, none dead.
    let w = [1.0f32, -1.0, 3.0, 1.0];
    let dw = [0.1f32, 0.3, 0.1, 0.3];
    let update: Vec<f32> = dw.iter().map(|g| -0.01 * g).collect();
    let dy = [1.0f32, -1.0, 3.0, -3.0];
    let (z, y) = ([-2.0f32, 1.0, 0.5, 4.0], [0.0f32, 1.0, 0.5, 4.0]);
    let mut probe = Probe::new(&[1.0, 2.0, 3.0, 4.0], 0.5).unwrap();
    probe
        .layer(
            ProbeLayer::new(&Relu, Fans::new(2, 2), &w)
                .outputs(&z, &y)
                .gradients(&dw, &dy)
                .update(&update),
        )
        .unwrap();
    let report = probe.report();
    let stats = &report.layers[0];
    let sqrt2 = 2f32.sqrt();
    assert_close("weight std", stats.weight_std, sqrt2);
    assert_close(
        "gradient/data",
        stats.gradient_to_data.unwrap(),
        0.1 / sqrt2,
    );
    assert_close("update/data", stats.update_to_data.unwrap(), 0.001 / sqrt2);
    assert_close("gradient std", stats.gradient_std, 5f32.sqrt());
    // ‖∂L/∂W‖ = sqrt(0.01 + 0.09 + 0.01 + 0.09) = sqrt 0.2.
    assert_close("gradient norm", stats.gradient_norm, 0.2f32.sqrt());
    // y: mean (0 + 1 + 0.5 + 4)/4 = 1.375.
    assert_close("activation mean", stats.activation_mean, 1.375);
    assert_eq!(stats.dead_fraction, 0.0);
    // Histograms: y over its range [0, 4] in 40 bins of 0.1: 0 -> bin 0, 0.5 -> bin 5,
    // 1 -> bin 10, 4 -> the last bin. ∂L/∂y over [-3, 3], bins of 0.15: -3 -> 0,
    // -1 -> floor(2/0.15) = 13, 1 -> floor(4/0.15) = 26, 3 -> 39.
    let bins = |h: &Histogram| -> Vec<usize> {
        h.counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(i, _)| i)
            .collect()
    };
    let activations = &stats.activation_histogram;
    assert_eq!((activations.low, activations.high), (0.0, 4.0));
    assert_eq!(bins(activations), vec![0, 5, 10, 39]);
    let gradients = &stats.gradient_histogram;
    assert_eq!((gradients.low, gradients.high), (-3.0, 3.0));
    assert_eq!(bins(gradients), vec![0, 13, 26, 39]);
    // A bounded activation's histogram spans its asymptotes, as in Glorot & Bengio.
    let mut probe = Probe::new(&[1.0], 0.5).unwrap();
    probe
        .layer(
            ProbeLayer::new(&Tanh, Fans::new(1, 1), &[0.5])
                .outputs(&[0.5], &[0.5f32.tanh()])
                .gradients(&[0.1], &[0.2]),
        )
        .unwrap();
    let tanh = &probe.report().layers[0].activation_histogram;
    assert_eq!((tanh.low, tanh.high, tanh.total()), (-1.0, 1.0, 1));
}

#[test]
fn probe_refuses_bad_input_with_typed_errors() {
    let mut probe = Probe::new(&[1.0], 0.5).unwrap();
    let w = [1.0f32, 2.0];
    let complete = |weight: &'static [f32]| {
        ProbeLayer::new(&Relu, Fans::new(1, 2), weight)
            .outputs(&[1.0, 2.0], &[1.0, 2.0])
            .gradients(&[0.1, 0.2], &[0.1, 0.2])
    };
    let message = |e: nninit::Error| e.to_string();
    assert_eq!(
        message(
            probe
                .layer(ProbeLayer::new(&Relu, Fans::new(1, 2), &w))
                .unwrap_err()
        ),
        "probe layer must be given its outputs, got layer 0 without them"
    );
    assert!(
        message(probe.layer(complete(&[1.0, f32::NAN])).unwrap_err())
            .contains("layer 0 weight at index 1")
    );
    let short = ProbeLayer::new(&Relu, Fans::new(1, 2), &w)
        .outputs(&[1.0, 2.0], &[1.0, 2.0])
        .gradients(&[0.1], &[0.1, 0.2]);
    assert_eq!(
        message(probe.layer(short).unwrap_err()),
        "layer 0 weight gradient has length 1, expected 2 (2 units x 1 inputs)"
    );
    // The first layer fixes the batch (1 sample); a second layer with 2 samples is refused.
    probe.layer(complete(&[1.0, 2.0])).unwrap();
    let two_samples = ProbeLayer::new(&Relu, Fans::new(2, 1), &w)
        .outputs(&[1.0, 2.0], &[1.0, 2.0])
        .gradients(&[0.1, 0.2], &[0.1, 0.2]);
    assert_eq!(
        message(probe.layer(two_samples).unwrap_err()),
        "layer 1 pre-activations has length 2, expected 1 (1 samples x 1 units)"
    );
    assert_eq!(probe.report().layers.len(), 1);
}

#[test]
fn initial_loss_far_above_ln_c_is_reported_with_a_remedy() {
    // By hand: 3.5 > 1.5 ln 2 ≈ 1.04 is confidently wrong, 1.0 is not; regression has no check.
    let warned = |loss: f32, uninformed: Option<f32>| {
        Probe::new(&[1.0], loss)
            .unwrap()
            .uninformed_loss(uninformed)
            .report()
            .warnings
            .iter()
            .any(|w| matches!(w, Warning::LossAboveUninformed { .. }))
    };
    assert!(warned(3.5, Some(2f32.ln())));
    assert!(!warned(1.0, Some(2f32.ln())));
    assert!(!warned(1e6, None));

    // 10 classes from 32 features. A readout scaled down by 10 gives logits of std ~0.15 and
    // a loss within a few percent of ln 10 ≈ 2.30 (here: Glorot with tanh's gain gives logits
    // of std ~1.5 and a loss of ~3.2, already 1.4 ln C); scaled up by 10 instead, logits of
    // std ~15 give a loss around 20, far above.
    let x = inputs(256, 32, 1);
    let y: Vec<f32> = (0..256).map(|i| (i % 10) as f32).collect();
    let scaled_readout = |scale: f32| {
        let mut net = Network::builder(32)
            .dense(64, Tanh)
            .dense(10, Identity)
            .init(GlorotUniform::default().gain(5.0 / 3.0))
            .seed(4)
            .build()
            .unwrap();
        net.layers_mut()[1]
            .weight_mut()
            .iter_mut()
            .for_each(|w| *w *= scale);
        net
    };
    let mut net = scaled_readout(0.1);
    let report = net.diagnose(&x, &y, &CrossEntropy).unwrap();
    assert_eq!(report.uninformed_loss, Some(10f32.ln()));
    assert!((report.loss - 10f32.ln()).abs() < 0.1, "{report}");
    assert!(
        !report
            .warnings
            .iter()
            .any(|w| matches!(w, Warning::LossAboveUninformed { .. })),
        "{report}"
    );

    let mut net = scaled_readout(10.0);
    let report = net.diagnose(&x, &y, &CrossEntropy).unwrap();
    let warning = report
        .warnings
        .iter()
        .find(|w| matches!(w, Warning::LossAboveUninformed { .. }))
        .unwrap_or_else(|| panic!("{report}"));
    assert!(
        warning
            .to_string()
            .contains("scale the output layer's weights down"),
        "{warning}"
    );
}

#[test]
fn diverged_training_is_named_as_divergence_not_as_symmetric_initialization() {
    // Issue 14 point 8: BCE with Sgd(1e30). Every step is Ok (the loss is pinned at BCE's
    // clamp), and the diagnosis used to say the units were "initialized to the same value;
    // use GlorotUniform" although the table showed GlorotUniform.
    let mut net = Network::builder(2)
        .dense(4, Tanh)
        .dense(1, Sigmoid)
        .init(GlorotUniform::default())
        .seed(1)
        .build()
        .unwrap();
    let mut sgd = Sgd::new(1e30);
    for _ in 0..5 {
        net.train_step(&XOR_X, &XOR_Y, &BinaryCrossEntropy, &mut sgd)
            .unwrap();
    }
    let report = net.diagnose(&XOR_X, &XOR_Y, &BinaryCrossEntropy).unwrap();
    let text = report.to_string();
    assert!(
        matches!(report.warnings[0], Warning::DivergedWeights { .. }),
        "{text}"
    );
    assert!(text.contains("lower the learning rate"), "{text}");
    assert!(!text.contains("initialized to the same value"), "{text}");
    assert!(
        !report
            .warnings
            .iter()
            .any(|w| matches!(w, Warning::SymmetricUnits { .. })),
        "{text}"
    );
    assert!(
        report
            .layers
            .iter()
            .all(|l| l.initializer == "GlorotUniform")
    );
}

#[test]
fn monitor_records_every_n_steps_with_update_to_data_ratios() {
    // 16 samples in batches of 4: 4 steps per epoch, 3 epochs = steps 0..12; every 5 steps
    // records steps 0, 5 and 10.
    let x = inputs(16, 3, 2);
    let y: Vec<f32> = (0..16).map(|i| (i % 2) as f32).collect();
    let mut net = Network::builder(3)
        .dense(5, Tanh)
        .dense(1, Sigmoid)
        .seed(2)
        .build()
        .unwrap();
    let learning_rate = 0.1;
    let config = FitConfig::new(3, 4).monitor(Monitor::every(5).unwrap());
    let history = net
        .fit(
            &x,
            &y,
            &BinaryCrossEntropy,
            &mut Sgd::new(learning_rate),
            config,
            |_| ControlFlow::Continue(()),
        )
        .unwrap();
    let steps: Vec<(u64, usize)> = history
        .snapshots
        .iter()
        .map(|s| (s.step, s.epoch))
        .collect();
    assert_eq!(steps, vec![(0, 0), (5, 1), (10, 2)]);
    for snapshot in &history.snapshots {
        for layer in &snapshot.report.layers {
            // Plain SGD: ΔW = -lr ∂L/∂W, so update/data = lr · gradient/data (to rounding).
            let expected = learning_rate * layer.gradient_to_data.unwrap();
            let measured = layer.update_to_data.unwrap();
            assert!(
                (measured - expected).abs() <= 1e-3 * expected,
                "{measured} vs {expected}"
            );
        }
    }
    // Without a monitor nothing is recorded, and the training is the same.
    let mut plain = Network::builder(3)
        .dense(5, Tanh)
        .dense(1, Sigmoid)
        .seed(2)
        .build()
        .unwrap();
    let plain_history = plain
        .fit(
            &x,
            &y,
            &BinaryCrossEntropy,
            &mut Sgd::new(learning_rate),
            FitConfig::new(3, 4),
            |_| ControlFlow::Continue(()),
        )
        .unwrap();
    assert!(plain_history.snapshots.is_empty());
    assert_eq!(plain_history.losses(), history.losses());
    assert_eq!(plain.layers()[0].weight(), net.layers()[0].weight());
    // The first snapshot is the diagnosis of the first batch at initialization.
    let first = &history.snapshots[0].report;
    assert!(first.layers.iter().all(|l| l.update_to_data.is_some()));
    let _: &Report = first;
}
