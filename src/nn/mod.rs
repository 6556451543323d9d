//! The dense network: layers, builder, forward and backward passes, optimizers, training,
//! LSUV and muP.
//!
//! Everything here is re-exported at the crate root, together with the diagnostics' report
//! types ([`Report`], [`LayerStats`], [`Warning`]).

mod builder;
mod dense;
mod fit;
mod lsuv;
mod mup;
mod network;
mod optimizer;
mod svg;

pub use crate::diagnostics::{
    Histogram, LayerStats, Monitor, Probe, ProbeLayer, Report, Snapshot, Warning,
};
pub use builder::NetworkBuilder;
pub use dense::Dense;
pub use fit::{EpochMetrics, FitConfig, History};
pub use lsuv::{Lsuv, LsuvLayer, LsuvReport, lsuv_with};
pub use mup::{CoordinateCheck, coordinate_check};
pub use network::{Evaluation, Network};
pub use optimizer::{Adam, Optimizer, OptimizerFamily, Parameter, Sgd};

pub(crate) use fit::l2_norm;
pub(crate) use network::PassOutcome;

#[cfg(test)]
mod tests;
