//! The Maximal Update Parametrization (muP): Yang, Hu, Babuschkin, Sidor, Liu, Farhi, Ryder,
//! Pachocki, Chen and Gao, "Tensor Programs V: Tuning Large Neural Networks via Zero-Shot
//! Hyperparameter Transfer" (2022, arXiv:2203.03466), as `microsoft/mup` implements it.
//!
//! Under the standard parametrization (SP) the best learning rate shrinks as the network
//! widens, because the readout's output and the hidden layers' updates grow with width. muP
//! rescales initialization, the readout and the per-parameter learning rates so that every
//! layer's activations and their updates stay `Θ(1)` as the width grows: the learning rate
//! tuned on a narrow network is then the best one for a wide one.
//!
//! A dimension is a *width* if it is a hidden layer's size (so the network's inputs and
//! outputs are not). With `width_mult = width / base_width` per width dimension, a parameter
//! is *matrix-like* if both its dimensions are widths (hidden weights), *vector-like* if one
//! is (the input layer's weight, hidden biases, the readout weight), and fixed otherwise (the
//! readout bias). The paper's Table 3, as ratios to the base model (which is SP exactly):
//!
//! | | input weights & all biases | output (readout) weights | hidden weights |
//! |---|---|---|---|
//! | init. variance | `1 / fan_in` | `1 / fan_in²` | `1 / fan_in` |
//! | SGD learning rate | `η · fan_out` | `η / fan_in` | `η` |
//! | Adam learning rate | `η` | `η / fan_in` | `η / fan_in` |
//!
//! nninit implements it the way `microsoft/mup` does (`MuReadout`, `set_base_shapes`,
//! `MuSGD`, `MuAdam`), with the readout's `1 / fan_in` as an output multiplier, which is the
//! same function and the same training dynamics:
//!
//! | | input weights & biases | hidden biases | readout weight | readout bias | hidden weights |
//! |---|---|---|---|---|---|
//! | init | as built | `× √width_mult(fan_in)` | `× √width_mult` (or zero) | `× √width_mult` (or zero) | as built |
//! | forward | | | `z = x Wᵀ / width_mult + b` | | |
//! | `Sgd` lr | `× width_mult` | `× width_mult` | `× width_mult` | `× 1` | `× fan_out_mult / fan_in_mult` |
//! | `Adam` lr | `× 1` | `× 1` | `× 1` | `× 1` | `/ width_mult(fan_in)` |
//!
//! "As built" means the initializer the builder chose, whose variance `∝ 1 / fan_in` (He,
//! LeCun, PyTorch's default) is what muP needs for these parameters. Each learning-rate
//! factor comes with the inverse factor on the weight decay, as in `mup/optim.py`, so that
//! `lr · weight_decay` is unchanged.

use std::fmt;

use crate::error::{Error, Result};
use crate::loss::Loss;
use crate::nn::dense::Dense;
use crate::nn::network::Network;
use crate::nn::optimizer::{Optimizer, OptimizerFamily};

/// Which dimensions of a parameter are widths, and their multipliers.
#[derive(Clone, Copy, Debug, PartialEq)]
struct InfiniteShape {
    /// `width / base_width` of the fan-in dimension if it is a width.
    fan_in: Option<f32>,
    /// `width / base_width` of the fan-out dimension if it is a width.
    fan_out: Option<f32>,
}

impl InfiniteShape {
    /// `mup`'s `InfShape.width_mult()`: the multiplier of the last width dimension (fan-in
    /// before fan-out for a weight `[out, in]`), 1 if there is none.
    fn width_mult(self) -> f32 {
        self.fan_in.or(self.fan_out).unwrap_or(1.0)
    }

    /// The learning-rate factor of `MuSGD` / `MuAdam` for this parameter.
    fn learning_rate_scale(self, family: OptimizerFamily) -> Option<f32> {
        let matrix_like = self.fan_in.is_some() && self.fan_out.is_some();
        let vector_like = self.fan_in.is_some() != self.fan_out.is_some();
        match family {
            OptimizerFamily::AdamLike if matrix_like => Some(1.0 / self.width_mult()),
            OptimizerFamily::AdamLike => Some(1.0),
            OptimizerFamily::SgdLike if matrix_like => {
                // lr /= fan_in_mult / fan_out_mult (`fanin_fanout_mult_ratio`).
                Some(self.fan_out.unwrap_or(1.0) / self.width_mult())
            }
            OptimizerFamily::SgdLike if vector_like => Some(self.width_mult()),
            OptimizerFamily::SgdLike => Some(1.0),
            _ => None,
        }
    }
}

/// The width multiplier of a hidden size.
fn multiplier(width: usize, base_width: usize) -> f32 {
    width as f32 / base_width as f32
}

/// The infinite shapes of layer `index`'s weight and bias in a stack of `count` layers.
fn shapes(layer: &Dense, index: usize, count: usize, base_width: usize) -> [InfiniteShape; 2] {
    let fan_in = (index > 0).then(|| multiplier(layer.in_features(), base_width));
    let fan_out = (index + 1 < count).then(|| multiplier(layer.out_features(), base_width));
    [
        InfiniteShape { fan_in, fan_out },
        InfiniteShape {
            fan_in: None,
            fan_out,
        },
    ]
}

/// Each parameter's learning-rate factor, in `parameters()` order (weight, bias per layer).
pub(crate) fn learning_rate_scales(
    layers: &[Dense],
    base_width: usize,
    family: OptimizerFamily,
) -> Result<Vec<f32>> {
    let mut scales = Vec::with_capacity(2 * layers.len());
    for (index, layer) in layers.iter().enumerate() {
        for shape in shapes(layer, index, layers.len(), base_width) {
            let scale = shape.learning_rate_scale(family).ok_or_else(|| {
                Error::invalid(
                    "optimizer",
                    "sgd-like or adam-like (OptimizerFamily) under mup, whose learning-rate \
                     rule is defined for those two",
                    format!("{family:?}"),
                )
            })?;
            scales.push(scale);
        }
    }
    Ok(scales)
}

/// Turns freshly initialized SP layers into muP ones, as `mup.set_base_shapes(model, base,
/// rescale_params=True)` with a `MuReadout` does: hidden biases `× √fan_in_mult`, readout
/// weight and bias `× √width_mult` and its output multiplier `1 / width_mult`.
pub(crate) fn apply(layers: &mut [Dense], base_width: usize) -> Result<()> {
    if base_width == 0 {
        return Err(Error::invalid("base_width", "> 0", 0));
    }
    let count = layers.len();
    for (index, layer) in layers.iter_mut().enumerate() {
        let [weight_shape, _] = shapes(layer, index, count, base_width);
        let Some(fan_in_mult) = weight_shape.fan_in else {
            continue;
        };
        let root = fan_in_mult.sqrt();
        layer.bias_mut().iter_mut().for_each(|b| *b *= root);
        if index + 1 == count {
            layer.weight_raw_mut().iter_mut().for_each(|w| *w *= root);
            layer.set_multiplier(1.0 / fan_in_mult);
        }
    }
    Ok(())
}

/// A coordinate check (`microsoft/mup`'s `get_coord_data`): the mean absolute activation of
/// each layer at each of the first training steps, for networks of several widths.
///
/// Under muP each layer's row is flat across widths; under SP the readout (and, with Adam,
/// the hidden layers) grow with width after the first steps. Build one with
/// [`coordinate_check`]; it prints as a table and draws as an SVG.
#[derive(Clone, Debug, PartialEq)]
pub struct CoordinateCheck {
    /// The widths, in the order given.
    pub widths: Vec<usize>,
    /// The number of training steps recorded (1 = at initialization).
    pub steps: usize,
    /// The number of layers.
    pub layers: usize,
    /// `mean_abs[w][t][l]`: mean `|y|` of layer `l` of the network of width `widths[w]` in
    /// the forward pass of step `t + 1` (before that step's update, as `mup` records it).
    pub mean_abs: Vec<Vec<Vec<f64>>>,
}

impl CoordinateCheck {
    /// The largest over the smallest mean `|y|` of `layer` at step `step` (1-based) across
    /// the widths: 1 when the row is flat.
    ///
    /// ```
    /// use nninit::CoordinateCheck;
    /// let check = CoordinateCheck {
    ///     widths: vec![64, 128],
    ///     steps: 1,
    ///     layers: 1,
    ///     mean_abs: vec![vec![vec![0.5]], vec![vec![2.0]]],
    /// };
    /// assert_eq!(check.spread(0, 1), Some(4.0));
    /// ```
    pub fn spread(&self, layer: usize, step: usize) -> Option<f64> {
        let values: Vec<f64> = self
            .mean_abs
            .iter()
            .map(|per_width| per_width.get(step.checked_sub(1)?)?.get(layer).copied())
            .collect::<Option<_>>()?;
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        (min > 0.0 && max.is_finite()).then(|| max / min)
    }

    /// The spread of the readout (the last layer) at the last step.
    ///
    /// ```
    /// use nninit::CoordinateCheck;
    /// let check = CoordinateCheck { widths: vec![1, 2], steps: 1, layers: 1, mean_abs: vec![vec![vec![1.0]], vec![vec![3.0]]] };
    /// assert_eq!(check.readout_spread(), Some(3.0));
    /// ```
    pub fn readout_spread(&self) -> Option<f64> {
        self.spread(self.layers.checked_sub(1)?, self.steps)
    }

    /// An SVG with one panel per layer: mean `|y|` against width (both on log scales), one
    /// line per step, as the plots of `mup`'s `plot_coord_data`.
    ///
    /// ```
    /// use nninit::CoordinateCheck;
    /// let check = CoordinateCheck { widths: vec![64, 128], steps: 1, layers: 1, mean_abs: vec![vec![vec![0.5]], vec![vec![0.6]]] };
    /// assert!(check.to_svg("muP").starts_with("<svg"));
    /// ```
    pub fn to_svg(&self, title: &str) -> String {
        let panels: Vec<Panel> = (0..self.layers)
            .map(|layer| Panel {
                title: if layer + 1 == self.layers {
                    format!("layer {layer} (readout)")
                } else {
                    format!("layer {layer}")
                },
                series: (0..self.steps)
                    .map(|t| {
                        let points = self
                            .widths
                            .iter()
                            .zip(&self.mean_abs)
                            .map(|(&w, m)| (w as f64, m[t][layer]))
                            .collect();
                        (format!("t = {}", t + 1), points)
                    })
                    .collect(),
            })
            .collect();
        crate::nn::svg::panels(title, "width", "mean |y|", &panels)
    }
}

impl fmt::Display for CoordinateCheck {
    /// One row per (layer, step), one column per width.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>6} {:>5}", "layer", "step")?;
        for width in &self.widths {
            write!(f, " {:>10}", format!("w={width}"))?;
        }
        writeln!(f, " {:>8}", "spread")?;
        for layer in 0..self.layers {
            for step in 1..=self.steps {
                write!(f, "{layer:>6} {step:>5}")?;
                for per_width in &self.mean_abs {
                    write!(f, " {:>10.4}", per_width[step - 1][layer])?;
                }
                match self.spread(layer, step) {
                    Some(spread) => writeln!(f, " {spread:>7.2}x")?,
                    None => writeln!(f, " {:>8}", "-")?,
                }
            }
        }
        Ok(())
    }
}

/// One plot panel: a title and named series of `(x, y)` points.
pub(crate) struct Panel {
    pub(crate) title: String,
    pub(crate) series: Vec<(String, Vec<(f64, f64)>)>,
}

/// Runs a coordinate check: for each width, `build(width)` makes a network, `optimizer()` a
/// fresh optimizer, and `steps` training steps on the fixed batch `(x, y)` record the mean
/// absolute activation of every layer in each step's forward pass.
///
/// # Errors
/// [`Error::InvalidArgument`] for no widths, zero steps or networks of different depths;
/// the builder's, the loss's and the training step's own errors.
///
/// ```
/// use nninit::{coordinate_check, Adam, Identity, Mse, Network, Optimizer, Relu};
/// let x: Vec<f32> = (0..32).map(|i| (i as f32 * 0.37).sin()).collect(); // 8 samples x 4
/// let y: Vec<f32> = (0..8).map(|i| (i as f32 * 0.5).cos()).collect();
/// let check = coordinate_check(
///     &[64, 128, 256],
///     |width| Network::builder(4).dense(width, Relu).dense(width, Relu).dense(1, Identity).mup(64).seed(1).build(),
///     || Box::new(Adam::new(0.01)) as Box<dyn Optimizer>,
///     &x,
///     &y,
///     &Mse,
///     3,
/// )?;
/// assert_eq!(check.mean_abs.len(), 3);
/// assert!(check.to_string().contains("w=256"));
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn coordinate_check<B, O>(
    widths: &[usize],
    build: B,
    optimizer: O,
    x: &[f32],
    y: &[f32],
    loss: &dyn Loss,
    steps: usize,
) -> Result<CoordinateCheck>
where
    B: Fn(usize) -> Result<Network>,
    O: Fn() -> Box<dyn Optimizer>,
{
    if widths.is_empty() {
        return Err(Error::invalid("widths", "at least one width", "[]"));
    }
    if steps == 0 {
        return Err(Error::invalid("steps", "> 0", 0));
    }
    let mut mean_abs = Vec::with_capacity(widths.len());
    let mut depth = None;
    for &width in widths {
        let mut network = build(width)?;
        let layers = network.layers().len();
        if *depth.get_or_insert(layers) != layers {
            return Err(Error::invalid(
                "build",
                format!("networks of one depth ({} layers)", depth.unwrap_or(layers)),
                format!("{layers} layers at width {width}"),
            ));
        }
        let mut optimizer = optimizer();
        let mut per_step = Vec::with_capacity(steps);
        for _ in 0..steps {
            network.train_step(x, y, loss, optimizer.as_mut())?;
            per_step.push(
                (0..layers)
                    .map(|l| network.activations(l).map_or(0.0, mean_absolute))
                    .collect(),
            );
        }
        mean_abs.push(per_step);
    }
    Ok(CoordinateCheck {
        widths: widths.to_vec(),
        steps,
        layers: depth.unwrap_or(0),
        mean_abs,
    })
}

/// The mean of `|v|`, accumulated in `f64`.
fn mean_absolute(values: &[f32]) -> f64 {
    values.iter().map(|v| f64::from(v.abs())).sum::<f64>() / values.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mup_readme_table_holds() {
        let hidden = InfiniteShape {
            fan_in: Some(4.0),
            fan_out: Some(4.0),
        };
        let input = InfiniteShape {
            fan_in: None,
            fan_out: Some(4.0),
        };
        let readout = InfiniteShape {
            fan_in: Some(4.0),
            fan_out: None,
        };
        let fixed = InfiniteShape {
            fan_in: None,
            fan_out: None,
        };
        use OptimizerFamily::{AdamLike, SgdLike};
        assert_eq!(hidden.learning_rate_scale(AdamLike), Some(0.25));
        assert_eq!(hidden.learning_rate_scale(SgdLike), Some(1.0));
        for vector in [input, readout] {
            assert_eq!(vector.learning_rate_scale(AdamLike), Some(1.0));
            assert_eq!(vector.learning_rate_scale(SgdLike), Some(4.0));
        }
        assert_eq!(fixed.learning_rate_scale(SgdLike), Some(1.0));
        assert_eq!(fixed.learning_rate_scale(OptimizerFamily::Other), None);
    }
}
