//! The `Initializer` trait and every initializer of the family.
//!
//! | initializer | distribution | PyTorch | suits |
//! |---|---|---|---|
//! | [`Zeros`], [`Ones`], [`Constant`] | every weight equal | `zeros_`, `ones_`, `constant_` | biases |
//! | [`Uniform`] | `U(low, high)` | `uniform_` | |
//! | [`Normal`] | `N(mean, std²)` | `normal_` | |
//! | [`TruncatedNormal`] | `N(mean, std²)` on `[a, b]` | `trunc_normal_` | transformers |
//! | [`GlorotUniform`] | `U(±gain·sqrt(6 / (fan_in + fan_out)))` | `xavier_uniform_` | tanh, sigmoid |
//! | [`GlorotNormal`] | `N(0, gain²·2 / (fan_in + fan_out))` | `xavier_normal_` | tanh, sigmoid |
//! | [`HeUniform`] | `U(±gain·sqrt(3 / fan))` | `kaiming_uniform_` | ReLU family |
//! | [`HeNormal`] | `N(0, gain² / fan)` | `kaiming_normal_` | ReLU family |
//! | [`LecunUniform`], [`LecunNormal`] | variance `1 / fan_in` | (Keras, JAX) | SELU |
//! | [`VarianceScaling`] | variance `scale / n` | (Keras, JAX) | any |
//! | [`Orthogonal`] | `gain · Q` of a Gaussian's QR | `orthogonal_` | deep linear, RNNs |
//! | [`Identity`] | ones on the diagonal | `eye_`, `dirac_` | residual-style |
//! | [`Sparse`] | `N(0, std²)`, `ceil(sparsity · rows)` zeros per column | `sparse_` | Martens 2010 |
//! | [`DeltaOrthogonal`] | orthogonal at a kernel's centre, zeros elsewhere | (JAX) | deep vanilla CNNs |
//!
//! [`Framework`] gives the default weight and bias initializers of PyTorch's, Keras', Flax',
//! candle's and burn's dense layers.

use std::fmt::Debug;

use num_traits::Float;
use rand::Rng;

use crate::error::{Error, Result};

mod allocate;
mod basic;
mod delta_orthogonal;
mod element;
mod framework;
mod functional;
mod glorot;
mod he;
mod identity;
mod kernels;
mod keyed;
mod model;
mod orthogonal;
mod pages;
mod philox;
mod sampler;
mod shaped;
mod shard;
mod sparse;
mod variance_scaling;

/// The fans and gains every initializer is parameterized by, also at the crate root.
pub use crate::fans::{FanMode, Fans, Layout};
pub use crate::gain::{Nonlinearity, calculate_gain, try_calculate_gain};
pub use allocate::allocate_initialized;
pub use basic::{Constant, Normal, Ones, TruncatedNormal, Uniform, Zeros};
pub use delta_orthogonal::DeltaOrthogonal;
pub use element::Element;
pub use framework::Framework;
pub use functional::{
    Weights, constant, constant_with, delta_orthogonal, delta_orthogonal_with, kaiming_normal,
    kaiming_normal_with, kaiming_uniform, kaiming_uniform_with, lecun_normal, lecun_normal_with,
    lecun_uniform, lecun_uniform_with, manual_seed, normal, normal_with, ones, ones_with,
    orthogonal, orthogonal_with, sparse, sparse_with, trunc_normal, trunc_normal_with, uniform,
    uniform_with, xavier_normal, xavier_normal_with, xavier_uniform, xavier_uniform_with, zeros,
    zeros_with,
};
pub use glorot::{GlorotNormal, GlorotUniform};
pub use he::{HeNormal, HeUniform};
pub use identity::Identity;
pub use keyed::seed_for_name;
pub use model::{TensorSpec, initialize_model, initialize_model_shard};
pub use orthogonal::Orthogonal;
pub use shard::Shard;
pub use sparse::Sparse;
pub use variance_scaling::{
    Distribution, LecunNormal, LecunUniform, TRUNCATED_NORMAL_STD_CORRECTION, VarianceScaling,
};

/// Fills a weight tensor.
///
/// Object-safe: `Box<dyn Initializer<f32>>` works. Random initializers offer two paths:
///
/// - [`fill`](Initializer::fill) draws from a caller-supplied generator;
/// - [`fill_seeded`](Initializer::fill_seeded) is counter-based: element `j` depends only on
///   `(seed, j)`, so the result is bit-identical for any thread count, and
///   [`fill_shard`](Initializer::fill_shard) produces any range of it on its own.
///
/// Deterministic initializers ignore the generator and the seed. An empty slice is a no-op.
///
/// **`fans` is a parameter of the distribution**, not a description of `weights`: the
/// variance-scaling families derive their scale from it (He's `gain² / fan_in`), the
/// fixed-scale ones ignore it, and `fill` does not check `weights.len()` against it (only the
/// structured initializers, `Orthogonal` and `Identity`, which view the weights as a matrix,
/// need the two to agree). So a shard, or a tensor whose fans come from elsewhere, can be filled
/// with any fans. To let a tensor's shape decide the fans, use
/// [`fill_shape`](Initializer::fill_shape); the free functions (`xavier_uniform(&mut w,
/// fan_in, fan_out)`) check that the buffer's length belongs to the fans they are given.
pub trait Initializer<T: Float>: Send + Sync + Debug {
    /// Fills `weights` from `rng`.
    fn fill(&self, weights: &mut [T], fans: Fans, rng: &mut dyn Rng) -> Result<()>;

    /// Fills `weights` as a pure function of `(seed, index)`.
    fn fill_seeded(&self, weights: &mut [T], fans: Fans, seed: u64) -> Result<()>;

    /// Writes elements `offset .. offset + shard.len()` of what [`fill_seeded`] would write into
    /// the whole tensor. Large shards, like large tensors, are filled on all configured threads
    /// ([`set_num_threads`](crate::set_num_threads)); the bits do not depend on how many.
    ///
    /// [`fill_seeded`]: Initializer::fill_seeded
    fn fill_shard(&self, shard: &mut [T], fans: Fans, seed: u64, offset: usize) -> Result<()>;

    /// Fills a tensor of `shape`, stored in `layout`, from the seeded stream, with the fans
    /// derived from the shape ([`Fans::from_layout`]): the shape is the source of truth, and
    /// `weights` must hold exactly its product of elements (an empty tensor is a no-op). A
    /// one-dimensional shape (a bias) has no fans: only the families that ignore them
    /// ([`InitializerFamily::Constant`], [`InitializerFamily::FixedScale`]) accept it.
    ///
    /// The initializer sees the tensor in PyTorch's layout `[out, in, k...]`: for
    /// [`Layout::OutIn`] this is [`fill_seeded`](Initializer::fill_seeded) with those fans;
    /// for [`Layout::InOut`] a structured initializer ([`Orthogonal`], [`Identity`], or any of
    /// [`InitializerFamily::Other`] / [`Pretrained`](crate::Pretrained)) fills that layout and the
    /// result is transposed into `[k..., in, out]`, so that an orthogonal kernel is orthogonal
    /// in either layout; the elementwise families (every other), whose values are independent
    /// of their position, fill `weights` directly, element `j` as `fill_seeded` writes it.
    ///
    /// ```
    /// use nninit::{Fans, HeNormal, Initializer, Layout, Orthogonal};
    /// // A burn / Keras dense kernel [d_input, d_output] = [784, 256]: fan_in is 784.
    /// let mut kernel = vec![0.0f32; 784 * 256];
    /// HeNormal::default().fill_shape(&mut kernel, &[784, 256], Layout::InOut, 7)?;
    /// let mut same = vec![0.0f32; 784 * 256];
    /// HeNormal::default().fill_seeded(&mut same, Fans::new(784, 256), 7)?;
    /// assert_eq!(kernel, same);
    /// // An orthogonal [in, out] = [3, 2] kernel has orthonormal columns, as its transpose has
    /// // orthonormal rows.
    /// let mut w = vec![0.0f64; 6];
    /// Orthogonal::new().fill_shape(&mut w, &[3, 2], Layout::InOut, 1)?;
    /// let column_norm: f64 = (0..3).map(|i| w[2 * i] * w[2 * i]).sum();
    /// assert!((column_norm - 1.0).abs() < 1e-12);
    /// // The length must match the shape.
    /// assert!(HeNormal::default().fill_shape(&mut vec![0.0f32; 10], &[784, 256], Layout::InOut, 7).is_err());
    /// # Ok::<(), nninit::Error>(())
    /// ```
    fn fill_shape(
        &self,
        weights: &mut [T],
        shape: &[usize],
        layout: Layout,
        seed: u64,
    ) -> Result<()> {
        shaped::fill_shape(self, weights, shape, layout, seed)
    }

    /// The initializer's name, e.g. `"GlorotUniform"` (used by the diagnostics).
    fn name(&self) -> &'static str {
        "custom"
    }

    /// What kind of initializer this is, for decisions that depend on it (the diagnostics'
    /// activation / initializer mismatch warnings). `Other` unless an implementation says more;
    /// a custom initializer is never mistaken for a He or Glorot one because of its name.
    ///
    /// ```
    /// use nninit::{GlorotUniform, HeNormal, Initializer, InitializerFamily};
    /// assert_eq!(Initializer::<f32>::family(&HeNormal::default()), InitializerFamily::He);
    /// assert_eq!(Initializer::<f32>::family(&GlorotUniform::default()), InitializerFamily::Glorot);
    /// ```
    fn family(&self) -> InitializerFamily {
        InitializerFamily::Other
    }
}

/// The family an initializer belongs to: what its scale is derived from.
///
/// Decisions that depend on what an initializer *is* match on this, never on
/// [`Initializer::name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InitializerFamily {
    /// Every weight equal: [`Zeros`], [`Ones`], [`Constant`].
    Constant,
    /// A fixed scale that ignores the fans: [`Uniform`], [`Normal`], [`TruncatedNormal`].
    FixedScale,
    /// Glorot / Xavier (variance from `fan_in + fan_out`): [`GlorotUniform`], [`GlorotNormal`].
    Glorot,
    /// He / Kaiming (variance `gain² / fan`): [`HeUniform`], [`HeNormal`].
    He,
    /// LeCun (variance `1 / fan_in`): [`LecunUniform`], [`LecunNormal`].
    Lecun,
    /// [`VarianceScaling`] with a user-chosen scale and mode.
    VarianceScaling,
    /// A scaled orthogonal matrix: [`Orthogonal`], [`DeltaOrthogonal`].
    Orthogonal,
    /// The identity matrix or Dirac kernel: [`Identity`].
    Identity,
    /// A normal matrix with a fixed number of zeros per column: [`Sparse`].
    Sparse,
    /// Rescaled to the data by [`Network::lsuv`](crate::Network::lsuv) (LSUV).
    DataDependent,
    /// Values loaded from a checkpoint.
    Pretrained,
    /// Anything else, e.g. a user's own initializer.
    Other,
}

/// Forwards through smart pointers, so a `Box<dyn Initializer<T>>` (e.g. an activation's
/// `recommended_init()`) or an `Arc` shared between layers is itself an initializer.
macro_rules! forward_through_pointer {
    ($($pointer:ty),*) => {$(
        impl<T: Float, I: Initializer<T> + ?Sized> Initializer<T> for $pointer {
            fn fill(&self, weights: &mut [T], fans: Fans, rng: &mut dyn Rng) -> Result<()> {
                (**self).fill(weights, fans, rng)
            }
            fn fill_seeded(&self, weights: &mut [T], fans: Fans, seed: u64) -> Result<()> {
                (**self).fill_seeded(weights, fans, seed)
            }
            fn fill_shard(&self, shard: &mut [T], fans: Fans, seed: u64, offset: usize) -> Result<()> {
                (**self).fill_shard(shard, fans, seed, offset)
            }
            fn fill_shape(&self, weights: &mut [T], shape: &[usize], layout: Layout, seed: u64) -> Result<()> {
                (**self).fill_shape(weights, shape, layout, seed)
            }
            fn name(&self) -> &'static str {
                (**self).name()
            }
            fn family(&self) -> InitializerFamily {
                (**self).family()
            }
        }
    )*};
}

forward_through_pointer!(Box<I>, std::sync::Arc<I>, &I);

impl InitializerFamily {
    /// Families whose every element is drawn independently of its position: their fill does
    /// not depend on the layout, and their `fill_seeded` is `fill_shard` from offset 0.
    pub(crate) fn is_elementwise(self) -> bool {
        matches!(
            self,
            InitializerFamily::Constant
                | InitializerFamily::FixedScale
                | InitializerFamily::Glorot
                | InitializerFamily::He
                | InitializerFamily::Lecun
                | InitializerFamily::VarianceScaling
        )
    }
}

/// Implements [`Initializer`] for a type with `fn sampler(&self, Fans) -> Result<Sampler>`.
macro_rules! elementwise_initializer {
    ($ty:ty, $name:literal, $family:ident) => {
        impl<T: $crate::init::Element> $crate::init::Initializer<T> for $ty {
            fn fill(
                &self,
                weights: &mut [T],
                fans: $crate::Fans,
                rng: &mut dyn rand::Rng,
            ) -> $crate::Result<()> {
                if weights.is_empty() {
                    return Ok(());
                }
                self.sampler(fans)?
                    .checked_for::<T>()?
                    .fill_rng(weights, rng);
                Ok(())
            }

            fn fill_seeded(
                &self,
                weights: &mut [T],
                fans: $crate::Fans,
                seed: u64,
            ) -> $crate::Result<()> {
                if weights.is_empty() {
                    return Ok(());
                }
                self.sampler(fans)?
                    .checked_for::<T>()?
                    .fill_seeded(weights, seed)
            }

            fn fill_shard(
                &self,
                shard: &mut [T],
                fans: $crate::Fans,
                seed: u64,
                offset: usize,
            ) -> $crate::Result<()> {
                if shard.is_empty() {
                    return Ok(());
                }
                self.sampler(fans)?
                    .checked_for::<T>()?
                    .fill_shard(shard, seed, offset)
            }

            fn name(&self) -> &'static str {
                $name
            }

            fn family(&self) -> $crate::init::InitializerFamily {
                $crate::init::InitializerFamily::$family
            }
        }
    };
}
pub(crate) use elementwise_initializer;

/// Checks that a buffer of `len` elements can hold a tensor with these fans: `len` is
/// `fan_in * fan_out / r` for a receptive field `r` that divides both (`r = 1` for a dense
/// layer, `k1 · k2 · ...` for a convolution kernel). An empty buffer fits any fans (a no-op, as
/// in PyTorch).
pub(crate) fn check_length_fits(len: usize, fans: Fans) -> Result<()> {
    if len == 0 {
        return Ok(());
    }
    matrix_shape(len, fans).map(|_| ())
}

/// The `rows x cols` matrix view of a weight tensor with `len` elements and these fans:
/// `[fan_out, fan_in]` for a dense layer, `[out, in · k...]` for a convolution kernel (whose
/// receptive field `k...` divides both fans).
pub(crate) fn matrix_shape(len: usize, fans: Fans) -> Result<(usize, usize)> {
    let fans = fans.validate()?;
    let mismatch = || Error::LengthMismatch {
        what: "weights".into(),
        expected: format!(
            "fan_in * fan_out / r for a receptive field r dividing both fans (fan_in {}, \
             fan_out {}: {} for a dense layer)",
            fans.fan_in,
            fans.fan_out,
            fans.fan_in
                .checked_mul(fans.fan_out)
                .map_or_else(|| "more than usize::MAX".to_string(), |n| n.to_string())
        ),
        found: len,
    };
    let product = fans.fan_in.checked_mul(fans.fan_out).ok_or_else(mismatch)?;
    if len == 0 || product % len != 0 {
        return Err(mismatch());
    }
    let receptive_field = product / len;
    if fans.fan_in % receptive_field != 0 || fans.fan_out % receptive_field != 0 {
        return Err(mismatch());
    }
    Ok((fans.fan_out / receptive_field, fans.fan_in))
}
