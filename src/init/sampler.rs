//! Elementwise distributions and the engines that fill slices from them.
//!
//! Every random initializer except `Orthogonal` reduces to a validated [`Sampler`]; this file
//! owns the two ways to fill: from a caller's generator, and from the seeded Philox stream,
//! where element `j` is a pure function of `(seed, j)`.
//!
//! Stream layout (value-stable; changing it is a value-breaking change). The key is the seed;
//! the counter is the block index.
//! - `f32` uniform and normal: batches of 64 elements, see `kernels` (vectorized).
//! - everything else (`f64`, truncated normals): block `i` yields [`Element::PER_BLOCK`]
//!   consecutive elements `i * PER_BLOCK ..`; uniforms use one 32-bit word per `f32` (two per
//!   `f64`), normals Box–Muller on consecutive pairs of uniforms (a pair never straddles a
//!   block), truncated normals invert the CDF of one uniform.

use std::f64::consts::TAU;

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use super::element::Element;
use super::kernels::{self, Transform, Words};
use crate::dispatch::Isa;
use crate::error::{Error, Result, check_finite};
use crate::special::{normal_cdf, normal_quantile, normal_quantiles};

/// Below this many elements a seeded fill stays on the calling thread: handing work to the
/// pool costs more.
const PARALLEL_THRESHOLD: usize = 1 << 16;
/// The most elements a thread of a parallel fill takes at a time (4 MiB of `f32`).
const PARALLEL_CHUNK: usize = 1 << 20;

/// Philox blocks per step of the block-per-element streams (`f64`, truncated normals).
const GROUP_BLOCKS: usize = kernels::BATCH_BLOCKS;
/// Elements per step, at most (`f32`: four per block).
const GROUP_ELEMENTS: usize = 4 * GROUP_BLOCKS;

/// A validated elementwise distribution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Sampler {
    /// Every element equals the value.
    Constant(f64),
    /// Uniform on `[low, high)`.
    Uniform { low: f64, high: f64 },
    /// Normal with the given mean and standard deviation.
    Normal { mean: f64, std: f64 },
    /// Normal truncated to `[low, high]`, drawn by inversion.
    TruncatedNormal(Truncation),
}

/// A truncated normal prepared for inversion: the standardized window `[alpha, beta]` (an end
/// where the inverse CDF can be infinite moved in, out of the uniforms' reach), its CDF at the
/// lower end and its probability mass. When the window lies in the upper tail it is mirrored into the lower
/// tail, where `Φ` keeps full relative precision.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Truncation {
    mean: f64,
    std: f64,
    low: f64,
    high: f64,
    mirrored: bool,
    alpha: f64,
    beta: f64,
    cdf_alpha: f64,
    mass: f64,
}

impl Sampler {
    /// Every element `value`.
    pub(crate) fn constant(value: f64) -> Result<Sampler> {
        check_finite("value", value)?;
        Ok(Sampler::Constant(value))
    }

    /// Uniform on `[low, high)`; `low < high`, both finite, `high - low` finite.
    pub(crate) fn uniform(low: f64, high: f64) -> Result<Sampler> {
        check_finite("low", low)?;
        check_finite("high", high)?;
        if low >= high {
            return Err(Error::invalid("low", format!("< high ({high})"), low));
        }
        if !(high - low).is_finite() {
            return Err(Error::invalid("high - low", "finite", high - low));
        }
        Ok(Sampler::Uniform { low, high })
    }

    /// Symmetric uniform on `[-bound, bound)`, `bound > 0`.
    pub(crate) fn symmetric_uniform(bound_name: &'static str, bound: f64) -> Result<Sampler> {
        if !(bound.is_finite() && bound > 0.0) {
            return Err(Error::invalid(bound_name, "finite and > 0", bound));
        }
        Sampler::uniform(-bound, bound)
    }

    /// Normal with finite `mean` and finite `std >= 0`.
    pub(crate) fn normal(mean: f64, std: f64) -> Result<Sampler> {
        check_finite("mean", mean)?;
        if !(std.is_finite() && std >= 0.0) {
            return Err(Error::invalid("std", "finite and >= 0", std));
        }
        Ok(Sampler::Normal { mean, std })
    }

    /// Normal(mean, std) truncated to `[low, high]`; the window must hold probability mass.
    pub(crate) fn truncated_normal(mean: f64, std: f64, low: f64, high: f64) -> Result<Sampler> {
        check_finite("mean", mean)?;
        if !(std.is_finite() && std > 0.0) {
            return Err(Error::invalid("std", "finite and > 0", std));
        }
        if low.is_nan() {
            return Err(Error::invalid("a", "a number", low));
        }
        if high.is_nan() {
            return Err(Error::invalid("b", "a number", high));
        }
        if low >= high {
            return Err(Error::invalid("a", format!("< b ({high})"), low));
        }
        let (mut alpha, mut beta) = ((low - mean) / std, (high - mean) / std);
        let mirrored = alpha > 0.0;
        if mirrored {
            (alpha, beta) = (-beta, -alpha);
        }
        let cdf_alpha = normal_cdf(alpha);
        let mass = normal_cdf(beta) - cdf_alpha;
        if !(mass > 0.0 && mass.is_finite()) {
            return Err(Error::invalid(
                "[a, b]",
                format!("a window with probability mass under normal({mean}, {std})"),
                format!("[{low}, {high}]"),
            ));
        }
        // Where a draw's probability can be exactly 0 (Φ(α) underflows: α = -inf, or below
        // about -38) or round to 1 (Φ(β) rounds to 1), its quantile is infinite, and the clamp
        // to the window would give the window's end: an infinite weight, or one dozens of σ
        // out. There the end is replaced, for the clamp only, by the point beyond which the
        // window holds 2^-64 of its mass (at least the smallest positive f64): out of reach of
        // every other draw (53 random bits at most), whose values do not move.
        let reach = (mass * 2f64.powi(-64)).max(f64::from_bits(1));
        if cdf_alpha == 0.0 {
            alpha = alpha.max(normal_quantile(reach)).min(beta);
        }
        if cdf_alpha + mass >= 1.0 {
            beta = beta.min(-normal_quantile(reach)).max(alpha);
        }
        Ok(Sampler::TruncatedNormal(Truncation {
            mean,
            std,
            low,
            high,
            mirrored,
            alpha,
            beta,
            cdf_alpha,
            mass,
        }))
    }

    /// Checks every value the sampler can produce is finite in `T` (an `f32` weight cannot
    /// hold N(0, 1e38²) draws), so no fill writes an infinity.
    pub(crate) fn checked_for<T: Element>(self) -> Result<Sampler> {
        // Box–Muller from 53-bit uniforms and the ziggurat stay well within 40 standard
        // deviations.
        let largest = match self {
            Sampler::Constant(value) => value.abs(),
            Sampler::Uniform { low, high } => low.abs().max(high.abs()),
            Sampler::Normal { mean, std } => mean.abs() + 40.0 * std,
            Sampler::TruncatedNormal(t) => {
                (t.mean.abs() + 40.0 * t.std).min(t.low.abs().max(t.high.abs()))
            }
        };
        if largest > T::max_value().into_f64() {
            return Err(Error::invalid(
                "distribution",
                format!(
                    "values representable in the weight type (|x| <= {:e})",
                    T::max_value().into_f64()
                ),
                format!("values up to {largest:e}"),
            ));
        }
        self.check_not_collapsed::<T>()?;
        Ok(self)
    }

    /// Refuses a distribution that rounding to `T` collapses: a uniform range whose ends round
    /// to the same value (no `T` lies in `[low, high)`; clamping below `high` would leave the
    /// range), or a positive standard deviation that rounds to 0 (every weight equal).
    fn check_not_collapsed<T: Element>(self) -> Result<()> {
        let type_name = std::any::type_name::<T>();
        match self {
            Sampler::Uniform { low, high } if T::from_f64(low) >= T::from_f64(high) => {
                Err(Error::invalid(
                    "high",
                    format!(
                        "above low ({low:e}) in {type_name}, where both round to {:e}",
                        T::from_f64(low).into_f64()
                    ),
                    format!("{high:e}"),
                ))
            }
            Sampler::Normal { std, .. } if std > 0.0 && T::from_f64(std) == T::zero() => {
                Err(Error::invalid(
                    "std",
                    format!(
                        "0 or representable in {type_name} (it rounds to 0 and every weight would be equal)"
                    ),
                    format!("{std:e}"),
                ))
            }
            Sampler::TruncatedNormal(t) if T::from_f64(t.std) == T::zero() => Err(Error::invalid(
                "std",
                format!("representable in {type_name} (it rounds to 0)"),
                format!("{:e}", t.std),
            )),
            _ => Ok(()),
        }
    }

    /// Fills `out` from a caller's generator.
    pub(crate) fn fill_rng<T: Element>(&self, out: &mut [T], rng: &mut dyn Rng) {
        match *self {
            Sampler::Constant(value) => out.fill(T::from_f64(value)),
            Sampler::Uniform { low, high } => {
                for x in out {
                    *x = uniform_value(low, high, unit_uniform(rng));
                }
            }
            Sampler::Normal { mean, std } => {
                for x in out {
                    let z: f64 = StandardNormal.sample(rng);
                    *x = T::from_f64(mean + std * z);
                }
            }
            Sampler::TruncatedNormal(truncation) => {
                for x in out {
                    *x = truncation.value(unit_uniform(rng));
                }
            }
        }
    }

    /// Fills `out` with elements `offset .. offset + out.len()` of the seeded stream.
    pub(crate) fn fill_range<T: Element>(
        &self,
        out: &mut [T],
        seed: u64,
        offset: usize,
    ) -> Result<()> {
        if offset.checked_add(out.len()).is_none() {
            return Err(Error::invalid(
                "offset",
                format!("<= usize::MAX - shard length ({})", out.len()),
                offset,
            ));
        }
        if let Sampler::Constant(value) = *self {
            out.fill(T::from_f64(value));
            return Ok(());
        }
        if let (Some(out), Some(transform)) = (T::as_f32_slice(out), self.f32_transform()) {
            fill_range_f32(out, seed, offset, transform);
            return Ok(());
        }
        let key = [seed as u32, (seed >> 32) as u32];
        crate::dispatch::compiled_for(
            Isa::active(),
            #[inline(always)]
            || self.fill_groups(out, key, offset),
        );
        Ok(())
    }

    /// Elements `offset ..` of a block-per-element stream (`f64`, truncated normals), sixteen
    /// Philox blocks at a time, aligned to multiples of sixteen; a group that the range only
    /// touches is computed whole and cut.
    // Always inlined, with what it calls: it runs inside `dispatch::compiled_for`, which
    // vectorizes only what is inlined into it.
    #[inline(always)]
    fn fill_groups<T: Element>(&self, out: &mut [T], key: [u32; 2], offset: usize) {
        let per_group = GROUP_BLOCKS * T::PER_BLOCK;
        let mut values = [T::zero(); GROUP_ELEMENTS];
        let (mut index, mut written) = (offset, 0);
        while written < out.len() {
            let (group, lane) = (index / per_group, index % per_group);
            let words = kernels::philox_batch(key, (group * GROUP_BLOCKS) as u64);
            self.group_values(&words, &mut values);
            let take = (per_group - lane).min(out.len() - written);
            out[written..written + take].copy_from_slice(&values[lane..lane + take]);
            written += take;
            index += take;
        }
    }

    /// Fills the whole of `out` from the seeded stream: [`Sampler::fill_shard`] at offset 0.
    pub(crate) fn fill_seeded<T: Element>(&self, out: &mut [T], seed: u64) -> Result<()> {
        self.fill_shard(out, seed, 0)
    }

    /// Fills `out` with elements `offset .. offset + out.len()` of the seeded stream, on
    /// several threads for large slices. Every element comes from [`Sampler::fill_range`] at
    /// its own index, so the result does not depend on the thread count.
    ///
    /// The threads take chunks of at most [`PARALLEL_CHUNK`] elements from a shared queue
    /// rather than one equal share each: on a shared machine one core is often slower than
    /// the other, and a fixed split would wait for it.
    pub(crate) fn fill_shard<T: Element>(
        &self,
        out: &mut [T],
        seed: u64,
        offset: usize,
    ) -> Result<()> {
        let threads = crate::threads::num_threads()
            .min(out.len() / PARALLEL_THRESHOLD)
            .max(1);
        // An overflowing range goes to `fill_range` too, which words the error.
        if threads == 1 || offset.checked_add(out.len()).is_none() {
            return self.fill_range(out, seed, offset);
        }
        // A whole number of batches (64 elements, a multiple of every block size), so that
        // with a batch-aligned offset no block is computed twice; four chunks per thread at
        // least, so the queue can balance.
        let chunk = out
            .len()
            .div_ceil(4 * threads)
            .min(PARALLEL_CHUNK)
            .next_multiple_of(kernels::BATCH_ELEMENTS);
        let parts = out.chunks_mut(chunk).enumerate();
        crate::threads::try_for_each_item(threads, parts, &|(i, part)| {
            self.fill_range(part, seed, offset + i * chunk)
        })
    }

    /// The values of sixteen Philox blocks (`words[k][b]`: word `k` of block `b`) into the
    /// first `16 * PER_BLOCK` entries of `values`: block `b` gives entries `b * PER_BLOCK ..`.
    #[inline(always)]
    fn group_values<T: Element>(&self, words: &Words, values: &mut [T; GROUP_ELEMENTS]) {
        let blocks = values
            .chunks_exact_mut(T::PER_BLOCK)
            .zip(0..GROUP_BLOCKS)
            .map(|(chunk, b)| (chunk, block_words(words, b)));
        match *self {
            Sampler::Constant(value) => values.fill(T::from_f64(value)),
            Sampler::Uniform { low, high } => {
                for (chunk, block) in blocks {
                    for (v, u) in chunk.iter_mut().zip(T::unit_uniforms(block)) {
                        *v = uniform_value(low, high, u);
                    }
                }
            }
            Sampler::Normal { mean, std } => {
                for (chunk, block) in blocks {
                    let (u, u_nonzero) = (T::unit_uniforms(block), T::unit_uniforms_nonzero(block));
                    for (pair, v) in chunk.chunks_exact_mut(2).enumerate() {
                        let (z0, z1) = box_muller(u_nonzero[2 * pair], u[2 * pair + 1]);
                        v[0] = T::from_f64(mean + std * z0);
                        v[1] = T::from_f64(mean + std * z1);
                    }
                }
            }
            Sampler::TruncatedNormal(truncation) => truncation.group_values(words, values),
        }
    }
}

impl Sampler {
    /// The vectorized `f32` transform for this distribution, if it has one.
    fn f32_transform(&self) -> Option<Transform> {
        match *self {
            // A range wider than f32::MAX (e.g. [-2e38, 2e38)) would be infinite in the f32
            // kernels; such fills take the f64 arithmetic of the block-per-element stream.
            Sampler::Uniform { low, high } if ((high - low) as f32).is_finite() => {
                Some(Transform::Uniform {
                    low: low as f32,
                    range: (high - low) as f32,
                    largest: (high as f32).next_down(),
                })
            }
            Sampler::Normal { mean, std } => Some(Transform::Normal {
                mean: mean as f32,
                std: std as f32,
            }),
            Sampler::Uniform { .. } | Sampler::Constant(_) | Sampler::TruncatedNormal(_) => None,
        }
    }
}

/// The four words of block `b` of a group.
#[inline]
fn block_words(words: &Words, b: usize) -> [u32; 4] {
    words.map(|row| row[b])
}

/// Elements `offset ..` of the `f32` stream through the vectorized kernels.
fn fill_range_f32(out: &mut [f32], seed: u64, offset: usize, transform: Transform) {
    kernels::fill_range(out, [seed as u32, (seed >> 32) as u32], offset, transform);
}

/// A uniform in `[0, 1)` with 53 random bits from a caller's generator.
fn unit_uniform(rng: &mut dyn Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// `low + (high - low) u`, rounded to `T` and kept inside `[low, high)`.
#[inline]
fn uniform_value<T: Element>(low: f64, high: f64, u: f64) -> T {
    let x = T::from_f64(low + (high - low) * u);
    let high_t = T::from_f64(high);
    // Rounding to T may land on `high`; the range is half-open, as PyTorch's `uniform_`.
    if x >= high_t { high_t.next_below() } else { x }
}

/// Box–Muller: two independent standard normals from `u1 ∈ (0, 1]` and `u2 ∈ [0, 1)`.
#[inline]
fn box_muller(u1: f64, u2: f64) -> (f64, f64) {
    let radius = (-2.0 * u1.ln()).sqrt();
    let (sin, cos) = (TAU * u2).sin_cos();
    (radius * cos, radius * sin)
}

impl Truncation {
    /// The value for the uniform `u ∈ [0, 1)`, always inside `[low, high]`.
    #[inline]
    fn value<T: Element>(&self, u: f64) -> T {
        self.value_at_quantile(normal_quantile(self.probability(u)))
    }

    /// The values of sixteen Philox blocks, as [`Sampler::group_values`] lays them out: one
    /// uniform each, their quantiles computed together ([`normal_quantiles`]), same bits as
    /// [`Truncation::value`].
    #[inline(always)]
    fn group_values<T: Element>(&self, words: &Words, values: &mut [T; GROUP_ELEMENTS]) {
        // Entries past `16 * PER_BLOCK` (half of them for f64) stay at the central 1/2.
        let mut p = [0.5; GROUP_ELEMENTS];
        let per_block = T::PER_BLOCK;
        for (b, chunk) in p.chunks_exact_mut(per_block).take(GROUP_BLOCKS).enumerate() {
            let u = T::unit_uniforms(block_words(words, b));
            for (pi, &ui) in chunk.iter_mut().zip(&u) {
                *pi = self.probability(ui);
            }
        }
        for (v, z) in values.iter_mut().zip(normal_quantiles(&p)) {
            *v = self.value_at_quantile(z);
        }
    }

    /// `Φ(α) + u (Φ(β) − Φ(α))`: where the uniform `u` lands on the CDF's axis.
    #[inline(always)]
    fn probability(&self, u: f64) -> f64 {
        self.cdf_alpha + u * self.mass
    }

    /// The value for the standardized quantile `z`, always inside `[low, high]`.
    #[inline(always)]
    fn value_at_quantile<T: Element>(&self, z: f64) -> T {
        let z = z.clamp(self.alpha, self.beta);
        let z = if self.mirrored { -z } else { z };
        let x = T::from_f64(self.mean + self.std * z);
        // Rounding to T must not leave the window either.
        let (low, high) = (T::from_f64(self.low), T::from_f64(self.high));
        if x < low {
            low
        } else if x > high {
            high
        } else {
            x
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::philox::Philox;

    #[test]
    fn shards_equal_the_whole() {
        let sampler = Sampler::normal(0.5, 2.0).unwrap();
        let mut whole = vec![0f32; 1001];
        sampler.fill_range(&mut whole, 9, 0).unwrap();
        for (start, len) in [(0, 0), (1, 3), (3, 5), (7, 100), (998, 3)] {
            let mut shard = vec![0f32; len];
            sampler.fill_range(&mut shard, 9, start).unwrap();
            assert_eq!(shard, whole[start..start + len]);
        }
    }

    /// Element `index` of the block-per-element stream, from its own Philox block and the
    /// scalar transforms: the definition the grouped engine must match.
    fn reference_element<T: Element>(sampler: &Sampler, seed: u64, index: usize) -> T {
        let per_block = T::PER_BLOCK;
        let words = Philox::new(seed).block((index / per_block) as u64);
        let (u, u_nonzero) = (T::unit_uniforms(words), T::unit_uniforms_nonzero(words));
        let lane = index % per_block;
        match *sampler {
            Sampler::Constant(value) => T::from_f64(value),
            Sampler::Uniform { low, high } => uniform_value(low, high, u[lane]),
            Sampler::Normal { mean, std } => {
                let (z0, z1) = box_muller(u_nonzero[lane & !1], u[lane | 1]);
                T::from_f64(mean + std * if lane.is_multiple_of(2) { z0 } else { z1 })
            }
            Sampler::TruncatedNormal(truncation) => truncation.value(u[lane]),
        }
    }

    fn grouped_engine_matches_the_definition<T: Element>(samplers: &[Sampler]) {
        // Ranges that start and end inside a group (64 f32 or 32 f64 elements), span several
        // groups, or are empty.
        let ranges = [(0, 200), (1, 0), (5, 3), (31, 2), (63, 67), (1000, 129)];
        for (&sampler, isa) in samplers
            .iter()
            .flat_map(|s| Isa::available().into_iter().map(move |i| (s, i)))
        {
            for (start, len) in ranges {
                let mut out = vec![T::zero(); len];
                crate::dispatch::compiled_for(
                    isa,
                    #[inline(always)]
                    || sampler.fill_groups(&mut out, [11, 0], start),
                );
                for (i, &value) in out.iter().enumerate() {
                    let expected: T = reference_element(&sampler, 11, start + i);
                    assert_eq!(
                        value.into_f64().to_bits(),
                        expected.into_f64().to_bits(),
                        "{sampler:?} {isa:?} element {}",
                        start + i
                    );
                }
            }
        }
    }

    /// A standard ±2σ window, and one in the upper tail (mirrored).
    fn truncated_normals() -> [Sampler; 2] {
        [
            Sampler::truncated_normal(0.0, 1.0, -2.0, 2.0).unwrap(),
            Sampler::truncated_normal(1.0, 0.5, 2.5, 9.0).unwrap(),
        ]
    }

    #[test]
    fn grouped_engine_matches_the_definition_for_f64() {
        let [standard, upper] = truncated_normals();
        let uniform = Sampler::uniform(-0.5, 0.75).unwrap();
        let normal = Sampler::normal(0.5, 2.0).unwrap();
        grouped_engine_matches_the_definition::<f64>(&[uniform, normal, standard, upper]);
    }

    #[test]
    fn grouped_engine_matches_the_definition_for_f32_truncated_normals() {
        // f32 uniforms and normals take the batch kernels instead (tested in `kernels`).
        grouped_engine_matches_the_definition::<f32>(&truncated_normals());
    }

    #[test]
    fn parallel_equals_serial() {
        let sampler = Sampler::uniform(-1.0, 1.0).unwrap();
        let n = 3 * PARALLEL_THRESHOLD + 5;
        let mut serial = vec![0f64; n];
        sampler.fill_range(&mut serial, 1, 0).unwrap();
        let mut parallel = vec![0f64; n];
        crate::set_num_threads(3);
        sampler.fill_seeded(&mut parallel, 1).unwrap();
        crate::set_num_threads(0);
        assert_eq!(serial, parallel);
    }

    #[test]
    fn truncated_values_stay_in_window() {
        for (mean, std, low, high) in [
            (0.0, 1.0, -2.0, 2.0),
            (0.0, 1.0, 5.0, 6.0),
            (3.0, 0.1, -1.0, 2.8),
        ] {
            let sampler = Sampler::truncated_normal(mean, std, low, high).unwrap();
            let mut values = vec![0f32; 4096];
            sampler.fill_range(&mut values, 3, 0).unwrap();
            assert!(
                values
                    .iter()
                    .all(|&x| (low as f32..=high as f32).contains(&x))
            );
        }
        assert!(Sampler::truncated_normal(0.0, 1.0, 50.0, 60.0).is_err());
        assert!(Sampler::truncated_normal(0.0, 1.0, 1.0, 1.0).is_err());
    }

    #[test]
    fn windows_reaching_beyond_the_doubles_give_finite_weights_at_the_extreme_uniforms() {
        let (inf, last_53, last_24) = (f64::INFINITY, 1.0 - 2f64.powi(-53), 1.0 - 2f64.powi(-24));
        // Lower ends where, in Python's f64, Φ(a) + last_53 (1 − Φ(a)) rounds to exactly 1.
        let rounding_to_one = [-0.02, -0.03, -0.08, -0.12, -0.16, -0.19, -0.22, -0.23];
        let mut reached_one = false;
        // Infinite ends, finite ends so far out that Φ underflows or rounds to 1, and windows
        // so deep in a tail that their mass is subnormal.
        let windows = [
            (-inf, 0.0),
            (-inf, inf),
            (2.0, inf),
            (-100.0, 100.0),
            (-1e300, 1e300),
            (37.5, inf),
            (38.0, inf),
            (-inf, -60.0),
        ]
        .into_iter()
        .chain(rounding_to_one.map(|a| (a, inf)))
        .chain(rounding_to_one.map(|a| (a, 1e300)));
        for (low, high) in windows {
            let (mean, std) = if high == -60.0 {
                (1.0, 3.0)
            } else {
                (0.0, 1.0)
            };
            let Sampler::TruncatedNormal(t) =
                Sampler::truncated_normal(mean, std, low, high).unwrap()
            else {
                unreachable!("a truncated normal");
            };
            // u = 0 is where Φ⁻¹ could give -inf; the largest u is where the probability can
            // round to 1 and give +inf.
            reached_one |= t.probability(last_53) == 1.0;
            for x in [t.value::<f64>(0.0), t.value::<f64>(last_53)] {
                assert!(
                    x.is_finite() && (low..=high).contains(&x),
                    "{low:e} {high:e}: {x:e}"
                );
                assert!((x - mean).abs() <= 40.0 * std, "{low:e} {high:e}: {x:e}");
            }
            for x in [t.value::<f32>(0.0), t.value::<f32>(last_24)] {
                assert!(
                    x.is_finite() && (low as f32..=high as f32).contains(&x),
                    "{x}"
                );
            }
            // Every other draw gives the exact inversion, clamped to the window as given (in the
            // subnormal windows, a small u's probability can still underflow to 0).
            for u in [2f64.powi(-53), 2f64.powi(-24), 0.5, 1.0 - 2f64.powi(-24)] {
                let z = normal_quantile(t.cdf_alpha + u * t.mass);
                let exact = (mean + std * if t.mirrored { -z } else { z }).clamp(low, high);
                if z.is_finite() {
                    assert_eq!(t.value::<f64>(u), exact, "{low:e} {high:e} u = {u:e}");
                }
            }
        }
        assert!(
            reached_one,
            "no window exercised a probability of exactly 1"
        );
    }

    /// Issue 14.5: every value in `[low, high)` of the weight type, or the call refused.
    #[test]
    fn uniform_ranges_at_the_edges_of_f32() {
        // Wider than f32::MAX: the f32 kernel's `high - low` overflowed and every value was
        // the same.
        let wide = Sampler::uniform(-2e38, 2e38)
            .unwrap()
            .checked_for::<f32>()
            .unwrap();
        let mut values = vec![0f32; 1000];
        wide.fill_range(&mut values, 5, 0).unwrap();
        assert!(values.iter().all(|&x| (-2e38..2e38).contains(&x)));
        let distinct: std::collections::BTreeSet<u32> =
            values.iter().map(|x| x.to_bits()).collect();
        assert!(distinct.len() > 990, "{} distinct values", distinct.len());
        // Ends that round to the same f32: no f32 value in the range (before: 0.99999994,
        // below low; and 0 for [1e-45, 2e-45)).
        for (low, high) in [(1.0, 1.0 + 1e-12), (1e-45, 2e-45)] {
            let error = Sampler::uniform(low, high)
                .unwrap()
                .checked_for::<f32>()
                .unwrap_err();
            assert!(
                error.to_string().starts_with("high must be above low"),
                "{error}"
            );
            // f64 holds both ends apart: fine there, and inside the range.
            let sampler = Sampler::uniform(low, high)
                .unwrap()
                .checked_for::<f64>()
                .unwrap();
            let mut values = vec![0f64; 256];
            sampler.fill_range(&mut values, 1, 0).unwrap();
            assert!(values.iter().all(|&x| (low..high).contains(&x)));
        }
        // A positive std that rounds to 0 in f32 would write all zeros.
        assert!(
            Sampler::normal(0.0, 1e-50)
                .unwrap()
                .checked_for::<f32>()
                .is_err()
        );
        assert!(
            Sampler::normal(0.0, 1e-50)
                .unwrap()
                .checked_for::<f64>()
                .is_ok()
        );
        assert!(
            Sampler::normal(0.0, 0.0)
                .unwrap()
                .checked_for::<f32>()
                .is_ok()
        );
    }

    #[test]
    fn uniform_edges() {
        // u just below 1 must not round up to `high`.
        let x: f32 = uniform_value(0.0, 1.0, 1.0 - 1e-12);
        assert!(x < 1.0);
        assert!(Sampler::uniform(1.0, 1.0).is_err());
        assert!(Sampler::uniform(f64::NAN, 1.0).is_err());
        assert!(Sampler::uniform(-f64::MAX, f64::MAX).is_err());
        assert!(
            Sampler::fill_range(&Sampler::Constant(1.0), &mut [0f32; 2], 0, usize::MAX).is_err()
        );
    }
}
