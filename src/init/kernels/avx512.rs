//! Philox4x32-10 written with AVX-512F intrinsics: three batches (48 blocks) per step.
//!
//! Why by hand: the compiler vectorizes the portable `philox_batch`, but with one batch in
//! flight each round waits on the latency of its multiply (`vpmuludq`, shift, `vpternlogq`),
//! and it re-masks every low half. Here six independent groups of eight blocks hide that
//! latency, and the masks are dropped: each 32-bit word lives in the low half of a 64-bit lane,
//! `vpmuludq` reads only low halves, so whatever the high halves hold never reaches a result.
//! A round is then two multiplies, two shifts and two three-way XORs per eight blocks.
//!
//! Six groups, not four or eight: with four (two batches) the latency still showed, 4.9 billion
//! uniforms per second on a Zen 5 core against 5.6-5.8 with six; eight (four batches) need all
//! 32 vector registers for the state alone and were no faster than six.
//!
//! That is near the floor on this path: 240 such operations per 128 uniforms, plus eight for
//! the conversion of each sixteen, and Zen 4 retires two 512-bit integer operations per cycle,
//! so a core there makes about one uniform per cycle. BENCHMARKS.md has the measurements.

use std::arch::x86_64::{
    __m512, __m512i, _mm512_add_epi64, _mm512_add_ps, _mm512_cvtepi32_ps, _mm512_min_ps,
    _mm512_mul_epu32, _mm512_mul_ps, _mm512_permutex2var_epi32, _mm512_set1_epi64, _mm512_set1_ps,
    _mm512_setr_epi32, _mm512_setr_epi64, _mm512_setzero_si512, _mm512_srli_epi32,
    _mm512_srli_epi64, _mm512_ternarylogic_epi64,
};
use std::mem::transmute;

use crate::dispatch::Avx512Token;

use crate::init::philox::{self, ROUNDS};

use super::{
    BATCH_BLOCKS, BATCH_ELEMENTS, MULTIPLIER_0, MULTIPLIER_1, SCALE_24, Transform, Words,
    write_batch,
};

/// Blocks per group: one 64-bit lane each in a 512-bit register.
const GROUP_BLOCKS: usize = 8;
/// Batches per step.
const STEP_BATCHES: usize = 3;
/// Groups in flight: three batches of sixteen blocks, 24 of the 32 vector registers.
const GROUPS: usize = STEP_BATCHES * BATCH_BLOCKS / GROUP_BLOCKS;
/// Elements per step.
const STEP: usize = STEP_BATCHES * BATCH_ELEMENTS;

/// Fills `out` (a whole number of batches) starting at batch `first_batch`, with the same bits
/// as `fill_batches_portable`; the token proves the CPU runs AVX-512F code.
pub(super) fn fill_batches(
    token: Avx512Token,
    out: &mut [f32],
    key: [u32; 2],
    first_batch: u64,
    transform: Transform,
) {
    let _ = token;
    // SAFETY: the token exists only if detection found AVX-512F.
    unsafe { fill_batches_avx512(out, key, first_batch, transform) }
}

/// [`fill_batches`] compiled for AVX-512F.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
unsafe fn fill_batches_avx512(
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
        } => for_each_step(out, key, first_batch, |step, state| {
            write_uniform(step, state, low, range, largest)
        }),
        Transform::Normal { .. } => for_each_step(out, key, first_batch, |step, state| {
            let words = words(state);
            for (batch, words) in step.chunks_exact_mut(BATCH_ELEMENTS).zip(&words) {
                write_batch(batch, words, transform);
            }
        }),
    }
}

/// Runs Philox4x32-10 on each step (three batches) of `out` and hands the state to `write`:
/// `state[g][k]` holds word `k` of the step's blocks `8g .. 8g + 8` in the low halves of its
/// 64-bit lanes.
///
/// The rounds are written out here, not in a function of their own: that one would have a call
/// site per transform and would not be inlined, and its result would go through memory. Written
/// out, no register is copied between rounds, and the first round, with its zero words,
/// simplifies.
#[inline]
#[target_feature(enable = "avx512f")]
fn for_each_step(
    out: &mut [f32],
    key: [u32; 2],
    first_batch: u64,
    mut write: impl FnMut(&mut [f32], &[[__m512i; 4]; GROUPS]),
) {
    let keys = round_keys(key);
    // The last one or two batches go through a spare step, so that the rounds appear once (the
    // blocks computed beyond them are dropped).
    let whole = out.len() / STEP * STEP;
    let (steps, last) = out.split_at_mut(whole);
    let mut spare = [0f32; STEP];
    let spare_step = (!last.is_empty()).then_some(&mut spare[..]);
    for (i, step) in steps.chunks_exact_mut(STEP).chain(spare_step).enumerate() {
        let first = first_batch + (STEP_BATCHES * i) as u64;
        let mut state = counters(first * BATCH_BLOCKS as u64);
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
        write(step, &state);
    }
    last.copy_from_slice(&spare[..last.len()]);
}

/// The counters of blocks `first .. first + 48`, grouped as Philox's state.
#[inline]
#[target_feature(enable = "avx512f")]
fn counters(first: u64) -> [[__m512i; 4]; GROUPS] {
    let lane = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
    let zero = _mm512_setzero_si512();
    // Counter words 0 and 1 are the low and high halves of the block index (word 0's high half
    // is the index's, which the multiply ignores); words 2 and 3 are zero.
    let mut state = [[zero; 4]; GROUPS];
    for (g, group) in state.iter_mut().enumerate() {
        let offset = (g * GROUP_BLOCKS) as u64;
        let block = _mm512_add_epi64(_mm512_set1_epi64(first.wrapping_add(offset) as i64), lane);
        *group = [block, _mm512_srli_epi64::<32>(block), zero, zero];
    }
    state
}

/// The ten round keys, each half broadcast to all lanes (computed once per fill).
type RoundKeys = [[__m512i; 2]; ROUNDS];

#[inline]
#[target_feature(enable = "avx512f")]
fn round_keys(key: [u32; 2]) -> RoundKeys {
    philox::round_keys(key).map(|pair| pair.map(|half| _mm512_set1_epi64(i64::from(half))))
}

/// One Philox round on every group.
#[inline]
#[target_feature(enable = "avx512f")]
fn round(state: &mut [[__m512i; 4]; GROUPS], [key_0, key_1]: &[__m512i; 2]) {
    let multiplier_0 = _mm512_set1_epi64(MULTIPLIER_0 as i64);
    let multiplier_1 = _mm512_set1_epi64(MULTIPLIER_1 as i64);
    for group in state {
        let [c0, c1, c2, c3] = *group;
        let product_0 = _mm512_mul_epu32(c0, multiplier_0);
        let product_1 = _mm512_mul_epu32(c2, multiplier_1);
        let high_0 = _mm512_srli_epi64::<32>(product_0);
        let high_1 = _mm512_srli_epi64::<32>(product_1);
        // 0x96 is the truth table of a ^ b ^ c.
        *group = [
            _mm512_ternarylogic_epi64::<0x96>(high_1, c1, *key_0),
            product_1,
            _mm512_ternarylogic_epi64::<0x96>(high_0, c3, *key_1),
            product_0,
        ];
    }
}

/// Word `k` of sixteen blocks (two groups), packed into sixteen 32-bit lanes in block order.
#[inline]
#[target_feature(enable = "avx512f")]
fn packed_word(state: &[[__m512i; 4]; GROUPS], batch: usize, k: usize) -> __m512i {
    let low_halves = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    _mm512_permutex2var_epi32(state[2 * batch][k], low_halves, state[2 * batch + 1][k])
}

/// The step's batches' words in the layout of `philox_batch`.
#[inline]
#[target_feature(enable = "avx512f")]
fn words(state: &[[__m512i; 4]; GROUPS]) -> [Words; STEP_BATCHES] {
    let mut words = [[[0u32; BATCH_BLOCKS]; 4]; STEP_BATCHES];
    for (batch, out) in words.iter_mut().enumerate() {
        for (k, word) in out.iter_mut().enumerate() {
            // SAFETY: both types are 64 bytes and every bit pattern is valid for either.
            *word = unsafe { transmute::<__m512i, [u32; 16]>(packed_word(state, batch, k)) };
        }
    }
    words
}

/// A step of uniforms, computed as `uniform` does, operation for operation.
#[inline]
#[target_feature(enable = "avx512f")]
fn write_uniform(
    out: &mut [f32],
    state: &[[__m512i; 4]; GROUPS],
    low: f32,
    range: f32,
    largest: f32,
) {
    let (scale, low, range) = (
        _mm512_set1_ps(SCALE_24),
        _mm512_set1_ps(low),
        _mm512_set1_ps(range),
    );
    let largest = _mm512_set1_ps(largest);
    for (row, lanes) in out.chunks_exact_mut(BATCH_BLOCKS).enumerate() {
        let word = packed_word(state, row / 4, row % 4);
        let u = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32::<8>(word)), scale);
        let x = _mm512_add_ps(low, _mm512_mul_ps(range, u));
        // `vminps` returns its second operand unless the first is smaller: `uniform`'s select.
        let x = _mm512_min_ps(x, largest);
        // SAFETY: both types are 64 bytes and every bit pattern is valid for either.
        lanes.copy_from_slice(&unsafe { transmute::<__m512, [f32; 16]>(x) });
    }
}
