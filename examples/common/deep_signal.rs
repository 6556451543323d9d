//! The signal through a deep network at initialization (Glorot & Bengio 2010; He et al. 2015):
//! per-layer activation spread, weight-gradient norms, dead and saturated units, for six
//! activations crossed with five initializers; and a short training run of a 30-layer ReLU
//! network started from Glorot and from He.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, StandardNormal};

use nninit::{
    CrossEntropy, Elu, GlorotUniform, HeNormal, Identity, Initializer, LayerStats, LeakyRelu,
    LecunNormal, Mse, Network, NetworkBuilder, Normal, Relu, Selu, Sgd, Sigmoid, Tanh, Uniform,
};

use super::data::Dataset;
use super::train::{Run, SharedInit, accuracy, train_full_batch};

/// The activations compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// `tanh`.
    Tanh,
    /// The logistic sigmoid.
    Sigmoid,
    /// `max(0, x)`.
    Relu,
    /// Leaky ReLU with slope 0.01.
    LeakyRelu,
    /// ELU with alpha 1.
    Elu,
    /// SELU.
    Selu,
}

impl Act {
    /// All of them, in table order.
    pub const ALL: [Act; 6] = [
        Act::Tanh,
        Act::Sigmoid,
        Act::Relu,
        Act::LeakyRelu,
        Act::Elu,
        Act::Selu,
    ];

    /// The name used in tables and plots.
    pub fn label(self) -> &'static str {
        match self {
            Act::Tanh => "tanh",
            Act::Sigmoid => "sigmoid",
            Act::Relu => "ReLU",
            Act::LeakyRelu => "leaky ReLU (0.01)",
            Act::Elu => "ELU",
            Act::Selu => "SELU",
        }
    }

    /// Appends a dense layer of `units` with this activation.
    pub fn dense(self, builder: NetworkBuilder, units: usize) -> NetworkBuilder {
        match self {
            Act::Tanh => builder.dense(units, Tanh),
            Act::Sigmoid => builder.dense(units, Sigmoid),
            Act::Relu => builder.dense(units, Relu),
            Act::LeakyRelu => builder.dense(units, LeakyRelu::new(0.01)),
            Act::Elu => builder.dense(units, Elu::new(1.0)),
            Act::Selu => builder.dense(units, Selu),
        }
    }
}

/// The initializers compared, with their labels.
pub fn initializers() -> Vec<(&'static str, Box<dyn Initializer<f32>>)> {
    vec![
        ("N(0, 0.01)", Box::new(Normal::new(0.0, 0.01))),
        ("N(0, 1)", Box::new(Normal::new(0.0, 1.0))),
        ("Glorot", Box::new(GlorotUniform::new())),
        ("He", Box::new(HeNormal::new())),
        ("LeCun", Box::new(LecunNormal)),
    ]
}

/// `depth` hidden layers of `width` units with `act`, then a linear layer of 10 outputs; every
/// weight drawn by `init`.
pub fn deep_network(
    act: Act,
    init: SharedInit,
    depth: usize,
    width: usize,
    inputs: usize,
) -> nninit::Result<Network> {
    let builder = (0..depth).fold(Network::builder(inputs), |b, _| act.dense(b, width));
    builder.dense(10, Identity).init(init).seed(11).build()
}

/// `rows x cols` draws of N(0, 1).
pub fn gaussian_batch(rows: usize, cols: usize, seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..rows * cols)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect()
}

/// What `diagnose` saw in one network at initialization.
#[derive(Debug, Clone)]
pub struct Cell {
    /// The activation.
    pub act: Act,
    /// The initializer's label.
    pub init: &'static str,
    /// The hidden layers' statistics, input side first (the linear output layer left out).
    /// Shorter than the survey's depth when the signal overflowed f32 deeper down.
    pub layers: Vec<LayerStats>,
    /// Whether the full-depth network's activations overflowed to infinity or NaN.
    pub overflowed: bool,
}

impl Cell {
    /// The activation std of hidden layer `layer` (1 = first), if it did not overflow.
    pub fn std_at(&self, layer: usize) -> Option<f32> {
        self.layers.get(layer - 1).map(|s| s.activation_std)
    }
}

/// Sizes of the signal survey.
#[derive(Debug, Clone, Copy)]
pub struct Survey {
    /// Hidden layers.
    pub depth: usize,
    /// Units per hidden layer (and input features).
    pub width: usize,
    /// Samples in the batch.
    pub batch: usize,
}

/// Diagnoses every activation x initializer pair on one N(0, 1) batch with N(0, 1) targets
/// (MSE); `started(act, init)` is called before each.
pub fn survey(size: Survey, mut started: impl FnMut(Act, &str)) -> nninit::Result<Vec<Cell>> {
    let x = gaussian_batch(size.batch, size.width, 1);
    let y = gaussian_batch(size.batch, 10, 2);
    let mut cells = Vec::new();
    for act in Act::ALL {
        for (label, init) in initializers() {
            started(act, label);
            let init = SharedInit::new(init);
            let (layers, overflowed) = diagnose_deepest(act, &init, size, &x, &y)?;
            cells.push(Cell {
                act,
                init: label,
                layers,
                overflowed,
            });
        }
    }
    Ok(cells)
}

/// The hidden layers' statistics of the deepest network (up to `size.depth`, then shallower by
/// tenths) whose signal stays finite, and whether the full depth overflowed.
fn diagnose_deepest(
    act: Act,
    init: &SharedInit,
    size: Survey,
    x: &[f32],
    y: &[f32],
) -> nninit::Result<(Vec<LayerStats>, bool)> {
    let mut depth = size.depth;
    loop {
        let mut net = deep_network(act, init.clone(), depth, size.width, size.width)?;
        match net.diagnose(x, y, &Mse) {
            Ok(report) => return Ok((report.layers[..depth].to_vec(), depth < size.depth)),
            Err(nninit::Error::NonFinite { .. }) if depth > 1 => {
                depth -= (size.depth / 10).clamp(1, depth - 1)
            }
            Err(error) => return Err(error),
        }
    }
}

/// An initializer's label and the activations of each layer (`batch x width` each).
pub type Panel = (&'static str, Vec<Vec<f32>>);

/// The activations of the first `layers` hidden layers of a tanh network of `width` units,
/// for Glorot & Bengio's Fig. 6: `(init label, per-layer activations)`.
pub fn tanh_activations(layers: usize, width: usize, batch: usize) -> nninit::Result<Vec<Panel>> {
    let standard = 1.0 / (width as f64).sqrt();
    let inits: Vec<(&'static str, Box<dyn Initializer<f32>>)> = vec![
        (
            "U(-1/sqrt(n), 1/sqrt(n)) (\"standard\")",
            Box::new(Uniform::new(-standard, standard)),
        ),
        (
            "Glorot uniform (\"normalized\")",
            Box::new(GlorotUniform::new()),
        ),
        ("N(0, 1)", Box::new(Normal::new(0.0, 1.0))),
    ];
    let x = gaussian_batch(batch, width, 3);
    let mut panels = Vec::new();
    for (label, init) in inits {
        let mut net = deep_network(Act::Tanh, SharedInit::new(init), layers, width, width)?;
        net.forward(&x)?;
        let per_layer =
            (0..layers).map(|l| net.activations(l).map(<[f32]>::to_vec).unwrap_or_default());
        panels.push((label, per_layer.collect()));
    }
    Ok(panels)
}

/// Sizes and step of the deep ReLU training run.
#[derive(Debug, Clone, Copy)]
pub struct DeepRun {
    /// Hidden ReLU layers.
    pub depth: usize,
    /// Units per hidden layer.
    pub width: usize,
    /// Full-batch SGD steps.
    pub iterations: usize,
    /// SGD step size.
    pub learning_rate: f32,
    /// SGD momentum.
    pub momentum: f32,
}

/// A deep ReLU network's training from one initializer.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The initializer's label.
    pub init: &'static str,
    /// Costs per step.
    pub run: Run,
    /// Training accuracy at the end.
    pub accuracy: f32,
}

/// Trains the deep ReLU network on `data` (class indices, cross entropy) from Glorot and from
/// He; `started(label)` is called before each.
pub fn train_deep_relu(
    data: &Dataset,
    size: DeepRun,
    mut started: impl FnMut(&str),
) -> nninit::Result<Vec<Trained>> {
    let inits: [(&'static str, Box<dyn Initializer<f32>>); 2] = [
        ("Glorot uniform", Box::new(GlorotUniform::new())),
        ("He normal", Box::new(HeNormal::new())),
    ];
    let mut outcomes = Vec::new();
    for (label, init) in inits {
        started(label);
        let builder = (0..size.depth).fold(Network::builder(data.features), |b, _| {
            b.dense(size.width, Relu)
        });
        let mut net = builder
            .dense(data.classes, Identity)
            .init(SharedInit::new(init))
            .seed(5)
            .build()?;
        let mut sgd = Sgd::new(size.learning_rate).momentum(size.momentum);
        let run = train_full_batch(
            &mut net,
            data,
            &CrossEntropy,
            &mut sgd,
            size.iterations,
            |_, _| {},
        )?;
        outcomes.push(Trained {
            init: label,
            run,
            accuracy: accuracy(&mut net, data)?,
        });
    }
    Ok(outcomes)
}
