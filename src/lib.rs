//! # nninit
//!
//! Neural-network weight initialization, PyTorch-compatible, and the means to see why it
//! matters: a small dense network written from scratch and diagnostics that explain, in words,
//! why a network does or does not learn.
//!
//! ```
//! // Glorot/Xavier for a tanh layer 784 -> 256 (PyTorch layout: out x in).
//! let mut layer = vec![0.0f32; 256 * 784];
//! nninit::xavier_uniform(&mut layer, 784, 256)?;
//! let bound = (6.0f32 / (784.0 + 256.0)).sqrt();
//! assert!(layer.iter().all(|w| w.abs() <= bound));
//! # Ok::<(), nninit::Error>(())
//! ```
//!
//! - [`init`]: the [`Initializer`] trait and every initializer, with PyTorch's formulas;
//!   free functions such as [`xavier_uniform`]; [`Fans`] and [`calculate_gain`].
//! - [`activation`] and [`loss`]: the [`Activation`] and [`Loss`] traits.
//! - [`linalg`]: a from-scratch, cache-blocked, SIMD, multi-core `gemm`.
//! - [`nn`]: a dense network, optimizers, training and diagnostics; LSUV ([`Network::lsuv`],
//!   [`lsuv_with`]) and muP ([`NetworkBuilder::mup`], [`coordinate_check`]).
//! - [`io`]: safetensors and NumPy files, interoperable with PyTorch.
//! - With the optional features of the same names: ndarray arrays as weight buffers
//!   (`nninit::ndarray`), a candle-nn `VarBuilder` backend (`nninit::candle`) and a burn
//!   `ModuleMapper` (`nninit::burn`).
//!
//! The number of worker threads defaults to the available cores; `NNINIT_NUM_THREADS` or
//! [`set_num_threads`] change it, and results never depend on it.

pub mod activation;
#[cfg(feature = "burn")]
pub mod burn;
#[cfg(feature = "candle")]
pub mod candle;
pub mod diagnostics;
/// Unstable (the `internals` feature, outside semver): the run-time choice of instruction set.
#[cfg(feature = "internals")]
pub mod dispatch;
#[cfg(not(feature = "internals"))]
mod dispatch;
mod error;
mod fans;
mod gain;
pub mod init;
#[cfg(any(feature = "candle", feature = "burn"))]
pub mod interop;
pub mod io;
pub mod linalg;
pub mod loss;
#[cfg(feature = "ndarray")]
pub mod ndarray;
pub mod nn;
mod special;
mod threads;

// Explicit re-exports (no globs), so that a name appears at the root only on purpose. The
// public-API listing test (`tests/public_api.rs`) checks that every item of `activation`,
// `init`, `loss` and `nn` is here, except `init::Distribution`, kept in its module on purpose:
// at the root it would collide with `rand::distr::Distribution` in a user's glob import.
pub use activation::{
    Activation, ActivationFamily, Elu, Gelu, GeluTanh, LeakyRelu, Relu, Selu, Sigmoid, Silu,
    Softplus, Softsign, Tanh,
};
pub use error::{Error, Result};
pub use fans::{FanMode, Fans, Layout};
pub use gain::{Nonlinearity, calculate_gain, try_calculate_gain};
pub use init::{
    Constant, DeltaOrthogonal, Element, Framework, GlorotNormal, GlorotUniform, HeNormal,
    HeUniform, Identity, Initializer, InitializerFamily, LecunNormal, LecunUniform, Normal, Ones,
    Orthogonal, Shard, Sparse, TRUNCATED_NORMAL_STD_CORRECTION, TensorSpec, TruncatedNormal,
    Uniform, VarianceScaling, Weights, Zeros, allocate_initialized, constant, constant_with,
    delta_orthogonal, delta_orthogonal_with, initialize_model, initialize_model_shard,
    kaiming_normal, kaiming_normal_with, kaiming_uniform, kaiming_uniform_with, lecun_normal,
    lecun_normal_with, lecun_uniform, lecun_uniform_with, manual_seed, normal, normal_with, ones,
    ones_with, orthogonal, orthogonal_with, seed_for_name, sparse, sparse_with, trunc_normal,
    trunc_normal_with, uniform, uniform_with, xavier_normal, xavier_normal_with, xavier_uniform,
    xavier_uniform_with, zeros, zeros_with,
};
pub use io::Pretrained;
pub use loss::{BceWithLogits, BinaryCrossEntropy, CrossEntropy, Huber, Loss, Mae, Mse};
pub use nn::{
    Adam, CoordinateCheck, Dense, EpochMetrics, Evaluation, FitConfig, Histogram, History,
    LayerStats, Lsuv, LsuvLayer, LsuvReport, Monitor, Network, NetworkBuilder, Optimizer,
    OptimizerFamily, Parameter, Probe, ProbeLayer, Report, Sgd, Snapshot, Warning,
    coordinate_check, lsuv_with,
};
pub use threads::{num_threads, set_num_threads};

/// The README's code, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
