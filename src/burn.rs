//! burn modules and tensors initialized by nninit (feature `burn`).
//!
//! [`Reinit`] is a burn [`ModuleMapper`]: it re-initializes every weight of any burn module
//! with a chosen initializer, with the fans of burn's own layouts, and optionally every bias
//! with a second one. [`tensor`] makes one burn tensor from any initializer.
//!
//! burn's layouts differ from PyTorch's for dense layers only:
//!
//! | module | weight shape | fans |
//! |---|---|---|
//! | `Linear` | `[d_input, d_output]` ([`Layout::InOut`]) | `fan_in = d_input`, `fan_out = d_output` |
//! | `Conv1d/2d/3d` | `[channels_out, channels_in / groups, k...]` ([`Layout::OutIn`]) | PyTorch's: `fan_in = channels_in / groups · k...`, `fan_out = channels_out · k...` |
//! | any other (≥ 2 dims) | as stored ([`Layout::OutIn`]) | PyTorch's `[out, in, k...]` |
//!
//! burn's own initializers divide `fan_out` by the groups as well; nninit follows PyTorch,
//! which matters only for the fan-out and Glorot modes of grouped convolutions. Transposed
//! convolutions store `[channels_in, channels_out / groups, k...]` and get PyTorch's reading of
//! that shape, as `torch.nn.init` gives `ConvTranspose` weights.
//!
//! Each parameter is seeded by its path, the field names from the module root joined by dots
//! as burn's mapper reports them (`fc1.weight`, `layers.0.bias`; an `Option` field adds no
//! component): its values are `initializer.fill_seeded(buffer, fans, seed_for_name(seed,
//! path))` (through [`Initializer::fill_shape`] in the layout above, [`seed_for_name`]), so
//! they do not depend on the order in which the mapper visits
//! the parameters, nor on which other parameters exist.
#![cfg_attr(
    feature = "burn-flex",
    doc = r#"
```
use burn::nn::{Linear, LinearConfig};
use burn::tensor::Device;
use nninit::GlorotUniform;
use nninit::burn::Reinit;

let device = Device::flex();
let layer: Linear = LinearConfig::new(784, 256).init(&device);
let layer = Reinit::new(GlorotUniform::default(), 42).apply(layer)?;
let weight: Vec<f32> = layer.weight.val().into_data().try_to_vec().map_err(|e| format!("{e:?}"))?;
let bound = (6.0f32 / (784.0 + 256.0)).sqrt();
assert!(weight.iter().all(|w| w.abs() <= bound));
# Ok::<(), Box<dyn std::error::Error>>(())
```
"#
)]

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use ::burn::module::{Module, ModuleMapper, Param};
use ::burn::tensor::{DType, Device, Tensor, TensorData};

use crate::error::{Error, Result};
use crate::fans::{Fans, Layout};
use crate::init::InitializerFamily;
use crate::init::{Initializer, seed_for_name};
use crate::interop::FloatInitializer;

/// Whether an initializer of `family` ignores the fans (constants and fixed scales), so that
/// it can fill a tensor that has none, such as a bias.
fn ignores_fans(family: InitializerFamily) -> bool {
    matches!(
        family,
        InitializerFamily::Constant | InitializerFamily::FixedScale
    )
}

/// The error for a fan-scaled initializer on tensor `name` of shape `dims`, which has no fans.
fn no_fans(dims: &[usize], name: &str) -> Error {
    Error::invalid(
        "shape",
        "at least 2 dimensions for a fan-scaled initializer",
        format!("{dims:?} for tensor '{name}'"),
    )
}

/// Placeholder fans for initializers that ignore them (see [`ignores_fans`]).
const UNUSED_FANS: Fans = Fans::new(1, 1);

/// burn's container type for the `Linear` struct, as its mapper reports it.
const LINEAR: &str = "Struct:Linear";

/// The role of a float parameter, from its field name and rank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// A field named `weight`, or any other parameter of 2 or more dimensions.
    Weight,
    /// A field named `bias`.
    Bias,
    /// Anything else (norm scales and shifts, 1-dimensional parameters): left alone.
    Other,
}

/// Re-initializes the weights (and optionally the biases) of a burn module.
///
/// A parameter is a *weight* if it has 2 or more dimensions and is not named `bias`; a *bias*
/// if its field is named `bias`. Weights get the initializer given to [`Reinit::new`], with the
/// fans of burn's layout (see the [module documentation](self)); biases are left alone unless
/// [`Reinit::bias`] sets an initializer, which then gets the fans of the weight of the same
/// module. Every other parameter (norm scales and shifts, ...) is left alone.
///
/// Use [`Reinit::apply`]; or pass the mapper to `module.map(&mut reinit)` yourself and then
/// call [`Reinit::finish`], since a burn mapper cannot return an error (a parameter whose
/// fill fails is left as it was and the first error is kept).
///
/// The new tensors keep each parameter's id, device, dtype (filled from `f64` values for an
/// f64 parameter, from `f32` otherwise) and gradient requirement. A `Linear` stored in burn's
/// column-major layout (`LinearLayout::Col`) keeps its logical `[d_input, d_output]` shape but
/// is re-created row-major.
#[cfg_attr(
    feature = "burn-flex",
    doc = r#"
```
use burn::module::Module;
use burn::nn::{Linear, LinearConfig, Relu};
use burn::tensor::Device;
use nninit::burn::Reinit;
use nninit::{HeNormal, Zeros};

#[derive(Module, Debug)]
struct Mlp {
    fc1: Linear,
    activation: Relu,
    fc2: Linear,
}

let device = Device::flex();
let model = Mlp {
    fc1: LinearConfig::new(4, 8).init(&device),
    activation: Relu::new(),
    fc2: LinearConfig::new(8, 2).init(&device),
};
let mut reinit = Reinit::new(HeNormal::default(), 7).bias(Zeros);
let model = reinit.apply(model)?;
assert_eq!(reinit.parameters(), 4);
let bias: Vec<f32> = model.fc1.bias.as_ref().ok_or("bias")?.val().into_data().try_to_vec()
    .map_err(|e| format!("{e:?}"))?;
assert!(bias.iter().all(|&b| b == 0.0));
# Ok::<(), Box<dyn std::error::Error>>(())
```
"#
)]
pub struct Reinit {
    weight: Arc<dyn FloatInitializer>,
    bias: Option<Arc<dyn FloatInitializer>>,
    seed: u64,
    /// The field names and container types from the root to the current parameter.
    path: Vec<(String, String)>,
    /// The fans of the last weight seen in each module (keyed by the module's path), for its
    /// bias.
    weight_fans: HashMap<String, Fans>,
    parameters: usize,
    error: Option<Error>,
}

impl Reinit {
    /// Re-initializes every weight with `initializer`, each seeded by `(seed, path)`; biases
    /// are left alone.
    ///
    /// ```
    /// let reinit = nninit::burn::Reinit::new(nninit::GlorotUniform::default(), 1);
    /// assert_eq!(reinit.parameters(), 0);
    /// ```
    pub fn new(initializer: impl FloatInitializer + 'static, seed: u64) -> Reinit {
        Reinit {
            weight: Arc::new(initializer),
            bias: None,
            seed,
            path: Vec::new(),
            weight_fans: HashMap::new(),
            parameters: 0,
            error: None,
        }
    }

    /// Also re-initializes every bias, with `initializer` and the fans of its module's weight
    /// (PyTorch's `nn.Linear` bias, for example, is `U(±1/sqrt(fan_in))`).
    ///
    /// ```
    /// let reinit = nninit::burn::Reinit::new(nninit::HeNormal::default(), 1).bias(nninit::Zeros);
    /// assert!(format!("{reinit:?}").contains("Zeros"));
    /// ```
    pub fn bias(mut self, initializer: impl FloatInitializer + 'static) -> Reinit {
        self.bias = Some(Arc::new(initializer));
        self
    }

    /// Maps `module` and returns it, or the first error (a weight of fewer than 2 dimensions
    /// for a fan-scaled initializer, an invalid initializer, ...).
    pub fn apply<M: Module>(&mut self, module: M) -> Result<M> {
        let module = module.map(self);
        self.finish()?;
        Ok(module)
    }

    /// The first error met since the last call, if any; clears it.
    ///
    /// ```
    /// let mut reinit = nninit::burn::Reinit::new(nninit::Zeros, 1);
    /// assert!(reinit.finish().is_ok());
    /// ```
    pub fn finish(&mut self) -> Result<()> {
        self.path.clear();
        self.weight_fans.clear();
        self.error.take().map_or(Ok(()), Err)
    }

    /// How many parameters have been re-initialized so far.
    pub fn parameters(&self) -> usize {
        self.parameters
    }

    /// The dotted path of the current parameter, e.g. `fc1.weight`.
    fn parameter_path(&self) -> String {
        let names: Vec<&str> = self.path.iter().map(|(name, _)| name.as_str()).collect();
        names.join(".")
    }

    /// The dotted path of the module holding the current parameter, e.g. `fc1`.
    fn module_path(&self) -> String {
        let depth = self.path.len().saturating_sub(1);
        let names: Vec<&str> = self.path[..depth]
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        names.join(".")
    }

    fn role(&self, rank: usize) -> Role {
        match self.path.last() {
            Some((field, _)) if field == "bias" => Role::Bias,
            _ if rank >= 2 => Role::Weight,
            _ => Role::Other,
        }
    }

    /// The layout of the current weight: burn's `Linear` is `[d_input, d_output]`
    /// ([`Layout::InOut`]), everything else PyTorch's `[out, in, k...]`.
    fn weight_layout(&self, rank: usize) -> Layout {
        let in_linear = self
            .path
            .last()
            .is_some_and(|(_, container)| container == LINEAR);
        if in_linear && rank == 2 {
            Layout::InOut
        } else {
            Layout::OutIn
        }
    }

    /// The initializer and fill for the current parameter, or `None` to leave it alone.
    fn plan(&mut self, dims: &[usize]) -> Result<Option<(Arc<dyn FloatInitializer>, Fill)>> {
        match self.role(dims.len()) {
            Role::Other => Ok(None),
            Role::Weight => {
                let layout = self.weight_layout(dims.len());
                // Recorded for the module's bias, which has no fans of its own.
                let fans = Fans::from_layout(dims, layout)?;
                self.weight_fans.insert(self.module_path(), fans);
                Ok(Some((Arc::clone(&self.weight), Fill::Shape(layout))))
            }
            Role::Bias => {
                let Some(initializer) = self.bias.clone() else {
                    return Ok(None);
                };
                let family = Initializer::<f32>::family(initializer.as_ref());
                let fans = match self.weight_fans.get(&self.module_path()) {
                    Some(&fans) => fans,
                    None if ignores_fans(family) => UNUSED_FANS,
                    None => return Err(no_fans(dims, &self.parameter_path())),
                };
                Ok(Some((initializer, Fill::Fans(fans))))
            }
        }
    }
}

/// How a parameter is filled.
#[derive(Clone, Copy, Debug)]
enum Fill {
    /// A weight: [`Initializer::fill_shape`] with its shape read in this layout (so that
    /// structured initializers such as `Orthogonal` are orthogonal in burn's layout too).
    Shape(Layout),
    /// A bias: [`Initializer::fill_seeded`] with the fans of its module's weight.
    Fans(Fans),
}

impl fmt::Debug for Reinit {
    /// The initializers' names, the seed and the progress, never tensor data.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = |init: &Arc<dyn FloatInitializer>| Initializer::<f32>::name(init.as_ref());
        f.debug_struct("Reinit")
            .field("weight", &name(&self.weight))
            .field("bias", &self.bias.as_ref().map(name))
            .field("seed", &self.seed)
            .field("parameters", &self.parameters)
            .finish()
    }
}

/// Fills `values` (of a tensor of `shape`) with `initializer` as `fill` says.
fn fill_values<T, I>(
    values: &mut [T],
    shape: &[usize],
    initializer: &I,
    fill: Fill,
    seed: u64,
) -> Result<()>
where
    T: num_traits::Float,
    I: Initializer<T> + ?Sized,
{
    match fill {
        Fill::Shape(layout) => initializer.fill_shape(values, shape, layout, seed),
        Fill::Fans(fans) => initializer.fill_seeded(values, fans, seed),
    }
}

/// A tensor like `like` (device, dtype, gradient requirement) with the values of `initializer`.
fn refill<const D: usize>(
    like: &Tensor<D>,
    initializer: &dyn FloatInitializer,
    fill: Fill,
    seed: u64,
) -> Result<Tensor<D>> {
    let shape = like.shape().to_vec();
    let len = shape.iter().product();
    let dtype = like.dtype();
    let data = if dtype == DType::F64 {
        let mut values = vec![0.0f64; len];
        fill_values(&mut values, &shape, initializer, fill, seed)?;
        TensorData::new(values, shape)
    } else {
        let mut values = vec![0.0f32; len];
        fill_values(&mut values, &shape, initializer, fill, seed)?;
        TensorData::new(values, shape)
    };
    let tensor = Tensor::from_data(data, (&like.device(), dtype));
    Ok(tensor.set_require_grad(like.is_require_grad()))
}

impl ModuleMapper for Reinit {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path
            .push((name.to_string(), container_type.to_string()));
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let dims = param.lazy_shape().to_vec();
        let plan = match self.plan(&dims) {
            Ok(Some(plan)) => plan,
            Ok(None) => return param,
            Err(error) => {
                self.error.get_or_insert(error);
                return param;
            }
        };
        let (initializer, fill) = plan;
        let seed = seed_for_name(self.seed, &self.parameter_path());
        let mut outcome = Ok(());
        let param = param.map(
            |tensor| match refill(&tensor, initializer.as_ref(), fill, seed) {
                Ok(fresh) => fresh,
                Err(error) => {
                    outcome = Err(error);
                    tensor
                }
            },
        );
        match outcome {
            Ok(()) => self.parameters += 1,
            Err(error) => {
                self.error.get_or_insert(error);
            }
        }
        param
    }
}

/// One burn float tensor of `shape` on `device` (its default float dtype), filled by
/// `initializer` with `seed`, the fans read from the shape in `layout`: the values of
/// [`Initializer::fill_shape`] on a row-major `f32` buffer.
///
/// A bare shape does not say which layout it is in: burn's `Linear` weight
/// `[d_input, d_output]` is [`Layout::InOut`], a convolution kernel
/// `[channels_out, channels_in / groups, k...]` is [`Layout::OutIn`].
#[cfg_attr(
    feature = "burn-flex",
    doc = r#"
```
use burn::tensor::Device;
use nninit::{Fans, GlorotUniform, Initializer, Layout};
let device = Device::flex();
let w = nninit::burn::tensor([784, 256], &GlorotUniform::default(), Layout::InOut, 3, &device)?;
let mut expected = vec![0.0f32; 784 * 256];
GlorotUniform::default().fill_seeded(&mut expected, Fans::new(784, 256), 3)?;
let values: Vec<f32> = w.into_data().try_to_vec().map_err(|e| format!("{e:?}"))?;
assert_eq!(values, expected);
# Ok::<(), Box<dyn std::error::Error>>(())
```
"#
)]
pub fn tensor<const D: usize, I>(
    shape: [usize; D],
    initializer: &I,
    layout: Layout,
    seed: u64,
    device: &Device,
) -> Result<Tensor<D>>
where
    I: Initializer<f32> + ?Sized,
{
    let len = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let len = len.ok_or_else(|| {
        Error::invalid(
            "shape",
            "a product that fits in usize",
            format!("{shape:?}"),
        )
    })?;
    let mut values = vec![0.0f32; len];
    initializer.fill_shape(&mut values, &shape, layout, seed)?;
    Ok(Tensor::from_data(TensorData::new(values, shape), device))
}
