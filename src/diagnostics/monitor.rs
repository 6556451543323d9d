//! [`Monitor`]: reports recorded every N steps of training, kept as [`Snapshot`]s.
//!
//! During [`Network::fit`](crate::Network::fit), set [`FitConfig::monitor`]; the snapshots
//! come back in [`History::snapshots`]. A monitored step measures the batch it trains on
//! (before the update) and the update itself, without an extra forward or backward pass: the
//! cost is copying the weights and computing the statistics once every N steps. Other
//! frameworks build a [`Report`] with a [`Probe`](super::Probe) at the steps
//! [`Monitor::is_due`] selects and keep [`Snapshot::new`]s of it.
//!
//! [`FitConfig::monitor`]: crate::FitConfig::monitor
//! [`History::snapshots`]: crate::History::snapshots

use crate::error::{Error, Result};

use super::Report;

/// Records a [`Report`] every `every` optimizer steps (steps 0, N, 2N, …).
///
/// ```
/// let monitor = nninit::Monitor::every(100)?;
/// assert!(monitor.is_due(0) && monitor.is_due(200) && !monitor.is_due(150));
/// assert!(nninit::Monitor::every(0).is_err());
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Monitor {
    every: u64,
}

impl Monitor {
    /// A monitor that records every `steps` steps.
    ///
    /// # Errors
    /// `steps` must be at least 1.
    pub fn every(steps: u64) -> Result<Monitor> {
        if steps == 0 {
            return Err(Error::invalid("monitor interval (steps)", ">= 1", steps));
        }
        Ok(Monitor { every: steps })
    }

    /// The interval, in steps.
    ///
    /// ```
    /// assert_eq!(nninit::Monitor::every(50)?.interval(), 50);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn interval(&self) -> u64 {
        self.every
    }

    /// Whether optimizer step `step` (counting from 0) is recorded.
    pub fn is_due(&self, step: u64) -> bool {
        step.is_multiple_of(self.every)
    }
}

/// One recorded [`Report`]: the statistics of the batch trained on at `step`, measured before
/// that step's update (and with the update's update-to-data ratios).
///
/// ```
/// let report = nninit::Probe::new(&[1.0], 0.5)?.report();
/// let snapshot = nninit::Snapshot::new(300, 2, report);
/// assert_eq!((snapshot.step, snapshot.epoch), (300, 2));
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Snapshot {
    /// The optimizer step (the network's step count before the update).
    pub step: u64,
    /// The epoch the step belongs to (counting from 0).
    pub epoch: usize,
    /// What was measured.
    pub report: Report,
}

impl Snapshot {
    /// A snapshot of `report`, taken at `step` of `epoch`.
    pub fn new(step: u64, epoch: usize, report: Report) -> Snapshot {
        Snapshot {
            step,
            epoch,
            report,
        }
    }
}
