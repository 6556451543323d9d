//! How many worker threads nninit uses (gemm, large seeded fills, training).
//!
//! The default is the number of available cores; the environment variable
//! `NNINIT_NUM_THREADS` (a positive integer) overrides it at first use, and [`set_num_threads`]
//! at any time. A value of the variable that is not a positive integer (`0`, `"four"`) is
//! ignored: the default stays the core count, since an environment variable read on first use
//! has no caller to return an error to. Results
//! never depend on the thread count: every parallel routine splits work so that each output is
//! computed by the same sequence of operations whatever the split.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// 0 means "not set by `set_num_threads`": fall back to the environment or the core count.
static OVERRIDE: AtomicUsize = AtomicUsize::new(0);
static DEFAULT: OnceLock<usize> = OnceLock::new();

/// Sets the number of worker threads for every parallel routine of nninit.
///
/// `0` restores the default (`NNINIT_NUM_THREADS`, else the available cores).
///
/// ```
/// nninit::set_num_threads(1);
/// assert_eq!(nninit::num_threads(), 1);
/// nninit::set_num_threads(0);
/// assert!(nninit::num_threads() >= 1);
/// ```
pub fn set_num_threads(n: usize) {
    OVERRIDE.store(n, Ordering::Relaxed);
}

/// The number of worker threads nninit currently uses (always at least 1).
///
/// ```
/// assert!(nninit::num_threads() >= 1);
/// ```
pub fn num_threads() -> usize {
    match OVERRIDE.load(Ordering::Relaxed) {
        0 => *DEFAULT.get_or_init(default_threads),
        n => n,
    }
}

fn default_threads() -> usize {
    std::env::var("NNINIT_NUM_THREADS")
        .ok()
        .and_then(|value| value.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
}
