//! Sparse initialization: Martens, "Deep learning via Hessian-free optimization" (ICML 2010),
//! in the form of PyTorch's `torch.nn.init.sparse_`.
//!
//! Martens connects each unit to only a few inputs so that units are diverse without large
//! weights. PyTorch's version works on the `[rows, cols] = [out, in]` weight: every element is
//! drawn from `N(0, std²)`, then in each column `ceil(sparsity · rows)` distinct rows, chosen
//! uniformly at random, are set to zero.
//!
//! The zeros of column `c` are a uniformly random subset drawn with Floyd's algorithm
//! (Bentley & Floyd, "A sample of brilliance", CACM 1987): `k` draws, no permutation of the
//! whole column. In the seeded path draw `t` of column `c` comes from Philox block
//! `c · k + t` under a key derived from the seed, so any shard can recompute the columns it
//! touches.

use std::collections::HashSet;

use rand::Rng;

use super::element::Element;
use super::keyed::seed_for_name;
use super::philox::Philox;
use super::sampler::Sampler;
use super::{Initializer, InitializerFamily};
use crate::error::{Error, Result, check_finite};
use crate::fans::Fans;

/// PyTorch's `sparse_(w, sparsity, std)`: `N(0, std²)` with `ceil(sparsity · rows)` zeros in
/// each column of the `[rows, cols] = [fan_out, fan_in]` weight.
///
/// Only a 2-d weight (`len = fan_in · fan_out`) is accepted, as PyTorch accepts only 2-d
/// tensors; `sparsity` must be in `[0, 1]` and `std` finite and `>= 0`. The default std is
/// PyTorch's, 0.01; there is no default sparsity.
///
/// Each nonzero element has variance `std²`; the whole tensor has variance
/// `(1 − ceil(sparsity · rows) / rows) · std²`.
///
/// ```
/// use nninit::{Fans, Initializer, Sparse};
/// let (fan_in, fan_out) = (20, 10); // the weight is 10 x 20
/// let mut w = vec![0.0f32; fan_in * fan_out];
/// Sparse::new(0.3, 0.01).fill_seeded(&mut w, Fans::new(fan_in, fan_out), 7)?;
/// for column in 0..fan_in {
///     let zeros = (0..fan_out).filter(|&row| w[row * fan_in + column] == 0.0).count();
///     assert_eq!(zeros, 3); // ceil(0.3 · 10)
/// }
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sparse {
    /// The fraction of each column set to zero, in `[0, 1]`.
    pub sparsity: f64,
    /// The standard deviation of the nonzero elements.
    pub std: f64,
}

impl Sparse {
    /// `sparsity` of each column zero, the rest from `N(0, std²)`.
    ///
    /// ```
    /// let sparse = nninit::Sparse::new(0.1, 0.01);
    /// assert_eq!((sparse.sparsity, sparse.std), (0.1, 0.01));
    /// ```
    pub fn new(sparsity: impl Into<f64>, std: impl Into<f64>) -> Sparse {
        Sparse {
            sparsity: sparsity.into(),
            std: std.into(),
        }
    }

    /// With PyTorch's default std, 0.01.
    ///
    /// ```
    /// assert_eq!(nninit::Sparse::with_sparsity(0.5).std, 0.01);
    /// ```
    pub fn with_sparsity(sparsity: impl Into<f64>) -> Sparse {
        Sparse::new(sparsity, 0.01)
    }

    /// The number of zeros per column for a weight with `rows` rows: `ceil(sparsity · rows)`.
    ///
    /// ```
    /// assert_eq!(nninit::Sparse::new(0.25, 0.01).zeros_per_column(10), 3);
    /// ```
    pub fn zeros_per_column(&self, rows: usize) -> usize {
        // A validated sparsity is in [0, 1], so the product is in [0, rows].
        ((self.sparsity * rows as f64).ceil() as usize).min(rows)
    }

    /// Checks the parameters and the shape; returns `(rows, cols, sampler)`.
    fn prepare(&self, len: usize, fans: Fans) -> Result<(usize, usize, Sampler)> {
        check_finite("sparsity", self.sparsity)?;
        if !(0.0..=1.0).contains(&self.sparsity) {
            return Err(Error::invalid("sparsity", "in [0, 1]", self.sparsity));
        }
        check_finite("std", self.std)?;
        if self.std < 0.0 {
            return Err(Error::invalid("std", ">= 0", self.std));
        }
        let fans = fans.validate()?;
        let (rows, cols) = (fans.fan_out, fans.fan_in);
        if rows.checked_mul(cols) != Some(len) {
            return Err(Error::LengthMismatch {
                what: "weights".into(),
                expected: format!(
                    "fan_out * fan_in ({rows} * {cols}): sparse initialization takes a 2-d \
                     weight, as pytorch's sparse_"
                ),
                found: len,
            });
        }
        Ok((rows, cols, Sampler::normal(0.0, self.std)?))
    }
}

/// The rows zeroed in column `column`: `zeros` distinct rows out of `rows` by Floyd's
/// algorithm, each draw a uniform integer from `draw(t, bound)` (`t` the draw index).
fn zero_rows(rows: usize, zeros: usize, mut draw: impl FnMut(usize, usize) -> usize) -> Vec<usize> {
    let mut chosen = HashSet::with_capacity(zeros);
    let mut order = Vec::with_capacity(zeros);
    for (t, j) in (rows - zeros..rows).enumerate() {
        let candidate = draw(t, j + 1);
        let row = if chosen.contains(&candidate) {
            j
        } else {
            candidate
        };
        chosen.insert(row);
        order.push(row);
    }
    order
}

/// A uniform integer in `[0, bound)` from a 32-bit word (Lemire's multiply-shift; the bias,
/// below `bound / 2³²`, is immaterial for weight masks).
fn below(word: u32, bound: usize) -> usize {
    ((u64::from(word) * bound as u64) >> 32) as usize
}

/// The key of the mask stream, derived so it is unrelated to the values' stream.
fn mask_seed(seed: u64) -> u64 {
    seed_for_name(seed, "sparse-mask")
}

/// Zeroes, inside `shard` (elements `offset ..` of the `rows x cols` weight), the masked
/// elements of every column, drawn from the seeded mask stream.
fn apply_seeded_mask<T: Element>(
    shard: &mut [T],
    rows: usize,
    cols: usize,
    zeros: usize,
    seed: u64,
    offset: usize,
) {
    let philox = Philox::new(mask_seed(seed));
    let end = offset + shard.len();
    for column in 0..cols {
        let base = column as u64 * zeros as u64;
        let draw = |t: usize, bound: usize| below(philox.block(base + t as u64)[0], bound);
        for row in zero_rows(rows, zeros, draw) {
            let index = row * cols + column;
            if (offset..end).contains(&index) {
                shard[index - offset] = T::zero();
            }
        }
    }
}

impl<T: Element> Initializer<T> for Sparse {
    fn fill(&self, weights: &mut [T], fans: Fans, rng: &mut dyn Rng) -> Result<()> {
        if weights.is_empty() {
            return Ok(());
        }
        let (rows, cols, sampler) = self.prepare(weights.len(), fans)?;
        sampler.checked_for::<T>()?.fill_rng(weights, rng);
        let zeros = self.zeros_per_column(rows);
        for column in 0..cols {
            let draw = |_: usize, bound: usize| below(rng.next_u32(), bound);
            for row in zero_rows(rows, zeros, draw) {
                weights[row * cols + column] = T::zero();
            }
        }
        Ok(())
    }

    fn fill_seeded(&self, weights: &mut [T], fans: Fans, seed: u64) -> Result<()> {
        if weights.is_empty() {
            return Ok(());
        }
        // The whole weight: its length must be the fans' product (a shard may be shorter).
        self.prepare(weights.len(), fans)?;
        self.fill_shard(weights, fans, seed, 0)
    }

    /// Shardable: the values are the seeded normal stream and each column's zeros are
    /// recomputed from the mask stream, in `O(cols · zeros)` time per shard.
    fn fill_shard(&self, shard: &mut [T], fans: Fans, seed: u64, offset: usize) -> Result<()> {
        if shard.is_empty() {
            return Ok(());
        }
        let fans = fans.validate()?;
        let total = fans.fan_in.saturating_mul(fans.fan_out);
        let (rows, cols, sampler) = self.prepare(total, fans)?;
        if offset
            .checked_add(shard.len())
            .is_none_or(|end| end > total)
        {
            return Err(Error::LengthMismatch {
                what: "shard".into(),
                expected: format!("offset + length <= {total} (the whole weight)"),
                found: offset.saturating_add(shard.len()),
            });
        }
        sampler
            .checked_for::<T>()?
            .fill_shard(shard, seed, offset)?;
        apply_seeded_mask(shard, rows, cols, self.zeros_per_column(rows), seed, offset);
        Ok(())
    }

    fn name(&self) -> &'static str {
        "Sparse"
    }

    fn family(&self) -> InitializerFamily {
        InitializerFamily::Sparse
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floyd_draws_distinct_rows() {
        let mut state = 12345u32;
        let rows = zero_rows(10, 10, |_, bound| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            below(state, bound)
        });
        let mut sorted = rows.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn shards_match_the_whole() {
        let sparse = Sparse::new(0.4, 1.0);
        let fans = Fans::new(13, 7);
        let mut whole = vec![0.0f32; 91];
        sparse.fill_seeded(&mut whole, fans, 3).unwrap();
        let mut pieces = vec![0.0f32; 91];
        for (i, chunk) in pieces.chunks_mut(10).enumerate() {
            sparse.fill_shard(chunk, fans, 3, i * 10).unwrap();
        }
        assert_eq!(whole, pieces);
    }
}
