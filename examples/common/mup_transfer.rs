//! The core of `examples/mup_transfer.rs`: a teacher-student regression task, a learning-rate
//! sweep of Adam across widths under the standard parametrization (SP) and under muP, and
//! the coordinate check of both.

use nninit::{
    Adam, CoordinateCheck, Error, Identity, Mse, Network, Optimizer, Relu, Tanh, coordinate_check,
};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, StandardNormal};

/// Inputs of the task.
pub const INPUTS: usize = 16;
/// Outputs of the task.
pub const OUTPUTS: usize = 4;
/// The width at which muP equals SP (and at which the learning rate is tuned).
pub const BASE_WIDTH: usize = 64;

/// A parametrization to compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parametrization {
    /// The standard parametrization: the builder's defaults (He for the ReLU layers).
    Standard,
    /// muP with base width [`BASE_WIDTH`].
    Mup,
}

impl Parametrization {
    /// Both, SP first.
    pub const ALL: [Parametrization; 2] = [Parametrization::Standard, Parametrization::Mup];

    /// A short label.
    pub fn label(self) -> &'static str {
        match self {
            Parametrization::Standard => "SP",
            Parametrization::Mup => "muP",
        }
    }
}

/// The regression task: `samples` Gaussian inputs and the outputs of a fixed random tanh
/// teacher `16 -> 32 -> 4`.
#[derive(Debug, Clone)]
pub struct Task {
    /// Inputs, `samples x INPUTS`.
    pub x: Vec<f32>,
    /// Targets, `samples x OUTPUTS`.
    pub y: Vec<f32>,
}

/// The task with `samples` samples.
pub fn task(samples: usize) -> nninit::Result<Task> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2022);
    let x: Vec<f32> = (0..samples * INPUTS)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    let mut teacher = Network::builder(INPUTS)
        .dense(32, Tanh)
        .dense(OUTPUTS, Identity)
        .seed(7)
        .build()?;
    let y = teacher.forward(&x)?;
    Ok(Task { x, y })
}

/// A student `16 -> width -> width -> 4` with ReLU hidden layers.
pub fn student(width: usize, parametrization: Parametrization) -> nninit::Result<Network> {
    let builder = Network::builder(INPUTS)
        .dense(width, Relu)
        .dense(width, Relu)
        .dense(OUTPUTS, Identity)
        .seed(1);
    match parametrization {
        Parametrization::Standard => builder.build(),
        Parametrization::Mup => builder.mup(BASE_WIDTH).build(),
    }
}

/// The sweep's size.
#[derive(Debug, Clone, Copy)]
pub struct Sweep<'a> {
    /// The widths.
    pub widths: &'a [usize],
    /// The learning rates are `2^k` for these exponents.
    pub log2_learning_rates: &'a [i32],
    /// Adam steps on minibatches of `batch` samples.
    pub steps: usize,
    /// Minibatch size.
    pub batch: usize,
}

/// One trained network: its MSE on the first 1024 samples after training, or `None` if it
/// diverged.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The parametrization.
    pub parametrization: Parametrization,
    /// The width.
    pub width: usize,
    /// `log2` of the learning rate.
    pub log2_learning_rate: i32,
    /// The final training loss, `None` if training diverged.
    pub loss: Option<f32>,
}

/// Trains one student on minibatches; returns its loss on the first 1024 samples.
pub fn train(
    task: &Task,
    width: usize,
    parametrization: Parametrization,
    learning_rate: f32,
    steps: usize,
    batch: usize,
) -> nninit::Result<Option<f32>> {
    let mut net = student(width, parametrization)?;
    let mut adam = Adam::new(learning_rate);
    let samples = task.y.len() / OUTPUTS;
    for step in 0..steps {
        let start = (step * batch) % samples.saturating_sub(batch).max(1);
        let x = &task.x[start * INPUTS..(start + batch) * INPUTS];
        let y = &task.y[start * OUTPUTS..(start + batch) * OUTPUTS];
        match net.train_step(x, y, &Mse, &mut adam) {
            Ok(loss) if loss.is_finite() && loss < 1e6 => {}
            Ok(_) | Err(Error::NonFinite { .. }) => return Ok(None),
            Err(other) => return Err(other),
        }
    }
    let evaluated = samples.min(1024);
    let loss = net
        .evaluate(
            &task.x[..evaluated * INPUTS],
            &task.y[..evaluated * OUTPUTS],
            &Mse,
        )?
        .loss;
    Ok(loss.is_finite().then_some(loss))
}

/// The whole sweep, calling `progress` before each network.
pub fn sweep(
    task: &Task,
    size: Sweep<'_>,
    mut progress: impl FnMut(Parametrization, usize, i32),
) -> nninit::Result<Vec<Point>> {
    let mut points = Vec::new();
    for parametrization in Parametrization::ALL {
        for &width in size.widths {
            for &k in size.log2_learning_rates {
                progress(parametrization, width, k);
                let loss = train(
                    task,
                    width,
                    parametrization,
                    2f32.powi(k),
                    size.steps,
                    size.batch,
                )?;
                points.push(Point {
                    parametrization,
                    width,
                    log2_learning_rate: k,
                    loss,
                });
            }
        }
    }
    Ok(points)
}

/// The exponent of the best learning rate for each width under `parametrization`.
pub fn best_log2_learning_rates(
    points: &[Point],
    parametrization: Parametrization,
) -> Vec<(usize, i32)> {
    let mut widths: Vec<usize> = points.iter().map(|p| p.width).collect();
    widths.sort_unstable();
    widths.dedup();
    widths
        .into_iter()
        .filter_map(|width| {
            points
                .iter()
                .filter(|p| p.parametrization == parametrization && p.width == width)
                .filter_map(|p| Some((p.log2_learning_rate, p.loss?)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(k, _)| (width, k))
        })
        .collect()
}

/// The coordinate check of `parametrization` with Adam at learning rate `2^-6`, 5 steps on
/// one batch of 64 samples.
pub fn coordinates(
    task: &Task,
    widths: &[usize],
    parametrization: Parametrization,
) -> nninit::Result<CoordinateCheck> {
    let batch = 64;
    coordinate_check(
        widths,
        |width| student(width, parametrization),
        || Box::new(Adam::new(2f32.powi(-6))) as Box<dyn Optimizer>,
        &task.x[..batch * INPUTS],
        &task.y[..batch * OUTPUTS],
        &Mse,
        5,
    )
}
