//! `NetworkBuilder`: layers, initializers and a seed, checked once in `build`.

use std::fmt;

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::fans::Fans;
use crate::init::{Framework, Initializer};
use crate::nn::dense::Dense;
use crate::nn::mup;
use crate::nn::network::Network;

/// Builds a [`Network`]: `Network::builder(inputs).dense(units, activation)...build()`.
///
/// Initialization, per layer `i` with fans `(in_features, out_features)`:
/// - the weight is filled by, in order of precedence, the initializer given for that layer
///   ([`dense_with_init`](NetworkBuilder::dense_with_init) or
///   [`layer_init`](NetworkBuilder::layer_init)), the one given by the
///   [`init`](NetworkBuilder::init) call that covers the layer, or the activation's
///   [`recommended_init`](crate::Activation::recommended_init);
/// - the bias by [`bias_init`](NetworkBuilder::bias_init), zeros by default;
/// - both through `Initializer::fill_seeded` with a seed derived from the builder's
///   [`seed`](NetworkBuilder::seed) (default 0), the layer index and the tensor, so a build
///   is reproducible and independent of the thread count.
///
/// ```
/// use nninit::{Network, Relu, Sigmoid, HeNormal};
/// let a = Network::builder(4).dense(8, Relu).dense(1, Sigmoid).init(HeNormal::default()).seed(1).build()?;
/// let b = Network::builder(4).dense(8, Relu).dense(1, Sigmoid).init(HeNormal::default()).seed(1).build()?;
/// assert_eq!(a.layers()[0].weight(), b.layers()[0].weight());
/// assert_eq!(a.layers()[0].initializer(), "HeNormal");
/// # Ok::<(), nninit::Error>(())
/// ```
pub struct NetworkBuilder {
    inputs: usize,
    layers: Vec<LayerSpec>,
    /// The `init` calls, each with the number of layers added before it.
    inits: Vec<(usize, Box<dyn Initializer<f32>>)>,
    bias_init: Option<Box<dyn Initializer<f32>>>,
    layer_inits: Vec<(usize, Box<dyn Initializer<f32>>)>,
    seed: u64,
    mup_base_width: Option<usize>,
    readout_zero_init: bool,
}

/// One dense layer to build.
struct LayerSpec {
    units: usize,
    activation: Box<dyn Activation>,
    init: Option<Box<dyn Initializer<f32>>>,
}

impl NetworkBuilder {
    /// A builder for samples of `inputs` features (see [`Network::builder`]).
    pub(crate) fn new(inputs: usize) -> NetworkBuilder {
        NetworkBuilder {
            inputs,
            layers: Vec::new(),
            inits: Vec::new(),
            bias_init: None,
            layer_inits: Vec::new(),
            seed: 0,
            mup_base_width: None,
            readout_zero_init: false,
        }
    }

    /// Appends a dense layer of `units` units with `activation` (taken by value).
    ///
    /// ```
    /// use nninit::{Network, LeakyRelu, Identity};
    /// let net = Network::builder(3).dense(5, LeakyRelu::new(0.01)).dense(2, Identity).build()?;
    /// assert_eq!(net.layers()[0].activation().name(), "leaky_relu");
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn dense<A: Activation + 'static>(mut self, units: usize, activation: A) -> Self {
        self.layers.push(LayerSpec {
            units,
            activation: Box::new(activation),
            init: None,
        });
        self
    }

    /// Appends a dense layer whose weight `init` fills (overrides [`init`](Self::init)).
    ///
    /// ```
    /// use nninit::{Network, Relu, Sigmoid, HeUniform, GlorotUniform};
    /// let net = Network::builder(3)
    ///     .dense_with_init(5, Relu, HeUniform::default())
    ///     .dense_with_init(1, Sigmoid, GlorotUniform::default())
    ///     .build()?;
    /// assert_eq!(net.layers()[1].initializer(), "GlorotUniform");
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn dense_with_init<A, I>(mut self, units: usize, activation: A, init: I) -> Self
    where
        A: Activation + 'static,
        I: Initializer<f32> + 'static,
    {
        self.layers.push(LayerSpec {
            units,
            activation: Box::new(activation),
            init: Some(Box::new(init)),
        });
        self
    }

    /// Uses `init` for the weights of the layers without an initializer of their own that it
    /// covers: those added before it, back to the previous `init`, and those added after it
    /// that no later `init` follows. So a single `init`, wherever it stands, covers every
    /// layer, and `.dense(..).init(a).dense(..).init(b)` gives each layer its own. Of two
    /// calls with no layer between them, the later one wins.
    ///
    /// ```
    /// use nninit::{Network, Relu, Identity, Sigmoid, GlorotNormal, HeNormal, GlorotUniform};
    /// let net = Network::builder(3).dense(5, Relu).dense(1, Identity).init(GlorotNormal::default()).build()?;
    /// assert!(net.layers().iter().all(|l| l.initializer() == "GlorotNormal"));
    /// let net = Network::builder(3)
    ///     .dense(5, Relu)
    ///     .init(HeNormal::default())
    ///     .dense(1, Sigmoid)
    ///     .init(GlorotUniform::default())
    ///     .build()?;
    /// assert_eq!(net.layers()[0].initializer(), "HeNormal");
    /// assert_eq!(net.layers()[1].initializer(), "GlorotUniform");
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn init<I: Initializer<f32> + 'static>(mut self, init: I) -> Self {
        let here = self.layers.len();
        // Of two calls with no layer between them, the later one replaces the earlier.
        if self.inits.last().is_some_and(|&(at, _)| at == here) {
            self.inits.pop();
        }
        self.inits.push((here, Box::new(init)));
        self
    }

    /// Uses `init` for the weight of layer `index` (0 = first dense layer); overrides
    /// [`init`](Self::init) and [`dense_with_init`](Self::dense_with_init). An index past the
    /// last layer is an error at [`build`](Self::build).
    ///
    /// ```
    /// use nninit::{Network, Relu, Identity, Zeros};
    /// let net = Network::builder(3).dense(5, Relu).dense(1, Identity).layer_init(1, Zeros).build()?;
    /// assert!(net.layers()[1].weight().iter().all(|&w| w == 0.0));
    /// assert!(Network::builder(3).dense(5, Relu).layer_init(1, Zeros).build().is_err());
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn layer_init<I: Initializer<f32> + 'static>(mut self, index: usize, init: I) -> Self {
        self.layer_inits.push((index, Box::new(init)));
        self
    }

    /// Uses `init` for every bias (default: zeros, so no initializer is needed).
    ///
    /// ```
    /// use nninit::{Network, Relu, Constant};
    /// let net = Network::builder(3).dense(2, Relu).bias_init(Constant::new(0.1)).build()?;
    /// assert_eq!(net.layers()[0].bias(), &[0.1, 0.1]);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn bias_init<I: Initializer<f32> + 'static>(mut self, init: I) -> Self {
        self.bias_init = Some(Box::new(init));
        self
    }

    /// The seed from which every layer's seed is derived (default 0).
    ///
    /// ```
    /// use nninit::{Network, Tanh};
    /// let a = Network::builder(3).dense(4, Tanh).seed(1).build()?;
    /// let b = Network::builder(3).dense(4, Tanh).seed(2).build()?;
    /// assert_ne!(a.layers()[0].weight(), b.layers()[0].weight());
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Initializes weights and biases as `framework`'s dense layer does by default (see
    /// [`Framework`]): an [`init`](Self::init) call with its weight initializer, at this
    /// position, and [`bias_init`](Self::bias_init) with its bias initializer.
    ///
    /// ```
    /// use nninit::{Framework, Identity, Network, Relu};
    /// let net = Network::builder(16).dense(8, Relu).dense(1, Identity).init_like(Framework::PyTorch).build()?;
    /// let bound = 1.0 / 4.0; // nn.Linear: weight and bias U(±1/√fan_in), fan_in 16
    /// assert!(net.layers()[0].weight().iter().chain(net.layers()[0].bias()).all(|v| v.abs() <= bound));
    /// assert!(net.layers()[0].bias().iter().any(|&b| b != 0.0));
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn init_like(self, framework: Framework) -> Self {
        let with_weights = self.init(framework.weight_initializer::<f32>());
        NetworkBuilder {
            bias_init: Some(framework.bias_initializer()),
            ..with_weights
        }
    }

    /// The muP parametrization (Yang et al. 2022, "Tensor Programs V", `microsoft/mup`) with
    /// `base_width` the hidden width at which the learning rate was tuned: hidden biases are
    /// scaled by `√width_mult`, the readout (last layer) by `√width_mult` with an output
    /// multiplier `1 / width_mult`, and [`Sgd`](crate::Sgd) and [`Adam`](crate::Adam)
    /// apply muP's per-parameter learning rates in [`Network::train_step`]. The table of
    /// factors is in [`Network::learning_rate_scales`] and the module source. At
    /// `width = base_width` the network is exactly the standard one; without this call
    /// nothing changes.
    ///
    /// Hidden weights keep the initializer chosen for them, which should have variance
    /// `∝ 1 / fan_in` (He, LeCun, the activations' defaults). A zero `base_width` is an error
    /// at [`build`](Self::build).
    ///
    /// ```
    /// use nninit::{Identity, Network, Relu};
    /// let net = Network::builder(4).dense(512, Relu).dense(512, Relu).dense(1, Identity).mup(128).build()?;
    /// assert_eq!(net.layers()[2].multiplier(), 0.25); // 1 / (512 / 128)
    /// assert_eq!(net.layers()[1].multiplier(), 1.0);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn mup(mut self, base_width: usize) -> Self {
        self.mup_base_width = Some(base_width);
        self
    }

    /// Starts the readout (the last layer's weight and bias) at zero (`mup`'s
    /// `readout_zero_init`; default off). With muP this removes the `O(1/√width)` output at
    /// initialization, so that every width starts from the same function.
    ///
    /// ```
    /// use nninit::{Identity, Network, Relu};
    /// let net = Network::builder(4).dense(8, Relu).dense(2, Identity).readout_zero_init(true).build()?;
    /// assert!(net.layers()[1].weight().iter().all(|&w| w == 0.0));
    /// assert!(net.layers()[0].weight().iter().any(|&w| w != 0.0));
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn readout_zero_init(mut self, zero: bool) -> Self {
        self.readout_zero_init = zero;
        self
    }

    /// Checks the sizes and fills every layer.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for zero inputs, zero units, no layers, a
    /// [`layer_init`](Self::layer_init) index past the last layer or a zero muP base width;
    /// an initializer's own errors.
    ///
    /// ```
    /// use nninit::{Network, Relu};
    /// assert!(Network::builder(0).dense(3, Relu).build().is_err());
    /// assert!(Network::builder(2).dense(0, Relu).build().is_err());
    /// assert!(Network::builder(2).build().is_err());
    /// ```
    pub fn build(self) -> Result<Network> {
        if self.inputs == 0 {
            return Err(Error::invalid("inputs", "> 0", 0));
        }
        if self.layers.is_empty() {
            return Err(Error::invalid("layers", "at least one dense layer", 0));
        }
        let mut layer_inits: Vec<Option<Box<dyn Initializer<f32>>>> =
            self.layers.iter().map(|_| None).collect();
        for (index, init) in self.layer_inits {
            let slot = layer_inits.get_mut(index).ok_or_else(|| {
                Error::invalid(
                    "layer_init index",
                    format!("< {} (the number of layers)", self.layers.len()),
                    index,
                )
            })?;
            *slot = Some(init);
        }
        let mut layers = Vec::with_capacity(self.layers.len());
        let mut in_features = self.inputs;
        for (index, (spec, layer_init)) in self.layers.into_iter().zip(layer_inits).enumerate() {
            if spec.units == 0 {
                return Err(Error::invalid("units", format!("> 0 (layer {index})"), 0));
            }
            let recommended = spec.activation.recommended_init();
            let mut layer = Dense::with_boxed(in_features, spec.units, spec.activation)?;
            let fans = Fans::new(in_features, spec.units);
            let init = layer_init
                .as_deref()
                .or(spec.init.as_deref())
                .or(covering_init(&self.inits, index))
                .unwrap_or(recommended.as_ref());
            init.fill_seeded(
                layer.weight_raw_mut(),
                fans,
                layer_seed(self.seed, index, 0),
            )?;
            layer.set_initializer(init.name(), init.family());
            if let Some(bias_init) = &self.bias_init {
                bias_init.fill_seeded(layer.bias_mut(), fans, layer_seed(self.seed, index, 1))?;
            }
            in_features = spec.units;
            layers.push(layer);
        }
        if let Some(base_width) = self.mup_base_width {
            mup::apply(&mut layers, base_width)?;
        }
        if self.readout_zero_init {
            let readout = layers
                .last_mut()
                .expect("checked above: at least one layer");
            readout.weight_raw_mut().fill(0.0);
            readout.bias_mut().fill(0.0);
        }
        let mut network = Network::from_layers(layers)?;
        if let Some(base_width) = self.mup_base_width {
            network.set_mup_base_width(base_width);
        }
        Ok(network)
    }
}

/// The `init` call that covers layer `index`: the first one made after the layer was added,
/// else the last one made before it.
fn covering_init(
    inits: &[(usize, Box<dyn Initializer<f32>>)],
    index: usize,
) -> Option<&dyn Initializer<f32>> {
    inits
        .iter()
        .find(|(layers_before, _)| *layers_before > index)
        .or(inits.last())
        .map(|(_, init)| init.as_ref())
}

/// The seed of tensor `tensor` (0 = weight, 1 = bias) of layer `layer`: SplitMix64's
/// finalizer over the three, so neighbouring layers get unrelated streams.
fn layer_seed(seed: u64, layer: usize, tensor: u64) -> u64 {
    let mut z = seed
        .wrapping_add((layer as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(tensor.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl fmt::Debug for NetworkBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units: Vec<usize> = self.layers.iter().map(|l| l.units).collect();
        f.debug_struct("NetworkBuilder")
            .field("inputs", &self.inputs)
            .field("units", &units)
            .field("seed", &self.seed)
            .field("mup_base_width", &self.mup_base_width)
            .finish()
    }
}
