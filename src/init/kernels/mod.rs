//! Vectorized `f32` sampling: Philox blocks sixteen or more at a time, turned into uniforms or
//! Box–Muller normals with polynomial `ln` and `sin`/`cos` that the compiler vectorizes.
//!
//! Stream layout (value-stable): elements come in batches of 64. Element `64·i + 16·k + b` is
//! made from word `k` of Philox block `16·i + b`: a batch is four rows of sixteen lanes, stored
//! as computed, so no transpose is needed. Uniforms use one word each; a normal uses the word
//! pair `(0, 1)` or `(2, 3)` of its block (Box–Muller: radius from the first, angle from the
//! second; words 0 and 2 give the cosine branch, 1 and 3 the sine branch).
//!
//! Three instances, one picked at run time by [`Isa::active`] (the single detection of
//! `crate::dispatch`, whose token each ISA's file takes): AVX-512F and AVX2+FMA run Philox as
//! intrinsics (`avx512.rs`, two batches in flight; `avx2.rs`, half a batch), the baseline
//! target as plain Rust that the compiler vectorizes. The conversions to floats are the same operations in the same order
//! everywhere, with no fast-math, so all instances produce the same bits (tested below).
//! `dispatch::compiled_for` gives other plain-Rust sampling code (the `f64` and
//! truncated-normal streams of `sampler`) the same three instances, compiled from one source.
//!
//! Accuracy (tested against `f64` std functions in this file): [`minus_two_ln_of_uniform`] has
//! a relative error below 2e-7 for every 24-bit uniform; [`sin_cos`] an absolute error below
//! 1e-7 on `[-π/4, π/4]`; a normal `mean + std · r cos θ` is within `1.5e-6 · std`, plus half an
//! ulp of the result, of the exact transform of the same words.
#![allow(unsafe_code)]

use std::f32::consts::FRAC_PI_2;

use super::philox::{philox4x32_10, round_keys};
use crate::dispatch::{Isa, Token};

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

/// Philox blocks per batch: sixteen 32-bit lanes fill one AVX-512 register.
pub(crate) const BATCH_BLOCKS: usize = 16;
/// `f32` elements per batch (four words per block).
pub(crate) const BATCH_ELEMENTS: usize = 4 * BATCH_BLOCKS;

/// The words of one batch: `words[k][b]` is word `k` of the batch's block `b`.
pub(crate) type Words = [[u32; BATCH_BLOCKS]; 4];

const MULTIPLIER_0: u64 = 0xD251_1F53;
const MULTIPLIER_1: u64 = 0xCD9E_8D57;
const SCALE_24: f32 = 1.0 / (1u32 << 24) as f32;

/// What to turn the random words into.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Transform {
    /// `low + range · u`, kept at or below `largest`, the largest `f32` below `high`.
    Uniform { low: f32, range: f32, largest: f32 },
    /// `mean + std · z` with `z` from Box–Muller on consecutive word pairs.
    Normal { mean: f32, std: f32 },
}

/// Fills `out` with elements `offset .. offset + out.len()` of the transformed stream for the
/// seed `key`: partial batches element by element, whole batches through the active ISA.
pub(crate) fn fill_range(out: &mut [f32], key: [u32; 2], offset: usize, transform: Transform) {
    fill_range_with(Isa::active(), out, key, offset, transform);
}

/// `fill_range` with the kernels of `isa` (the portable ones if the CPU lacks it).
fn fill_range_with(isa: Isa, out: &mut [f32], key: [u32; 2], offset: usize, t: Transform) {
    let head = ((BATCH_ELEMENTS - offset % BATCH_ELEMENTS) % BATCH_ELEMENTS).min(out.len());
    let (first, rest) = out.split_at_mut(head);
    for (i, value) in first.iter_mut().enumerate() {
        *value = element(key, offset + i, t);
    }
    let whole = rest.len() / BATCH_ELEMENTS * BATCH_ELEMENTS;
    let (middle, last) = rest.split_at_mut(whole);
    let first_batch = ((offset + head) / BATCH_ELEMENTS) as u64;
    fill_batches_with(isa, middle, key, first_batch, t);
    let last_offset = offset + head + whole;
    for (i, value) in last.iter_mut().enumerate() {
        *value = element(key, last_offset + i, t);
    }
}

/// Element `index` of the stream on its own (one Philox block).
fn element(key: [u32; 2], index: usize, transform: Transform) -> f32 {
    let (batch, lane) = (index / BATCH_ELEMENTS, index % BATCH_ELEMENTS);
    let (word, block_in_batch) = (lane / BATCH_BLOCKS, lane % BATCH_BLOCKS);
    let block = (batch as u64)
        .wrapping_mul(BATCH_BLOCKS as u64)
        .wrapping_add(block_in_batch as u64);
    let words = philox4x32_10([block as u32, (block >> 32) as u32, 0, 0], key);
    match transform {
        Transform::Uniform {
            low,
            range,
            largest,
        } => uniform(words[word], low, range, largest),
        Transform::Normal { mean, std } => {
            let (cosine, sine) = box_muller(words[word & !1], words[word | 1], mean, std);
            if word % 2 == 0 { cosine } else { sine }
        }
    }
}

/// Fills whole batches with the kernels of `isa` (the portable ones if the CPU lacks it).
fn fill_batches_with(isa: Isa, out: &mut [f32], key: [u32; 2], first: u64, t: Transform) {
    debug_assert_eq!(out.len() % BATCH_ELEMENTS, 0);
    match isa.token().unwrap_or(Token::Portable) {
        #[cfg(target_arch = "x86_64")]
        Token::Avx512(token) => avx512::fill_batches(token, out, key, first, t),
        #[cfg(target_arch = "x86_64")]
        Token::Avx2(token) => avx2::fill_batches(token, out, key, first, t),
        Token::Portable => fill_batches_portable(out, key, first, t),
    }
}

/// The portable instance (always available; tested on every machine): one batch at a time,
/// plain Rust that the compiler vectorizes for the baseline target.
fn fill_batches_portable(out: &mut [f32], key: [u32; 2], first_batch: u64, transform: Transform) {
    for (i, batch) in out.chunks_exact_mut(BATCH_ELEMENTS).enumerate() {
        let words = philox_batch(key, (first_batch + i as u64) * BATCH_BLOCKS as u64);
        write_batch(batch, &words, transform);
    }
}

/// Turns the words of one batch into its 64 elements; every instance uses it for normals.
/// Everything called here is `#[inline(always)]`: a call would be compiled without the
/// caller's target features.
// Indexing four arrays by one lane index is the structure-of-arrays form that vectorizes.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn write_batch(out: &mut [f32], words: &Words, transform: Transform) {
    let out: &mut [f32; BATCH_ELEMENTS] = out.try_into().expect("a whole batch");
    match transform {
        Transform::Uniform {
            low,
            range,
            largest,
        } => {
            for k in 0..4 {
                for b in 0..BATCH_BLOCKS {
                    out[BATCH_BLOCKS * k + b] = uniform(words[k][b], low, range, largest);
                }
            }
        }
        Transform::Normal { mean, std } => {
            for pair in [0, 2] {
                for b in 0..BATCH_BLOCKS {
                    let (cosine, sine) = box_muller(words[pair][b], words[pair + 1][b], mean, std);
                    out[BATCH_BLOCKS * pair + b] = cosine;
                    out[BATCH_BLOCKS * (pair + 1) + b] = sine;
                }
            }
        }
    }
}

/// Philox4x32-10 on sixteen consecutive counters, structure-of-arrays: `words[k][b]` is word
/// `k` of block `first + b`. Same function as `philox::philox4x32_10`, lane-parallel.
///
/// The 32-bit words live in 64-bit lanes: the 32 x 32 -> 64-bit products are then single
/// `vpmuludq` instructions, and the high half is a shift. Only the multiplies mask their
/// inputs: garbage in a high half never reaches a low half, so the rest needs no masks.
// Indexing four arrays by one lane index is the structure-of-arrays form that vectorizes.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
pub(crate) fn philox_batch(key: [u32; 2], first: u64) -> Words {
    const LOW: u64 = 0xFFFF_FFFF;
    debug_assert_eq!(first % BATCH_BLOCKS as u64, 0);
    // `first` is a multiple of 16, so adding the lane index never carries into the high word.
    let mut c = [[0u64; BATCH_BLOCKS]; 4];
    for b in 0..BATCH_BLOCKS {
        c[0][b] = first | b as u64;
        c[1][b] = first >> 32;
    }
    for [k0, k1] in round_keys(key).map(|pair| pair.map(u64::from)) {
        for b in 0..BATCH_BLOCKS {
            let product_0 = MULTIPLIER_0 * (c[0][b] & LOW);
            let product_1 = MULTIPLIER_1 * (c[2][b] & LOW);
            c[0][b] = (product_1 >> 32) ^ c[1][b] ^ k0;
            c[1][b] = product_1;
            c[2][b] = (product_0 >> 32) ^ c[3][b] ^ k1;
            c[3][b] = product_0;
        }
    }
    let mut words = [[0u32; BATCH_BLOCKS]; 4];
    for k in 0..4 {
        for b in 0..BATCH_BLOCKS {
            words[k][b] = c[k][b] as u32;
        }
    }
    words
}

/// A uniform on `[low, high)` from the top 24 bits of `word` (`largest` is just below `high`).
#[inline(always)]
fn uniform(word: u32, low: f32, range: f32, largest: f32) -> f32 {
    let u = (word >> 8) as f32 * SCALE_24;
    let x = low + range * u;
    // Rounding may land on `high`; the range is half-open. (A compare-select, not `f32::min`,
    // whose NaN handling costs two extra instructions per vector.)
    if x < largest { x } else { largest }
}

/// Two normals `mean + std · z` from two words, Box–Muller: the radius `sqrt(-2 ln u₁)` from
/// `u₁ ∈ (0, 1]`, the top 24 bits of `word_radius` plus one, over 2²⁴ (so `ln` is finite); the
/// angle `2π · word_angle / 2³²`. Returns the cosine branch, then the sine branch.
///
/// 24-bit uniforms bound `|z|` by `sqrt(-2 ln 2⁻²⁴) ≈ 5.77`: the tail beyond it has probability
/// 8e-9, far below what any initialization statistic can see.
///
/// All arithmetic is `f32` with fused multiply-adds, which every instance has (AVX2+FMA and
/// AVX-512 in hardware, `f32::mul_add` exactly rounded everywhere), so all give the same bits.
#[inline(always)]
pub(crate) fn box_muller(word_radius: u32, word_angle: u32, mean: f32, std: f32) -> (f32, f32) {
    // Nearest quarter turn `q` (the top two bits of `turn`) and the remainder `φ ∈ [-π/4, π/4)`,
    // in exact integer arithmetic.
    let turn = word_angle.wrapping_add(1 << 29);
    let remainder = (turn & 0x3FFF_FFFF) as i32 - (1 << 29);
    let phi = remainder as f32 * (FRAC_PI_2 / (1u32 << 30) as f32);
    // Rotating by q quarter turns: for odd q, negate φ and swap sine and cosine; for q >= 2,
    // negate both, which is negating the radius. Sign-bit flips, so the loops stay branch-free.
    let phi = f32::from_bits(phi.to_bits() ^ ((turn << 1) & SIGN));
    let (sin, cos) = sin_cos(phi);
    let (sin, cos) = if turn & (1 << 30) != 0 {
        (cos, sin)
    } else {
        (sin, cos)
    };
    let radius = std * minus_two_ln_of_uniform(word_radius).sqrt();
    let radius = f32::from_bits(radius.to_bits() ^ (turn & SIGN));
    (radius.mul_add(cos, mean), radius.mul_add(sin, mean))
}

/// The sign bit of an `f32`.
const SIGN: u32 = 1 << 31;
/// The bits of `√½`, where `ln`'s argument is split into exponent and mantissa.
const SQRT_HALF_BITS: u32 = 0x3F35_04F3;

/// `-2 ln u` for `u = (i + 1) / 2²⁴`, `i` the top 24 bits of `word`.
///
/// `2²⁴ u = 2^e · m` with `m ∈ [√½, √2)`, exact; `e - 24` is then the exponent of `u` (folded
/// into the split's bias), and `-2 ln m = -4 atanh(s) = -4 (s + s³/3 + s⁵/5 + ...)` with
/// `s = (m − 1)/(m + 1)`, `|s| <= 0.1716`, truncated after `s⁹/9` (next term < 4e-10).
#[inline(always)]
pub(crate) fn minus_two_ln_of_uniform(word: u32) -> f32 {
    let scaled = ((word >> 8) + 1) as f32;
    let offset = scaled.to_bits().wrapping_sub(SQRT_HALF_BITS + (24 << 23));
    let exponent = (offset as i32 >> 23) as f32;
    let mantissa = f32::from_bits((offset & 0x007F_FFFF) + SQRT_HALF_BITS);
    let s = (mantissa - 1.0) / (mantissa + 1.0);
    let s2 = s * s;
    let odd_terms = s2.mul_add(-4.0 / 9.0, -4.0 / 7.0);
    let odd_terms = s2.mul_add(odd_terms, -4.0 / 5.0);
    let odd_terms = s2.mul_add(odd_terms, -4.0 / 3.0);
    let series = (s * s2).mul_add(odd_terms, -4.0 * s);
    exponent.mul_add(-2.0 * std::f32::consts::LN_2, series)
}

/// `(sin φ, cos φ)` for `|φ| <= π/4`: Taylor polynomials, truncated where the next term is below
/// 3e-8 (`φ¹¹/11!` and `φ¹⁰/10!`).
#[inline(always)]
pub(crate) fn sin_cos(phi: f32) -> (f32, f32) {
    let p2 = phi * phi;
    let sin_terms = p2.mul_add(1.0 / 362_880.0, -1.0 / 5040.0);
    let sin_terms = p2.mul_add(sin_terms, 1.0 / 120.0);
    let sin_terms = p2.mul_add(sin_terms, -1.0 / 6.0);
    let sin = (phi * p2).mul_add(sin_terms, phi);
    let cos_terms = p2.mul_add(1.0 / 40_320.0, -1.0 / 720.0);
    let cos_terms = p2.mul_add(cos_terms, 1.0 / 24.0);
    let cos_terms = p2.mul_add(cos_terms, -0.5);
    let cos = p2.mul_add(cos_terms, 1.0);
    (sin, cos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::compiled_for;
    use crate::special;

    #[test]
    fn minus_two_ln_is_accurate_for_every_uniform() {
        let mut worst: f64 = 0.0;
        for word in (0..=u32::MAX).step_by(256) {
            let u = f64::from((word >> 8) + 1) / f64::from(1u32 << 24);
            let exact = -2.0 * u.ln();
            let got = f64::from(minus_two_ln_of_uniform(word));
            if exact == 0.0 {
                assert_eq!(got, 0.0);
            } else {
                worst = worst.max(((got - exact) / exact).abs());
            }
        }
        assert!(worst < 2e-7, "max relative error of -2 ln u: {worst:e}");
    }

    #[test]
    fn sin_cos_are_accurate_on_the_reduced_range() {
        let mut worst: f64 = 0.0;
        for i in -(1i32 << 20)..=(1 << 20) {
            let phi = i as f32 * (std::f32::consts::FRAC_PI_4 / (1 << 20) as f32);
            let (sin, cos) = sin_cos(phi);
            worst = worst.max((f64::from(sin) - f64::from(phi).sin()).abs());
            worst = worst.max((f64::from(cos) - f64::from(phi).cos()).abs());
        }
        assert!(worst < 1e-7, "max absolute error of sin/cos: {worst:e}");
    }

    #[test]
    fn box_muller_matches_the_f64_transform() {
        let (mean, std) = (0.5f32, 2.0f32);
        let mut worst: f64 = 0.0;
        // Every quadrant and its edges, then Philox words.
        let edges = (0..8u32).flat_map(|q| [q << 29, (q << 29).wrapping_sub(1), (q << 29) + 1]);
        let words = (0..100_000u32).map(|i| philox4x32_10([i, 0, 0, 0], [7, 7]));
        let pairs = edges.map(|angle| (0x1234_5678, angle));
        for (radius_word, angle_word) in pairs.chain(words.map(|w| (w[0], w[1]))) {
            let (z0, z1) = box_muller(radius_word, angle_word, mean, std);
            let u1 = f64::from((radius_word >> 8) + 1) / f64::from(1u32 << 24);
            let radius = (-2.0 * u1.ln()).sqrt();
            let angle = std::f64::consts::TAU * f64::from(angle_word) / 2f64.powi(32);
            let exact = |trig: f64| f64::from(mean) + f64::from(std) * radius * trig;
            worst = worst.max((f64::from(z0) - exact(angle.cos())).abs());
            worst = worst.max((f64::from(z1) - exact(angle.sin())).abs());
        }
        // std · 5.8 · (a few f32 ulps of the radius and the angle); 1.1e-6 measured.
        assert!(worst < 3e-6, "max absolute error of Box–Muller: {worst:e}");
    }

    #[test]
    #[allow(clippy::needless_range_loop)]
    fn batch_philox_matches_scalar() {
        let key = [0xdead_beef, 0x1234_5678];
        let first = u64::from(u32::MAX) + 1 - 16; // the last batch before the high word moves
        let words = philox_batch(key, first);
        for b in 0..BATCH_BLOCKS {
            let counter = first + b as u64;
            let scalar = philox4x32_10([counter as u32, (counter >> 32) as u32, 0, 0], key);
            for k in 0..4 {
                assert_eq!(words[k][b], scalar[k]);
            }
        }
    }

    #[test]
    fn every_isa_gives_the_philox_words_and_quantiles_of_the_portable_path() {
        // The last batch before the counter's high word moves, and one far from it (each ISA
        // against the portable batch; `batch_philox_matches_scalar` ties that to Philox).
        for first in [u64::from(u32::MAX) + 1 - 16, 48] {
            let reference = philox_batch([3, 4], first);
            for isa in Isa::available() {
                let words = compiled_for(
                    isa,
                    #[inline(always)]
                    || philox_batch([3, 4], first),
                );
                assert_eq!(words, reference, "{isa:?}");
            }
        }
        // Probabilities in every region of AS 241 and on the edges of the central one.
        let p: [f64; BATCH_ELEMENTS] = std::array::from_fn(|i| match i {
            0 => 0.0,
            1 => 1.0,
            2 => 0.075,
            3 => 0.925f64.next_up(),
            4 => 1e-300,
            _ => (i as f64 - 4.5) / 60.0,
        });
        let reference = p.map(|pi| special::normal_quantile(pi).to_bits());
        for isa in Isa::available() {
            let got = compiled_for(
                isa,
                #[inline(always)]
                || special::normal_quantiles(&p),
            );
            let got = got.map(f64::to_bits);
            assert_eq!(got, reference, "{isa:?}");
        }
    }

    /// A uniform and a normal transform, with parameters away from 0 and 1.
    fn sample_transforms() -> [Transform; 2] {
        [
            Transform::Uniform {
                low: -0.5,
                range: 1.25,
                largest: 0.75f32.next_down(),
            },
            Transform::Normal {
                mean: -3.0,
                std: 0.01,
            },
        ]
    }

    #[test]
    fn every_isa_gives_the_same_bits() {
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for transform in sample_transforms() {
            // Odd and even batch counts (the AVX-512 kernel works in pairs), and a range whose
            // block index crosses 2^32 (a carry into the counter's second word).
            let near_carry = (1u64 << 32) / BATCH_BLOCKS as u64 - 3;
            for (first, batches) in [(3, 5), (3, 1), (0, 6), (near_carry, 6)] {
                let mut reference = vec![0f32; BATCH_ELEMENTS * batches];
                fill_batches_portable(&mut reference, [1, 2], first, transform);
                for isa in Isa::available() {
                    let mut out = vec![0f32; BATCH_ELEMENTS * batches];
                    fill_batches_with(isa, &mut out, [1, 2], first, transform);
                    assert_eq!(bits(&out), bits(&reference), "{isa:?} {first} {batches}");
                }
                let element = element([1, 2], first as usize * BATCH_ELEMENTS, transform);
                assert_eq!(reference[0].to_bits(), element.to_bits());
            }
            let mut reference = vec![0f32; BATCH_ELEMENTS * 5];
            fill_batches_portable(&mut reference, [1, 2], 3, transform);
            // The batched and the element-by-element paths agree.
            for (i, &value) in reference.iter().enumerate() {
                let element = element([1, 2], 3 * BATCH_ELEMENTS + i, transform);
                assert_eq!(value.to_bits(), element.to_bits(), "element {i}");
            }
        }
    }

    /// Every ISA, every kind of range: starting mid-batch or on a batch, ending mid-batch,
    /// odd and even batch counts, and ranges whose block index crosses 2^32.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn every_isa_fills_any_range_as_element_by_element() {
        let key = [9, u32::MAX];
        // Block 2^32 starts batch 2^28, at element 2^34.
        let carry = 1usize << 34;
        let starts = [
            0,
            3 * BATCH_ELEMENTS + 1,
            carry - 5 * BATCH_ELEMENTS + 31,
            carry - 135,
        ];
        // Every count of whole batches modulo a kernel step (two and three batches) and more.
        let lengths = [0, 1, 63, 64, 65, 128, 129, 193, 320, 384, 451, 1000];
        for transform in sample_transforms() {
            for start in starts {
                for len in lengths {
                    let expected: Vec<u32> = (start..start + len)
                        .map(|index| element(key, index, transform).to_bits())
                        .collect();
                    for isa in Isa::available() {
                        let mut out = vec![0f32; len];
                        fill_range_with(isa, &mut out, key, start, transform);
                        let got: Vec<u32> = out.iter().map(|x| x.to_bits()).collect();
                        assert_eq!(got, expected, "{isa:?} {start} {len} {transform:?}");
                    }
                }
            }
        }
    }
}
