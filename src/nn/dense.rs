//! `Dense`: one fully connected layer `y = f(x Wᵀ + b)`, stored as PyTorch's `nn.Linear`.

use std::fmt;

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::fans::Fans;
use crate::init::{Initializer, InitializerFamily};
use crate::nn::optimizer::Parameter;

/// A fully connected layer: `y = f(x Wᵀ + b)`.
///
/// The weight is `out_features x in_features`, row-major (PyTorch's `nn.Linear` layout, so a
/// state dict moves between the two without transposing); the bias has `out_features`
/// elements. The layer also keeps the gradients of its last backward pass.
///
/// # Shapes
/// - input: `batch x in_features`, row-major;
/// - output: `batch x out_features`, row-major.
///
/// ```
/// use nninit::{Dense, Relu};
/// let layer = Dense::new(3, 2, Relu)?;
/// assert_eq!((layer.in_features(), layer.out_features()), (3, 2));
/// assert_eq!(layer.weight().len(), 6);
/// assert_eq!(format!("{layer:?}"), "Dense { in_features: 3, out_features: 2, activation: \"relu\", initializer: \"Zeros\" }");
/// # Ok::<(), nninit::Error>(())
/// ```
pub struct Dense {
    in_features: usize,
    out_features: usize,
    weight: Vec<f32>,
    bias: Vec<f32>,
    activation: Box<dyn Activation>,
    initializer: &'static str,
    initializer_family: InitializerFamily,
    multiplier: f32,
    pub(crate) weight_gradient: Vec<f32>,
    pub(crate) bias_gradient: Vec<f32>,
}

impl Dense {
    /// A layer from `in_features` to `out_features` with all-zero weight and bias.
    ///
    /// Fill the weight afterwards, e.g. with [`init_weight`](Dense::init_weight),
    /// `xavier_uniform(&mut layer, ...)` or through [`weight_mut`](Dense::weight_mut);
    /// [`Network::builder`](crate::Network::builder) does this for you. A zero size is an
    /// error, and so is an activation whose parameters [`Activation::validate`] refuses.
    ///
    /// ```
    /// let layer = nninit::Dense::new(4, 8, nninit::Tanh)?;
    /// assert!(layer.weight().iter().all(|&w| w == 0.0));
    /// assert!(nninit::Dense::new(0, 8, nninit::Tanh).is_err());
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn new<A: Activation + 'static>(
        in_features: usize,
        out_features: usize,
        activation: A,
    ) -> Result<Dense> {
        Dense::with_boxed(in_features, out_features, Box::new(activation))
    }

    /// [`Dense::new`] with an activation that is already boxed.
    pub(crate) fn with_boxed(
        in_features: usize,
        out_features: usize,
        activation: Box<dyn Activation>,
    ) -> Result<Dense> {
        activation.validate()?;
        if in_features == 0 {
            return Err(Error::invalid("in_features", "> 0", in_features));
        }
        if out_features == 0 {
            return Err(Error::invalid("out_features", "> 0", out_features));
        }
        let size = in_features.checked_mul(out_features).ok_or_else(|| {
            Error::invalid(
                "in_features * out_features",
                "a size that fits in usize",
                format!("{in_features} * {out_features}"),
            )
        })?;
        Ok(Dense {
            in_features,
            out_features,
            weight: vec![0.0; size],
            bias: vec![0.0; out_features],
            activation,
            initializer: "Zeros",
            initializer_family: InitializerFamily::Constant,
            multiplier: 1.0,
            weight_gradient: vec![0.0; size],
            bias_gradient: vec![0.0; out_features],
        })
    }

    /// The number of inputs of each unit.
    ///
    /// ```
    /// assert_eq!(nninit::Dense::new(5, 3, nninit::Relu)?.in_features(), 5);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn in_features(&self) -> usize {
        self.in_features
    }

    /// The number of units (outputs).
    ///
    /// ```
    /// assert_eq!(nninit::Dense::new(5, 3, nninit::Relu)?.out_features(), 3);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn out_features(&self) -> usize {
        self.out_features
    }

    /// The weight, `out_features x in_features`, row-major: row `u` holds unit `u`'s incoming
    /// weights.
    ///
    /// ```
    /// let layer = nninit::Dense::new(5, 3, nninit::Relu)?;
    /// assert_eq!(layer.weight().len(), 15);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn weight(&self) -> &[f32] {
        &self.weight
    }

    /// The weight, mutably (same layout as [`weight`](Dense::weight)).
    ///
    /// Writing through it marks the layer's initializer as `"custom"` for the diagnostics.
    ///
    /// ```
    /// let mut layer = nninit::Dense::new(2, 1, nninit::Relu)?;
    /// layer.weight_mut().copy_from_slice(&[0.5, -0.5]);
    /// assert_eq!(layer.weight(), &[0.5, -0.5]);
    /// assert_eq!(layer.initializer(), "custom");
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn weight_mut(&mut self) -> &mut [f32] {
        self.set_initializer("custom", InitializerFamily::Other);
        &mut self.weight
    }

    /// Fills the weight with `init` from the seeded stream, with the fans of the layer's own
    /// shape (`[out_features, in_features]`: `fan_in = in_features`, `fan_out = out_features`),
    /// and records the initializer ([`initializer`](Dense::initializer),
    /// [`initializer_family`](Dense::initializer_family)).
    ///
    /// ```
    /// use nninit::{Dense, HeNormal, InitializerFamily, Relu};
    /// let mut layer = Dense::new(784, 256, Relu)?;
    /// layer.init_weight(&HeNormal::default(), 42)?;
    /// assert_eq!(layer.initializer_family(), InitializerFamily::He);
    /// let std = (layer.weight().iter().map(|w| w * w).sum::<f32>() / (784.0 * 256.0)).sqrt();
    /// assert!((std - (2.0f32 / 784.0).sqrt()).abs() < 0.01 * std);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn init_weight<I: Initializer<f32> + ?Sized>(&mut self, init: &I, seed: u64) -> Result<()> {
        let fans = Fans::new(self.in_features, self.out_features);
        init.fill_seeded(&mut self.weight, fans, seed)?;
        self.set_initializer(init.name(), init.family());
        Ok(())
    }

    /// The bias, `out_features` elements.
    ///
    /// ```
    /// assert_eq!(nninit::Dense::new(5, 3, nninit::Relu)?.bias(), &[0.0; 3]);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn bias(&self) -> &[f32] {
        &self.bias
    }

    /// The bias, mutably.
    ///
    /// ```
    /// let mut layer = nninit::Dense::new(5, 3, nninit::Relu)?;
    /// layer.bias_mut().fill(0.1);
    /// assert_eq!(layer.bias(), &[0.1; 3]);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn bias_mut(&mut self) -> &mut [f32] {
        &mut self.bias
    }

    /// The layer's activation.
    ///
    /// ```
    /// assert_eq!(nninit::Dense::new(5, 3, nninit::Relu)?.activation().name(), "relu");
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn activation(&self) -> &dyn Activation {
        self.activation.as_ref()
    }

    /// The name of the initializer that filled the weight (`Initializer::name`), through the
    /// builder, [`init_weight`](Dense::init_weight) or a free function such as
    /// `kaiming_normal(&mut layer, ..)`: `"Zeros"` for a fresh [`Dense::new`], `"custom"` after
    /// a write through [`weight_mut`](Dense::weight_mut). For display; decisions use
    /// [`initializer_family`](Dense::initializer_family).
    ///
    /// ```
    /// assert_eq!(nninit::Dense::new(5, 3, nninit::Relu)?.initializer(), "Zeros");
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn initializer(&self) -> &'static str {
        self.initializer
    }

    /// The family of the initializer that filled the weight (`Initializer::family`), recorded
    /// as [`initializer`](Dense::initializer) is: `Constant` for a fresh layer, `Other` after a
    /// write through [`weight_mut`](Dense::weight_mut). The diagnostics use it to spot
    /// mismatched activation / initializer pairs.
    ///
    /// ```
    /// use nninit::{Dense, InitializerFamily, Tanh};
    /// let mut layer = Dense::new(5, 3, Tanh)?;
    /// assert_eq!(layer.initializer_family(), InitializerFamily::Constant);
    /// nninit::xavier_uniform(&mut layer, 5, 3)?;
    /// assert_eq!(layer.initializer_family(), InitializerFamily::Glorot);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn initializer_family(&self) -> InitializerFamily {
        self.initializer_family
    }

    /// Records which initializer filled the weight.
    pub(crate) fn set_initializer(&mut self, name: &'static str, family: InitializerFamily) {
        self.initializer = name;
        self.initializer_family = family;
    }

    /// The factor `α` of `z = α · x Wᵀ + b`: 1, except for the readout of a muP network
    /// (`1 / width_mult`, see [`NetworkBuilder::mup`](crate::NetworkBuilder::mup)), as
    /// `microsoft/mup`'s `MuReadout` multiplies its input. It is not part of the state dict.
    ///
    /// ```
    /// assert_eq!(nninit::Dense::new(5, 3, nninit::Relu)?.multiplier(), 1.0);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn multiplier(&self) -> f32 {
        self.multiplier
    }

    /// Sets the factor of [`multiplier`](Dense::multiplier) (for the muP builder).
    pub(crate) fn set_multiplier(&mut self, multiplier: f32) {
        self.multiplier = multiplier;
    }

    /// The weight's gradient from the last backward pass (same layout as the weight).
    ///
    /// ```
    /// let layer = nninit::Dense::new(5, 3, nninit::Relu)?;
    /// assert_eq!(layer.weight_gradient().len(), 15);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn weight_gradient(&self) -> &[f32] {
        &self.weight_gradient
    }

    /// The bias's gradient from the last backward pass.
    ///
    /// ```
    /// let layer = nninit::Dense::new(5, 3, nninit::Relu)?;
    /// assert_eq!(layer.bias_gradient(), &[0.0; 3]);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn bias_gradient(&self) -> &[f32] {
        &self.bias_gradient
    }

    /// The weight and the bias with their gradients, for the optimizer.
    pub(crate) fn parameters_and_gradients(&mut self) -> [Parameter<'_>; 2] {
        [
            Parameter {
                values: &mut self.weight,
                gradient: &self.weight_gradient,
            },
            Parameter {
                values: &mut self.bias,
                gradient: &self.bias_gradient,
            },
        ]
    }

    /// The weight and the bias, mutably (marks the initializer as custom).
    pub(crate) fn weight_and_bias_mut(&mut self) -> (&mut [f32], &mut [f32]) {
        self.set_initializer("custom", InitializerFamily::Other);
        (&mut self.weight, &mut self.bias)
    }

    /// The weight, mutably, without marking the initializer as custom (for the builder).
    pub(crate) fn weight_raw_mut(&mut self) -> &mut [f32] {
        &mut self.weight
    }
}

impl fmt::Debug for Dense {
    /// Shapes and names, never the data.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dense")
            .field("in_features", &self.in_features)
            .field("out_features", &self.out_features)
            .field("activation", &self.activation.name())
            .field("initializer", &self.initializer)
            .finish()
    }
}

impl crate::init::Weights for Dense {
    type Element = f32;

    /// The weight matrix, so `xavier_uniform(&mut dense, fan_in, fan_out)` fills it. The free
    /// functions then record their initializer ([`initialized_by`](Self::initialized_by));
    /// write by hand through [`Dense::weight_mut`], which records `"custom"`.
    fn weights_mut(&mut self) -> crate::Result<&mut [f32]> {
        Ok(&mut self.weight)
    }

    /// `fan_in = in_features`, `fan_out = out_features`.
    fn fans(&self) -> Option<Fans> {
        Some(Fans::new(self.in_features, self.out_features))
    }

    fn initialized_by(&mut self, name: &'static str, family: InitializerFamily) {
        self.set_initializer(name, family);
    }
}
