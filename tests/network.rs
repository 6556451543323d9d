//! The network end to end: gradients against finite differences, learning XOR and a spiral,
//! the zero-initialization symmetry fact, reproducibility, and typed errors for bad input.

use std::ops::ControlFlow;

use nninit::{
    Activation, Adam, BceWithLogits, BinaryCrossEntropy, CrossEntropy, Dense, Elu, Error,
    FitConfig, Gelu, GlorotUniform, HeNormal, Huber, Identity, LeakyRelu, Loss, Mae, Mse, Network,
    Relu, Selu, Sgd, Sigmoid, Silu, Softplus, Softsign, Tanh, Zeros,
};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// XOR: inputs and labels, two of each class.
const XOR_X: [f32; 8] = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
const XOR_Y: [f32; 4] = [0.0, 1.0, 1.0, 0.0];

fn uniform_batch(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(-1.5f32..1.5)).collect()
}

/// Activations whose derivative jumps at 0 (ELU's does unless alpha = 1).
const KINKED: [&str; 4] = ["relu", "leaky_relu", "elu", "selu"];

/// Signs of the outputs of every kinked layer, and of output - target for a kinked loss
/// (MAE): a kink lies between two parameter values exactly when one of these signs differs.
fn kink_pattern(net: &Network, outputs: &[f32], targets: &[f32], loss: &dyn Loss) -> Vec<bool> {
    let mut pattern = Vec::new();
    for (index, layer) in net.layers().iter().enumerate() {
        if KINKED.contains(&layer.activation().name()) {
            pattern.extend(net.activations(index).unwrap().iter().map(|&v| v > 0.0));
        }
    }
    if loss.name() == "mae" {
        pattern.extend(outputs.iter().zip(targets).map(|(o, t)| o > t));
    }
    pattern
}

/// Checks every weight and bias gradient of `net` against central differences of `loss`.
///
/// Tolerance: with h = 2e-3 the truncation error is h²/6 · |L'''| ≈ 7e-7 · |L'''|; the loss
/// (~1) is computed in f32 through a few layers with a relative rounding error of ~1e-6, which
/// divided by 2h gives at most ~2.5e-4 (observed: below 4e-5, as the two evaluations round
/// alike). So |numeric - backward| <= 1e-3 + 1e-2 · |backward| holds with a wide margin for a
/// correct backward pass, while a wrong one (a missing activation derivative, a transposed
/// product) is off by 20% or more. Parameters whose ±h perturbation crosses a kink are skipped
/// (finite differences are meaningless there): a step of 2e-3 moves the ~50 downstream kinked
/// pre-activations by ~3e-3, so about 5% of a ReLU net's parameters cross one; at most a fifth
/// may be skipped.
fn check_gradients(mut net: Network, loss: &dyn Loss, x: &[f32], y: &[f32], label: &str) {
    let outputs = net.outputs();
    let mut sgd = Sgd::new(1e-30); // a step this small leaves the f32 weights unchanged
    net.train_step(x, y, loss, &mut sgd).unwrap();
    let base_out = net.forward(x).unwrap();
    let base_pattern = kink_pattern(&net, &base_out, y, loss);
    let analytic: Vec<Vec<f32>> = net
        .layers()
        .iter()
        .flat_map(|l| [l.weight_gradient().to_vec(), l.bias_gradient().to_vec()])
        .collect();
    let h = 2e-3f32;
    let (mut checked, mut skipped) = (0, 0);
    for (tensor, exact_values) in analytic.iter().enumerate() {
        for (j, &exact) in exact_values.iter().enumerate() {
            let mut loss_at = |delta: f32| {
                net.parameters_mut().nth(tensor).unwrap().1[j] += delta;
                let out = net.forward(x).unwrap();
                let same_side = kink_pattern(&net, &out, y, loss) == base_pattern;
                net.parameters_mut().nth(tensor).unwrap().1[j] -= delta;
                (loss.loss(&out, y, outputs).unwrap(), same_side)
            };
            let ((plus, same_plus), (minus, same_minus)) = (loss_at(h), loss_at(-h));
            if !(same_plus && same_minus) {
                skipped += 1;
                continue;
            }
            let numeric = (plus - minus) / (2.0 * h);
            assert!(
                (numeric - exact).abs() <= 1e-3 + 1e-2 * exact.abs(),
                "{label}: parameter {tensor}[{j}]: finite difference {numeric}, backward {exact}"
            );
            checked += 1;
        }
    }
    assert!(
        skipped * 5 < checked + skipped,
        "{label}: {skipped} skipped at kinks, {checked} checked"
    );
}

#[test]
fn every_activation_backpropagates_correctly() {
    let activations: Vec<(&str, AddLayer)> = vec![
        ("identity", Box::new(|b| b.dense(4, Identity))),
        ("sigmoid", Box::new(|b| b.dense(4, Sigmoid))),
        ("tanh", Box::new(|b| b.dense(4, Tanh))),
        ("relu", Box::new(|b| b.dense(4, Relu))),
        ("leaky_relu", Box::new(|b| b.dense(4, LeakyRelu::new(0.1)))),
        ("elu", Box::new(|b| b.dense(4, Elu::new(0.7)))),
        ("selu", Box::new(|b| b.dense(4, Selu))),
        ("gelu", Box::new(|b| b.dense(4, Gelu))),
        ("silu", Box::new(|b| b.dense(4, Silu))),
        ("softsign", Box::new(|b| b.dense(4, Softsign))),
        (
            "softplus",
            Box::new(|b| b.dense(4, Softplus::new(2.0, 20.0))),
        ),
    ];
    let x = uniform_batch(6 * 3, 1);
    let y = uniform_batch(6 * 2, 2);
    for (name, hidden) in activations {
        // Two hidden layers of the activation, so its derivative is used on a gradient that
        // already went through it once.
        let builder = hidden(hidden(Network::builder(3).dense(5, Tanh)));
        let net = builder.dense(2, Identity).seed(5).build().unwrap();
        check_gradients(net, &Mse, &x, &y, name);
    }
}

/// Layers at least 16 wide apply bias, activation and derivative inside gemm (fused); narrower
/// ones in a pass of their own: both are checked against finite differences, and a narrow
/// layer between wide ones hands its derivative to the layer above through either path.
#[test]
fn fused_and_unfused_layers_backpropagate_correctly() {
    let x = uniform_batch(6 * 3, 7);
    let y = uniform_batch(6 * 2, 8);
    let net = Network::builder(3)
        .dense(20, Tanh)
        .dense(5, Sigmoid)
        .dense(17, Elu::new(0.7))
        .dense(2, Identity)
        .seed(9)
        .build()
        .unwrap();
    check_gradients(net, &Mse, &x, &y, "wide-narrow-wide");
}

/// Appends a hidden layer to a builder.
type AddLayer = Box<dyn Fn(Network2) -> Network2>;
/// `NetworkBuilder` under a shorter name for the table above.
type Network2 = nninit::NetworkBuilder;
/// A loss, the network to check it on, and the targets.
type LossCase = (
    &'static str,
    Box<dyn Loss>,
    Box<dyn Fn() -> Network>,
    Vec<f32>,
);

#[test]
fn every_loss_backpropagates_correctly() {
    let x = uniform_batch(6 * 3, 3);
    let regression = uniform_batch(6 * 3, 4);
    let binary: Vec<f32> = (0..18).map(|i| (i % 2) as f32).collect();
    let classes: Vec<f32> = (0..6).map(|i| (i % 3) as f32).collect();
    let soft: Vec<f32> = [0.2, 0.3, 0.5].repeat(6);
    let cases: Vec<LossCase> = vec![
        (
            "mse",
            Box::new(Mse),
            Box::new(|| linear_head(Identity)),
            regression.clone(),
        ),
        (
            "mae",
            Box::new(Mae),
            Box::new(|| linear_head(Identity)),
            regression.clone(),
        ),
        (
            "huber",
            Box::new(Huber::new(0.5)),
            Box::new(|| linear_head(Identity)),
            regression,
        ),
        (
            "bce",
            Box::new(BinaryCrossEntropy),
            Box::new(|| linear_head(Sigmoid)),
            binary.clone(),
        ),
        (
            "bce_logits",
            Box::new(BceWithLogits),
            Box::new(|| linear_head(Identity)),
            binary,
        ),
        (
            "ce_index",
            Box::new(CrossEntropy),
            Box::new(|| linear_head(Identity)),
            classes,
        ),
        (
            "ce_soft",
            Box::new(CrossEntropy),
            Box::new(|| linear_head(Identity)),
            soft,
        ),
    ];
    for (name, loss, net, y) in cases {
        check_gradients(net(), loss.as_ref(), &x, &y, name);
    }
}

/// 3 -> 5 (tanh) -> 4 (tanh) -> 3 (`head`).
fn linear_head<A: Activation + 'static>(head: A) -> Network {
    Network::builder(3)
        .dense(5, Tanh)
        .dense(4, Tanh)
        .dense(3, head)
        .seed(9)
        .build()
        .unwrap()
}

/// Fraction of `probabilities` on the right side of 0.5.
fn binary_accuracy(probabilities: &[f32], labels: &[f32]) -> f32 {
    let right = probabilities
        .iter()
        .zip(labels)
        .filter(|(p, y)| (**p > 0.5) == (**y > 0.5))
        .count();
    right as f32 / labels.len() as f32
}

#[test]
fn xor_is_learned_with_tanh_and_glorot() {
    let mut net = Network::builder(2)
        .dense(8, Tanh)
        .dense(1, Sigmoid)
        .init(GlorotUniform::default())
        .seed(1)
        .build()
        .unwrap();
    let mut sgd = Sgd::new(0.5).momentum(0.9);
    let config = FitConfig::new(1000, 4);
    let history = net
        .fit(
            &XOR_X,
            &XOR_Y,
            &BinaryCrossEntropy,
            &mut sgd,
            config,
            |_| ControlFlow::Continue(()),
        )
        .unwrap();
    let predictions = net.forward(&XOR_X).unwrap();
    assert_eq!(
        binary_accuracy(&predictions, &XOR_Y),
        1.0,
        "{predictions:?}"
    );
    assert!(history.last().unwrap().loss < 0.05, "{:?}", history.last());
}

/// Two interleaved spiral arms (labels 0 and 1), `per_arm` points each, with noise.
fn spiral(per_arm: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for arm in 0..2 {
        for _ in 0..per_arm {
            let t: f32 = rng.random_range(0.05..1.0);
            let angle = 3.0 * std::f32::consts::PI * t + arm as f32 * std::f32::consts::PI;
            x.push(t * angle.cos() + rng.random_range(-0.02..0.02));
            x.push(t * angle.sin() + rng.random_range(-0.02..0.02));
            y.push(arm as f32);
        }
    }
    (x, y)
}

#[test]
fn a_spiral_is_learned_with_relu_he_and_adam() {
    let (train_x, train_y) = spiral(300, 10);
    let (test_x, test_y) = spiral(300, 11);
    let mut net = Network::builder(2)
        .dense(64, Relu)
        .dense(64, Relu)
        .dense(2, Identity)
        .init(HeNormal::default())
        .seed(2)
        .build()
        .unwrap();
    let mut adam = Adam::new(0.01);
    let config = FitConfig::new(300, 32).seed(3);
    net.fit(&train_x, &train_y, &CrossEntropy, &mut adam, config, |_| {
        ControlFlow::Continue(())
    })
    .unwrap();
    let logits = net.forward(&test_x).unwrap();
    let right = logits
        .chunks_exact(2)
        .zip(&test_y)
        .filter(|(l, y)| ((l[1] > l[0]) as u8 as f32) == **y)
        .count();
    let accuracy = right as f32 / test_y.len() as f32;
    assert!(accuracy >= 0.95, "held-out accuracy {accuracy}");
}

#[test]
fn zero_initialization_never_breaks_symmetry() {
    // [2, 4, 1] tanh/sigmoid with every weight and bias 0: the output is sigmoid(0) = 1/2 for
    // every sample, so BCE = ln 2; on balanced labels the output bias gradient is
    // mean(p - y) = 0, the output weight gradient is Σ (p - y) tanh(0) = 0 and the hidden
    // gradients are multiplied by the zero output weights. Nothing ever moves.
    let mut net = Network::builder(2)
        .dense(4, Tanh)
        .dense(1, Sigmoid)
        .init(Zeros)
        .build()
        .unwrap();
    let mut sgd = Sgd::new(0.5);
    for step in 0..1000 {
        let cost = net
            .train_step(&XOR_X, &XOR_Y, &BinaryCrossEntropy, &mut sgd)
            .unwrap();
        assert!(
            (cost - std::f32::consts::LN_2).abs() < 5e-7,
            "step {step}: {cost}"
        );
        assert_eq!(format!("{cost:.6}"), "0.693147");
    }
    let hidden = net.layers()[0].weight();
    for unit in hidden.chunks_exact(2) {
        assert_eq!(unit, &hidden[..2], "hidden units diverged: {hidden:?}");
    }
    // The same network from Glorot learns.
    let mut net = Network::builder(2)
        .dense(4, Tanh)
        .dense(1, Sigmoid)
        .init(GlorotUniform::default())
        .seed(4)
        .build()
        .unwrap();
    let mut sgd = Sgd::new(0.5);
    let first = net
        .train_step(&XOR_X, &XOR_Y, &BinaryCrossEntropy, &mut sgd)
        .unwrap();
    let mut last = first;
    for _ in 0..1000 {
        last = net
            .train_step(&XOR_X, &XOR_Y, &BinaryCrossEntropy, &mut sgd)
            .unwrap();
    }
    assert!(last < 0.5 * first, "Glorot: {first} -> {last}");
}

fn train_history(seed: u64) -> Vec<u32> {
    let (x, y) = spiral(100, 20);
    let mut net = Network::builder(2)
        .dense(32, Relu)
        .dense(32, Tanh)
        .dense(2, Identity)
        .seed(seed)
        .build()
        .unwrap();
    let mut adam = Adam::new(0.01);
    let history = net
        .fit(
            &x,
            &y,
            &CrossEntropy,
            &mut adam,
            FitConfig::new(5, 16).seed(seed),
            |_| ControlFlow::Continue(()),
        )
        .unwrap();
    history.losses().iter().map(|l| l.to_bits()).collect()
}

#[test]
fn training_is_bit_reproducible_and_independent_of_threads() {
    nninit::set_num_threads(1);
    let one_thread = train_history(7);
    let again = train_history(7);
    nninit::set_num_threads(2);
    let two_threads = train_history(7);
    nninit::set_num_threads(0);
    assert_eq!(one_thread, again);
    assert_eq!(one_thread, two_threads);
    assert_ne!(one_thread, train_history(8));
}

#[test]
fn the_callback_sees_metrics_and_can_stop_training() {
    let (x, y) = spiral(50, 30);
    let mut net = Network::builder(2)
        .dense(16, Relu)
        .dense(2, Identity)
        .build()
        .unwrap();
    let mut seen = Vec::new();
    let history = net
        .fit(
            &x,
            &y,
            &CrossEntropy,
            &mut Adam::new(0.01),
            FitConfig::new(50, 10),
            |m| {
                seen.push(m.epoch);
                assert_eq!(m.gradient_norms.len(), 2);
                assert!(m.gradient_norms.iter().all(|g| g.is_finite() && *g > 0.0));
                let accuracy = m.accuracy.expect("cross-entropy reports accuracy");
                assert!((0.0..=1.0).contains(&accuracy));
                if m.epoch == 2 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        )
        .unwrap();
    assert_eq!(seen, vec![0, 1, 2]);
    assert_eq!(history.epochs.len(), 3);
    assert!(history.stopped_early);
    assert_eq!(net.steps(), 3 * 10); // 100 samples in batches of 10
}

#[test]
fn divergence_stops_with_a_non_finite_error() {
    let (x, y) = spiral(20, 40);
    let mut net = Network::builder(2)
        .dense(8, Relu)
        .dense(2, Identity)
        .build()
        .unwrap();
    let mut sgd = Sgd::new(1e30); // weights ~1e30 after one step: finite, but their products overflow
    let result = net.fit(
        &x,
        &y,
        &CrossEntropy,
        &mut sgd,
        FitConfig::new(20, 40),
        |_| ControlFlow::Continue(()),
    );
    let Err(Error::NonFinite { what, .. }) = result else {
        panic!("expected NonFinite, got {result:?}");
    };
    assert!(what.contains("layer") && what.contains("step"), "{what}");
    // The failing step was refused before the optimizer could write non-finite weights.
    assert!(
        net.layers()
            .iter()
            .all(|l| l.weight().iter().all(|w| w.is_finite()))
    );
}

#[test]
fn bad_input_gives_typed_errors() {
    let mut net = Network::builder(3)
        .dense(4, Relu)
        .dense(2, Identity)
        .build()
        .unwrap();
    let mut sgd = Sgd::new(0.1);
    // Wrong feature count: 7 values are not whole samples of 3.
    assert!(matches!(
        net.forward(&[0.0; 7]),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(matches!(
        net.forward(&[]),
        Err(Error::LengthMismatch { .. })
    ));
    // Mismatched batch sizes: 2 samples of x, 3 rows of y.
    let err = net.train_step(&[0.0; 6], &[0.0; 6 + 3], &Mse, &mut sgd);
    assert!(matches!(err, Err(Error::LengthMismatch { .. })), "{err:?}");
    let err = net.fit(
        &[0.0; 6],
        &[0.0; 2],
        &Mse,
        &mut sgd,
        FitConfig::new(1, 0),
        |_| ControlFlow::Continue(()),
    );
    assert!(matches!(
        err,
        Err(Error::InvalidArgument {
            name: "batch_size",
            ..
        })
    ));
    // Zero units, zero inputs, no layers, a per-layer initializer past the end.
    let zero_units = Network::builder(3).dense(0, Relu).build();
    assert!(matches!(
        zero_units,
        Err(Error::InvalidArgument { name: "units", .. })
    ));
    assert!(matches!(
        Network::builder(0).dense(2, Relu).build(),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        Network::builder(3).build(),
        Err(Error::InvalidArgument { .. })
    ));
    let past_end = Network::builder(3)
        .dense(2, Relu)
        .layer_init(3, Zeros)
        .build();
    assert!(matches!(past_end, Err(Error::InvalidArgument { .. })));
    // Mismatched hand-built layers.
    let layers = vec![
        Dense::new(3, 4, Relu).unwrap(),
        Dense::new(5, 1, Identity).unwrap(),
    ];
    assert!(matches!(
        Network::from_layers(layers),
        Err(Error::ShapeMismatch { .. })
    ));
}

#[test]
fn builds_are_reproducible_and_use_the_recommended_initializer() {
    let build = |seed| {
        Network::builder(4)
            .dense(6, Relu)
            .dense(3, Tanh)
            .seed(seed)
            .build()
            .unwrap()
    };
    let (a, b, c) = (build(1), build(1), build(2));
    assert_eq!(a.layers()[0].weight(), b.layers()[0].weight());
    assert_ne!(a.layers()[0].weight(), c.layers()[0].weight());
    assert_ne!(
        a.layers()[0].weight(),
        a.layers()[1].weight().get(..24).unwrap_or(&[])
    );
    // Relu recommends He, tanh Glorot; the biases default to zero.
    assert!(a.layers()[0].initializer().starts_with("He"));
    assert!(a.layers()[1].initializer().starts_with("Glorot"));
    assert!(
        a.layers()
            .iter()
            .all(|l| l.bias().iter().all(|&b| b == 0.0))
    );
    assert_eq!(
        a.state_dict_shapes(),
        vec![
            ("0.weight".to_string(), vec![6, 4]),
            ("0.bias".to_string(), vec![6]),
            ("1.weight".to_string(), vec![3, 6]),
            ("1.bias".to_string(), vec![3]),
        ]
    );
}

#[test]
fn a_dense_layer_is_filled_by_the_free_functions_and_prints_shapes() {
    let mut layer = Dense::new(100, 50, Tanh).unwrap();
    nninit::xavier_uniform(&mut layer, 100, 50).unwrap();
    // Glorot bound sqrt(6 / 150) = 0.2.
    assert!(layer.weight().iter().all(|w| w.abs() <= 0.2));
    assert!(layer.weight().iter().any(|w| w.abs() > 0.15));
    let printed = format!("{layer:?}");
    assert!(printed.contains("in_features: 100") && printed.contains("out_features: 50"));
    assert!(
        printed.len() < 200,
        "Debug must not dump the data: {printed}"
    );
}

#[test]
fn init_covers_the_layers_before_it_and_after_it() -> nninit::Result<()> {
    let names = |net: &Network| -> Vec<&'static str> {
        net.layers().iter().map(Dense::initializer).collect()
    };
    let one_at_the_start = Network::builder(3)
        .init(HeNormal::default())
        .dense(4, Relu)
        .dense(2, Sigmoid)
        .build()?;
    assert_eq!(names(&one_at_the_start), ["HeNormal", "HeNormal"]);
    let one_at_the_end = Network::builder(3)
        .dense(4, Relu)
        .dense(2, Sigmoid)
        .init(HeNormal::default())
        .build()?;
    assert_eq!(names(&one_at_the_end), ["HeNormal", "HeNormal"]);
    let per_layer = Network::builder(3)
        .dense(4, Relu)
        .init(HeNormal::default())
        .dense(4, Relu)
        .dense(2, Sigmoid)
        .init(GlorotUniform::default())
        .build()?;
    assert_eq!(
        names(&per_layer),
        ["HeNormal", "GlorotUniform", "GlorotUniform"]
    );
    // Of two calls in a row, the later one wins (a builder can be amended).
    let amended = Network::builder(3)
        .dense(4, Relu)
        .dense(2, Sigmoid)
        .init(HeNormal::default())
        .init(GlorotUniform::default())
        .build()?;
    assert_eq!(names(&amended), ["GlorotUniform", "GlorotUniform"]);
    // A layer's own initializer wins over any `init`.
    let own = Network::builder(3)
        .dense_with_init(4, Relu, Zeros)
        .dense(2, Sigmoid)
        .init(HeNormal::default())
        .build()?;
    assert_eq!(names(&own), ["Zeros", "HeNormal"]);
    Ok(())
}

/// The fused training step (bias and activation in the forward gemm, the activation
/// derivative in the backward product, the two backward products of a layer on two threads)
/// gives the same bits on 1 and 2 threads, and its forward pass the same bits as the unfused
/// `gemm`, bias, activation sequence. Shapes: batch 64 through 300-256-256-10, so the
/// `64 x 256 x 256` backward products (2^22 multiply-adds) take the concurrent path.
#[test]
fn fused_step_is_bit_identical_for_any_thread_count() -> Result<(), Error> {
    use nninit::linalg::{Transpose, gemm};
    let batch = 64;
    let build = || {
        Network::builder(300)
            .dense(256, Relu)
            .dense(256, Tanh)
            .dense(10, Identity)
            .seed(5)
            .build()
    };
    let x = uniform_batch(batch * 300, 8);
    let y: Vec<f32> = (0..batch).map(|i| (i % 10) as f32).collect();
    let bits = |net: &Network| -> Vec<u32> {
        net.parameters()
            .flat_map(|(_, values)| values.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
            .collect()
    };
    let mut runs = Vec::new();
    for threads in [1, 2] {
        nninit::set_num_threads(threads);
        let mut net = build()?;
        let mut sgd = Sgd::new(0.05);
        for _ in 0..3 {
            net.train_step(&x, &y, &CrossEntropy, &mut sgd)?;
        }
        runs.push(bits(&net));
    }
    nninit::set_num_threads(0);
    assert_eq!(runs[0], runs[1], "1 vs 2 threads");

    // Forward of the first layer against gemm + bias + activation, unfused.
    let mut net = build()?;
    net.forward(&x)?;
    let layer = &net.layers()[0];
    let mut z = vec![0.0f32; batch * 256];
    gemm(
        Transpose::No,
        Transpose::Yes,
        batch,
        256,
        300,
        1.0,
        &x,
        300,
        layer.weight(),
        300,
        0.0,
        &mut z,
        256,
    )?;
    for row in z.chunks_exact_mut(256) {
        for (value, &b) in row.iter_mut().zip(layer.bias()) {
            *value += b;
        }
    }
    let mut expected = vec![0.0f32; z.len()];
    Relu.forward_slice(&z, &mut expected);
    let got = net.activations(0).expect("layer 0");
    assert!(
        got.iter()
            .zip(&expected)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
    Ok(())
}

/// `forward` never returns `Ok` with non-finite outputs: a NaN input and activations that
/// overflow are errors naming their cause, as in `train_step`.
#[test]
fn forward_refuses_non_finite_outputs() {
    let mut net = Network::builder(2)
        .dense(1, nninit::Identity)
        .build()
        .expect("a valid network");
    let err = net.forward(&[f32::NAN, 1.0]).unwrap_err();
    assert!(matches!(err, Error::NonFinite { .. }), "{err}");
    assert!(err.to_string().contains("input batch"), "{err}");

    net.layers_mut()[0]
        .weight_mut()
        .copy_from_slice(&[3e38, 3e38]);
    let err = net.forward(&[3e38, 3e38]).unwrap_err();
    assert!(err.to_string().contains("layer 0"), "{err}");

    net.layers_mut()[0]
        .weight_mut()
        .copy_from_slice(&[1.0, 1.0]);
    assert_eq!(
        net.forward(&[1.0, 2.0]).expect("finite"),
        vec![3.0 + net.layers()[0].bias()[0]]
    );
}
