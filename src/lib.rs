//! # nninit
//!
//! Neural-network weight initialization, PyTorch-compatible, and the means to see why it
//! matters: a small dense network written from scratch and diagnostics that explain, in words,
//! why a network does or does not learn.
#![warn(missing_docs)]

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
