//! A network whose weights all hold one constant: on the 3-class spiral, its three logits are
//! equal for every input, so it predicts (1/3, 1/3, 1/3) everywhere, and its hidden units are
//! copies of one another. Training keeps them copies. Re-initializing each layer with
//! `xavier_uniform(&mut layer, fan_in, fan_out)` breaks the tie.

use nninit::{Adam, Constant, CrossEntropy, Identity, Network, Report, Tanh, xavier_uniform};

use super::data::Dataset;
use super::train::{Run, accuracy, train_full_batch};

/// Hidden units.
pub const HIDDEN: usize = 16;
/// The constant every weight starts at.
pub const CONSTANT: f64 = 0.5;
/// Adam's step size.
pub const LEARNING_RATE: f32 = 0.02;

/// The [2, 16, 3] tanh network (logits out) with every weight equal to [`CONSTANT`].
pub fn constant_network(classes: usize) -> nninit::Result<Network> {
    Network::builder(2)
        .dense(HIDDEN, Tanh)
        .dense(classes, Identity)
        .init(Constant::new(CONSTANT))
        .build()
}

/// The largest difference between two outputs of the same sample, over all samples: 0 when
/// every output unit computes the same function.
pub fn output_spread(outputs: &[f32], width: usize) -> f32 {
    outputs
        .chunks(width)
        .map(|row| {
            let (low, high) = row
                .iter()
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| {
                    (l.min(v), h.max(v))
                });
            high - low
        })
        .fold(0.0, f32::max)
}

/// Whether every hidden unit has the same incoming weights and bias as the first.
pub fn hidden_units_identical(net: &Network) -> bool {
    let layer = &net.layers()[0];
    let width = layer.in_features();
    let first = (&layer.weight()[..width], layer.bias()[0]);
    let units = layer.weight().chunks(width).zip(layer.bias());
    units.map(|(w, &b)| (w, b)).all(|unit| unit == first)
}

/// One phase of the experiment: the network's state at the start and how training went.
#[derive(Debug, Clone)]
pub struct Phase {
    /// Output spread (see [`output_spread`]) before training.
    pub spread: f32,
    /// `diagnose` before training.
    pub report: Report,
    /// Costs while training.
    pub run: Run,
    /// Training accuracy after training.
    pub accuracy: f32,
    /// Whether the hidden units were still copies of each other after training.
    pub identical_after: bool,
}

/// Diagnoses `net`, trains it for `iterations` full-batch Adam steps and measures it.
pub fn phase(net: &mut Network, data: &Dataset, iterations: usize) -> nninit::Result<Phase> {
    let spread = output_spread(&net.forward(&data.x)?, net.outputs());
    let report = net.diagnose(&data.x, &data.y, &CrossEntropy)?;
    let mut adam = Adam::new(LEARNING_RATE);
    let run = train_full_batch(net, data, &CrossEntropy, &mut adam, iterations, |_, _| {})?;
    Ok(Phase {
        spread,
        report,
        run,
        accuracy: accuracy(net, data)?,
        identical_after: hidden_units_identical(net),
    })
}

/// Re-initializes every layer's weight with `xavier_uniform` (biases to zero), from `seed`.
pub fn reinitialize(net: &mut Network, seed: u64) -> nninit::Result<()> {
    nninit::manual_seed(seed);
    for layer in net.layers_mut() {
        let (fan_in, fan_out) = (layer.in_features(), layer.out_features());
        xavier_uniform(layer, fan_in, fan_out)?;
        layer.bias_mut().fill(0.0);
    }
    Ok(())
}

/// The constant network trained, then re-initialized with Glorot and trained again.
pub fn run(data: &Dataset, iterations: usize) -> nninit::Result<(Phase, Phase)> {
    let mut net = constant_network(data.classes)?;
    let constant = phase(&mut net, data, iterations)?;
    reinitialize(&mut net, 1)?;
    let glorot = phase(&mut net, data, iterations)?;
    Ok((constant, glorot))
}
