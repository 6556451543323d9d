//! Diagnostics: per-layer statistics and warnings that explain why a network does not learn,
//! for any model, at one step or over a whole training run, in words and in pictures.
//!
//! - [`Probe`] (in `probe`) measures any model from plain slices handed over layer by layer;
//!   [`Network::diagnose`] is one user of it.
//! - [`Report`] and [`LayerStats`] (in `report`) hold what the literature looks at: the spread
//!   of the activations and how it evolves with depth (Glorot & Bengio, 2010; He et al., 2015),
//!   saturated and dead units, the size of the weight gradients and of the back-propagated
//!   gradients, the gradient-to-data and update-to-data ratios (Karpathy, "makemore part 3"),
//!   histograms of activations and gradients, and the initial loss against its uninformed value.
//! - [`Warning`] (in `warnings`) turns the numbers into a cause and a remedy.
//! - [`Monitor`] and [`Snapshot`] (in `monitor`) record reports every N steps during
//!   [`Network::fit`](crate::Network::fit).
//! - [`svg`] draws them and [`html`] puts plots and tables into one self-contained page.

mod monitor;
mod network;
mod probe;
mod report;
mod statistics;
mod warnings;

pub mod html;
pub mod svg;

pub use monitor::{Monitor, Snapshot};
pub use probe::{Probe, ProbeLayer};
pub use report::{LayerStats, Report};
pub use statistics::Histogram;
pub use warnings::Warning;

#[cfg(doc)]
use crate::Network;
