//! The core of `examples/training_dashboard.rs`: one deep tanh network and one dataset,
//! trained from three initializations with the diagnostics monitor on.
//!
//! (a) N(0, 1) weights, (b) Glorot uniform with tanh's gain 5/3, (c) (b) with the readout
//! layer's weights scaled down 10x (Karpathy's "makemore part 3": at initialization the softmax
//! should be unsure, the loss near ln C).

use std::ops::ControlFlow;

use nninit::{
    CrossEntropy, FitConfig, GlorotUniform, History, Identity, Initializer, Monitor, Network,
    Normal, Report, Sgd, Tanh,
};

use super::data::Dataset;

/// The network and the training run.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    /// Hidden tanh layers.
    pub depth: usize,
    /// Units per hidden layer.
    pub width: usize,
    /// Training epochs.
    pub epochs: usize,
    /// Samples per step.
    pub batch_size: usize,
    /// SGD learning rate.
    pub learning_rate: f32,
    /// Steps between two snapshots.
    pub monitor_every: u64,
}

/// The example's network and training run: 6 hidden tanh layers of 64 units, SGD at 0.05, 40
/// epochs of batches of 32, a snapshot every 25 steps.
pub const SETUP: Setup = Setup {
    depth: 6,
    width: 64,
    epochs: 40,
    batch_size: 32,
    learning_rate: 0.05,
    monitor_every: 25,
};

/// The three starting points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// (a) N(0, 1) weights.
    UnitNormal,
    /// (b) Glorot uniform with tanh's gain.
    GlorotTanhGain,
    /// (c) (b) with the readout scaled down 10x.
    GlorotSmallReadout,
}

impl Start {
    /// All three, in the order of the issue.
    pub const ALL: [Start; 3] = [
        Start::UnitNormal,
        Start::GlorotTanhGain,
        Start::GlorotSmallReadout,
    ];

    /// A file-name-friendly label.
    pub fn slug(self) -> &'static str {
        match self {
            Start::UnitNormal => "a_normal",
            Start::GlorotTanhGain => "b_glorot",
            Start::GlorotSmallReadout => "c_glorot_small_readout",
        }
    }

    /// What it is, in words.
    pub fn title(self) -> &'static str {
        match self {
            Start::UnitNormal => "(a) N(0, 1) weights",
            Start::GlorotTanhGain => "(b) Glorot uniform, gain 5/3 (tanh)",
            Start::GlorotSmallReadout => "(c) Glorot uniform, gain 5/3, readout x 0.1",
        }
    }

    fn initializer(self) -> Box<dyn Initializer<f32>> {
        match self {
            Start::UnitNormal => Box::new(Normal::new(0.0, 1.0)),
            _ => Box::new(GlorotUniform::default().gain(5.0 / 3.0)),
        }
    }
}

/// What one run produced.
#[derive(Debug)]
pub struct Run {
    /// The starting point.
    pub start: Start,
    /// `diagnose` on the whole dataset before training.
    pub at_init: Report,
    /// The training history, with the monitor's snapshots.
    pub history: History,
}

/// Builds the network for `start` (seed 7 for every start: same architecture and data).
pub fn network(start: Start, setup: &Setup, data: &Dataset) -> nninit::Result<Network> {
    let mut builder = Network::builder(data.features);
    for _ in 0..setup.depth {
        builder = builder.dense(setup.width, Tanh);
    }
    let mut net = builder
        .dense(data.classes, Identity)
        .init(start.initializer())
        .seed(7)
        .build()?;
    if start == Start::GlorotSmallReadout {
        let readout = net.layers_mut().len() - 1;
        net.layers_mut()[readout]
            .weight_mut()
            .iter_mut()
            .for_each(|w| *w *= 0.1);
    }
    Ok(net)
}

/// Diagnoses, then trains with the monitor on.
pub fn run(start: Start, setup: &Setup, data: &Dataset) -> nninit::Result<Run> {
    let mut net = network(start, setup, data)?;
    let at_init = net.diagnose(&data.x, &data.y, &CrossEntropy)?;
    let config = FitConfig::new(setup.epochs, setup.batch_size)
        .seed(1)
        .monitor(Monitor::every(setup.monitor_every)?);
    let mut sgd = Sgd::new(setup.learning_rate);
    let history = net.fit(&data.x, &data.y, &CrossEntropy, &mut sgd, config, |_| {
        ControlFlow::Continue(())
    })?;
    Ok(Run {
        start,
        at_init,
        history,
    })
}
