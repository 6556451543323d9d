//! The deeplearning.ai "Initialization" experiment, with the whole family: one [2, 10, 5, 1]
//! ReLU / ReLU / sigmoid network on the circles dataset, trained by full-batch gradient
//! descent from eight starting points.

use nninit::{
    BinaryCrossEntropy, GlorotNormal, GlorotUniform, HeNormal, Initializer, LecunNormal, Network,
    Normal, Orthogonal, Relu, Sgd, Sigmoid, Zeros,
};

use super::data::Dataset;
use super::train::{Run, SharedInit, accuracy, train_full_batch};

/// Seed of the weights.
pub const SEED: u64 = 3;

/// The starting points compared, with their labels.
pub fn initializers() -> Vec<(&'static str, Box<dyn Initializer<f32>>)> {
    vec![
        ("zeros", Box::new(Zeros)),
        ("N(0, 0.01)", Box::new(Normal::new(0.0, 0.01))),
        ("N(0, 1) x 10", Box::new(Normal::new(0.0, 10.0))),
        ("Glorot uniform", Box::new(GlorotUniform::new())),
        ("Glorot normal", Box::new(GlorotNormal::new())),
        ("He normal", Box::new(HeNormal::new())),
        ("LeCun normal", Box::new(LecunNormal)),
        (
            "orthogonal (gain √2)",
            Box::new(Orthogonal::new().gain(std::f64::consts::SQRT_2)),
        ),
    ]
}

/// What one starting point led to.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The initializer's label.
    pub label: &'static str,
    /// Training costs per iteration.
    pub run: Run,
    /// Accuracy on the training set after training.
    pub train_accuracy: f32,
    /// Accuracy on the held-out set.
    pub test_accuracy: f32,
}

/// The [2, 10, 5, 1] network, every layer's weights drawn by `init` (biases zero).
pub fn network(init: Box<dyn Initializer<f32>>) -> nninit::Result<Network> {
    Network::builder(2)
        .dense(10, Relu)
        .dense(5, Relu)
        .dense(1, Sigmoid)
        .init(SharedInit::new(init))
        .seed(SEED)
        .build()
}

/// Trains from every starting point for `iterations` steps of learning rate `learning_rate`;
/// `started(label)` is called before each run.
pub fn run(
    train: &Dataset,
    test: &Dataset,
    iterations: usize,
    learning_rate: f32,
    mut started: impl FnMut(&str),
) -> nninit::Result<Vec<Outcome>> {
    let mut outcomes = Vec::new();
    for (label, init) in initializers() {
        started(label);
        let mut net = network(init)?;
        let mut sgd = Sgd::new(learning_rate);
        let run = train_full_batch(
            &mut net,
            train,
            &BinaryCrossEntropy,
            &mut sgd,
            iterations,
            |_, _| {},
        )?;
        outcomes.push(Outcome {
            label,
            run,
            train_accuracy: accuracy(&mut net, train)?,
            test_accuracy: accuracy(&mut net, test)?,
        });
    }
    Ok(outcomes)
}
