//! The core of `examples/lsuv.rs`: a deep ReLU network started from a plain Gaussian and from
//! LSUV, its per-layer pre-activation std, and a short training run of each.

use nninit::{CrossEntropy, Identity, Lsuv, LsuvReport, Network, Normal, Relu, Sgd};

use super::data::Dataset;
use super::train::{Run, accuracy, train_full_batch};

/// The network's and the run's size.
#[derive(Debug, Clone, Copy)]
pub struct Deep {
    /// Hidden layers.
    pub depth: usize,
    /// Units per hidden layer.
    pub width: usize,
    /// Full-batch SGD steps.
    pub iterations: usize,
    /// SGD learning rate.
    pub learning_rate: f32,
    /// SGD momentum.
    pub momentum: f32,
}

/// `depth` ReLU layers of `width` units and a linear readout, every weight from `N(0, 0.01²)`
/// (the "plain Gaussian" of early deep-learning practice), zero biases.
pub fn gaussian_network(data: &Dataset, size: Deep) -> nninit::Result<Network> {
    (0..size.depth)
        .fold(Network::builder(data.features), |b, _| {
            b.dense(size.width, Relu)
        })
        .dense(data.classes, Identity)
        .init(Normal::new(0.0, 0.01))
        .seed(3)
        .build()
}

/// The sample std of each layer's pre-activation `z = α x Wᵀ + b` on `x`.
pub fn pre_activation_stds(net: &mut Network, x: &[f32]) -> nninit::Result<Vec<f64>> {
    net.forward(x)?;
    let mut stds = Vec::with_capacity(net.layers().len());
    for (index, layer) in net.layers().iter().enumerate() {
        let input = match index {
            0 => x,
            _ => net.activations(index - 1).unwrap_or_default(),
        };
        let inputs = layer.in_features();
        let mut z = Vec::new();
        for row in input.chunks_exact(inputs) {
            for (unit, weights) in layer.weight().chunks_exact(inputs).enumerate() {
                let dot: f64 = row
                    .iter()
                    .zip(weights)
                    .map(|(&a, &w)| f64::from(a) * f64::from(w))
                    .sum();
                z.push(f64::from(layer.multiplier()) * dot + f64::from(layer.bias()[unit]));
            }
        }
        let n = z.len() as f64;
        let mean = z.iter().sum::<f64>() / n;
        stds.push((z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    }
    Ok(stds)
}

/// One training run.
#[derive(Debug, Clone)]
pub struct Trained {
    /// Which start.
    pub start: &'static str,
    /// The costs.
    pub run: Run,
    /// Training accuracy at the end.
    pub accuracy: f32,
}

/// What [`compare`] measured.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Per-layer pre-activation std from N(0, 0.01²).
    pub gaussian_stds: Vec<f64>,
    /// The LSUV report.
    pub report: LsuvReport,
    /// Per-layer pre-activation std after LSUV.
    pub lsuv_stds: Vec<f64>,
    /// The Gaussian run, then the LSUV run.
    pub trained: Vec<Trained>,
}

/// The per-layer stds of the Gaussian start, the LSUV report, and a training run from each.
pub fn compare(data: &Dataset, size: Deep) -> nninit::Result<Comparison> {
    let mut gaussian = gaussian_network(data, size)?;
    let gaussian_stds = pre_activation_stds(&mut gaussian, &data.x)?;
    let mut lsuv = gaussian_network(data, size)?;
    let report = lsuv.lsuv(&data.x, &Lsuv::default())?;
    let lsuv_stds = pre_activation_stds(&mut lsuv, &data.x)?;
    let mut trained = Vec::new();
    for (start, mut net) in [("N(0, 0.01²)", gaussian), ("LSUV", lsuv)] {
        let mut sgd = Sgd::new(size.learning_rate).momentum(size.momentum);
        let run = train_full_batch(
            &mut net,
            data,
            &CrossEntropy,
            &mut sgd,
            size.iterations,
            |_, _| {},
        )?;
        trained.push(Trained {
            start,
            run,
            accuracy: accuracy(&mut net, data)?,
        });
    }
    Ok(Comparison {
        gaussian_stds,
        report,
        lsuv_stds,
        trained,
    })
}
