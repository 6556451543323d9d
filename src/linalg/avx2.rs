//! The AVX2 + FMA microkernel (`6 x 16` tile) and the AVX 8 x 8 transpose used by packing.
//!
//! The classic layout for 16 `ymm` registers: 12 accumulators (6 rows of two 8-lane vectors),
//! 2 B vectors and 1 broadcast. 12 independent FMA chains cover a 4-cycle latency on two
//! 256-bit pipes.
//!
//! [`Avx2`] holds the token of `crate::dispatch`, so the target-feature code below is
//! unreachable on a CPU without AVX2 and FMA.

use std::arch::x86_64::*;

use super::Problem;
use super::kernel::{Kernel, Sliver, assert_tile_fits};
use super::pack::Transpose8;
use super::small;
use crate::dispatch::Avx2Token;

/// The AVX2 + FMA kernel: holds the token that proves detection found AVX2 and FMA.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx2(pub(crate) Avx2Token);

/// Rows of the AVX2 tile.
const AVX2_MR: usize = 6;
/// Columns of the AVX2 tile: two 8-lane vectors.
const AVX2_NR: usize = 16;
const _: usize = assert_tile_fits(AVX2_MR, AVX2_NR);

impl Transpose8 for Avx2 {
    fn transpose_blocks(
        self,
        src: &[f32],
        src_stride: usize,
        dst: &mut [f32],
        dst_stride: usize,
        shape: (usize, usize),
    ) {
        transpose_blocks_checked(self.0, src, src_stride, dst, dst_stride, shape);
    }
}

impl Kernel for Avx2 {
    const MR: usize = AVX2_MR;
    const NR: usize = AVX2_NR;
    const SHAPE_REASON: &'static str = "12 ymm accumulators + 2 B vectors + 1 broadcast of 16 \
        registers: 12 independent FMA chains cover a 4-cycle latency on two 256-bit pipes";
    /// # Safety
    /// The contract of [`Kernel::tile`]: `a`, `b` and `c` valid for the tile's reads and writes.
    unsafe fn tile(
        self,
        kc: usize,
        alpha: f32,
        a: Sliver,
        b: Sliver,
        beta: f32,
        c: *mut f32,
        ldc: usize,
    ) {
        // SAFETY: `self` holds the token of AVX2 and FMA detection; the caller upholds the
        // pointer contract of `Kernel::tile`, which `tile_avx2` shares.
        unsafe { tile_avx2(kc, alpha, a, b, beta, c, ldc) }
    }

    fn small(self, problem: &Problem<'_>, c: &mut [f32]) {
        small::with_scratch(problem, |a_row, scratch| {
            // SAFETY: `self` holds the token of AVX2 and FMA detection.
            unsafe { small_avx2(problem, c, a_row, scratch) }
        });
    }
}

/// [`small::multiply`] compiled with AVX2 and FMA enabled.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
unsafe fn small_avx2(problem: &Problem<'_>, c: &mut [f32], a_row: &mut [f32], scratch: &mut [f32]) {
    small::multiply::<true>(problem, c, a_row, scratch);
}

/// The `6 x 16` AVX2 + FMA microkernel.
///
/// # Safety
/// The CPU must support AVX2 and FMA; the pointers must satisfy the contract of
/// [`Kernel::tile`] with `MR = 6`, `NR = 16`.
#[target_feature(enable = "avx2,fma")]
unsafe fn tile_avx2(
    kc: usize,
    alpha: f32,
    a: Sliver,
    b: Sliver,
    beta: f32,
    c: *mut f32,
    ldc: usize,
) {
    let mut acc = [[_mm256_setzero_ps(); 2]; AVX2_MR];
    debug_assert_eq!(b.lane_stride, 1);
    for step in 0..kc {
        // SAFETY: `step < kc`, so the `NR` contiguous lanes of B and the `MR` lanes of A of this
        // step are among those the caller vouched for.
        let (b0, b1, a_step) = unsafe {
            let b_step = b.ptr.add(step * b.step_stride);
            (
                _mm256_loadu_ps(b_step),
                _mm256_loadu_ps(b_step.add(8)),
                a.ptr.add(step * a.step_stride),
            )
        };
        for (row, acc_row) in acc.iter_mut().enumerate() {
            // SAFETY: lane `row < MR` of A at this step.
            let a_value = _mm256_set1_ps(unsafe { *a_step.add(row * a.lane_stride) });
            acc_row[0] = _mm256_fmadd_ps(a_value, b0, acc_row[0]);
            acc_row[1] = _mm256_fmadd_ps(a_value, b1, acc_row[1]);
        }
    }
    let alpha = _mm256_set1_ps(alpha);
    let beta_vector = _mm256_set1_ps(beta);
    for (row, acc_row) in acc.iter().enumerate() {
        for (half, &sum) in acc_row.iter().enumerate() {
            let scaled = _mm256_mul_ps(alpha, sum);
            // SAFETY: row `row < MR`, lanes `8 * half .. 8 * half + 8 < NR` of the tile the
            // caller vouched for (read only when beta != 0).
            unsafe {
                let target = c.add(row * ldc + 8 * half);
                let value = if beta == 0.0 {
                    scaled
                } else {
                    _mm256_fmadd_ps(beta_vector, _mm256_loadu_ps(target), scaled)
                };
                _mm256_storeu_ps(target, value);
            }
        }
    }
}

/// Bounds-checks `lines x steps` (multiples of 8), then transposes them 8 x 8 block by block
/// with AVX, in one target-feature function.
pub(crate) fn transpose_blocks_checked(
    token: Avx2Token,
    src: &[f32],
    src_stride: usize,
    dst: &mut [f32],
    dst_stride: usize,
    (lines, steps): (usize, usize),
) {
    assert!(lines % 8 == 0 && steps % 8 == 0);
    if lines == 0 || steps == 0 {
        return;
    }
    // Lengths the two sides must have, `None` if they overflow (then no slice is that long).
    let needed = |rows: usize, stride: usize, row_length: usize| {
        (rows - 1).checked_mul(stride)?.checked_add(row_length)
    };
    assert!(needed(lines, src_stride, steps).is_some_and(|len| src.len() >= len));
    assert!(needed(steps, dst_stride, lines).is_some_and(|len| dst.len() >= len));
    let _ = token;
    // SAFETY: the assertions cover every block read and written; the token proves AVX2, which
    // implies AVX.
    unsafe {
        transpose_blocks_avx(
            src.as_ptr(),
            src_stride,
            dst.as_mut_ptr(),
            dst_stride,
            (lines, steps),
        );
    }
}

/// [`transpose_8x8_avx`] over `lines x steps` (multiples of 8).
///
/// # Safety
/// The CPU must support AVX; `src` must be valid for reading `lines` rows of `steps` values
/// `src_stride` apart and `dst` for writing `steps` rows of `lines` values `dst_stride` apart.
#[target_feature(enable = "avx")]
unsafe fn transpose_blocks_avx(
    src: *const f32,
    src_stride: usize,
    dst: *mut f32,
    dst_stride: usize,
    (lines, steps): (usize, usize),
) {
    for line in (0..lines).step_by(8) {
        for step in (0..steps).step_by(8) {
            // SAFETY: block (line, step) lies inside the rows the caller vouched for.
            unsafe {
                transpose_8x8_avx(
                    src.add(line * src_stride + step),
                    src_stride,
                    dst.add(step * dst_stride + line),
                    dst_stride,
                );
            }
        }
    }
}

/// `dst[t * dst_stride + l] = src[l * src_stride + t]` for `l, t < 8`, in registers.
///
/// # Safety
/// The CPU must support AVX; `src` must be valid for reading 8 rows of 8 values
/// `src_stride` apart and `dst` for writing 8 rows of 8 values `dst_stride` apart.
#[target_feature(enable = "avx")]
unsafe fn transpose_8x8_avx(src: *const f32, src_stride: usize, dst: *mut f32, dst_stride: usize) {
    // SAFETY: rows `0..8` of 8 values each, as the caller guarantees.
    let row = |line: usize| unsafe { _mm256_loadu_ps(src.add(line * src_stride)) };
    let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3));
    let (r4, r5, r6, r7) = (row(4), row(5), row(6), row(7));
    // Interleave pairs of lines, then pairs of pairs, then 128-bit halves.
    let (t0, t1) = (_mm256_unpacklo_ps(r0, r1), _mm256_unpackhi_ps(r0, r1));
    let (t2, t3) = (_mm256_unpacklo_ps(r2, r3), _mm256_unpackhi_ps(r2, r3));
    let (t4, t5) = (_mm256_unpacklo_ps(r4, r5), _mm256_unpackhi_ps(r4, r5));
    let (t6, t7) = (_mm256_unpacklo_ps(r6, r7), _mm256_unpackhi_ps(r6, r7));
    let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    let columns = [
        _mm256_permute2f128_ps::<0x20>(u0, u4),
        _mm256_permute2f128_ps::<0x20>(u1, u5),
        _mm256_permute2f128_ps::<0x20>(u2, u6),
        _mm256_permute2f128_ps::<0x20>(u3, u7),
        _mm256_permute2f128_ps::<0x31>(u0, u4),
        _mm256_permute2f128_ps::<0x31>(u1, u5),
        _mm256_permute2f128_ps::<0x31>(u2, u6),
        _mm256_permute2f128_ps::<0x31>(u3, u7),
    ];
    for (step, column) in columns.into_iter().enumerate() {
        // SAFETY: rows `0..8` of 8 values each, as the caller guarantees.
        unsafe { _mm256_storeu_ps(dst.add(step * dst_stride), column) };
    }
}
