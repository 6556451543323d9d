//! Code shared by the bundled examples and by their integration tests (`tests/examples_*.rs`
//! include this module with `#[path = "../examples/common/mod.rs"] mod common;`).
//!
//! - [`args`]: the `--out DIR` option every example takes;
//! - [`data`]: small deterministic 2-D datasets (flower, circles, spiral, XOR);
//! - [`plot`]: SVG line charts and histograms drawn with `plotters`;
//! - [`train`]: accuracy, progress and table helpers;
//! - [`training_dashboard`]: three initializations of one deep tanh net, monitored;
//! - one module per experiment (`zero_vs_random`, `deep_signal`, ...) holding the experiment's
//!   core, so that the example runs it at full size and its test at reduced size.
//!
//! Cargo does not treat a subdirectory with a `mod.rs` as an example, so this is not built on
//! its own.

// Each example uses only part of this module; what one example leaves unused another uses.
#![allow(dead_code)]

pub mod args;
pub mod data;
pub mod deep_signal;
pub mod glorot_figure6;
pub mod identical_outputs;
pub mod init_strategies;
pub mod initializer_table;
pub mod learning_rates;
pub mod loss_comparison;
pub mod lsuv;
pub mod mup_transfer;
pub mod plot;
pub mod tour;
pub mod train;
pub mod training_dashboard;
pub mod zero_vs_random;

/// The error type of the examples: anything printable.
pub type BoxError = Box<dyn std::error::Error>;
