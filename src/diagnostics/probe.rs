//! [`Probe`]: the diagnostics for any model, fed layer by layer with plain slices.
//!
//! A candle, burn or hand-written model hands over, per layer, what every framework has after
//! a forward and a backward pass: the pre-activations and outputs (`batch x units`), the
//! activation, the weight (`out x in`, PyTorch layout) with its fans, the weight gradient and
//! the gradient with respect to the layer's outputs. [`Network::diagnose`] is one user of it.
//!
//! [`Network::diagnose`]: crate::Network::diagnose

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::fans::Fans;
use crate::init::InitializerFamily;
use crate::nn::l2_norm;

use super::statistics::{self, Saturation, UnitsView};
use super::{Histogram, LayerStats, Report, warnings};

/// Collects per-layer measurements of any model and turns them into a [`Report`] with the same
/// statistics and warnings as [`Network::diagnose`](crate::Network::diagnose).
///
/// ```
/// use nninit::{Fans, InitializerFamily, Probe, ProbeLayer, Tanh};
/// // One tanh layer, 1 input -> 2 units, on a batch of 2 samples, measured by hand.
/// let (x, w) = ([1.0, -1.0], [0.5, -0.5]);
/// let z = [0.5, -0.5, -0.5, 0.5]; // x Wᵀ
/// let y = z.map(f32::tanh);
/// let (dw, dy) = ([0.1, 0.2], [0.1, 0.0, 0.0, -0.1]);
/// let mut probe = Probe::new(&x, 0.7)?.uninformed_loss(Some(2f32.ln()));
/// probe.layer(
///     ProbeLayer::new(&Tanh, Fans::new(1, 2), &w)
///         .outputs(&z, &y)
///         .gradients(&dw, &dy)
///         .initializer("GlorotUniform", InitializerFamily::Glorot),
/// )?;
/// let report = probe.report();
/// assert!((report.layers[0].pre_activation_std - 0.5).abs() < 1e-6);
/// assert_eq!(report.layers[0].gradient_to_data, Some(0.1)); // std([0.1, 0.2]) / std([0.5, -0.5])
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Probe {
    input_std: f64,
    batch: usize,
    loss: f32,
    accuracy: Option<f32>,
    uninformed_loss: Option<f32>,
    layers: Vec<LayerStats>,
}

/// One layer's measurements, handed to [`Probe::layer`]. Slices are row-major: activations and
/// gradients `batch x units`, the weight and its gradient `units x inputs` (PyTorch's
/// `nn.Linear` layout; transpose a burn `[d_input, d_output]` weight first).
///
/// ```
/// use nninit::{Fans, ProbeLayer, Relu};
/// let w = [0.1; 6];
/// let layer = ProbeLayer::new(&Relu, Fans::new(3, 2), &w);
/// assert_eq!(format!("{layer:?}"), "ProbeLayer { activation: \"relu\", fans: Fans { fan_in: 3, fan_out: 2 } }");
/// ```
pub struct ProbeLayer<'a> {
    activation: &'a dyn Activation,
    fans: Fans,
    weight: &'a [f32],
    bias: Option<&'a [f32]>,
    outputs: Option<(&'a [f32], &'a [f32])>,
    gradients: Option<(&'a [f32], &'a [f32])>,
    update: Option<&'a [f32]>,
    initializer: (&'static str, InitializerFamily),
}

impl std::fmt::Debug for ProbeLayer<'_> {
    /// The activation and the shape, never the data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProbeLayer")
            .field("activation", &self.activation.name())
            .field("fans", &self.fans)
            .finish()
    }
}

impl<'a> ProbeLayer<'a> {
    /// A layer with activation `activation` (its [family](Activation::family), asymptotes and
    /// whether units can die drive the statistics and warnings) and weight `weight`
    /// (`fans.fan_out x fans.fan_in`). Supply the outputs and the gradients before handing it
    /// to [`Probe::layer`].
    ///
    /// ```
    /// # use nninit::{Fans, ProbeLayer, Tanh};
    /// let layer = ProbeLayer::new(&Tanh, Fans::new(2, 1), &[0.3, -0.3]);
    /// # let _ = layer;
    /// ```
    pub fn new(activation: &'a dyn Activation, fans: Fans, weight: &'a [f32]) -> ProbeLayer<'a> {
        ProbeLayer {
            activation,
            fans,
            weight,
            bias: None,
            outputs: None,
            gradients: None,
            update: None,
            initializer: ("unknown", InitializerFamily::Other),
        }
    }

    /// The pre-activations `z = x Wᵀ + b` and the outputs `y = f(z)`, both `batch x units`.
    ///
    /// ```
    /// # use nninit::{Fans, ProbeLayer, Relu};
    /// let layer = ProbeLayer::new(&Relu, Fans::new(1, 1), &[1.0]).outputs(&[-1.0, 2.0], &[0.0, 2.0]);
    /// # let _ = layer;
    /// ```
    pub fn outputs(mut self, pre_activations: &'a [f32], activations: &'a [f32]) -> Self {
        self.outputs = Some((pre_activations, activations));
        self
    }

    /// The weight gradient `∂L/∂W` (`units x inputs`) and the back-propagated gradient `∂L/∂y`
    /// with respect to the layer's outputs (`batch x units`).
    ///
    /// ```
    /// # use nninit::{Fans, ProbeLayer, Relu};
    /// let layer = ProbeLayer::new(&Relu, Fans::new(1, 1), &[1.0]).gradients(&[0.5], &[0.1, 0.2]);
    /// # let _ = layer;
    /// ```
    pub fn gradients(mut self, weight_gradient: &'a [f32], output_gradient: &'a [f32]) -> Self {
        self.gradients = Some((weight_gradient, output_gradient));
        self
    }

    /// The bias (`units`), used to tell identical units apart.
    ///
    /// ```
    /// # use nninit::{Fans, ProbeLayer, Relu};
    /// let layer = ProbeLayer::new(&Relu, Fans::new(1, 2), &[1.0, 1.0]).bias(&[0.0, 0.1]);
    /// # let _ = layer;
    /// ```
    pub fn bias(mut self, bias: &'a [f32]) -> Self {
        self.bias = Some(bias);
        self
    }

    /// The change `ΔW` the optimizer's step makes to the weight (`units x inputs`), for the
    /// update-to-data ratio. With plain SGD it is `-learning_rate · ∂L/∂W`.
    ///
    /// ```
    /// # use nninit::{Fans, ProbeLayer, Relu};
    /// let layer = ProbeLayer::new(&Relu, Fans::new(1, 2), &[1.0, -1.0]).update(&[1e-3, -1e-3]);
    /// # let _ = layer;
    /// ```
    pub fn update(mut self, update: &'a [f32]) -> Self {
        self.update = Some(update);
        self
    }

    /// The initializer that filled the weight, by name (shown) and family (what the
    /// activation / initializer mismatch warning decides on). Default: `"unknown"`, `Other`.
    ///
    /// ```
    /// # use nninit::{Fans, InitializerFamily, ProbeLayer, Relu};
    /// let layer = ProbeLayer::new(&Relu, Fans::new(1, 1), &[1.0]).initializer("HeNormal", InitializerFamily::He);
    /// # let _ = layer;
    /// ```
    pub fn initializer(mut self, name: &'static str, family: InitializerFamily) -> Self {
        self.initializer = (name, family);
        self
    }
}

impl Probe {
    /// A probe for one batch whose network input is `input` (any layout: only its std is used,
    /// as the reference the layers' activation stds are compared with) and whose loss is
    /// `loss`.
    ///
    /// # Errors
    /// An empty or non-finite input, a non-finite loss.
    ///
    /// ```
    /// assert!(nninit::Probe::new(&[], 0.5).is_err());
    /// assert!(nninit::Probe::new(&[1.0, f32::NAN], 0.5).is_err());
    /// assert!(nninit::Probe::new(&[1.0], f32::INFINITY).is_err());
    /// ```
    pub fn new(input: &[f32], loss: f32) -> Result<Probe> {
        if input.is_empty() {
            return Err(Error::LengthMismatch {
                what: "probe input".into(),
                expected: "at least one value".into(),
                found: 0,
            });
        }
        check_finite("probe input", input)?;
        if !loss.is_finite() {
            return Err(Error::NonFinite {
                what: "probe loss".into(),
                value: f64::from(loss),
            });
        }
        Ok(Probe {
            input_std: statistics::std(input),
            batch: 0,
            loss,
            accuracy: None,
            uninformed_loss: None,
            layers: Vec::new(),
        })
    }

    /// For classification losses, the loss of uninformed predictions
    /// ([`Loss::uninformed_loss`](crate::Loss::uninformed_loss): `ln C`, `ln 2`), which the
    /// initial-loss check compares the loss with. `None` (the default) skips the check.
    ///
    /// ```
    /// use nninit::{CrossEntropy, Loss};
    /// let probe = nninit::Probe::new(&[1.0], 2.3)?.uninformed_loss(CrossEntropy.uninformed_loss(10));
    /// assert_eq!(probe.report().uninformed_loss, Some(10f32.ln()));
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn uninformed_loss(mut self, uninformed: Option<f32>) -> Probe {
        self.uninformed_loss = uninformed;
        self
    }

    /// The accuracy on the batch, for classification.
    ///
    /// ```
    /// let probe = nninit::Probe::new(&[1.0], 0.1)?.accuracy(0.5);
    /// assert_eq!(probe.report().accuracy, Some(0.5));
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn accuracy(mut self, accuracy: f32) -> Probe {
        self.accuracy = Some(accuracy);
        self
    }

    /// Measures the next layer (input side first).
    ///
    /// # Errors
    /// Missing outputs or gradients; slices whose lengths do not fit the fans and the batch
    /// (the first layer's outputs fix the batch size); non-finite values, named by layer.
    ///
    /// ```
    /// use nninit::{Fans, Probe, ProbeLayer, Relu};
    /// let mut probe = Probe::new(&[1.0], 0.1)?;
    /// let short = ProbeLayer::new(&Relu, Fans::new(1, 2), &[1.0])
    ///     .outputs(&[1.0, 2.0], &[1.0, 2.0])
    ///     .gradients(&[0.1, 0.2], &[0.1, 0.2]);
    /// let err = probe.layer(short).unwrap_err();
    /// assert_eq!(err.to_string(), "layer 0 weight has length 1, expected 2 (2 units x 1 inputs)");
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn layer(&mut self, layer: ProbeLayer<'_>) -> Result<()> {
        let index = self.layers.len();
        let stats = self.measure(index, &layer)?;
        self.layers.push(stats);
        Ok(())
    }

    /// The report: the layers measured so far, and the warnings their numbers call for.
    ///
    /// ```
    /// let report = nninit::Probe::new(&[1.0], 0.1)?.report();
    /// assert!(report.layers.is_empty() && report.is_healthy());
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn report(&self) -> Report {
        let mut report = Report {
            loss: self.loss,
            accuracy: self.accuracy,
            uninformed_loss: self.uninformed_loss,
            input_std: self.input_std as f32,
            layers: self.layers.clone(),
            warnings: Vec::new(),
        };
        report.warnings = warnings::warnings(&report);
        report
    }

    fn measure(&mut self, index: usize, layer: &ProbeLayer<'_>) -> Result<LayerStats> {
        let Fans { fan_in, fan_out } = layer.fans;
        let missing = |what: &str| {
            Error::invalid(
                "probe layer",
                format!("given its {what}"),
                format!("layer {index} without them"),
            )
        };
        let (pre_activations, activations) = layer.outputs.ok_or_else(|| missing("outputs"))?;
        let (weight_gradient, output_gradient) =
            layer.gradients.ok_or_else(|| missing("gradients"))?;
        let weight_shape = Shape(
            fan_in * fan_out,
            format!("{fan_out} units x {fan_in} inputs"),
        );
        let label = |what: &str| format!("layer {index} {what}");
        check_length(&label("weight"), layer.weight, &weight_shape)?;
        check_length(&label("weight gradient"), weight_gradient, &weight_shape)?;
        if let Some(update) = layer.update {
            check_length(&label("update"), update, &weight_shape)?;
        }
        if let Some(bias) = layer.bias {
            check_length(&label("bias"), bias, &Shape(fan_out, "units".into()))?;
        }
        if self.batch == 0 {
            self.batch = batch_of(&label("activations"), activations, fan_out)?;
        }
        let outputs_shape = Shape(
            self.batch * fan_out,
            format!("{} samples x {fan_out} units", self.batch),
        );
        for (what, values) in [
            ("pre-activations", pre_activations),
            ("activations", activations),
            ("output gradient", output_gradient),
        ] {
            check_length(&label(what), values, &outputs_shape)?;
        }
        for (what, values) in [
            ("weight", layer.weight),
            ("bias", layer.bias.unwrap_or(&[])),
            ("pre-activations", pre_activations),
            ("activations", activations),
            ("weight gradient", weight_gradient),
            ("output gradient", output_gradient),
            ("update", layer.update.unwrap_or(&[])),
        ] {
            check_finite(&label(what), values)?;
        }
        let weight_std = statistics::std(layer.weight);
        let activation = layer.activation;
        let saturation = Saturation::new(activation.saturation_bounds());
        let (mean, std) = statistics::mean_std(activations);
        let units = UnitsView {
            weight: layer.weight,
            bias: layer.bias,
            outputs: activations,
            inputs: fan_in,
            units: fan_out,
        };
        Ok(LayerStats {
            index,
            in_features: fan_in,
            out_features: fan_out,
            activation: activation.name().to_string(),
            activation_family: activation.family(),
            initializer: layer.initializer.0,
            initializer_family: layer.initializer.1,
            activation_mean: mean as f32,
            activation_std: std as f32,
            pre_activation_std: statistics::std(pre_activations) as f32,
            std_ratio: (std / self.input_std) as f32,
            saturated_fraction: statistics::saturated_fraction(saturation.as_ref(), activations),
            dead_fraction: if activation.is_rectifier() {
                statistics::dead_fraction(activations, fan_out)
            } else {
                0.0
            },
            symmetric_units: statistics::symmetric_units(&units, saturation.as_ref()),
            gradient_norm: l2_norm(weight_gradient) as f32,
            gradient_std: statistics::std(output_gradient) as f32,
            gradient_to_data: statistics::std_ratio(weight_gradient, weight_std),
            update_to_data: layer
                .update
                .and_then(|update| statistics::std_ratio(update, weight_std)),
            weight_std: weight_std as f32,
            activation_histogram: Histogram::of(activations, activation.saturation_bounds()),
            gradient_histogram: Histogram::of(output_gradient, None),
        })
    }
}

/// The batch size implied by the first layer's outputs.
fn batch_of(what: &str, activations: &[f32], units: usize) -> Result<usize> {
    if activations.is_empty() || !activations.len().is_multiple_of(units) {
        return Err(Error::LengthMismatch {
            what: what.to_string(),
            expected: format!("a positive multiple of {units} (batch x units)"),
            found: activations.len(),
        });
    }
    Ok(activations.len() / units)
}

/// A required length and what it is made of, e.g. `6` and `"2 units x 3 inputs"`.
struct Shape(usize, String);

fn check_length(what: &str, values: &[f32], shape: &Shape) -> Result<()> {
    if values.len() != shape.0 {
        return Err(Error::LengthMismatch {
            what: what.to_string(),
            expected: format!("{} ({})", shape.0, shape.1),
            found: values.len(),
        });
    }
    Ok(())
}

fn check_finite(what: &str, values: &[f32]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(at) => Err(Error::NonFinite {
            what: format!("{what} at index {at}"),
            value: f64::from(values[at]),
        }),
        None => Ok(()),
    }
}
