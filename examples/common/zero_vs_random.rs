//! The classic two-layer experiment (deeplearning.ai, "Planar data classification with one
//! hidden layer"): a [2, 4, 1] tanh / sigmoid network on the flower dataset, binary cross
//! entropy, full-batch gradient descent with learning rate 1.2, started from zero weights,
//! from N(0, 1) and from Glorot uniform.

use nninit::{
    BinaryCrossEntropy, GlorotUniform, Initializer, Network, Normal, Sgd, Sigmoid, Tanh, Zeros,
};

use super::data::Dataset;
use super::train::{Run, SharedInit, accuracy, train_full_batch};

/// The assignment's learning rate.
pub const LEARNING_RATE: f32 = 1.2;
/// Hidden units.
pub const HIDDEN: usize = 4;
/// Seed of the weights.
pub const SEED: u64 = 2;

/// The three starting points compared.
pub fn initializers() -> Vec<(&'static str, Box<dyn Initializer<f32>>)> {
    vec![
        ("zeros", Box::new(Zeros)),
        ("N(0, 1)", Box::new(Normal::new(0.0, 1.0))),
        ("Glorot uniform", Box::new(GlorotUniform::new())),
    ]
}

/// One initializer's training run.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The initializer's label.
    pub label: &'static str,
    /// Costs per iteration.
    pub run: Run,
    /// Training accuracy after the last step.
    pub accuracy: f32,
    /// Whether the hidden units are all identical after training.
    pub identical_hidden_units: bool,
}

/// The [2, 4, 1] tanh / sigmoid network with every weight drawn by `init` (biases zero).
pub fn network(init: Box<dyn Initializer<f32>>) -> nninit::Result<Network> {
    Network::builder(2)
        .dense(HIDDEN, Tanh)
        .dense(1, Sigmoid)
        .init(SharedInit::new(init))
        .seed(SEED)
        .build()
}

/// Trains one network per initializer for `iterations` steps; `each(label, i, cost)` sees
/// every cost.
pub fn run(
    data: &Dataset,
    iterations: usize,
    mut each: impl FnMut(&str, usize, f32),
) -> nninit::Result<Vec<Outcome>> {
    let mut outcomes = Vec::new();
    for (label, init) in initializers() {
        let mut net = network(init)?;
        let mut sgd = Sgd::new(LEARNING_RATE);
        let run = train_full_batch(
            &mut net,
            data,
            &BinaryCrossEntropy,
            &mut sgd,
            iterations,
            |i, c| each(label, i, c),
        )?;
        let hidden = &net.layers()[0];
        let first_unit = &hidden.weight()[..2];
        let identical_hidden_units = hidden.weight().chunks(2).all(|unit| unit == first_unit);
        outcomes.push(Outcome {
            label,
            run,
            accuracy: accuracy(&mut net, data)?,
            identical_hidden_units,
        });
    }
    Ok(outcomes)
}
