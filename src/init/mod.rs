//! The `Initializer` trait and every initializer of the family.

use std::fmt::Debug;

use num_traits::Float;
use rand::Rng;

use crate::error::Result;
use crate::fans::Fans;

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
pub trait Initializer<T: Float>: Send + Sync + Debug {
    /// Fills `weights` from `rng`.
    fn fill(&self, weights: &mut [T], fans: Fans, rng: &mut dyn Rng) -> Result<()>;

    /// Fills `weights` as a pure function of `(seed, index)`.
    fn fill_seeded(&self, weights: &mut [T], fans: Fans, seed: u64) -> Result<()>;

    /// Writes elements `offset .. offset + shard.len()` of what [`fill_seeded`] would write into
    /// the whole tensor.
    ///
    /// [`fill_seeded`]: Initializer::fill_seeded
    fn fill_shard(&self, shard: &mut [T], fans: Fans, seed: u64, offset: usize) -> Result<()>;

    /// The initializer's name, e.g. `"GlorotUniform"` (used by the diagnostics).
    fn name(&self) -> &'static str {
        "custom"
    }
}
