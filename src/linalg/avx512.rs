//! The AVX-512F microkernel (`8 x 32` tile) and the thin-output path.
//!
//! Register layout (32 `zmm` registers; one row of the C tile is two vectors of 16 lanes):
//!
//! ```text
//!            B sliver, one step:  [ b0: 16 lanes ][ b1: 16 lanes ]
//! A sliver   a[0] broadcast  ->   [ acc 0,0      ][ acc 0,1      ]
//! one step   a[1] broadcast  ->   [ acc 1,0      ][ acc 1,1      ]
//!            ...                  ...
//!            a[7] broadcast  ->   [ acc 7,0      ][ acc 7,1      ]
//! ```
//!
//! 16 accumulators, 2 B vectors, and the broadcasts folded into the FMAs' memory operand:
//! each step of the sum issues 16 FMAs against 2 vector loads and 8 scalar broadcasts, enough
//! independent chains to cover a 4-cycle FMA latency on two 512-bit pipes (Intel server cores,
//! Zen 5) and, on Zen 4, which splits each 512-bit FMA into two 256-bit halves, still 8 chains
//! per half.
//!
//! [`Avx512`] holds the token of `crate::dispatch`, so the target-feature code below is
//! unreachable on a CPU without AVX-512F.

use std::arch::x86_64::*;

use super::Problem;
use super::avx2::transpose_blocks_checked;
use super::kernel::{Kernel, Sliver, assert_tile_fits};
use super::pack::Transpose8;
use super::pack::with_buffers;
use super::small;
use crate::dispatch::{Avx2Token, Avx512Token};

/// The AVX-512F kernel: holds the token that proves detection found AVX-512F, AVX2 and FMA.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx512(pub(crate) Avx512Token);

/// Rows of the AVX-512 tile.
const AVX512_MR: usize = 8;
/// Columns of the AVX-512 tile: two 16-lane vectors.
const AVX512_NR: usize = 32;
const _: usize = assert_tile_fits(AVX512_MR, AVX512_NR);

impl Transpose8 for Avx512 {
    fn transpose_blocks(
        self,
        src: &[f32],
        src_stride: usize,
        dst: &mut [f32],
        dst_stride: usize,
        shape: (usize, usize),
    ) {
        transpose_blocks_checked(self.0.avx2(), src, src_stride, dst, dst_stride, shape);
    }
}

impl Kernel for Avx512 {
    const MR: usize = AVX512_MR;
    const NR: usize = AVX512_NR;
    const SHAPE_REASON: &'static str = "16 zmm accumulators + 2 B vectors of 32 registers: \
        16 independent FMA chains cover a 4-cycle latency on two 512-bit pipes (8 per half \
        on Zen 4's split 512-bit FMAs), broadcasts folded into the FMAs";
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
        // SAFETY: `self` holds the token of AVX-512F detection; the caller upholds the
        // pointer contract of `Kernel::tile`, which `tile_avx512` shares.
        unsafe { tile_avx512(kc, alpha, a, b, beta, c, ldc) }
    }

    fn small(self, problem: &Problem<'_>, c: &mut [f32]) {
        small::with_scratch(problem, |a_row, scratch| {
            // SAFETY: `self` holds the token of AVX-512F (and FMA) detection.
            unsafe { small_avx512(problem, c, a_row, scratch) }
        });
    }

    /// Only for a row-major `op(A)`: the dot products need its rows contiguous, and for a
    /// stored `Aᵀ` the packed path, which then computes `Cᵀ` reading both operands in place,
    /// measured faster (64 x 256 x 10: 105 against 78 GFLOP/s with a transposed copy of A).
    fn thin(self, problem: &Problem<'_>, c: &mut [f32]) -> bool {
        let (n, k) = (problem.n, problem.k);
        if n > THIN_MAX_N || problem.a.transposed {
            return false;
        }
        let k_padded = k.next_multiple_of(16);
        with_buffers(0, n.next_multiple_of(4) * k_padded, |_, b_rows| {
            pack_b_rows(self.0.avx2(), problem, b_rows, k_padded);
            // SAFETY: `self` holds the token of AVX-512F detection; `b_rows` holds
            // `n.next_multiple_of(4)` rows of `k_padded` values; the problem was validated,
            // and op(A) is not transposed.
            unsafe { thin_avx512(problem, b_rows, k_padded, c) };
        });
        true
    }
}

/// [`small::multiply`] compiled with AVX-512F enabled.
///
/// # Safety
/// The CPU must support AVX-512F and FMA.
#[target_feature(enable = "avx512f,fma")]
unsafe fn small_avx512(
    problem: &Problem<'_>,
    c: &mut [f32],
    a_row: &mut [f32],
    scratch: &mut [f32],
) {
    small::multiply::<true>(problem, c, a_row, scratch);
}

/// The `8 x 32` AVX-512F microkernel.
///
/// # Safety
/// The CPU must support AVX-512F; the pointers must satisfy the contract of
/// [`Kernel::tile`] with `MR = 8`, `NR = 32`.
#[target_feature(enable = "avx512f")]
unsafe fn tile_avx512(
    kc: usize,
    alpha: f32,
    a: Sliver,
    b: Sliver,
    beta: f32,
    c: *mut f32,
    ldc: usize,
) {
    let mut acc = [[_mm512_setzero_ps(); 2]; AVX512_MR];
    debug_assert_eq!(b.lane_stride, 1);
    for step in 0..kc {
        // SAFETY: `step < kc`, so the `NR` contiguous lanes of B and the `MR` lanes of A of this
        // step are among those the caller vouched for.
        let (b0, b1, a_step) = unsafe {
            let b_step = b.ptr.add(step * b.step_stride);
            (
                _mm512_loadu_ps(b_step),
                _mm512_loadu_ps(b_step.add(16)),
                a.ptr.add(step * a.step_stride),
            )
        };
        for (row, acc_row) in acc.iter_mut().enumerate() {
            // SAFETY: lane `row < MR` of A at this step.
            let a_value = _mm512_set1_ps(unsafe { *a_step.add(row * a.lane_stride) });
            acc_row[0] = _mm512_fmadd_ps(a_value, b0, acc_row[0]);
            acc_row[1] = _mm512_fmadd_ps(a_value, b1, acc_row[1]);
        }
    }
    let alpha = _mm512_set1_ps(alpha);
    let beta_vector = _mm512_set1_ps(beta);
    for (row, acc_row) in acc.iter().enumerate() {
        for (half, &sum) in acc_row.iter().enumerate() {
            let scaled = _mm512_mul_ps(alpha, sum);
            // SAFETY: row `row < MR`, lanes `16 * half .. 16 * half + 16 < NR` of the tile the
            // caller vouched for (read only when beta != 0).
            unsafe {
                let target = c.add(row * ldc + 16 * half);
                let value = if beta == 0.0 {
                    scaled
                } else {
                    _mm512_fmadd_ps(beta_vector, _mm512_loadu_ps(target), scaled)
                };
                _mm512_storeu_ps(target, value);
            }
        }
    }
}

/// Widest C handled by the thin-output path: beyond it the packed path wastes few lanes.
const THIN_MAX_N: usize = 16;

/// `op(B)ᵀ` as `n` (rounded up to 4) contiguous rows of `k` (rounded up to 16) values, zero
/// padded, so each column of `op(B)` is read with full 16-lane loads.
fn pack_b_rows(token: Avx2Token, problem: &Problem<'_>, rows: &mut [f32], k_padded: usize) {
    let (n, k) = (problem.n, problem.k);
    // The buffer is reused between calls: clear the padding the copies below do not write.
    for row in rows.chunks_exact_mut(k_padded) {
        row[k..].fill(0.0);
    }
    rows[n * k_padded..].fill(0.0);
    let (data, ld) = (problem.b.data, problem.b.ld);
    if problem.b.transposed {
        // Stored B is `n x k`: its rows are the rows we want.
        for (j, row) in rows.chunks_exact_mut(k_padded).take(n).enumerate() {
            row[..k].copy_from_slice(&data[j * ld..j * ld + k]);
        }
    } else {
        // Stored B is `k x n`: transpose it.
        transpose_into(token, data, ld, k, n, rows, k_padded);
    }
}

/// `dst[col * dst_ld + row] = src[row * src_ld + col]` for a `rows x cols` block: 8 x 8
/// blocks in registers, the ragged edges element by element.
fn transpose_into(
    token: Avx2Token,
    src: &[f32],
    src_ld: usize,
    rows: usize,
    cols: usize,
    dst: &mut [f32],
    dst_ld: usize,
) {
    let (full_rows, full_cols) = (rows - rows % 8, cols - cols % 8);
    transpose_blocks_checked(token, src, src_ld, dst, dst_ld, (full_rows, full_cols));
    for col in 0..cols {
        let first_row = if col < full_cols { full_rows } else { 0 };
        for row in first_row..rows {
            dst[col * dst_ld + row] = src[row * src_ld + col];
        }
    }
}

/// Thin outputs as dot products: each element of C is `row i of op(A)` times `row j of
/// op(B)ᵀ`, both contiguous, 16 lanes at a time, in blocks of 4 rows x 4 columns (16
/// accumulators, 8 loads per 16 FMAs); the 16 partial sums are reduced once at the end.
///
/// # Safety
/// The CPU must support AVX-512F. `problem` must be validated with `op(A)` not transposed;
/// `b_rows` must hold `n.next_multiple_of(4)` rows of `k_padded = k.next_multiple_of(16)`
/// values; `c` must hold the validated C.
#[target_feature(enable = "avx512f,fma")]
unsafe fn thin_avx512(problem: &Problem<'_>, b_rows: &[f32], k_padded: usize, c: &mut [f32]) {
    let (m, n, k) = (problem.m, problem.n, problem.k);
    let (a, lda) = (problem.a.data.as_ptr(), problem.a.ld);
    // The last, partial group of 16 steps reads only the `k % 16` valid values of A.
    let tail_mask: __mmask16 = if k % 16 == 0 {
        0xFFFF
    } else {
        (1u16 << (k % 16)) - 1
    };
    for i in (0..m).step_by(4) {
        // Rows past the end repeat the last row; their results are discarded.
        let rows: [*const f32; 4] =
            std::array::from_fn(|r| a.wrapping_add((i + r).min(m - 1) * lda));
        for j in (0..n).step_by(4) {
            let columns: [*const f32; 4] =
                std::array::from_fn(|col| b_rows[(j + col) * k_padded..].as_ptr());
            let mut acc = [[_mm512_setzero_ps(); 4]; 4];
            for step in (0..k_padded).step_by(16) {
                let mask = if step + 16 > k { tail_mask } else { 0xFFFF };
                // SAFETY: rows of A are valid for `k` values (validated), and the mask limits
                // the reads to `step .. k`; rows of `b_rows` hold `k_padded` values.
                let (a_values, b_values) = unsafe {
                    (
                        rows.map(|row| _mm512_maskz_loadu_ps(mask, row.add(step))),
                        columns.map(|column| _mm512_loadu_ps(column.add(step))),
                    )
                };
                for (acc_row, &a_value) in acc.iter_mut().zip(&a_values) {
                    for (acc_value, &b_value) in acc_row.iter_mut().zip(&b_values) {
                        *acc_value = _mm512_fmadd_ps(a_value, b_value, *acc_value);
                    }
                }
            }
            for (r, acc_row) in acc.iter().enumerate().take(m - i) {
                let sums = reduce_4(acc_row);
                let c_row = &mut c[(i + r) * problem.ldc + j..];
                for (out, &sum) in c_row.iter_mut().zip(&sums).take(n - j) {
                    let scaled = problem.alpha * sum;
                    *out = if problem.beta == 0.0 {
                        scaled
                    } else {
                        problem.beta.mul_add(*out, scaled)
                    };
                }
            }
        }
    }
}

/// The lane sums of four vectors, reduced together (interleave, add, then fold the four
/// 128-bit quarters).
#[target_feature(enable = "avx512f")]
fn reduce_4(v: &[__m512; 4]) -> [f32; 4] {
    let pairs_01 = _mm512_add_ps(
        _mm512_unpacklo_ps(v[0], v[1]),
        _mm512_unpackhi_ps(v[0], v[1]),
    );
    let pairs_23 = _mm512_add_ps(
        _mm512_unpacklo_ps(v[2], v[3]),
        _mm512_unpackhi_ps(v[2], v[3]),
    );
    // Each 128-bit quarter now holds one partial sum of v0, v1, v2, v3, in that order.
    let quads = _mm512_add_ps(
        _mm512_shuffle_ps::<0x44>(pairs_01, pairs_23),
        _mm512_shuffle_ps::<0xEE>(pairs_01, pairs_23),
    );
    let low = _mm_add_ps(
        _mm512_extractf32x4_ps::<0>(quads),
        _mm512_extractf32x4_ps::<1>(quads),
    );
    let high = _mm_add_ps(
        _mm512_extractf32x4_ps::<2>(quads),
        _mm512_extractf32x4_ps::<3>(quads),
    );
    let mut sums = [0.0f32; 4];
    // SAFETY: `sums` holds 4 values.
    unsafe { _mm_storeu_ps(sums.as_mut_ptr(), _mm_add_ps(low, high)) };
    sums
}
