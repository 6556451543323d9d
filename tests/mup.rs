//! muP: the coordinate check's readout spread across widths (flat under muP, growing under
//! the standard parametrization with Adam), the learning-rate multipliers applied by the
//! built-in optimizers, and "without `.mup(..)` nothing changes".

use nninit::{
    Adam, CoordinateCheck, Identity, Mse, Network, Optimizer, OptimizerFamily, Relu, Result, Sgd,
    coordinate_check,
};

const INPUTS: usize = 16;
const OUTPUTS: usize = 4;
const BATCH: usize = 32;
const WIDTHS: [usize; 5] = [64, 128, 256, 512, 1024];

/// A fixed batch: inputs in [-1, 1] and regression targets, from a simple hash.
fn batch() -> (Vec<f32>, Vec<f32>) {
    let value = |i: usize, salt: usize| {
        let h = (i.wrapping_mul(2_654_435_761) ^ salt.wrapping_mul(40_503)) % 10_007;
        h as f32 / 5003.5 - 1.0
    };
    let x = (0..BATCH * INPUTS).map(|i| value(i, 1)).collect();
    let y = (0..BATCH * OUTPUTS).map(|i| value(i, 2)).collect();
    (x, y)
}

fn network(width: usize, mup: bool) -> Result<Network> {
    let builder = Network::builder(INPUTS)
        .dense(width, Relu)
        .dense(width, Relu)
        .dense(OUTPUTS, Identity)
        .seed(3);
    if mup {
        builder.mup(64).build()
    } else {
        builder.build()
    }
}

fn check(mup: bool, learning_rate: f32) -> Result<CoordinateCheck> {
    let (x, y) = batch();
    coordinate_check(
        &WIDTHS,
        |width| network(width, mup),
        || Box::new(Adam::new(learning_rate)) as Box<dyn Optimizer>,
        &x,
        &y,
        &Mse,
        5,
    )
}

/// Under muP the readout's mean |y| stays within 2x across widths 64..1024 at every step after
/// the first (at step 1 the readout is `O(1/√width_mult)` by design, before any update); under
/// SP with Adam it grows with width, over 4x by step 5. Observed (seed 3, Adam lr 0.01): muP
/// 1.13x-1.37x, SP 7.5x-57x; the bounds leave a factor of 1.4 or more on each side.
#[test]
fn coordinate_check_is_flat_under_mup_and_grows_under_sp() -> Result<()> {
    let mup = check(true, 0.01)?;
    let sp = check(false, 0.01)?;
    let readout = 2; // the last of the three layers
    for step in 2..=5 {
        let spread = mup.spread(readout, step).expect("positive activations");
        assert!(
            spread < 2.0,
            "muP readout spread {spread} at step {step}\n{mup}"
        );
    }
    let spread = sp.readout_spread().expect("positive activations");
    assert!(spread > 4.0, "SP readout spread {spread}\n{sp}");
    assert_eq!(mup.readout_spread(), mup.spread(2, 5));
    let svg = mup.to_svg("muP coordinate check");
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<polyline").count(), 3 * 5);
    Ok(())
}

/// At `width = base_width` every multiplier is 1: muP is SP bit for bit, through training.
#[test]
fn mup_at_the_base_width_is_the_standard_network() -> Result<()> {
    let (x, y) = batch();
    for make_optimizer in [
        || Box::new(Adam::new(0.01).weight_decay(0.1)) as Box<dyn Optimizer>,
        || Box::new(Sgd::new(0.05).momentum(0.9)) as Box<dyn Optimizer>,
    ] {
        let mut sp = network(64, false)?;
        let mut mup = network(64, true)?;
        let (mut a, mut b) = (make_optimizer(), make_optimizer());
        for _ in 0..3 {
            sp.train_step(&x, &y, &Mse, a.as_mut())?;
            mup.train_step(&x, &y, &Mse, b.as_mut())?;
        }
        let sp_values: Vec<Vec<f32>> = sp.parameters().map(|(_, v)| v.to_vec()).collect();
        let mup_values: Vec<Vec<f32>> = mup.parameters().map(|(_, v)| v.to_vec()).collect();
        assert_eq!(sp_values, mup_values);
    }
    Ok(())
}

/// Without `.mup(..)` the builder's output is unchanged: same weights as a network built with
/// no muP-related call, multipliers 1, scales 1.
#[test]
fn without_mup_nothing_changes() -> Result<()> {
    let net = network(256, false)?;
    assert_eq!(net.mup_base_width(), None);
    assert!(net.layers().iter().all(|l| l.multiplier() == 1.0));
    assert_eq!(
        net.learning_rate_scales(OptimizerFamily::AdamLike)?,
        vec![1.0; 6]
    );
    let mup = network(256, true)?;
    // The hidden layers' weights are the same draws; only the readout is rescaled.
    assert_eq!(net.layers()[1].weight(), mup.layers()[1].weight());
    let factor = 2.0f32; // √(256 / 64)
    for (a, b) in net.layers()[2]
        .weight()
        .iter()
        .zip(mup.layers()[2].weight())
    {
        assert_eq!(a * factor, *b);
    }
    Ok(())
}

/// The readout computes `z = x Wᵀ / width_mult + b`, and its gradient carries the factor.
#[test]
fn readout_multiplier_is_applied_forward_and_backward() -> Result<()> {
    let mut net = Network::builder(2)
        .dense(8, Relu)
        .dense(1, Identity)
        .mup(2)
        .seed(1)
        .build()?;
    assert_eq!(net.layers()[1].multiplier(), 0.25);
    let x = [0.5f32, -1.0];
    net.forward(&x)?;
    let hidden = net.activations(0).expect("after a forward pass").to_vec();
    let readout = &net.layers()[1];
    let dot: f32 = hidden
        .iter()
        .zip(readout.weight())
        .map(|(h, w)| h * w)
        .sum();
    let expected = 0.25 * dot + readout.bias()[0];
    let output = net.forward(&x)?[0];
    assert!((output - expected).abs() < 1e-6, "{output} vs {expected}");
    // dL/dW = α δ h with δ = 2 (output - target) / 1 for Mse on one output.
    let target = 3.0f32;
    let mut sgd = Sgd::new(0.0);
    net.train_step(&x, &[target], &Mse, &mut sgd)?;
    let delta = 2.0 * (output - target);
    for (g, h) in net.layers()[1].weight_gradient().iter().zip(&hidden) {
        assert!(
            (g - 0.25 * delta * h).abs() < 1e-5,
            "{g} vs {}",
            0.25 * delta * h
        );
    }
    Ok(())
}

#[test]
fn readout_zero_init_starts_every_width_at_zero_output() -> Result<()> {
    let (x, _) = batch();
    for width in [64, 512] {
        let mut net = Network::builder(INPUTS)
            .dense(width, Relu)
            .dense(OUTPUTS, Identity)
            .mup(64)
            .readout_zero_init(true)
            .build()?;
        assert!(net.forward(&x)?.iter().all(|&v| v == 0.0));
    }
    Ok(())
}

/// Names parameters in optimizer errors.
fn name(index: usize) -> String {
    format!("parameter {index}")
}

/// One parameter `p` with gradient 1.
fn parameter(p: &mut [f32; 1]) -> [nninit::Parameter<'_>; 1] {
    [nninit::Parameter {
        values: p,
        gradient: &[1.0],
    }]
}

/// An optimizer that reports no family: muP's rule is undefined for it, so training refuses
/// (without muP it trains).
#[derive(Debug)]
struct Plain(Sgd);

impl Optimizer for Plain {
    fn name(&self) -> &str {
        "plain"
    }
    fn step(&mut self, parameters: &mut [nninit::Parameter<'_>]) -> Result<()> {
        self.0.step(parameters)
    }
    fn learning_rate(&self) -> f32 {
        self.0.learning_rate()
    }
    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.0.set_learning_rate(learning_rate);
    }
    fn reset(&mut self) {
        self.0.reset();
    }
}

#[test]
fn mup_errors_are_typed() -> Result<()> {
    let (x, y) = batch();
    let mut mup = network(128, true)?;
    let before: Vec<f32> = mup.layers()[0].weight().to_vec();
    let err = mup
        .train_step(&x, &y, &Mse, &mut Plain(Sgd::new(0.1)))
        .unwrap_err();
    assert!(
        matches!(err, nninit::Error::InvalidArgument { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("Other"), "{err}");
    assert_eq!(mup.layers()[0].weight(), before.as_slice());
    network(128, false)?.train_step(&x, &y, &Mse, &mut Plain(Sgd::new(0.1)))?;
    // The default step_scaled accepts only unit scales.
    let mut p = [1.0f32];
    let mut plain = Plain(Sgd::new(0.1));
    assert!(
        plain
            .step_scaled(&mut parameter(&mut p), &[2.0], &name)
            .is_err()
    );
    plain.step_scaled(&mut parameter(&mut p), &[1.0], &name)?;
    assert_eq!(p, [0.9]);
    // Scales must be one per parameter, finite and positive.
    let mut sgd = Sgd::new(0.1);
    assert!(sgd.step_scaled(&mut parameter(&mut p), &[], &name).is_err());
    assert!(
        sgd.step_scaled(&mut parameter(&mut p), &[0.0], &name)
            .is_err()
    );
    assert!(
        sgd.step_scaled(&mut parameter(&mut p), &[f32::NAN], &name)
            .is_err()
    );
    let err = Network::builder(2)
        .dense(4, Relu)
        .dense(1, Identity)
        .mup(0)
        .build()
        .unwrap_err();
    assert_eq!(err.to_string(), "base_width must be > 0, got 0");
    Ok(())
}

/// The scale multiplies the learning rate and divides the weight decay (their product, the
/// decay per step, is unchanged), as `MuAdam` / `MuSGD` do with their parameter groups.
#[test]
fn scales_multiply_the_learning_rate_and_divide_the_weight_decay() -> Result<()> {
    // SGD, no momentum: p -= (lr s)(g + (wd / s) p).
    let mut p = [2.0f32];
    Sgd::new(0.1).weight_decay(0.5).step_scaled(
        &mut [nninit::Parameter {
            values: &mut p,
            gradient: &[1.0],
        }],
        &[4.0],
        &name,
    )?;
    let expected = 2.0 - 0.4 * (1.0 + 0.125 * 2.0);
    assert!((p[0] - expected).abs() < 1e-6, "{} vs {expected}", p[0]);
    // Adam's first step moves by about lr · s whatever the gradient.
    let mut q = [1.0f32];
    Adam::new(0.01).step_scaled(
        &mut [nninit::Parameter {
            values: &mut q,
            gradient: &[3.0],
        }],
        &[0.25],
        &name,
    )?;
    assert!((q[0] - (1.0 - 0.0025)).abs() < 1e-6, "{}", q[0]);
    Ok(())
}
