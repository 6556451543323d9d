//! Philox4x32-10 written with AVX2 intrinsics: half a batch (eight blocks) per step.
//!
//! The same scheme as `avx512.rs`, at half the width and with the register file in mind: AVX2
//! has sixteen registers, so two groups of four blocks are in flight (eight registers of state),
//! and a three-way XOR is two instructions. Each 32-bit word lives in the low half of a 64-bit
//! lane, where `vpmuludq` reads it; high halves are never masked, as no result depends on them.

use std::arch::x86_64::{
    __m256, __m256i, _mm256_add_epi64, _mm256_add_ps, _mm256_castps_si256, _mm256_castsi256_ps,
    _mm256_cvtepi32_ps, _mm256_min_ps, _mm256_mul_epu32, _mm256_mul_ps, _mm256_permute4x64_epi64,
    _mm256_set1_epi64x, _mm256_set1_ps, _mm256_setr_epi64x, _mm256_setzero_si256,
    _mm256_shuffle_ps, _mm256_srli_epi32, _mm256_srli_epi64, _mm256_xor_si256,
};
use std::mem::transmute;

use crate::dispatch::Avx2Token;

use crate::init::philox::{self, ROUNDS};

use super::{
    BATCH_BLOCKS, BATCH_ELEMENTS, MULTIPLIER_0, MULTIPLIER_1, SCALE_24, Transform, Words,
    write_batch,
};

/// Blocks per group: one 64-bit lane each in a 256-bit register.
const GROUP_BLOCKS: usize = 4;
/// Blocks per step: half a batch.
const HALF: usize = BATCH_BLOCKS / 2;
/// Groups per step.
const GROUPS: usize = HALF / GROUP_BLOCKS;

/// Philox's state for one step: `state[g][k]` holds word `k` of the step's blocks
/// `4g .. 4g + 4` in the low halves of its 64-bit lanes.
type State = [[__m256i; 4]; GROUPS];

/// Fills `out` (a whole number of batches) starting at batch `first_batch`, with the same bits
/// as `fill_batches_portable`; the token proves the CPU runs AVX2 and FMA code.
pub(super) fn fill_batches(
    token: Avx2Token,
    out: &mut [f32],
    key: [u32; 2],
    first_batch: u64,
    transform: Transform,
) {
    let _ = token;
    // SAFETY: the token exists only if detection found AVX2 and FMA.
    unsafe { fill_batches_avx2(out, key, first_batch, transform) }
}

/// [`fill_batches`] compiled for AVX2 and FMA.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
unsafe fn fill_batches_avx2(
    out: &mut [f32],
    key: [u32; 2],
    first_batch: u64,
    transform: Transform,
) {
    // One loop per transform, each with its own copy of the rounds.
    match transform {
        Transform::Uniform {
            low,
            range,
            largest,
        } => for_each_half(out, key, first_batch, |batch, half, state| {
            write_uniform(batch, half, state, low, range, largest)
        }),
        Transform::Normal { .. } => {
            let mut words = [[0u32; BATCH_BLOCKS]; 4];
            for_each_half(out, key, first_batch, |batch, half, state| {
                store_words(&mut words, half, state);
                if half == 1 {
                    write_batch(batch, &words, transform);
                }
            })
        }
    }
}

/// Runs Philox4x32-10 on both halves of each batch of `out`, in order, and hands each half's
/// state to `write` with its batch and its half (0 or 1). The rounds are written out, as in
/// `avx512.rs`, so that no register is copied between them.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn for_each_half(
    out: &mut [f32],
    key: [u32; 2],
    first_batch: u64,
    mut write: impl FnMut(&mut [f32], usize, &State),
) {
    let keys = round_keys(key);
    for (i, batch) in out.chunks_exact_mut(BATCH_ELEMENTS).enumerate() {
        let first_block = (first_batch + i as u64) * BATCH_BLOCKS as u64;
        for half in 0..2 {
            let mut state = counters(first_block + (half * HALF) as u64);
            round(&mut state, &keys[0]);
            round(&mut state, &keys[1]);
            round(&mut state, &keys[2]);
            round(&mut state, &keys[3]);
            round(&mut state, &keys[4]);
            round(&mut state, &keys[5]);
            round(&mut state, &keys[6]);
            round(&mut state, &keys[7]);
            round(&mut state, &keys[8]);
            round(&mut state, &keys[9]);
            write(batch, half, &state);
        }
    }
}

/// The counters of blocks `first .. first + 8`, grouped as Philox's state.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn counters(first: u64) -> State {
    let lane = _mm256_setr_epi64x(0, 1, 2, 3);
    let zero = _mm256_setzero_si256();
    // Counter words 0 and 1 are the low and high halves of the block index (word 0's high half
    // is the index's, which the multiply ignores); words 2 and 3 are zero.
    let mut state = [[zero; 4]; GROUPS];
    for (g, group) in state.iter_mut().enumerate() {
        let offset = (g * GROUP_BLOCKS) as u64;
        let block = _mm256_add_epi64(_mm256_set1_epi64x(first.wrapping_add(offset) as i64), lane);
        *group = [block, _mm256_srli_epi64::<32>(block), zero, zero];
    }
    state
}

/// The ten round keys, each half broadcast to all lanes (computed once per fill).
type RoundKeys = [[__m256i; 2]; ROUNDS];

#[inline]
#[target_feature(enable = "avx2,fma")]
fn round_keys(key: [u32; 2]) -> RoundKeys {
    philox::round_keys(key).map(|pair| pair.map(|half| _mm256_set1_epi64x(i64::from(half))))
}

/// One Philox round on every group.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn round(state: &mut State, [key_0, key_1]: &[__m256i; 2]) {
    let multiplier_0 = _mm256_set1_epi64x(MULTIPLIER_0 as i64);
    let multiplier_1 = _mm256_set1_epi64x(MULTIPLIER_1 as i64);
    for group in state {
        let [c0, c1, c2, c3] = *group;
        let product_0 = _mm256_mul_epu32(c0, multiplier_0);
        let product_1 = _mm256_mul_epu32(c2, multiplier_1);
        let high_0 = _mm256_srli_epi64::<32>(product_0);
        let high_1 = _mm256_srli_epi64::<32>(product_1);
        *group = [
            _mm256_xor_si256(_mm256_xor_si256(high_1, c1), *key_0),
            product_1,
            _mm256_xor_si256(_mm256_xor_si256(high_0, c3), *key_1),
            product_0,
        ];
    }
}

/// Word `k` of the step's eight blocks, packed into eight 32-bit lanes in block order.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn packed_word(state: &State, k: usize) -> __m256i {
    // The low halves of both groups, per 128-bit lane: [a0 a1 b0 b1 | a2 a3 b2 b3], numbering
    // blocks; then the pairs (64-bit lanes of the result) in the order 0 2 1 3.
    let (a, b) = (
        _mm256_castsi256_ps(state[0][k]),
        _mm256_castsi256_ps(state[1][k]),
    );
    let interleaved = _mm256_castps_si256(_mm256_shuffle_ps::<0b10_00_10_00>(a, b));
    _mm256_permute4x64_epi64::<0b11_01_10_00>(interleaved)
}

/// Stores the step's words into the batch's words, at `half`.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn store_words(words: &mut Words, half: usize, state: &State) {
    for (k, row) in words.iter_mut().enumerate() {
        // SAFETY: both types are 32 bytes and every bit pattern is valid for either.
        let lanes = unsafe { transmute::<__m256i, [u32; HALF]>(packed_word(state, k)) };
        row[half * HALF..(half + 1) * HALF].copy_from_slice(&lanes);
    }
}

/// Half a batch of uniforms, computed as `uniform` does, operation for operation.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn write_uniform(
    batch: &mut [f32],
    half: usize,
    state: &State,
    low: f32,
    range: f32,
    largest: f32,
) {
    let (scale, low, range) = (
        _mm256_set1_ps(SCALE_24),
        _mm256_set1_ps(low),
        _mm256_set1_ps(range),
    );
    let largest = _mm256_set1_ps(largest);
    for (k, row) in batch.chunks_exact_mut(BATCH_BLOCKS).enumerate() {
        let word = packed_word(state, k);
        let u = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32::<8>(word)), scale);
        let x = _mm256_add_ps(low, _mm256_mul_ps(range, u));
        // `vminps` returns its second operand unless the first is smaller: `uniform`'s select.
        let x = _mm256_min_ps(x, largest);
        // SAFETY: both types are 32 bytes and every bit pattern is valid for either.
        let lanes = unsafe { transmute::<__m256, [f32; HALF]>(x) };
        row[half * HALF..(half + 1) * HALF].copy_from_slice(&lanes);
    }
}
