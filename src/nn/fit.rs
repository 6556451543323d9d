//! Mini-batch training: `FitConfig`, per-epoch `EpochMetrics`, the `History`, `Network::fit`.

use std::ops::ControlFlow;

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

use crate::diagnostics::{Monitor, Snapshot};
use crate::error::{Error, Result};
use crate::loss::Loss;
use crate::nn::network::Network;
use crate::nn::optimizer::Optimizer;

/// How [`Network::fit`] trains: epochs, batch size, shuffling.
///
/// ```
/// let config = nninit::FitConfig::new(20, 32).seed(7).shuffle(false);
/// assert_eq!((config.epochs, config.batch_size, config.seed, config.shuffle), (20, 32, 7, false));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FitConfig {
    /// Passes over the data (default 10).
    pub epochs: usize,
    /// Samples per optimizer step; the last batch of an epoch may be smaller (default 32).
    pub batch_size: usize,
    /// Seed of the shuffling (default 0).
    pub seed: u64,
    /// Whether to visit the samples in a new random order each epoch (default true).
    pub shuffle: bool,
    /// Diagnostics recorded every N steps into [`History::snapshots`] (default off).
    pub monitor: Option<Monitor>,
}

impl Default for FitConfig {
    fn default() -> FitConfig {
        FitConfig {
            epochs: 10,
            batch_size: 32,
            seed: 0,
            shuffle: true,
            monitor: None,
        }
    }
}

impl FitConfig {
    /// `epochs` passes in batches of `batch_size`, shuffled with seed 0.
    ///
    /// ```
    /// assert_eq!(nninit::FitConfig::new(5, 8).epochs, 5);
    /// ```
    pub fn new(epochs: usize, batch_size: usize) -> FitConfig {
        FitConfig {
            epochs,
            batch_size,
            ..FitConfig::default()
        }
    }

    /// Sets the shuffling seed.
    ///
    /// ```
    /// assert_eq!(nninit::FitConfig::new(5, 8).seed(3).seed, 3);
    /// ```
    pub fn seed(mut self, seed: u64) -> FitConfig {
        self.seed = seed;
        self
    }

    /// Turns shuffling on or off.
    ///
    /// ```
    /// assert!(!nninit::FitConfig::new(5, 8).shuffle(false).shuffle);
    /// ```
    pub fn shuffle(mut self, shuffle: bool) -> FitConfig {
        self.shuffle = shuffle;
        self
    }

    /// Records a diagnostic [`Snapshot`] every [`Monitor::interval`] steps into
    /// [`History::snapshots`].
    ///
    /// ```
    /// let config = nninit::FitConfig::new(5, 8).monitor(nninit::Monitor::every(100)?);
    /// assert_eq!(config.monitor.map(|m| m.interval()), Some(100));
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn monitor(mut self, monitor: Monitor) -> FitConfig {
        self.monitor = Some(monitor);
        self
    }
}

/// What one epoch of [`Network::fit`] measured, passed to the callback and kept in the
/// [`History`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct EpochMetrics {
    /// The epoch, counting from 0.
    pub epoch: usize,
    /// The training loss, averaged over the epoch's samples (each batch's loss is taken before
    /// its step, as PyTorch training loops report it).
    pub loss: f32,
    /// The training accuracy over the epoch, for classification losses.
    pub accuracy: Option<f32>,
    /// Per layer, the L2 norm of the weight gradient, averaged over the epoch's steps.
    pub gradient_norms: Vec<f32>,
}

/// Every epoch's metrics from one [`Network::fit`] call.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct History {
    /// One entry per completed epoch.
    pub epochs: Vec<EpochMetrics>,
    /// Whether the callback stopped training before the last epoch.
    pub stopped_early: bool,
    /// The diagnostics recorded by [`FitConfig::monitor`], in step order (empty without it).
    pub snapshots: Vec<Snapshot>,
}

impl EpochMetrics {
    /// One epoch's metrics from their parts (the struct is `#[non_exhaustive]`: fields added
    /// later get their neutral value), e.g. to test a `fit` callback.
    ///
    /// ```
    /// let metrics = nninit::EpochMetrics::new(3, 0.5, Some(0.75), vec![0.1, 0.2]);
    /// assert_eq!((metrics.epoch, metrics.loss), (3, 0.5));
    /// ```
    pub fn new(
        epoch: usize,
        loss: f32,
        accuracy: Option<f32>,
        gradient_norms: Vec<f32>,
    ) -> EpochMetrics {
        EpochMetrics {
            epoch,
            loss,
            accuracy,
            gradient_norms,
        }
    }
}

impl History {
    /// A history from its epochs (the struct is `#[non_exhaustive]`).
    ///
    /// ```
    /// let epoch = nninit::EpochMetrics::new(0, 0.5, None, vec![]);
    /// let history = nninit::History::new(vec![epoch], true);
    /// assert_eq!(history.losses(), [0.5]);
    /// ```
    pub fn new(epochs: Vec<EpochMetrics>, stopped_early: bool) -> History {
        History {
            epochs,
            stopped_early,
            snapshots: Vec::new(),
        }
    }

    /// The loss of each epoch.
    ///
    /// ```
    /// let history = nninit::History::default();
    /// assert!(history.losses().is_empty());
    /// ```
    pub fn losses(&self) -> Vec<f32> {
        self.epochs.iter().map(|e| e.loss).collect()
    }

    /// The last epoch's metrics, if any.
    ///
    /// ```
    /// assert!(nninit::History::default().last().is_none());
    /// ```
    pub fn last(&self) -> Option<&EpochMetrics> {
        self.epochs.last()
    }
}

/// The arrays `fit` trains on, for explaining an error.
struct TrainingData<'a> {
    x: &'a [f32],
    y: &'a [f32],
    /// Targets per sample: the outputs, or 1 for class indices.
    target_width: usize,
}

/// Running sums over one epoch.
struct EpochTotals {
    loss: f64,
    correct: f64,
    has_accuracy: bool,
    samples: usize,
    gradient_norms: Vec<f64>,
    steps: usize,
}

impl Network {
    /// Trains on `x` / `y` for `config.epochs` epochs of mini-batches, calling `callback`
    /// after each epoch; returning [`ControlFlow::Break`] from it stops training.
    ///
    /// The sample order of each epoch is a Fisher–Yates shuffle drawn from
    /// `Xoshiro256PlusPlus` seeded with `config.seed`: same seed, data and thread count, the
    /// same loss sequence, bit for bit.
    ///
    /// # Shapes
    /// `x` is `samples x inputs`; `y` is `samples x outputs` or `samples` class indices.
    ///
    /// # Errors
    /// A zero epoch count or batch size, length errors, the loss's errors, and
    /// [`Error::NonFinite`] naming the layer and step when training diverges. An error during
    /// a step names the epoch and the step and, when one sample causes it (a bad label, a
    /// non-finite input), that sample's index in `x` / `y` ("sample 50 of the training
    /// data"), never its position in the shuffled batch.
    ///
    /// On an error, nothing of the epochs already completed is lost: the callback has seen each
    /// one's metrics (collect them there to keep a history), and the network keeps their
    /// training and the steps of the failing epoch before the failed one; the failed step
    /// itself changed nothing (see [`train_step`](Network::train_step)).
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// use nninit::{FitConfig, Identity, Mse, Network, Sgd};
    /// let mut net = Network::builder(1).dense(1, Identity).build()?;
    /// let x = [0.0, 1.0, 2.0, 3.0];
    /// let y = [1.0, 3.0, 5.0, 7.0]; // y = 2x + 1
    /// let history = net.fit(&x, &y, &Mse, &mut Sgd::new(0.05), FitConfig::new(500, 2), |m| {
    ///     if m.loss < 1e-6 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    /// })?;
    /// assert!(history.stopped_early);
    /// assert!((net.layers()[0].weight()[0] - 2.0).abs() < 1e-2);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn fit<F>(
        &mut self,
        x: &[f32],
        y: &[f32],
        loss: &dyn Loss,
        optimizer: &mut dyn Optimizer,
        config: FitConfig,
        mut callback: F,
    ) -> Result<History>
    where
        F: FnMut(&EpochMetrics) -> ControlFlow<()>,
    {
        let (samples, target_width) = self.check_fit(x, y, &config)?;
        let mut order: Vec<usize> = (0..samples).collect();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(config.seed);
        let batch_capacity = config.batch_size.min(samples);
        let mut x_batch = Vec::with_capacity(batch_capacity * self.inputs());
        let mut y_batch = Vec::with_capacity(batch_capacity * target_width);
        let mut history = History::default();
        for epoch in 0..config.epochs {
            if config.shuffle {
                shuffle(&mut order, &mut rng);
            }
            let mut totals = EpochTotals::new(self.layers().len());
            for indices in order.chunks(config.batch_size) {
                gather(x, self.inputs(), indices, &mut x_batch);
                gather(y, target_width, indices, &mut y_batch);
                let monitored = config.monitor.is_some_and(|m| m.is_due(self.steps()));
                let step = if monitored {
                    let batch = (x_batch.as_slice(), y_batch.as_slice());
                    self.monitored_train_step(batch, loss, optimizer, epoch)
                        .map(|(outcome, snapshot)| {
                            history.snapshots.push(snapshot);
                            outcome
                        })
                } else {
                    self.train_step_measured(&x_batch, &y_batch, loss, optimizer, true)
                };
                let outcome = step.map_err(|error| {
                    let data = TrainingData { x, y, target_width };
                    self.explain_failure(error, &data, indices, loss, epoch)
                })?;
                totals.add(self, indices.len(), outcome.loss, outcome.accuracy);
            }
            let metrics = totals.finish(epoch);
            let flow = callback(&metrics);
            history.epochs.push(metrics);
            if flow.is_break() {
                history.stopped_early = epoch + 1 < config.epochs;
                break;
            }
        }
        Ok(history)
    }

    /// Puts a failed step's error in the terms of the user's data: the epoch, the step and,
    /// if one sample of the batch is the cause, its index in `x` / `y`.
    fn explain_failure(
        &mut self,
        error: Error,
        data: &TrainingData<'_>,
        indices: &[usize],
        loss: &dyn Loss,
        epoch: usize,
    ) -> Error {
        let step = self.steps();
        let inputs = self.inputs();
        // A non-finite input is the cause whatever went wrong after it.
        for &sample in indices {
            let row = &data.x[sample * inputs..(sample + 1) * inputs];
            if let Some(feature) = row.iter().position(|v| !v.is_finite()) {
                return Error::NonFinite {
                    what: format!(
                        "input feature {feature} of sample {sample} of the training data \
                         (epoch {epoch}, step {step})"
                    ),
                    value: f64::from(row[feature]),
                };
            }
        }
        // Otherwise, the first sample whose target the loss refuses beside a finite
        // prediction (a bad label), if any; a network that diverged blames no sample.
        let (width, outputs) = (data.target_width, self.outputs());
        let culprit = indices.iter().find_map(|&sample| {
            let x_row = &data.x[sample * inputs..(sample + 1) * inputs];
            let y_row = &data.y[sample * width..(sample + 1) * width];
            let prediction = self.forward(x_row).ok()?;
            if !prediction.iter().all(|v| v.is_finite()) {
                return None;
            }
            loss.loss(&prediction, y_row, outputs)
                .err()
                .map(|e| (sample, e))
        });
        let (context, error) = match culprit {
            Some((sample, own_error)) => (
                format!(" in sample {sample} of the training data (epoch {epoch}, step {step})"),
                own_error,
            ),
            None => (format!(" (epoch {epoch})"), error),
        };
        match error {
            Error::InvalidArgument {
                name,
                expected,
                value,
            } => Error::InvalidArgument {
                name,
                expected,
                value: format!("{value}{context}"),
            },
            Error::NonFinite { what, value } => Error::NonFinite {
                what: format!("{what}{context}"),
                value,
            },
            other => other,
        }
    }

    /// Validates `fit`'s arguments; returns the sample count and the target row width.
    fn check_fit(&self, x: &[f32], y: &[f32], config: &FitConfig) -> Result<(usize, usize)> {
        if config.epochs == 0 {
            return Err(Error::invalid("epochs", "> 0", 0));
        }
        if config.batch_size == 0 {
            return Err(Error::invalid("batch_size", "> 0", 0));
        }
        if x.is_empty() || !x.len().is_multiple_of(self.inputs()) {
            return Err(Error::LengthMismatch {
                what: "training inputs".into(),
                expected: format!(
                    "a positive multiple of {} (samples x inputs)",
                    self.inputs()
                ),
                found: x.len(),
            });
        }
        let samples = x.len() / self.inputs();
        let outputs = self.outputs();
        match y.len() {
            n if n == samples * outputs => Ok((samples, outputs)),
            n if n == samples => Ok((samples, 1)),
            n => Err(Error::LengthMismatch {
                what: "training targets".into(),
                expected: format!(
                    "{} ({samples} samples x {outputs} outputs) or {samples} (one class index per sample)",
                    samples * outputs
                ),
                found: n,
            }),
        }
    }
}

impl EpochTotals {
    fn new(layers: usize) -> EpochTotals {
        EpochTotals {
            loss: 0.0,
            correct: 0.0,
            has_accuracy: false,
            samples: 0,
            gradient_norms: vec![0.0; layers],
            steps: 0,
        }
    }

    /// Adds one step: its batch size, loss, accuracy and the layers' gradient norms.
    fn add(&mut self, network: &Network, batch: usize, loss: f32, accuracy: Option<f32>) {
        self.loss += f64::from(loss) * batch as f64;
        if let Some(accuracy) = accuracy {
            self.has_accuracy = true;
            self.correct += f64::from(accuracy) * batch as f64;
        }
        self.samples += batch;
        self.steps += 1;
        for (sum, layer) in self.gradient_norms.iter_mut().zip(network.layers()) {
            *sum += l2_norm(layer.weight_gradient());
        }
    }

    fn finish(self, epoch: usize) -> EpochMetrics {
        let samples = self.samples.max(1) as f64;
        let steps = self.steps.max(1) as f64;
        EpochMetrics {
            epoch,
            loss: (self.loss / samples) as f32,
            accuracy: self.has_accuracy.then(|| (self.correct / samples) as f32),
            gradient_norms: self
                .gradient_norms
                .iter()
                .map(|&sum| (sum / steps) as f32)
                .collect(),
        }
    }
}

/// The Euclidean norm, accumulated in f64 (8 lanes, so the compiler vectorizes it).
pub(crate) fn l2_norm(values: &[f32]) -> f64 {
    const LANES: usize = 8;
    let mut sums = [0.0f64; LANES];
    let chunks = values.chunks_exact(LANES);
    let tail: f64 = chunks
        .remainder()
        .iter()
        .map(|&v| f64::from(v).powi(2))
        .sum();
    for chunk in chunks {
        for (sum, &v) in sums.iter_mut().zip(chunk) {
            *sum += f64::from(v) * f64::from(v);
        }
    }
    (sums.iter().sum::<f64>() + tail).sqrt()
}

/// Fisher–Yates: a uniformly random permutation of `order`, in place.
fn shuffle(order: &mut [usize], rng: &mut Xoshiro256PlusPlus) {
    use rand::RngExt;
    for i in (1..order.len()).rev() {
        let j = rng.random_range(0..=i);
        order.swap(i, j);
    }
}

/// Copies rows `indices` of the row-major `data` (rows of `width`) into `out`.
fn gather(data: &[f32], width: usize, indices: &[usize], out: &mut Vec<f32>) {
    out.clear();
    for &i in indices {
        out.extend_from_slice(&data[i * width..(i + 1) * width]);
    }
}
