//! `Network`: a stack of `Dense` layers with forward and backward passes through `gemm`.
//!
//! Forward, for layer `l` with input `a` (`batch x in`) and weight `W` (`out x in`):
//! `z = a Wᵀ + b` (gemm with `B` transposed), `y = f(z)`.
//! Backward, given `dy = ∂L/∂y` (`batch x out`):
//! `dz = dy ⊙ f'(z)`, `dW = dzᵀ a` (gemm with `A` transposed), `db = Σ_rows dz`,
//! `da = dz W` (plain gemm; skipped for the first layer, whose input needs no gradient).
//! No transposed copy is ever made: the transposes are gemm flags.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};
use crate::linalg::{Finish, PARALLEL_MIN_WORK, Transpose, gemm_then};
use crate::loss::Loss;
use crate::nn::builder::NetworkBuilder;
use crate::nn::dense::Dense;
use crate::nn::mup;
use crate::nn::optimizer::{Optimizer, OptimizerFamily};

/// A feed-forward stack of [`Dense`] layers.
///
/// Build one with [`Network::builder`]. Batches are row-major `batch x features`; the batch
/// size is implied by the slice length. Buffers for the activations and gradients are kept
/// between calls and only grow when the batch does.
///
/// ```
/// use nninit::{Network, Relu, Identity};
/// let mut net = Network::builder(3).dense(8, Relu).dense(2, Identity).seed(7).build()?;
/// let out = net.forward(&[0.1, 0.2, 0.3, 1.0, 0.0, -1.0])?; // two samples
/// assert_eq!(out.len(), 2 * 2);
/// # Ok::<(), nninit::Error>(())
/// ```
pub struct Network {
    inputs: usize,
    layers: Vec<Dense>,
    cache: Cache,
    steps: u64,
    /// The muP base width, if the network was built with [`NetworkBuilder::mup`].
    mup_base_width: Option<usize>,
}

/// Per-layer buffers of the last forward pass and scratch space for the backward pass.
#[derive(Default)]
struct Cache {
    /// Batch size the buffers currently hold.
    batch: usize,
    /// `z` of each layer (`batch x out`).
    pre_activations: Vec<Vec<f32>>,
    /// `y = f(z)` of each layer (`batch x out`).
    activations: Vec<Vec<f32>>,
    /// `∂L/∂y` of the layer being processed, and of the one below it.
    upstream: Vec<f32>,
    downstream: Vec<f32>,
    /// Whether `backward` keeps each layer's `∂L/∂y` (for the diagnostics), and where.
    record_output_gradients: bool,
    output_gradients: Vec<Vec<f32>>,
}

/// What one training or diagnostic pass measured.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PassOutcome {
    pub(crate) loss: f32,
    pub(crate) accuracy: Option<f32>,
}

impl Network {
    /// Starts building a network whose samples have `inputs` features.
    ///
    /// ```
    /// let net = nninit::Network::builder(2).dense(4, nninit::Tanh).dense(1, nninit::Sigmoid).build()?;
    /// assert_eq!(net.layers().len(), 2);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn builder(inputs: usize) -> NetworkBuilder {
        NetworkBuilder::new(inputs)
    }

    /// A network from layers built by hand; each layer's `in_features` must equal the
    /// previous layer's `out_features`.
    ///
    /// ```
    /// use nninit::{Dense, Network, Relu, Sigmoid};
    /// let net = Network::from_layers(vec![Dense::new(2, 3, Relu)?, Dense::new(3, 1, Sigmoid)?])?;
    /// assert_eq!((net.inputs(), net.outputs()), (2, 1));
    /// assert!(Network::from_layers(vec![Dense::new(2, 3, Relu)?, Dense::new(4, 1, Sigmoid)?]).is_err());
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn from_layers(layers: Vec<Dense>) -> Result<Network> {
        let first = layers
            .first()
            .ok_or_else(|| Error::invalid("layers", "at least one dense layer", 0))?;
        let inputs = first.in_features();
        for (index, pair) in layers.windows(2).enumerate() {
            if pair[1].in_features() != pair[0].out_features() {
                return Err(Error::ShapeMismatch {
                    what: format!("layer {}", index + 1),
                    expected_by: format!("layer {index}'s output"),
                    expected: vec![pair[0].out_features()],
                    found: vec![pair[1].in_features()],
                });
            }
        }
        Ok(Network {
            inputs,
            layers,
            cache: Cache::default(),
            steps: 0,
            mup_base_width: None,
        })
    }

    /// The number of input features per sample.
    ///
    /// ```
    /// let net = nninit::Network::builder(5).dense(1, nninit::Sigmoid).build()?;
    /// assert_eq!(net.inputs(), 5);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// The number of outputs per sample (the last layer's units).
    ///
    /// ```
    /// let net = nninit::Network::builder(5).dense(3, nninit::Identity).build()?;
    /// assert_eq!(net.outputs(), 3);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn outputs(&self) -> usize {
        self.layers.last().map_or(self.inputs, Dense::out_features)
    }

    /// The layers, input side first.
    ///
    /// ```
    /// let net = nninit::Network::builder(5).dense(3, nninit::Relu).dense(1, nninit::Sigmoid).build()?;
    /// assert_eq!(net.layers()[0].out_features(), 3);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn layers(&self) -> &[Dense] {
        &self.layers
    }

    /// The layers, mutably (to set weights by hand).
    ///
    /// ```
    /// let mut net = nninit::Network::builder(2).dense(1, nninit::Identity).build()?;
    /// net.layers_mut()[0].weight_mut().copy_from_slice(&[1.0, 2.0]);
    /// assert_eq!(net.forward(&[3.0, 4.0])?, vec![11.0]);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn layers_mut(&mut self) -> &mut [Dense] {
        &mut self.layers
    }

    /// The number of optimizer steps taken so far by [`train_step`](Network::train_step) and
    /// [`fit`](Network::fit).
    ///
    /// ```
    /// let net = nninit::Network::builder(2).dense(1, nninit::Identity).build()?;
    /// assert_eq!(net.steps(), 0);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The base width of a network built with [`NetworkBuilder::mup`], `None` otherwise.
    ///
    /// ```
    /// use nninit::{Identity, Network, Relu};
    /// let net = Network::builder(4).dense(256, Relu).dense(2, Identity).mup(64).build()?;
    /// assert_eq!(net.mup_base_width(), Some(64));
    /// assert_eq!(Network::builder(4).dense(2, Identity).build()?.mup_base_width(), None);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn mup_base_width(&self) -> Option<usize> {
        self.mup_base_width
    }

    /// Marks the network as muP-parametrized with this base width (for the builder).
    pub(crate) fn set_mup_base_width(&mut self, base_width: usize) {
        self.mup_base_width = Some(base_width);
    }

    /// The factor by which [`train_step`](Network::train_step) multiplies each parameter's
    /// learning rate (in [`parameters`](Network::parameters) order) for an optimizer of
    /// `family`: muP's multipliers (see [`NetworkBuilder::mup`]), all 1 without muP.
    ///
    /// # Errors
    /// Under muP, [`Error::InvalidArgument`] for [`OptimizerFamily::Other`]: muP's rule is
    /// defined for SGD-like and Adam-like optimizers only.
    ///
    /// ```
    /// use nninit::{Identity, Network, OptimizerFamily, Relu};
    /// let net = Network::builder(8).dense(256, Relu).dense(256, Relu).dense(1, Identity).mup(64).build()?;
    /// // weight, bias of each layer: only the hidden matrix is scaled for Adam (1 / width_mult).
    /// assert_eq!(net.learning_rate_scales(OptimizerFamily::AdamLike)?, vec![1.0, 1.0, 0.25, 1.0, 1.0, 1.0]);
    /// // SGD: vector-like parameters (input weights, hidden biases, readout weights) x width_mult.
    /// assert_eq!(net.learning_rate_scales(OptimizerFamily::SgdLike)?, vec![4.0, 4.0, 1.0, 4.0, 4.0, 1.0]);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn learning_rate_scales(&self, family: OptimizerFamily) -> Result<Vec<f32>> {
        match self.mup_base_width {
            Some(base_width) => mup::learning_rate_scales(&self.layers, base_width, family),
            None => Ok(vec![1.0; 2 * self.layers.len()]),
        }
    }

    /// The outputs `y = f(z)` of layer `layer` in the last forward pass (`batch x units`), or
    /// `None` before any pass or for an index past the last layer.
    ///
    /// ```
    /// let mut net = nninit::Network::builder(2).dense(3, nninit::Relu).dense(1, nninit::Identity).build()?;
    /// net.forward(&[1.0, 2.0])?;
    /// assert_eq!(net.activations(0).map(<[f32]>::len), Some(3));
    /// assert!(net.activations(2).is_none());
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn activations(&self, layer: usize) -> Option<&[f32]> {
        let batch = self.cache.batch;
        let units = self.layers.get(layer)?.out_features();
        let values = self.cache.activations.get(layer)?;
        (batch > 0).then(|| &values[..batch * units])
    }

    /// The pre-activations `z` of layer `layer` in the last forward pass (`batch x units`).
    pub(crate) fn pre_activations(&self, layer: usize) -> Option<&[f32]> {
        let batch = self.cache.batch;
        let units = self.layers.get(layer)?.out_features();
        let values = self.cache.pre_activations.get(layer)?;
        (batch > 0).then(|| &values[..batch * units])
    }

    /// `∂L/∂y` of layer `layer` in the last backward pass run while recording.
    pub(crate) fn output_gradient(&self, layer: usize) -> Option<&[f32]> {
        self.cache.output_gradients.get(layer).map(Vec::as_slice)
    }

    /// Makes the backward passes keep (or stop keeping) each layer's `∂L/∂y`.
    pub(crate) fn record_output_gradients(&mut self, record: bool) {
        self.cache.record_output_gradients = record;
    }

    /// The network's outputs for a batch.
    ///
    /// # Shapes
    /// `x` is `batch x inputs`, row-major; the result is `batch x outputs`. A length that is
    /// zero or not a multiple of [`inputs`](Network::inputs) is an error.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] for a bad length; [`Error::NonFinite`] if an output is NaN or
    /// infinite (a non-finite input, or activations that overflowed), naming the input or the
    /// first layer whose activations went non-finite, as [`train_step`](Network::train_step)
    /// does.
    ///
    /// ```
    /// use nninit::{Network, Identity};
    /// let mut net = Network::builder(2).dense(1, Identity).build()?;
    /// net.layers_mut()[0].weight_mut().copy_from_slice(&[1.0, -1.0]);
    /// net.layers_mut()[0].bias_mut()[0] = 0.5;
    /// assert_eq!(net.forward(&[3.0, 1.0, 0.0, 2.0])?, vec![2.5, -1.5]);
    /// assert!(net.forward(&[1.0, 2.0, 3.0]).is_err());
    /// assert!(net.forward(&[f32::NAN, 1.0]).is_err());
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn forward(&mut self, x: &[f32]) -> Result<Vec<f32>> {
        self.forward_pass(x)?;
        if let Some(&bad) = self.output().iter().find(|v| !v.is_finite()) {
            return Err(self.non_finite_error(x, "outputs", bad));
        }
        Ok(self.output().to_vec())
    }

    /// Runs the forward pass into the cache and returns the batch size.
    pub(crate) fn forward_pass(&mut self, x: &[f32]) -> Result<usize> {
        let batch = self.batch_size(x)?;
        self.cache.resize(&self.layers, batch);
        for (index, layer) in self.layers.iter().enumerate() {
            let (before, after) = self.cache.activations.split_at_mut(index);
            let input = before
                .last()
                .map_or(x, |a| &a[..batch * layer.in_features()]);
            let y = &mut after[0][..batch * layer.out_features()];
            let z = &mut self.cache.pre_activations[index][..batch * layer.out_features()];
            dense_forward(layer, input, batch, z, y)?;
        }
        Ok(batch)
    }

    /// The outputs of the last forward pass.
    fn output(&self) -> &[f32] {
        let last = self.layers.len() - 1;
        &self.cache.activations[last][..self.cache.batch * self.outputs()]
    }

    /// The batch size of `x`, or a typed error.
    fn batch_size(&self, x: &[f32]) -> Result<usize> {
        if x.is_empty() || !x.len().is_multiple_of(self.inputs) {
            return Err(Error::LengthMismatch {
                what: "input batch".into(),
                expected: format!("a positive multiple of {} (batch x inputs)", self.inputs),
                found: x.len(),
            });
        }
        Ok(x.len() / self.inputs)
    }

    /// Checks `y` holds one target row per sample: `outputs` values, or one class index.
    fn check_targets(&self, y: &[f32], batch: usize) -> Result<()> {
        let outputs = self.outputs();
        if y.len() != batch * outputs && y.len() != batch {
            return Err(Error::LengthMismatch {
                what: "targets".into(),
                expected: format!(
                    "{} ({batch} samples x {outputs} outputs) or {batch} (one class index per sample)",
                    batch * outputs
                ),
                found: y.len(),
            });
        }
        Ok(())
    }

    /// One optimizer step on one batch; returns the loss before the step.
    ///
    /// # Shapes
    /// `x` is `batch x inputs`; `y` is `batch x outputs`, or `batch` class indices for
    /// [`CrossEntropy`](crate::CrossEntropy).
    ///
    /// # Errors
    /// Length errors for `x` or `y`; the loss's own errors; the optimizer's refusal of its
    /// settings; [`Error::NonFinite`] naming the step and the first layer with a non-finite
    /// activation or gradient, or the layer whose update would make a weight or the
    /// optimizer's state non-finite (e.g. `Sgd::new(f32::MAX)`). After any error the weights,
    /// the optimizer's state and [`steps`](Network::steps) are as they were before the call
    /// (with [`Sgd`](crate::Sgd) and [`Adam`](crate::Adam), which check every new value
    /// before writing; a custom optimizer that writes non-finite values is reported, not
    /// undone).
    ///
    /// ```
    /// use nninit::{Network, Identity, Mse, Sgd, Zeros};
    /// let mut net = Network::builder(1).dense(1, Identity).init(Zeros).build()?;
    /// let mut sgd = Sgd::new(0.1);
    /// let (x, y) = ([1.0, 2.0], [2.0, 4.0]);
    /// let first = net.train_step(&x, &y, &Mse, &mut sgd)?;
    /// let second = net.train_step(&x, &y, &Mse, &mut sgd)?;
    /// assert_eq!(first, 10.0); // zero weights: mean of 2² and 4²
    /// assert!(second < first);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn train_step(
        &mut self,
        x: &[f32],
        y: &[f32],
        loss: &dyn Loss,
        optimizer: &mut dyn Optimizer,
    ) -> Result<f32> {
        Ok(self.train_step_measured(x, y, loss, optimizer, false)?.loss)
    }

    /// [`train_step`](Network::train_step), also measuring the batch accuracy if asked.
    pub(crate) fn train_step_measured(
        &mut self,
        x: &[f32],
        y: &[f32],
        loss: &dyn Loss,
        optimizer: &mut dyn Optimizer,
        measure_accuracy: bool,
    ) -> Result<PassOutcome> {
        let outcome = self.forward_backward(x, y, loss, measure_accuracy)?;
        self.update(optimizer)?;
        self.steps += 1;
        Ok(outcome)
    }

    /// Applies the optimizer's step to every layer's weight and bias (parameters `2l` and
    /// `2l + 1`), naming them by layer in its errors; then makes sure a custom optimizer did
    /// not leave a non-finite value behind.
    fn update(&mut self, optimizer: &mut dyn Optimizer) -> Result<()> {
        // muP's per-parameter learning rates (all 1 without muP: a plain named step).
        let scales = match self.mup_base_width {
            Some(base_width) => Some(mup::learning_rate_scales(
                &self.layers,
                base_width,
                optimizer.family(),
            )?),
            None => None,
        };
        let step = self.steps;
        let name = |index: usize| {
            let kind = if index.is_multiple_of(2) {
                "weight"
            } else {
                "bias"
            };
            format!("layer {} {kind} at step {step}", index / 2)
        };
        let mut parameters = Vec::with_capacity(2 * self.layers.len());
        for layer in &mut self.layers {
            let [weight, bias] = layer.parameters_and_gradients();
            parameters.push(weight);
            parameters.push(bias);
        }
        match &scales {
            Some(scales) => optimizer.step_scaled(&mut parameters, scales, &name)?,
            None => optimizer.step_named(&mut parameters, &name)?,
        }
        if optimizer.checks_before_writing() {
            return Ok(());
        }
        let written = parameters.iter().position(|p| !all_finite(p.values));
        if let Some(index) = written {
            let value = parameters[index]
                .values
                .iter()
                .find(|v| !v.is_finite())
                .map_or(f64::NAN, |&v| f64::from(v));
            return Err(Error::NonFinite {
                what: format!(
                    "{} after the {} optimizer's update (not undone: the optimizer wrote it)",
                    name(index),
                    optimizer.name()
                ),
                value,
            });
        }
        Ok(())
    }

    /// The loss (and accuracy, for classification losses) on a batch, without training.
    ///
    /// ```
    /// use nninit::{Network, Identity, Mse, Zeros};
    /// let mut net = Network::builder(1).dense(1, Identity).init(Zeros).build()?;
    /// let evaluation = net.evaluate(&[1.0, 2.0], &[2.0, 4.0], &Mse)?;
    /// assert_eq!(evaluation.loss, 10.0);
    /// assert_eq!(evaluation.accuracy, None);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn evaluate(&mut self, x: &[f32], y: &[f32], loss: &dyn Loss) -> Result<Evaluation> {
        let batch = self.forward_pass(x)?;
        self.check_targets(y, batch)?;
        let outputs = self.outputs();
        let value = loss.loss(self.output(), y, outputs)?;
        Ok(Evaluation {
            loss: value,
            accuracy: loss.accuracy(self.output(), y, outputs),
        })
    }

    /// Forward pass, loss and backward pass: fills every layer's gradients.
    pub(crate) fn forward_backward(
        &mut self,
        x: &[f32],
        y: &[f32],
        loss: &dyn Loss,
        measure_accuracy: bool,
    ) -> Result<PassOutcome> {
        let batch = self.forward_pass(x)?;
        self.check_targets(y, batch)?;
        let outputs = self.outputs();
        if let Some(&bad) = self.output().iter().find(|v| !v.is_finite()) {
            return Err(self.non_finite_error(x, "outputs", bad));
        }
        let mut upstream = std::mem::take(&mut self.cache.upstream);
        upstream.resize(batch * outputs, 0.0);
        let result = loss.loss_and_gradient(self.output(), y, outputs, &mut upstream);
        self.cache.upstream = upstream;
        let value = result?;
        if !value.is_finite() {
            return Err(self.non_finite_error(x, "loss", value));
        }
        let accuracy = if measure_accuracy {
            loss.accuracy(self.output(), y, outputs)
        } else {
            None
        };
        self.backward(x, batch)?;
        Ok(PassOutcome {
            loss: value,
            accuracy,
        })
    }

    /// Backpropagates `cache.upstream` (∂L/∂output) through every layer.
    ///
    /// The derivative of each hidden layer's activation is folded into the product that
    /// computes its gradient: `dz = (δ W) ⊙ f'(z)` is applied to each part of `δ W` as gemm
    /// finishes it. Only the output layer's derivative takes a pass of its own, unless the
    /// diagnostics record each layer's `∂L/∂y`, which then must exist before the derivative.
    fn backward(&mut self, x: &[f32], batch: usize) -> Result<()> {
        let cache = &mut self.cache;
        let last = self.layers.len() - 1;
        let fold_derivative = !cache.record_output_gradients;
        for index in (0..self.layers.len()).rev() {
            let (below, rest) = self.layers.split_at_mut(index);
            let layer = &mut rest[0];
            let (inputs, units) = (layer.in_features(), layer.out_features());
            // The gradients are moved out (no allocation) so the layer can be shared with the
            // product below while they are written.
            let mut weight_gradient = std::mem::take(&mut layer.weight_gradient);
            let mut bias_gradient = std::mem::take(&mut layer.bias_gradient);
            let layer_ref: &Dense = layer;
            let input = match index {
                0 => x,
                _ => &cache.activations[index - 1][..batch * inputs],
            };
            if index == last || !fold_derivative {
                // ∂L/∂y of this layer in `upstream`: keep it if asked, then apply f'.
                let delta = &mut cache.upstream[..batch * units];
                if cache.record_output_gradients {
                    cache
                        .output_gradients
                        .resize_with(cache.activations.len(), Vec::new);
                    let kept = &mut cache.output_gradients[index];
                    kept.clear();
                    kept.extend_from_slice(delta);
                }
                let z = &cache.pre_activations[index][..batch * units];
                let y = &cache.activations[index][..batch * units];
                layer_ref.activation().backward_slice(z, y, delta);
            }
            // δ = ∂L/∂z of this layer (its activation's derivative is applied).
            let delta = &cache.upstream[..batch * units];
            let weight_gradient_finite = AtomicBool::new(true);
            let mut parameter_gradients = || {
                dense_parameter_gradients(
                    (units, inputs, batch),
                    layer_ref.multiplier(),
                    input,
                    delta,
                    (&mut weight_gradient, &weight_gradient_finite),
                    &mut bias_gradient,
                )
            };
            let result = match below.last() {
                None => parameter_gradients(),
                Some(previous) => {
                    cache.downstream.resize(batch * inputs, 0.0);
                    let gradient = &mut cache.downstream[..batch * inputs];
                    let z = &cache.pre_activations[index - 1][..batch * inputs];
                    let y = &cache.activations[index - 1][..batch * inputs];
                    let below_activation = fold_derivative.then_some((previous, z, y));
                    let mut input_gradient =
                        || input_gradient(layer_ref, below_activation, delta, batch, gradient);
                    let work = batch * inputs * units;
                    if run_concurrently(work) {
                        both_concurrently(parameter_gradients, input_gradient)
                    } else {
                        parameter_gradients().and_then(|()| input_gradient())
                    }
                }
            };
            layer.weight_gradient = weight_gradient;
            layer.bias_gradient = bias_gradient;
            result?;
            let non_finite = if !weight_gradient_finite.into_inner() {
                Some("weight gradient")
            } else if !all_finite(layer.bias_gradient()) {
                Some("bias gradient")
            } else {
                None
            };
            if let Some(what) = non_finite {
                return Err(Error::NonFinite {
                    what: format!("{what} of layer {index} at step {}", self.steps),
                    value: f64::NAN,
                });
            }
            if index > 0 {
                std::mem::swap(&mut cache.upstream, &mut cache.downstream);
            }
        }
        Ok(())
    }

    /// The error for a non-finite loss or output, naming the first layer whose activations
    /// went non-finite (or the input).
    fn non_finite_error(&self, x: &[f32], what: &str, value: f32) -> Error {
        let culprit = if !all_finite(x) {
            " (the input batch has non-finite values)".to_string()
        } else {
            (0..self.layers.len())
                .find(|&l| self.activations(l).is_some_and(|a| !all_finite(a)))
                .map(|l| format!(" (first non-finite activations in layer {l})"))
                .unwrap_or_default()
        };
        Error::NonFinite {
            what: format!("{what} at step {}{culprit}", self.steps),
            value: f64::from(value),
        }
    }

    /// The parameter names and shapes, in PyTorch's state-dict order and layout:
    /// `"{i}.weight"` (`[out, in]`) then `"{i}.bias"` (`[out]`) for each layer `i`.
    ///
    /// ```
    /// let net = nninit::Network::builder(3).dense(2, nninit::Relu).build()?;
    /// assert_eq!(
    ///     net.state_dict_shapes(),
    ///     vec![("0.weight".to_string(), vec![2, 3]), ("0.bias".to_string(), vec![2])]
    /// );
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn state_dict_shapes(&self) -> Vec<(String, Vec<usize>)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, layer)| {
                [
                    (
                        format!("{i}.weight"),
                        vec![layer.out_features(), layer.in_features()],
                    ),
                    (format!("{i}.bias"), vec![layer.out_features()]),
                ]
            })
            .collect()
    }

    /// The parameters by name (same order and names as
    /// [`state_dict_shapes`](Network::state_dict_shapes)).
    ///
    /// ```
    /// let net = nninit::Network::builder(3).dense(2, nninit::Relu).build()?;
    /// let sizes: Vec<usize> = net.parameters().map(|(_, values)| values.len()).collect();
    /// assert_eq!(sizes, vec![6, 2]);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn parameters(&self) -> impl Iterator<Item = (String, &[f32])> {
        self.layers.iter().enumerate().flat_map(|(i, layer)| {
            [
                (format!("{i}.weight"), layer.weight()),
                (format!("{i}.bias"), layer.bias()),
            ]
        })
    }

    /// The parameters by name, mutably (to load a state dict). Weights written this way are
    /// marked as initialized by `"custom"`.
    ///
    /// ```
    /// let mut net = nninit::Network::builder(1).dense(1, nninit::Identity).build()?;
    /// for (name, values) in net.parameters_mut() {
    ///     values.fill(if name.ends_with("weight") { 2.0 } else { 1.0 });
    /// }
    /// assert_eq!(net.forward(&[3.0])?, vec![7.0]);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn parameters_mut(&mut self) -> impl Iterator<Item = (String, &mut [f32])> {
        self.layers.iter_mut().enumerate().flat_map(|(i, layer)| {
            let (weight, bias) = layer.weight_and_bias_mut();
            [(format!("{i}.weight"), weight), (format!("{i}.bias"), bias)]
        })
    }
}

/// The outcome of [`Network::evaluate`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Evaluation {
    /// The mean loss.
    pub loss: f32,
    /// The fraction classified correctly, for classification losses.
    pub accuracy: Option<f32>,
}

impl Cache {
    /// Makes room for `batch` samples (never shrinks, so alternating sizes do not allocate).
    fn resize(&mut self, layers: &[Dense], batch: usize) {
        self.batch = batch;
        self.pre_activations.resize_with(layers.len(), Vec::new);
        self.activations.resize_with(layers.len(), Vec::new);
        for (index, layer) in layers.iter().enumerate() {
            let needed = batch * layer.out_features();
            for buffer in [
                &mut self.pre_activations[index],
                &mut self.activations[index],
            ] {
                if buffer.len() < needed {
                    buffer.resize(needed, 0.0);
                }
            }
        }
    }
}

/// The narrowest layer output whose bias and activation (forward) or derivative (backward) are
/// applied inside gemm, row by row as it finishes C: that saves a second pass over the
/// activations, but costs two dynamic calls per row. Rows narrower than one 512-bit vector (a
/// 2-4-1 network's) make the calls dearer than the pass, which then runs once over the whole
/// batch, vectorized. Both ways compute the same bits.
const FUSE_MIN_WIDTH: usize = 16;

/// `z = input Wᵀ + b`, `y = f(z)` for one layer, in one pass: the bias and the activation
/// are applied to each part of `z` as soon as gemm has finished it, while it is in cache.
fn dense_forward(
    layer: &Dense,
    input: &[f32],
    batch: usize,
    z: &mut [f32],
    y: &mut [f32],
) -> Result<()> {
    let (inputs, units) = (layer.in_features(), layer.out_features());
    let (bias, activation) = (layer.bias(), layer.activation());
    let add_bias = |first: usize, z: &mut [f32]| {
        for (value, &b) in z.iter_mut().zip(&bias[first..]) {
            *value += b;
        }
    };
    let bias_and_activation = |_row: usize, first: usize, z: &mut [f32], y: &mut [f32]| {
        add_bias(first, z);
        activation.forward_slice(z, y);
    };
    let fused = units >= FUSE_MIN_WIDTH;
    let (side, finish): (&mut [f32], Option<Finish<'_>>) = if fused {
        (&mut *y, Some(&bias_and_activation))
    } else {
        (&mut [], None)
    };
    // z = α · input · Wᵀ: (batch x inputs) · (inputs x units), W stored units x inputs.
    gemm_then(
        Transpose::No,
        Transpose::Yes,
        batch,
        units,
        inputs,
        layer.multiplier(),
        input,
        inputs,
        layer.weight(),
        inputs,
        0.0,
        z,
        units,
        side,
        finish,
    )?;
    if !fused {
        z.chunks_exact_mut(units).for_each(|row| add_bias(0, row));
        activation.forward_slice(z, y);
    }
    Ok(())
}

/// `dW = α · δᵀ · input` and `db = Σ_rows δ` for one layer of `units` outputs and `inputs`
/// inputs and muP multiplier `α`, given `δ = ∂L/∂z`. `finite` is cleared if a value of `dW`
/// is not: checked as gemm finishes each row, while it is in cache, instead of in a pass of
/// its own over the weights.
fn dense_parameter_gradients(
    (units, inputs, batch): (usize, usize, usize),
    multiplier: f32,
    input: &[f32],
    delta: &[f32],
    (weight_gradient, finite): (&mut [f32], &AtomicBool),
    bias_gradient: &mut [f32],
) -> Result<()> {
    let check = |_row: usize, _first: usize, values: &mut [f32], _: &mut [f32]| {
        if !all_finite(values) {
            finite.store(false, Ordering::Relaxed);
        }
    };
    // dW = α · δᵀ · input: (units x batch) · (batch x inputs), δ stored batch x units.
    gemm_then(
        Transpose::Yes,
        Transpose::No,
        units,
        inputs,
        batch,
        multiplier,
        delta,
        units,
        input,
        inputs,
        0.0,
        weight_gradient,
        inputs,
        &mut [],
        Some(&check),
    )?;
    bias_gradient.fill(0.0);
    for row in delta.chunks_exact(units) {
        for (sum, &d) in bias_gradient.iter_mut().zip(row) {
            *sum += d;
        }
    }
    Ok(())
}

/// The gradient for the layer below, `α · δ W`: its `∂L/∂z`, `(α · δ W) ⊙ f'(z below)`, when
/// `below` gives that layer with its `z` and `y` (the derivative applied to each part of the
/// product as gemm finishes it), else its `∂L/∂y`.
fn input_gradient(
    layer: &Dense,
    below: Option<(&Dense, &[f32], &[f32])>,
    delta: &[f32],
    batch: usize,
    gradient: &mut [f32],
) -> Result<()> {
    let (inputs, units) = (layer.in_features(), layer.out_features());
    let derivative = |row: usize, first: usize, values: &mut [f32], _: &mut [f32]| {
        if let Some((previous, z, y)) = below {
            let at = row * inputs + first..row * inputs + first + values.len();
            previous
                .activation()
                .backward_slice(&z[at.clone()], &y[at], values);
        }
    };
    let fused = inputs >= FUSE_MIN_WIDTH;
    // α · δ W: (batch x units) · (units x inputs).
    gemm_then(
        Transpose::No,
        Transpose::No,
        batch,
        inputs,
        units,
        layer.multiplier(),
        delta,
        units,
        layer.weight(),
        inputs,
        0.0,
        gradient,
        inputs,
        &mut [],
        (fused && below.is_some()).then_some(&derivative),
    )?;
    if let Some((previous, z, y)) = below.filter(|_| !fused) {
        previous.activation().backward_slice(z, y, gradient);
    }
    Ok(())
}

/// Whether a layer's two backward products, of `work` multiply-adds each, should run on two
/// threads at once: only when nninit may use two threads, each product is too small for gemm
/// to split it (below [`PARALLEL_MIN_WORK`]), and large enough (2^21 multiply-adds, some
/// 30 µs on one core) that handing one to a worker of the pool is paid back. The results do
/// not depend on it.
fn run_concurrently(work: usize) -> bool {
    crate::threads::num_threads() > 1 && (1 << 21..PARALLEL_MIN_WORK).contains(&work)
}

/// Runs `first` here and `second` on a worker of the pool (or here afterwards, if no worker
/// has started it by then); the first error wins.
fn both_concurrently(
    first: impl FnOnce() -> Result<()>,
    second: impl FnOnce() -> Result<()> + Send,
) -> Result<()> {
    let (here, there) = crate::threads::join(first, second);
    here.and(there)
}

/// Whether every value is finite, in one branch-free pass the compiler vectorizes:
/// `v · 0` is `±0` for finite `v` and NaN otherwise, and NaN survives the sums.
pub(crate) fn all_finite(values: &[f32]) -> bool {
    const LANES: usize = 8;
    let mut sums = [0.0f32; LANES];
    let chunks = values.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().map(|v| v * 0.0).sum();
    for chunk in chunks {
        for (sum, v) in sums.iter_mut().zip(chunk) {
            *sum += v * 0.0;
        }
    }
    (sums.iter().sum::<f32>() + tail).is_finite()
}

impl fmt::Debug for Network {
    /// The layer shapes, never the data.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Network")
            .field("inputs", &self.inputs)
            .field("layers", &self.layers)
            .finish()
    }
}
