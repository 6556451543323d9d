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
//! - [`nn`]: a dense network, optimizers, training and diagnostics.
//! - [`io`]: safetensors and NumPy files, interoperable with PyTorch.
//!
//! The number of worker threads defaults to the available cores; `NNINIT_NUM_THREADS` or
//! [`set_num_threads`] change it, and results never depend on it.

pub mod activation;
mod diagnostics;
pub mod dispatch;
mod error;
mod fans;
mod gain;
pub mod init;
pub mod io;
pub mod linalg;
pub mod loss;
pub mod nn;
mod threads;

pub use activation::*;
pub use error::{Error, Result};
pub use fans::{FanMode, Fans};
pub use gain::{Nonlinearity, calculate_gain};
pub use init::*;
pub use loss::*;
pub use nn::*;
pub use threads::{num_threads, set_num_threads};

/// The README's code, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
