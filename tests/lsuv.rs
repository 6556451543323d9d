//! LSUV: every layer's pre-activation reaches the target std within the tolerance on several
//! architectures and activations (checked by an independent forward pass), dead layers are
//! typed errors that leave the weights untouched, and the closure form drives any model.

use nninit::{
    Activation, Constant, Error, Gelu, Identity, LeakyRelu, Lsuv, Network, NetworkBuilder, Normal,
    Relu, Result, Selu, Sigmoid, Tanh, lsuv_with,
};

const INPUTS: usize = 12;
const BATCH: usize = 200;

/// A fixed batch in [-1, 1] from a simple hash (no generator needed).
fn batch() -> Vec<f32> {
    (0..BATCH * INPUTS)
        .map(|i| ((i.wrapping_mul(2_654_435_761) >> 7) % 2001) as f32 / 1000.0 - 1.0)
        .collect()
}

/// The sample std (n − 1) of each layer's pre-activation, recomputed from the public weights
/// and the cached activations: `z = α · input · Wᵀ + b`.
fn pre_activation_stds(net: &mut Network, x: &[f32]) -> Result<Vec<f64>> {
    net.forward(x)?;
    let mut stds = Vec::new();
    for (index, layer) in net.layers().iter().enumerate() {
        let input = if index == 0 {
            x.to_vec()
        } else {
            net.activations(index - 1).expect("after forward").to_vec()
        };
        let (inputs, units) = (layer.in_features(), layer.out_features());
        let mut z = Vec::with_capacity(BATCH * units);
        for row in input.chunks_exact(inputs) {
            for unit in 0..units {
                let w = &layer.weight()[unit * inputs..(unit + 1) * inputs];
                let dot: f64 = row
                    .iter()
                    .zip(w)
                    .map(|(&a, &b)| f64::from(a) * f64::from(b))
                    .sum();
                z.push(f64::from(layer.multiplier()) * dot + f64::from(layer.bias()[unit]));
            }
        }
        let mean = z.iter().sum::<f64>() / z.len() as f64;
        let variance = z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (z.len() - 1) as f64;
        stds.push(variance.sqrt());
    }
    Ok(stds)
}

fn stack<A: Activation + Clone + 'static>(activation: A, widths: &[usize]) -> NetworkBuilder {
    let mut builder = Network::builder(INPUTS);
    for &width in widths {
        builder = builder.dense(width, activation.clone());
    }
    builder.dense(3, Identity)
}

fn assert_reaches_target(mut net: Network, options: &Lsuv, what: &str) -> Result<()> {
    let x = batch();
    let report = net.lsuv(&x, options)?;
    assert!(report.converged(), "{what}:\n{report}");
    let stds = pre_activation_stds(&mut net, &x)?;
    for (layer, std) in stds.iter().enumerate() {
        // The report's std and the recomputed one agree to f32 rounding of the forward pass.
        assert!(
            (std - report.layers[layer].std_after).abs() < 1e-3 * std.max(1.0),
            "{what}: layer {layer}"
        );
        assert!(
            (std - options.target_std).abs() <= options.tolerance + 1e-4,
            "{what}: layer {layer} std {std}\n{report}"
        );
    }
    Ok(())
}

#[test]
fn reaches_the_tolerance_on_several_architectures_and_activations() -> Result<()> {
    let options = Lsuv::default();
    let shapes: [&[usize]; 3] = [&[32, 32], &[64, 16, 64, 8], &[24; 12]];
    for widths in shapes {
        assert_reaches_target(stack(Relu, widths).seed(1).build()?, &options, "relu")?;
        assert_reaches_target(stack(Tanh, widths).seed(2).build()?, &options, "tanh")?;
        assert_reaches_target(stack(Sigmoid, widths).seed(3).build()?, &options, "sigmoid")?;
        assert_reaches_target(
            stack(LeakyRelu::new(0.1), widths).seed(4).build()?,
            &options,
            "leaky relu",
        )?;
        assert_reaches_target(stack(Selu, widths).seed(5).build()?, &options, "selu")?;
        assert_reaches_target(stack(Gelu, widths).seed(6).build()?, &options, "gelu")?;
    }
    // Another target, a tight tolerance, no orthonormal start (a badly scaled Gaussian).
    let tight = Lsuv::default()
        .target_std(0.5)
        .tolerance(0.001)
        .orthonormal(false);
    let net = stack(Tanh, &[40, 40, 40])
        .init(Normal::new(0.0, 3.0))
        .build()?;
    assert_reaches_target(net, &tight, "tanh from N(0, 9), target 0.5")?;
    // Nonzero biases: the std is no longer linear in the weight, a few iterations are needed.
    let net = stack(Tanh, &[32, 32])
        .bias_init(Constant::new(0.3))
        .build()?;
    assert_reaches_target(net, &Lsuv::default().tolerance(0.01), "tanh with bias 0.3")?;
    Ok(())
}

#[test]
fn zero_bias_needs_one_rescaling_per_layer() -> Result<()> {
    let mut net = stack(Relu, &[32, 32]).build()?;
    let report = net.lsuv(&batch(), &Lsuv::default().tolerance(1e-4))?;
    assert!(report.layers.iter().all(|l| l.iterations == 1), "{report}");
    assert!(net.layers().iter().all(|l| l.initializer() == "LSUV"));
    Ok(())
}

#[test]
fn a_dead_layer_is_a_typed_error_and_the_weights_are_restored() -> Result<()> {
    // Every ReLU of layer 0 is dead (bias -100 on inputs in [-1, 1]): layer 1 sees zeros.
    let mut net = stack(Relu, &[16, 16])
        .layer_init(0, nninit::HeNormal::default())
        .bias_init(Constant::new(-100.0))
        .build()?;
    let before: Vec<Vec<f32>> = net.layers().iter().map(|l| l.weight().to_vec()).collect();
    let err = net.lsuv(&batch(), &Lsuv::default()).unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument { name: "x", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("layer 1"), "{err}");
    let after: Vec<Vec<f32>> = net.layers().iter().map(|l| l.weight().to_vec()).collect();
    assert_eq!(before, after);
    assert!(
        net.layers()
            .iter()
            .flat_map(|l| l.weight())
            .all(|w| w.is_finite())
    );
    // An all-zero batch with zero biases: every pre-activation of the first layer is 0.
    let mut net = stack(Tanh, &[8]).build()?;
    let err = net
        .lsuv(&vec![0.0; BATCH * INPUTS], &Lsuv::default())
        .unwrap_err();
    assert!(err.to_string().contains("layer 0"), "{err}");
    Ok(())
}

#[test]
fn bad_options_and_batches_are_typed_errors() -> Result<()> {
    let mut net = stack(Tanh, &[8]).build()?;
    let x = batch();
    for options in [
        Lsuv::default().target_std(0.0),
        Lsuv::default().target_std(f64::NAN),
        Lsuv::default().tolerance(-0.1),
        Lsuv::default().tolerance(f64::INFINITY),
    ] {
        assert!(matches!(
            net.lsuv(&x, &options),
            Err(Error::InvalidArgument { .. })
        ));
    }
    assert!(matches!(
        net.lsuv(&x[..5], &Lsuv::default()),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(matches!(
        net.lsuv(&[], &Lsuv::default()),
        Err(Error::LengthMismatch { .. })
    ));
    Ok(())
}

#[test]
fn an_unreached_tolerance_is_a_warning_in_the_report() -> Result<()> {
    let mut net = stack(Tanh, &[16]).bias_init(Constant::new(0.3)).build()?;
    let report = net.lsuv(&batch(), &Lsuv::default().max_iterations(0).tolerance(1e-6))?;
    assert!(!report.converged());
    let text = report.to_string();
    assert!(
        text.contains("(not converged)") && text.contains("warning: layer 0"),
        "{text}"
    );
    Ok(())
}

#[test]
fn the_orthonormal_start_is_reproducible() -> Result<()> {
    let x = batch();
    let mut a = stack(Relu, &[16, 16]).seed(1).build()?;
    let mut b = stack(Relu, &[16, 16]).seed(2).build()?;
    a.lsuv(&x, &Lsuv::default().seed(9))?;
    b.lsuv(&x, &Lsuv::default().seed(9))?;
    // The orthonormal start replaces the builder's draws, so the seeds of the builds do not matter.
    assert_eq!(a.layers()[1].weight(), b.layers()[1].weight());
    Ok(())
}

/// The closure form on a model outside nninit: a chain of scalar gains; errors from the
/// closure pass through, and a `Box<dyn Error>` closure works.
#[test]
fn lsuv_with_drives_any_model() {
    let x: Vec<f32> = (0..50).map(|i| i as f32 / 10.0 - 2.5).collect();
    let mut gains = [0.01f32, 30.0, 2.0];
    let report = lsuv_with(3, &Lsuv::default().tolerance(1e-4), |layer, factor| {
        gains[layer] *= factor;
        let product: f32 = gains[..=layer].iter().product();
        Ok::<_, Box<dyn std::error::Error>>(x.iter().map(|v| v * product).collect())
    })
    .expect("a linear chain converges");
    assert!(report.converged());
    let failing = lsuv_with(2, &Lsuv::default(), |layer, _| {
        if layer == 1 {
            Err("model failed".into())
        } else {
            Ok(x.clone())
        }
    });
    let err: Box<dyn std::error::Error> = failing.unwrap_err();
    assert_eq!(err.to_string(), "model failed");
}
