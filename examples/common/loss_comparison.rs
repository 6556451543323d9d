//! Mean squared error against cross entropy on a sigmoid output: the same network, the same
//! initial weights, the same data and step size; only the loss differs.
//!
//! With `p = sigmoid(z)` and target `y`, the gradient reaching the output's pre-activation is
//! `dL/dz = dL/dp · p (1 - p)`. For MSE, `dL/dp = 2 (p - y)`, so `dL/dz = 2 (p - y) p (1 - p)`:
//! when the unit is confidently wrong (`p` near 0 for `y = 1`), the sigmoid's flat tail kills
//! the gradient. For binary cross entropy, `dL/dp = (p - y) / (p (1 - p))`, which cancels the
//! sigmoid's slope: `dL/dz = p - y`, largest exactly when the unit is most wrong.

use nninit::{Activation, BinaryCrossEntropy, Loss, Mse, Network, Normal, Sgd, Sigmoid, Tanh};

use super::data::Dataset;
use super::train::{accuracy, train_full_batch};

/// Hidden units.
pub const HIDDEN: usize = 16;
/// Seed of the weights (shared by both runs).
pub const SEED: u64 = 6;
/// Standard deviation of the initial weights.
pub const INIT_STD: f64 = 3.0;

/// The [2, 16, 1] tanh / sigmoid network, weights N(0, 3²): large enough that the sigmoid starts
/// saturated, confidently wrong on many points.
pub fn network() -> nninit::Result<Network> {
    Network::builder(2)
        .dense(HIDDEN, Tanh)
        .dense(1, Sigmoid)
        .init(Normal::new(0.0, INIT_STD))
        .seed(SEED)
        .build()
}

/// The gradients at one output probability `p`, for target 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutputGradient {
    /// The sigmoid's output.
    pub p: f32,
    /// `sigmoid'(z)` at the pre-activation `z = logit(p)`.
    pub slope: f32,
    /// MSE's `dL/dp` and `dL/dz`.
    pub mse: (f32, f32),
    /// Binary cross entropy's `dL/dp` and `dL/dz`.
    pub bce: (f32, f32),
}

/// The gradients of both losses at each probability in `ps`, target 1, from the library's
/// `loss_and_gradient` and `Sigmoid::derivative`.
pub fn output_gradients(ps: &[f32]) -> nninit::Result<Vec<OutputGradient>> {
    ps.iter()
        .map(|&p| {
            let z = (p / (1.0 - p)).ln();
            let slope = Sigmoid.derivative(z);
            let gradient = |loss: &dyn Loss| -> nninit::Result<(f32, f32)> {
                let mut dp = [0.0f32];
                loss.loss_and_gradient(&[p], &[1.0], 1, &mut dp)?;
                Ok((dp[0], dp[0] * slope))
            };
            Ok(OutputGradient {
                p,
                slope,
                mse: gradient(&Mse)?,
                bce: gradient(&BinaryCrossEntropy)?,
            })
        })
        .collect()
}

/// One loss's training curves.
#[derive(Debug, Clone)]
pub struct Curves {
    /// The loss's label.
    pub label: &'static str,
    /// The cost (of the loss being minimized) before each step.
    pub costs: Vec<f32>,
    /// `(step, training accuracy)` every `every` steps and at the end.
    pub accuracies: Vec<(usize, f32)>,
}

impl Curves {
    /// The last measured accuracy.
    pub fn final_accuracy(&self) -> f32 {
        self.accuracies.last().map_or(f32::NAN, |a| a.1)
    }

    /// The first step at which the accuracy reached `target`, if it did.
    pub fn steps_to(&self, target: f32) -> Option<usize> {
        self.accuracies.iter().find(|a| a.1 >= target).map(|a| a.0)
    }
}

/// Trains the network once with MSE and once with binary cross entropy, `iterations`
/// full-batch steps of `learning_rate`, measuring the accuracy every `every` steps.
pub fn run(
    data: &Dataset,
    iterations: usize,
    learning_rate: f32,
    every: usize,
) -> nninit::Result<[Curves; 2]> {
    let mse = train("MSE", &Mse, data, iterations, learning_rate, every)?;
    let bce = train(
        "cross entropy",
        &BinaryCrossEntropy,
        data,
        iterations,
        learning_rate,
        every,
    )?;
    Ok([mse, bce])
}

fn train(
    label: &'static str,
    loss: &dyn Loss,
    data: &Dataset,
    iterations: usize,
    learning_rate: f32,
    every: usize,
) -> nninit::Result<Curves> {
    let every = every.max(1);
    let mut net = network()?;
    let mut sgd = Sgd::new(learning_rate);
    let mut costs = Vec::with_capacity(iterations);
    let mut accuracies = vec![(0, accuracy(&mut net, data)?)];
    while costs.len() < iterations {
        let steps = every.min(iterations - costs.len());
        let run = train_full_batch(&mut net, data, loss, &mut sgd, steps, |_, _| {})?;
        costs.extend(&run.costs);
        accuracies.push((costs.len(), accuracy(&mut net, data)?));
        if run.diverged_at.is_some() {
            break;
        }
    }
    Ok(Curves {
        label,
        costs,
        accuracies,
    })
}

/// At initialization, the mean `|dL/dz|` at the output over the samples the network gets
/// wrong, for MSE and for cross entropy (per sample: the batch mean's `1 / n` taken out).
pub fn initial_wrong_gradients(data: &Dataset) -> nninit::Result<(f32, f32)> {
    let mut net = network()?;
    let p = net.forward(&data.x)?;
    let n = data.len() as f32;
    let mean_on_wrong = |loss: &dyn Loss| -> nninit::Result<f32> {
        let mut dp = vec![0.0f32; p.len()];
        loss.loss_and_gradient(&p, &data.y, 1, &mut dp)?;
        let wrong: Vec<f32> = p
            .iter()
            .zip(&data.y)
            .zip(&dp)
            .filter(|((p, y), _)| (**p > 0.5) != (**y > 0.5))
            .map(|((p, _), g)| (g * p * (1.0 - p) * n).abs())
            .collect();
        Ok(wrong.iter().sum::<f32>() / wrong.len().max(1) as f32)
    };
    Ok((mean_on_wrong(&Mse)?, mean_on_wrong(&BinaryCrossEntropy)?))
}
