//! Layer-sequential unit-variance (LSUV) initialization: Mishkin and Matas, "All you need is a
//! good init" (ICLR 2016, arXiv:1511.06422); reference implementation `ducha-aiki/LSUV`.
//!
//! Formulas keep the variance right only for the activations they were derived for. LSUV
//! measures instead: start from orthonormal weights, then, from the first layer to the last,
//! forward one batch and divide the layer's weight by the std of its output (its
//! pre-activation), until that std is within a tolerance of the target. With zero biases one
//! rescaling is exact (the output is linear in the weight); a nonzero bias needs a few.
//!
//! Two forms: [`Network::lsuv`] for nninit's network, and [`lsuv_with`], which drives any
//! model through a closure that rescales one layer and runs the model up to it.

use std::fmt;

use crate::error::{Error, Result};
use crate::fans::Fans;
use crate::init::{Initializer, InitializerFamily, Orthogonal, seed_for_name};
use crate::linalg::{Transpose, gemm};
use crate::nn::dense::Dense;
use crate::nn::network::Network;

/// LSUV's options. `Lsuv::default()`: target std 1.0, tolerance 0.1, at most 10 iterations
/// per layer, orthonormal start (seed 0), as the paper and `ducha-aiki/LSUV`.
///
/// ```
/// let options = nninit::Lsuv::default().target_std(0.5).tolerance(0.01).max_iterations(20);
/// assert_eq!((options.target_std, options.tolerance, options.max_iterations), (0.5, 0.01, 20));
/// assert!(options.orthonormal);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Lsuv {
    /// The std each layer's output should reach (default 1).
    pub target_std: f64,
    /// How far from the target the std may end (default 0.1): `|std − target| <= tolerance`.
    pub tolerance: f64,
    /// The most rescalings per layer (default 10).
    pub max_iterations: usize,
    /// Whether to replace every weight by an orthonormal matrix first (default true).
    pub orthonormal: bool,
    /// The seed of the orthonormal start (default 0); layer `i`'s weight uses
    /// [`seed_for_name`]`(seed, "{i}.weight")`.
    pub seed: u64,
}

impl Default for Lsuv {
    fn default() -> Self {
        Lsuv {
            target_std: 1.0,
            tolerance: 0.1,
            max_iterations: 10,
            orthonormal: true,
            seed: 0,
        }
    }
}

impl Lsuv {
    /// The std each layer's output should reach (finite, > 0).
    ///
    /// ```
    /// assert_eq!(nninit::Lsuv::default().target_std(2.0).target_std, 2.0);
    /// ```
    pub fn target_std(mut self, target_std: impl Into<f64>) -> Self {
        self.target_std = target_std.into();
        self
    }

    /// The accepted distance from the target (finite, >= 0).
    ///
    /// ```
    /// assert_eq!(nninit::Lsuv::default().tolerance(0.05).tolerance, 0.05);
    /// ```
    pub fn tolerance(mut self, tolerance: impl Into<f64>) -> Self {
        self.tolerance = tolerance.into();
        self
    }

    /// The most rescalings per layer.
    ///
    /// ```
    /// assert_eq!(nninit::Lsuv::default().max_iterations(3).max_iterations, 3);
    /// ```
    pub fn max_iterations(mut self, max_iterations: usize) -> Self {
        self.max_iterations = max_iterations;
        self
    }

    /// Whether [`Network::lsuv`] starts from orthonormal weights ([`lsuv_with`] leaves the
    /// start to the caller).
    ///
    /// ```
    /// assert!(!nninit::Lsuv::default().orthonormal(false).orthonormal);
    /// ```
    pub fn orthonormal(mut self, orthonormal: bool) -> Self {
        self.orthonormal = orthonormal;
        self
    }

    /// The seed of the orthonormal start.
    ///
    /// ```
    /// assert_eq!(nninit::Lsuv::default().seed(7).seed, 7);
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    fn validate(&self) -> Result<()> {
        if !(self.target_std.is_finite() && self.target_std > 0.0) {
            return Err(Error::invalid(
                "target_std",
                "finite and > 0",
                self.target_std,
            ));
        }
        if !(self.tolerance.is_finite() && self.tolerance >= 0.0) {
            return Err(Error::invalid(
                "tolerance",
                "finite and >= 0",
                self.tolerance,
            ));
        }
        Ok(())
    }
}

/// What LSUV did to one layer.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct LsuvLayer {
    /// The layer's index (0 = first).
    pub layer: usize,
    /// The std of the layer's output before any rescaling (after the orthonormal start).
    pub std_before: f64,
    /// The std reached.
    pub std_after: f64,
    /// The number of rescalings made.
    pub iterations: usize,
    /// Whether `std_after` is within the tolerance of the target.
    pub converged: bool,
}

/// The outcome of [`Network::lsuv`] and [`lsuv_with`]: one row per layer; prints as a table,
/// with a warning line for each layer that did not reach the tolerance.
///
/// ```
/// use nninit::{Identity, Lsuv, Network, Tanh};
/// let mut net = Network::builder(8).dense(16, Tanh).dense(16, Tanh).dense(2, Identity).build()?;
/// let x: Vec<f32> = (0..8 * 64).map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0).collect();
/// let report = net.lsuv(&x, &Lsuv::default())?;
/// assert!(report.converged());
/// assert!(report.to_string().starts_with("layer  iterations"));
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct LsuvReport {
    /// The layers, first to last.
    pub layers: Vec<LsuvLayer>,
    /// The target std the layers were rescaled to.
    pub target_std: f64,
    /// The tolerance used.
    pub tolerance: f64,
}

impl LsuvReport {
    /// Whether every layer reached the tolerance.
    ///
    /// ```
    /// assert!(nninit::LsuvReport::default().converged());
    /// ```
    pub fn converged(&self) -> bool {
        self.layers.iter().all(|l| l.converged)
    }
}

impl fmt::Display for LsuvReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "layer  iterations  std before  std after")?;
        for l in &self.layers {
            writeln!(
                f,
                "{:>5}  {:>10}  {:>10.4}  {:>9.4}{}",
                l.layer,
                l.iterations,
                l.std_before,
                l.std_after,
                if l.converged { "" } else { "  (not converged)" }
            )?;
        }
        for l in self.layers.iter().filter(|l| !l.converged) {
            writeln!(
                f,
                "warning: layer {} ended at std {:.4} after {} iterations, target {} ± {}",
                l.layer, l.std_after, l.iterations, self.target_std, self.tolerance
            )?;
        }
        Ok(())
    }
}

/// LSUV on any model with `layers` layers, through `rescale_and_run(layer, factor)`, which
/// must multiply layer `layer`'s weight by `factor` (1.0 on the first call for each layer:
/// no change), run the model's first layers up to `layer` on the LSUV batch, and return that
/// layer's output (its pre-activation, any shape). Layers are processed first to last.
///
/// Any orthonormal start is the caller's (e.g. [`orthogonal`](crate::orthogonal) on each
/// weight first); [`Lsuv::orthonormal`] and [`Lsuv::seed`] are ignored here.
///
/// # Errors
/// [`Error::InvalidArgument`] for invalid options, or a layer whose output is empty, has zero
/// variance (a dead layer, e.g. ReLU units that never fire, or an all-zero weight) or
/// non-finite values: LSUV cannot rescale it, and no factor is applied to it. The closure's
/// own errors, converted with `From<nninit::Error>` (so `Box<dyn Error>` works).
///
/// ```
/// // A "model" of two linear maps y = 3x, z = 0.5y held outside nninit.
/// let x = [1.0f32, -1.0, 2.0, -2.0];
/// let mut scales = [3.0f32, 0.5];
/// let report = nninit::lsuv_with(2, &nninit::Lsuv::default(), |layer, factor| {
///     scales[layer] *= factor;
///     let mut out: Vec<f32> = x.to_vec();
///     for s in &scales[..=layer] {
///         out.iter_mut().for_each(|v| *v *= s);
///     }
///     Ok::<_, nninit::Error>(out)
/// })?;
/// assert!(report.converged());
/// let std = (10.0f32 / 3.0).sqrt(); // of x, with the sample (n − 1) denominator
/// assert!((scales[0] * std - 1.0).abs() < 1e-5 && (scales[1] - 1.0).abs() < 1e-5);
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn lsuv_with<E, F>(
    layers: usize,
    options: &Lsuv,
    mut rescale_and_run: F,
) -> std::result::Result<LsuvReport, E>
where
    E: From<Error>,
    F: FnMut(usize, f32) -> std::result::Result<Vec<f32>, E>,
{
    options.validate()?;
    let target = options.target_std;
    let mut report = LsuvReport {
        layers: Vec::with_capacity(layers),
        target_std: target,
        tolerance: options.tolerance,
    };
    for layer in 0..layers {
        let mut std = output_std(layer, &rescale_and_run(layer, 1.0)?)?;
        let std_before = std;
        let mut iterations = 0;
        while (std - target).abs() > options.tolerance && iterations < options.max_iterations {
            let factor = (target / std) as f32;
            if !(factor.is_finite() && factor > 0.0) {
                return Err(dead_layer(layer, std).into());
            }
            std = output_std(layer, &rescale_and_run(layer, factor)?)?;
            iterations += 1;
        }
        report.layers.push(LsuvLayer {
            layer,
            std_before,
            std_after: std,
            iterations,
            converged: (std - target).abs() <= options.tolerance,
        });
    }
    Ok(report)
}

/// The sample std (denominator `n − 1`, as `torch.std`) of a layer's output, or the error
/// for an output LSUV cannot rescale.
fn output_std(layer: usize, output: &[f32]) -> Result<f64> {
    if output.len() < 2 {
        return Err(Error::invalid(
            "layer output",
            format!("at least 2 values to measure layer {layer}'s std"),
            output.len(),
        ));
    }
    let n = output.len() as f64;
    let mean = output.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let sum_squares: f64 = output.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum();
    let std = (sum_squares / (n - 1.0)).sqrt();
    if !std.is_finite() {
        return Err(Error::NonFinite {
            what: format!("std of layer {layer}'s output in lsuv"),
            value: std,
        });
    }
    // Below this the factor target / std would overflow f32 weights.
    if std < f64::from(f32::MIN_POSITIVE) {
        return Err(dead_layer(layer, std));
    }
    Ok(std)
}

fn dead_layer(layer: usize, std: f64) -> Error {
    Error::invalid(
        "x",
        format!(
            "a batch on which layer {layer}'s output varies (lsuv divides the weight by that \
             std; a dead layer, e.g. relu units that never fire or a zero weight, cannot be \
             rescaled)"
        ),
        format!("output std {std:e}"),
    )
}

/// The state of [`Network::lsuv`]'s closure: the layer being rescaled, its input, and its
/// output before any rescaling, so that each rescaling costs one pass over the output.
struct LayerByLayer<'a> {
    layers: &'a mut [Dense],
    batch: usize,
    current: Option<usize>,
    /// The input of the current layer (`batch x in`).
    input: Vec<f32>,
    /// `α · input · Wᵀ` with the weight as it was when the layer was reached.
    product: Vec<f32>,
    /// The factor applied to the weight since `product` was computed.
    factor: f32,
    /// The current layer's last pre-activation.
    output: Vec<f32>,
}

impl LayerByLayer<'_> {
    fn rescale_and_run(&mut self, layer: usize, factor: f32) -> Result<Vec<f32>> {
        if self.current != Some(layer) {
            self.advance_to(layer)?;
        }
        let dense = &mut self.layers[layer];
        dense.weight_raw_mut().iter_mut().for_each(|w| *w *= factor);
        self.factor *= factor;
        let units = dense.out_features();
        for (row, product) in self
            .output
            .chunks_exact_mut(units)
            .zip(self.product.chunks_exact(units))
        {
            for ((z, &p), &b) in row.iter_mut().zip(product).zip(dense.bias()) {
                *z = self.factor * p + b;
            }
        }
        Ok(self.output.clone())
    }

    /// Moves to `layer`: the previous layer's activation becomes the input, and the product
    /// with the new layer's weight is computed once.
    fn advance_to(&mut self, layer: usize) -> Result<()> {
        if let Some(previous) = self.current {
            let activation = self.layers[previous].activation();
            let mut next = vec![0.0; self.output.len()];
            activation.forward_slice(&self.output, &mut next);
            self.input = next;
        }
        let dense = &self.layers[layer];
        let (inputs, units) = (dense.in_features(), dense.out_features());
        self.product = vec![0.0; self.batch * units];
        // α · input · Wᵀ: (batch x inputs) · (inputs x units), W stored units x inputs.
        gemm(
            Transpose::No,
            Transpose::Yes,
            self.batch,
            units,
            inputs,
            dense.multiplier(),
            &self.input,
            inputs,
            dense.weight(),
            inputs,
            0.0,
            &mut self.product,
            units,
        )?;
        self.output = vec![0.0; self.batch * units];
        self.current = Some(layer);
        self.factor = 1.0;
        Ok(())
    }
}

impl Network {
    /// LSUV initialization (Mishkin & Matas 2016) on the batch `x` (`batch x inputs`):
    /// optionally replaces every weight by an orthonormal matrix, then rescales each layer's
    /// weight, first to last, until its output (its pre-activation `z`) on `x` has a std
    /// within `options.tolerance` of `options.target_std`. Biases are left as they are.
    ///
    /// # Errors
    /// A length error for `x`; invalid options; a layer whose output has zero variance on
    /// `x` (a dead layer) or is not finite. On error every weight is restored to what it was.
    /// A layer that does not reach the tolerance in `max_iterations` is not an error: the
    /// report marks it and prints a warning.
    ///
    /// ```
    /// use nninit::{Identity, Lsuv, Network, Relu};
    /// let mut net = Network::builder(10).dense(32, Relu).dense(32, Relu).dense(1, Identity).build()?;
    /// let x: Vec<f32> = (0..10 * 100).map(|i| ((i * 7919 % 1000) as f32 / 500.0) - 1.0).collect();
    /// let report = net.lsuv(&x, &Lsuv::default())?;
    /// for layer in &report.layers {
    ///     assert!((layer.std_after - 1.0).abs() <= 0.1);
    /// }
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn lsuv(&mut self, x: &[f32], options: &Lsuv) -> Result<LsuvReport> {
        options.validate()?;
        let inputs = self.inputs();
        if x.is_empty() || !x.len().is_multiple_of(inputs) {
            return Err(Error::LengthMismatch {
                what: "lsuv batch".into(),
                expected: format!("a positive multiple of {inputs} (batch x inputs)"),
                found: x.len(),
            });
        }
        let saved: Vec<(Vec<f32>, &'static str, InitializerFamily)> = self
            .layers()
            .iter()
            .map(|l| (l.weight().to_vec(), l.initializer(), l.initializer_family()))
            .collect();
        let result = self.lsuv_unguarded(x, options);
        if result.is_err() {
            for (layer, (weight, name, family)) in self.layers_mut().iter_mut().zip(saved) {
                layer.weight_raw_mut().copy_from_slice(&weight);
                layer.set_initializer(name, family);
            }
        }
        result
    }

    fn lsuv_unguarded(&mut self, x: &[f32], options: &Lsuv) -> Result<LsuvReport> {
        if options.orthonormal {
            for (index, layer) in self.layers_mut().iter_mut().enumerate() {
                let fans = Fans::new(layer.in_features(), layer.out_features());
                let seed = seed_for_name(options.seed, &format!("{index}.weight"));
                Orthogonal::new().fill_seeded(layer.weight_raw_mut(), fans, seed)?;
            }
        }
        let count = self.layers().len();
        let batch = x.len() / self.inputs();
        let mut state = LayerByLayer {
            layers: self.layers_mut(),
            batch,
            current: None,
            input: x.to_vec(),
            product: Vec::new(),
            factor: 1.0,
            output: Vec::new(),
        };
        let report = lsuv_with(count, options, |layer, factor| {
            state.rescale_and_run(layer, factor)
        })?;
        for layer in self.layers_mut() {
            layer.set_initializer("LSUV", InitializerFamily::DataDependent);
        }
        Ok(report)
    }
}
