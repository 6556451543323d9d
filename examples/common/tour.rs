//! The quickstart's tour: the same small network started from zero weights and from Glorot
//! uniform, trained side by side on the XOR dataset, then diagnosed.

use std::ops::ControlFlow;

use nninit::{
    BinaryCrossEntropy, FitConfig, GlorotUniform, History, Initializer, Network, Report, Sgd,
    Sigmoid, Tanh, Zeros,
};

use super::data::Dataset;
use super::train::{SharedInit, accuracy};

/// Hidden units per layer.
pub const HIDDEN: usize = 8;
/// Gradient-descent step size.
pub const LEARNING_RATE: f32 = 0.3;
/// Seed of the weights.
pub const SEED: u64 = 7;

/// One network's training and diagnosis.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The initializer's label.
    pub label: &'static str,
    /// The cost of every epoch (one full-batch step each).
    pub history: History,
    /// Training accuracy after the last epoch.
    pub accuracy: f32,
    /// `diagnose` at initialization, completed after training by the stalled-loss check over
    /// `history`.
    pub report: Report,
}

/// The [2, 8, 8, 1] tanh / tanh / sigmoid network with every weight drawn by `init`.
pub fn network(init: Box<dyn Initializer<f32>>) -> nninit::Result<Network> {
    Network::builder(2)
        .dense(HIDDEN, Tanh)
        .dense(HIDDEN, Tanh)
        .dense(1, Sigmoid)
        .init(SharedInit::new(init))
        .seed(SEED)
        .build()
}

/// Trains the zero-initialized and the Glorot-initialized network for `epochs` full-batch
/// epochs each and diagnoses them.
pub fn run(data: &Dataset, epochs: usize) -> nninit::Result<[Outcome; 2]> {
    let zeros = train("zeros", Box::new(Zeros), data, epochs)?;
    let glorot = train(
        "Glorot uniform",
        Box::new(GlorotUniform::new()),
        data,
        epochs,
    )?;
    Ok([zeros, glorot])
}

fn train(
    label: &'static str,
    init: Box<dyn Initializer<f32>>,
    data: &Dataset,
    epochs: usize,
) -> nninit::Result<Outcome> {
    let mut net = network(init)?;
    let at_init = net.diagnose(&data.x, &data.y, &BinaryCrossEntropy)?;
    let config = FitConfig::new(epochs, data.len()).shuffle(false);
    let mut sgd = Sgd::new(LEARNING_RATE);
    let history = net.fit(
        &data.x,
        &data.y,
        &BinaryCrossEntropy,
        &mut sgd,
        config,
        |_| ControlFlow::Continue(()),
    )?;
    let report = at_init.with_history(&history);
    Ok(Outcome {
        label,
        accuracy: accuracy(&mut net, data)?,
        history,
        report,
    })
}
