//! candle tensors and candle-nn models initialized by nninit (feature `candle`).
//!
//! [`InitBackend`] is a candle-nn [`SimpleBackend`]: a `VarBuilder` made from it builds any
//! candle-nn model with nninit's initializers. Each tensor's values depend only on the seed and
//! the tensor's full name (`fc1.weight` is the same whichever layer is created first, on any
//! machine): they are `initializer.fill_seeded(buffer, fans, seed_for_name(seed, name))`
//! ([`seed_for_name`](crate::init::seed_for_name), through [`TensorSpec::initialize`]). By
//! default the backend follows the hint candle-nn passes with each tensor; overrides by full
//! name or by name suffix replace it.
//!
//! candle keeps weights in PyTorch's layout (`Linear` is `[out, in]`, convolutions
//! `[out, in / groups, k...]`), so the fans are
//! [`Fans::from_shape`](crate::Fans::from_shape)'s.
//!
//! ```
//! use candle_core::{DType, Device, Module, Tensor};
//! use candle_nn::{VarBuilder, linear};
//! use nninit::GlorotUniform;
//! use nninit::candle::InitBackend;
//!
//! let backend = InitBackend::new(42).init_suffix("weight", GlorotUniform::default());
//! let vb = VarBuilder::from_backend(Box::new(backend), DType::F32, Device::Cpu);
//! let fc1 = linear(784, 256, vb.pp("fc1"))?;
//! // Glorot bound for [out, in] = [256, 784].
//! let bound = (6.0f32 / (784.0 + 256.0)).sqrt();
//! let max = fc1.weight().abs()?.max_all()?.to_scalar::<f32>()?;
//! assert!(max <= bound && max > 0.9 * bound);
//! let y = fc1.forward(&Tensor::zeros((2, 784), DType::F32, &Device::Cpu)?)?;
//! assert_eq!(y.dims(), &[2, 256]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::sync::Arc;

use candle_core::{DType, Device, Shape, Tensor, Var};
use candle_nn::init::{FanInOut, NonLinearity, NormalOrUniform};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarMap};

use crate::error::{Error, Result};
use crate::fans::{FanMode, Layout};
use crate::gain::Nonlinearity;
use crate::init::{
    Constant, Distribution, HeNormal, HeUniform, Initializer, Normal, TensorSpec, Uniform,
    VarianceScaling,
};
use crate::interop::FloatInitializer;

fn framework(source: candle_core::Error) -> Error {
    Error::Framework {
        framework: "candle",
        source: Box::new(source),
    }
}

/// nninit's `error` while making tensor `name`, as a candle error naming the tensor.
fn in_tensor(name: &str, error: Error) -> candle_core::Error {
    candle_core::Error::msg(format!("nninit could not make tensor '{name}': {error}"))
}

/// The tensor `name` of `shape`, filled by `initializer` under `seed` (already derived).
fn make_tensor<I: FloatInitializer + ?Sized>(
    shape: &Shape,
    name: &str,
    initializer: &I,
    seed: u64,
    dtype: DType,
    device: &Device,
) -> Result<Tensor> {
    let dims = shape.dims();
    let len = shape.elem_count();
    let tensor = match dtype {
        DType::F64 => {
            let mut values = vec![0.0f64; len];
            Initializer::<f64>::fill_shape(initializer, &mut values, dims, Layout::OutIn, seed)?;
            Tensor::from_vec(values, dims, device)
        }
        DType::F32 | DType::F16 | DType::BF16 => {
            let mut values = vec![0.0f32; len];
            Initializer::<f32>::fill_shape(initializer, &mut values, dims, Layout::OutIn, seed)?;
            Tensor::from_vec(values, dims, device).and_then(|t| t.to_dtype(dtype))
        }
        other => return Err(unsupported_dtype(other, name)),
    };
    tensor.map_err(framework)
}

/// The tensor `name` of a model initialized from `seed`: [`TensorSpec::initialize`], the one
/// implementation of name-keyed tensors (`seed_for_name(seed, name)`, fans of the shape in
/// PyTorch's layout), in `f64` for F64 tensors and in `f32` (rounded afterwards) for F32, F16
/// and BF16.
fn named_tensor(
    shape: &Shape,
    name: &str,
    initializer: Arc<dyn FloatInitializer>,
    seed: u64,
    dtype: DType,
    device: &Device,
) -> Result<Tensor> {
    let dims = shape.dims();
    let tensor = match dtype {
        DType::F64 => {
            let values = TensorSpec::<f64>::new(name, dims, initializer).initialize(seed)?;
            Tensor::from_vec(values, dims, device)
        }
        DType::F32 | DType::F16 | DType::BF16 => {
            let values = TensorSpec::<f32>::new(name, dims, initializer).initialize(seed)?;
            Tensor::from_vec(values, dims, device).and_then(|t| t.to_dtype(dtype))
        }
        other => return Err(unsupported_dtype(other, name)),
    };
    tensor.map_err(framework)
}

fn unsupported_dtype(dtype: DType, name: &str) -> Error {
    Error::invalid(
        "dtype",
        "f16, bf16, f32 or f64",
        format!("{dtype:?} for tensor '{name}'"),
    )
}

/// One candle tensor of `shape`, filled by `initializer` with `seed`: fans from the shape in
/// PyTorch's (and candle's) layout `[out, in, k...]`.
///
/// The values are those of `initializer.fill_shape(buffer, shape, Layout::OutIn, seed)` (that
/// is, `fill_seeded` with the shape's fans) on a row-major buffer of `f32` (for `F32`, then
/// rounded for `F16` and `BF16`) or `f64` (for `F64`); other dtypes are an error. A shape of
/// one dimension (a bias) has no fans: only constant and fixed-scale initializers
/// ([`Constant`], [`Uniform`], [`Normal`], ...) accept it.
///
/// ```
/// use candle_core::{DType, Device};
/// use nninit::{Fans, HeNormal, Initializer};
/// let w = nninit::candle::tensor((64, 32), &HeNormal::default(), 7, DType::F32, &Device::Cpu)?;
/// let mut expected = vec![0.0f32; 64 * 32];
/// HeNormal::default().fill_seeded(&mut expected, Fans::new(32, 64), 7)?;
/// assert_eq!(w.flatten_all()?.to_vec1::<f32>()?, expected);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn tensor<S, I>(
    shape: S,
    initializer: &I,
    seed: u64,
    dtype: DType,
    device: &Device,
) -> Result<Tensor>
where
    S: Into<Shape>,
    I: FloatInitializer + ?Sized,
{
    make_tensor(&shape.into(), "tensor", initializer, seed, dtype, device)
}

/// nninit's counterpart of a candle-nn initialization hint.
///
/// `Const` -> [`Constant`], `Randn` -> [`Normal`], `Uniform` -> [`Uniform`], `Kaiming` ->
/// [`HeNormal`] or [`HeUniform`] with the hint's fan and nonlinearity (an explicit gain `g`
/// becomes [`VarianceScaling`] with scale `g²`, the same distribution).
///
/// ```
/// use nninit::{Initializer, InitializerFamily};
/// let he = nninit::candle::initializer_for_hint(candle_nn::init::DEFAULT_KAIMING_NORMAL);
/// assert_eq!(Initializer::<f32>::family(&*he), InitializerFamily::He);
/// ```
pub fn initializer_for_hint(hint: Init) -> Box<dyn FloatInitializer> {
    match hint {
        Init::Const(value) => Box::new(Constant::new(value)),
        Init::Randn { mean, stdev } => Box::new(Normal::new(mean, stdev)),
        Init::Uniform { lo, up } => Box::new(Uniform::new(lo, up)),
        Init::Kaiming {
            dist,
            fan,
            non_linearity,
        } => kaiming(dist, fan, non_linearity),
    }
}

fn kaiming(
    distribution: NormalOrUniform,
    fan: FanInOut,
    non_linearity: NonLinearity,
) -> Box<dyn FloatInitializer> {
    let mode = match fan {
        FanInOut::FanIn => FanMode::FanIn,
        FanInOut::FanOut => FanMode::FanOut,
    };
    let nonlinearity = match non_linearity {
        NonLinearity::ReLU => Nonlinearity::Relu,
        NonLinearity::Linear => Nonlinearity::Linear,
        NonLinearity::Sigmoid => Nonlinearity::Sigmoid,
        NonLinearity::Tanh => Nonlinearity::Tanh,
        NonLinearity::SELU => Nonlinearity::Selu,
        // He with gain g has variance g² / fan: variance scaling with scale g².
        NonLinearity::ExplicitGain(gain) => {
            let distribution = match distribution {
                NormalOrUniform::Normal => Distribution::Normal,
                NormalOrUniform::Uniform => Distribution::Uniform,
            };
            return Box::new(VarianceScaling::new(gain * gain, mode, distribution));
        }
    };
    match distribution {
        NormalOrUniform::Normal => Box::new(HeNormal::new().mode(mode).nonlinearity(nonlinearity)),
        NormalOrUniform::Uniform => {
            Box::new(HeUniform::new().mode(mode).nonlinearity(nonlinearity))
        }
    }
}

/// Which tensors an override applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Selector {
    /// The tensor with exactly this full name.
    Name(String),
    /// Every tensor whose name ends with these dot-separated components.
    Suffix(String),
}

impl Selector {
    /// How specifically this selector matches `name` (higher wins), or `None`.
    fn specificity(&self, name: &str) -> Option<usize> {
        match self {
            Selector::Name(full) => (full == name).then_some(usize::MAX),
            Selector::Suffix(suffix) => {
                let matches = name == suffix
                    || name
                        .strip_suffix(suffix.as_str())
                        .is_some_and(|head| head.ends_with('.'));
                matches.then(|| suffix.split('.').count())
            }
        }
    }
}

/// A candle-nn [`SimpleBackend`] that makes every tensor with nninit's initializers.
///
/// `VarBuilder::from_backend(Box::new(InitBackend::new(seed)), dtype, device)` builds any
/// candle-nn model. For the tensor `name` of shape `s`, the backend picks an initializer (the
/// override with the exact name, else the one with the longest matching suffix, else the
/// counterpart of candle-nn's hint, see [`initializer_for_hint`]) and fills it as
/// [`tensor`]`(s, initializer, seed_for_name(seed, name), dtype, device)`. So a tensor's values
/// depend only on the seed and its name, never on the order in which layers are created.
///
/// Without [`InitBackend::register_in`], the tensors are plain (not trainable) tensors, as with
/// any `VarBuilder` backend other than a `VarMap`.
///
/// ```
/// use candle_core::{DType, Device};
/// use candle_nn::{VarBuilder, linear};
/// use nninit::candle::InitBackend;
/// use nninit::{Orthogonal, Zeros};
///
/// let make = || {
///     InitBackend::new(7)
///         .init_named("fc2.weight", Orthogonal::new())
///         .init_suffix("bias", Zeros)
/// };
/// let vb = VarBuilder::from_backend(Box::new(make()), DType::F32, Device::Cpu);
/// let fc1 = linear(8, 8, vb.pp("fc1"))?;
/// let fc2 = linear(8, 8, vb.pp("fc2"))?;
/// // Built in the other order, the layers have the same weights.
/// let vb = VarBuilder::from_backend(Box::new(make()), DType::F32, Device::Cpu);
/// let fc2_first = linear(8, 8, vb.pp("fc2"))?;
/// let fc1_second = linear(8, 8, vb.pp("fc1"))?;
/// let same = |a: &candle_core::Tensor, b: &candle_core::Tensor| -> candle_core::Result<bool> {
///     Ok(a.eq(b)?.min_all()?.to_scalar::<u8>()? == 1)
/// };
/// assert!(same(fc1.weight(), fc1_second.weight())?);
/// assert!(same(fc2.weight(), fc2_first.weight())?);
/// // fc2's weight is orthogonal: W Wᵀ = I.
/// let gram = fc2.weight().matmul(&fc2.weight().t()?)?;
/// let identity = candle_core::Tensor::eye(8, DType::F32, &Device::Cpu)?;
/// let error = (gram - identity)?.abs()?.max_all()?.to_scalar::<f32>()?;
/// assert!(error < 1e-5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct InitBackend {
    seed: u64,
    overrides: Vec<(Selector, Arc<dyn FloatInitializer>)>,
    varmap: Option<VarMap>,
}

impl InitBackend {
    /// A backend following candle-nn's hints, each tensor seeded by `(seed, name)`.
    ///
    /// ```
    /// let backend = nninit::candle::InitBackend::new(42);
    /// assert_eq!(backend.seed(), 42);
    /// ```
    pub fn new(seed: u64) -> InitBackend {
        InitBackend {
            seed,
            overrides: Vec::new(),
            varmap: None,
        }
    }

    /// The model seed.
    ///
    /// ```
    /// assert_eq!(nninit::candle::InitBackend::new(3).seed(), 3);
    /// ```
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Initializes the tensor with exactly this full name (e.g. `"encoder.fc1.weight"`) with
    /// `initializer`, whatever the hint. An exact name takes precedence over every suffix.
    ///
    /// ```
    /// use nninit::{Initializer, Orthogonal};
    /// let backend = nninit::candle::InitBackend::new(0).init_named("fc1.weight", Orthogonal::new());
    /// assert_eq!(backend.initializer_name("fc1.weight"), Some("Orthogonal"));
    /// assert_eq!(backend.initializer_name("fc2.weight"), None);
    /// ```
    pub fn init_named(
        mut self,
        name: impl Into<String>,
        initializer: impl FloatInitializer + 'static,
    ) -> InitBackend {
        self.overrides
            .push((Selector::Name(name.into()), Arc::new(initializer)));
        self
    }

    /// Initializes every tensor whose name ends with the dot-separated components `suffix`
    /// with `initializer`: `"weight"` matches `fc1.weight` and `encoder.fc2.weight` (not
    /// `fc1.norm_weight`), `"fc1.weight"` matches `encoder.fc1.weight`. When several suffixes
    /// match, the longest (most components) wins; between equal ones, the one added last.
    ///
    /// ```
    /// use nninit::{GlorotUniform, Zeros};
    /// let backend = nninit::candle::InitBackend::new(0)
    ///     .init_suffix("weight", GlorotUniform::default())
    ///     .init_suffix("bias", Zeros);
    /// assert_eq!(backend.initializer_name("encoder.fc1.weight"), Some("GlorotUniform"));
    /// assert_eq!(backend.initializer_name("fc1.norm_weight"), None);
    /// assert_eq!(backend.initializer_name("fc1.bias"), Some("Zeros"));
    /// ```
    pub fn init_suffix(
        mut self,
        suffix: impl Into<String>,
        initializer: impl FloatInitializer + 'static,
    ) -> InitBackend {
        self.overrides
            .push((Selector::Suffix(suffix.into()), Arc::new(initializer)));
        self
    }

    /// Registers every tensor the backend makes as a [`Var`] of `varmap`, so that an optimizer
    /// can train it (`varmap.all_vars()`), and returns the existing variable when `varmap`
    /// already holds the name, as `VarBuilder::from_varmap` does (a different shape is an
    /// error).
    ///
    /// ```
    /// use candle_core::{DType, Device};
    /// use candle_nn::{VarBuilder, VarMap, linear};
    /// let varmap = VarMap::new();
    /// let backend = nninit::candle::InitBackend::new(1).register_in(&varmap);
    /// let vb = VarBuilder::from_backend(Box::new(backend), DType::F32, Device::Cpu);
    /// let _fc = linear(4, 3, vb.pp("fc"))?;
    /// assert_eq!(varmap.all_vars().len(), 2); // fc.weight and fc.bias
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn register_in(mut self, varmap: &VarMap) -> InitBackend {
        self.varmap = Some(varmap.clone());
        self
    }

    /// The name of the override that applies to tensor `name`, or `None` when the backend
    /// follows candle-nn's hint for it.
    ///
    /// ```
    /// let backend = nninit::candle::InitBackend::new(0);
    /// assert_eq!(backend.initializer_name("fc1.weight"), None);
    /// ```
    pub fn initializer_name(&self, name: &str) -> Option<&'static str> {
        self.override_for(name).map(Initializer::<f32>::name)
    }

    /// The most specific override for `name`; the last added wins a tie.
    fn override_for(&self, name: &str) -> Option<&Arc<dyn FloatInitializer>> {
        self.overrides
            .iter()
            .filter_map(|(selector, init)| Some((selector.specificity(name)?, init)))
            .fold(
                None,
                |best: Option<(usize, &Arc<dyn FloatInitializer>)>, candidate| match best {
                    Some(kept) if kept.0 > candidate.0 => Some(kept),
                    _ => Some(candidate),
                },
            )
            .map(|(_, init)| init)
    }

    /// Makes tensor `name` (without the variable map).
    fn make(
        &self,
        shape: &Shape,
        name: &str,
        hint: Init,
        dtype: DType,
        device: &Device,
    ) -> Result<Tensor> {
        let initializer = match self.override_for(name) {
            Some(initializer) => Arc::clone(initializer),
            None => Arc::from(initializer_for_hint(hint)),
        };
        named_tensor(shape, name, initializer, self.seed, dtype, device)
    }

    /// Makes tensor `name`, or returns the variable `varmap` already holds under it.
    fn get_registered(
        &self,
        varmap: &VarMap,
        shape: Shape,
        name: &str,
        hint: Init,
        dtype: DType,
        device: &Device,
    ) -> candle_core::Result<Tensor> {
        // Holding the lock while making the tensor keeps two builders from creating the same
        // name twice.
        let mut variables = varmap
            .data()
            .lock()
            .map_err(|_| candle_core::Error::msg("the VarMap's lock is poisoned"))?;
        if let Some(existing) = variables.get(name) {
            let existing = existing.as_tensor();
            if existing.shape() != &shape {
                return Err(candle_core::Error::wrap(Error::ShapeMismatch {
                    what: format!("variable '{name}'"),
                    expected_by: "the model".into(),
                    expected: shape.dims().to_vec(),
                    found: existing.dims().to_vec(),
                }));
            }
            return Ok(existing.clone());
        }
        let tensor = self
            .make(&shape, name, hint, dtype, device)
            .map_err(|error| in_tensor(name, error))?;
        let variable = Var::from_tensor(&tensor)?;
        let tensor = variable.as_tensor().clone();
        variables.insert(name.to_string(), variable);
        Ok(tensor)
    }
}

impl fmt::Debug for InitBackend {
    /// The seed and the overrides (selector and initializer name), never tensor data.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let overrides: Vec<_> = self
            .overrides
            .iter()
            .map(|(selector, init)| (selector, Initializer::<f32>::name(init.as_ref())))
            .collect();
        f.debug_struct("InitBackend")
            .field("seed", &self.seed)
            .field("overrides", &overrides)
            .field("registers_variables", &self.varmap.is_some())
            .finish()
    }
}

impl SimpleBackend for InitBackend {
    /// Makes tensor `name` of shape `shape` (see [`InitBackend`]). nninit's errors (a
    /// non-float dtype, a fan-scaled initializer on a 1-dimensional tensor, an invalid hint
    /// such as a negative std) are wrapped in a candle error.
    fn get(
        &self,
        shape: Shape,
        name: &str,
        hint: Init,
        dtype: DType,
        device: &Device,
    ) -> candle_core::Result<Tensor> {
        match &self.varmap {
            Some(varmap) => self.get_registered(varmap, shape, name, hint, dtype, device),
            None => self
                .make(&shape, name, hint, dtype, device)
                .map_err(|error| in_tensor(name, error)),
        }
    }

    /// An error: a fresh tensor needs a shape (use `get`).
    fn get_unchecked(
        &self,
        name: &str,
        _dtype: DType,
        _device: &Device,
    ) -> candle_core::Result<Tensor> {
        Err(candle_core::Error::msg(format!(
            "nninit's InitBackend needs a shape to make tensor '{name}': use `get`, not `get_unchecked`"
        )))
    }

    /// `true`: the backend can make a tensor of any name.
    fn contains_tensor(&self, _name: &str) -> bool {
        true
    }
}
