//! x86-64 microkernels: AVX-512F (`8 x 32` tile) and AVX2 + FMA (`6 x 16` tile).
//!
//! Register layout of the AVX-512F kernel (32 `zmm` registers; one row of the C tile is two
//! vectors of 16 lanes):
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
//! independent chains to cover the FMA latency on two pipes. The AVX2 kernel is the classic
//! `6 x 16` layout: 12 `ymm` accumulators, 2 B vectors, 1 broadcast, out of 16 registers.
//!
//! The handles [`Avx512`] and [`Avx2`] are only constructed by `new()` after runtime
//! detection, so the target-feature code below is unreachable on a CPU without it.

use std::arch::x86_64::*;

use super::kernel::{Kernel, assert_tile_fits};
use super::pack::Transpose8;
use super::pack::with_buffers;
use super::small;
use super::{Operand, Problem};

/// The AVX-512F kernel. Construct with [`Avx512::new`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx512(());

impl Avx512 {
    /// The kernel, if this CPU has AVX-512F (and FMA, which every AVX-512F CPU has).
    pub(crate) fn new() -> Option<Self> {
        (is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("fma")).then_some(Self(()))
    }
}

/// Rows of the AVX-512 tile.
const AVX512_MR: usize = 8;
/// Columns of the AVX-512 tile: two 16-lane vectors.
const AVX512_NR: usize = 32;
const _: usize = assert_tile_fits(AVX512_MR, AVX512_NR);

impl Transpose8 for Avx512 {
    fn transpose_8x8(self, src: &[f32], src_stride: usize, dst: &mut [f32], dst_stride: usize) {
        // Every AVX-512F CPU has AVX.
        transpose_8x8_checked(src, src_stride, dst, dst_stride);
    }
}

impl Kernel for Avx512 {
    const MR: usize = AVX512_MR;
    const NR: usize = AVX512_NR;
    // Sized for an AMD EPYC Zen 4 core (32 KiB L1d, 1 MiB L2, 32 MiB shared L3). The
    // `256 x 32` B sliver (32 KiB) fills L1; KC = 128 (16 KiB) measured no faster, since the
    // kernel needs only 8 bytes of B per cycle, which L2 streams easily, and a deeper block
    // halves the C reads and writes. A 256 KiB block of A fits L2 with room for B's slivers;
    // a 4 MiB panel of B fits L3.
    const KC: usize = 256;
    const MC: usize = 256;
    const NC: usize = 4096;

    /// # Safety
    /// The contract of [`Kernel::tile`]: `a`, `b` and `c` valid for the tile's reads and writes.
    unsafe fn tile(
        self,
        kc: usize,
        alpha: f32,
        a: *const f32,
        b: *const f32,
        beta: f32,
        c: *mut f32,
        ldc: usize,
    ) {
        // SAFETY: `self` exists only if AVX-512F was detected; the caller upholds the
        // pointer contract of `Kernel::tile`, which `tile_avx512` shares.
        unsafe { tile_avx512(kc, alpha, a, b, beta, c, ldc) }
    }

    fn small(self, problem: &Problem<'_>, c: &mut [f32]) {
        // SAFETY: `self` exists only if AVX-512F and FMA were detected.
        unsafe { small_avx512(problem, c) }
    }

    fn thin(self, problem: &Problem<'_>, c: &mut [f32]) -> bool {
        let (m, n, k) = (problem.m, problem.n, problem.k);
        if n > THIN_MAX_N || (problem.a.transposed && m.saturating_mul(k) > THIN_MAX_A_COPY) {
            return false;
        }
        let k_padded = k.next_multiple_of(16);
        let a_len = if problem.a.transposed { m * k } else { 0 };
        with_buffers(a_len, n.next_multiple_of(4) * k_padded, |a_rows, b_rows| {
            pack_b_rows(problem, b_rows, k_padded);
            // The dot products need the rows of op(A) contiguous: transpose a stored Aᵀ once.
            let problem = if problem.a.transposed {
                transpose_a(problem, a_rows);
                let a = Operand {
                    data: a_rows,
                    ld: k,
                    transposed: false,
                };
                Problem { a, ..*problem }
            } else {
                *problem
            };
            // SAFETY: `self` exists only if AVX-512F was detected; `b_rows` holds
            // `n.next_multiple_of(4)` rows of `k_padded` values; the problem was validated
            // (and `a_rows` holds op(A) as `m` rows of `k`).
            unsafe { thin_avx512(&problem, b_rows, k_padded, c) };
        });
        true
    }
}

/// [`small::multiply`] compiled with AVX-512F enabled.
///
/// # Safety
/// The CPU must support AVX-512F and FMA.
#[target_feature(enable = "avx512f,fma")]
unsafe fn small_avx512(problem: &Problem<'_>, c: &mut [f32]) {
    small::multiply::<true>(problem, c);
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
    a: *const f32,
    b: *const f32,
    beta: f32,
    c: *mut f32,
    ldc: usize,
) {
    let mut acc = [[_mm512_setzero_ps(); 2]; AVX512_MR];
    for step in 0..kc {
        // SAFETY: `step < kc`, so the `NR` values of B and `MR` values of A of this step lie
        // inside the slivers the caller vouched for.
        let (b0, b1, a_step) = unsafe {
            let b_step = b.add(step * AVX512_NR);
            (
                _mm512_loadu_ps(b_step),
                _mm512_loadu_ps(b_step.add(16)),
                a.add(step * AVX512_MR),
            )
        };
        for (row, acc_row) in acc.iter_mut().enumerate() {
            // SAFETY: `row < MR`, inside this step's group of A.
            let a_value = _mm512_set1_ps(unsafe { *a_step.add(row) });
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

/// The AVX2 + FMA kernel. Construct with [`Avx2::new`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx2(());

impl Avx2 {
    /// The kernel, if this CPU has AVX2 and FMA.
    pub(crate) fn new() -> Option<Self> {
        (is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")).then_some(Self(()))
    }
}

/// Rows of the AVX2 tile.
const AVX2_MR: usize = 6;
/// Columns of the AVX2 tile: two 8-lane vectors.
const AVX2_NR: usize = 16;
const _: usize = assert_tile_fits(AVX2_MR, AVX2_NR);

impl Transpose8 for Avx2 {
    fn transpose_8x8(self, src: &[f32], src_stride: usize, dst: &mut [f32], dst_stride: usize) {
        transpose_8x8_checked(src, src_stride, dst, dst_stride);
    }
}

impl Kernel for Avx2 {
    const MR: usize = AVX2_MR;
    const NR: usize = AVX2_NR;
    // B sliver `256 x 16` = 16 KiB (half of a 32 KiB L1d), A block `192 x 256` = 192 KiB (L2),
    // B panel `256 x 4096` = 4 MiB (L3).
    const KC: usize = 256;
    const MC: usize = 192;
    const NC: usize = 4096;

    /// # Safety
    /// The contract of [`Kernel::tile`]: `a`, `b` and `c` valid for the tile's reads and writes.
    unsafe fn tile(
        self,
        kc: usize,
        alpha: f32,
        a: *const f32,
        b: *const f32,
        beta: f32,
        c: *mut f32,
        ldc: usize,
    ) {
        // SAFETY: `self` exists only if AVX2 and FMA were detected; the caller upholds the
        // pointer contract of `Kernel::tile`, which `tile_avx2` shares.
        unsafe { tile_avx2(kc, alpha, a, b, beta, c, ldc) }
    }

    fn small(self, problem: &Problem<'_>, c: &mut [f32]) {
        // SAFETY: `self` exists only if AVX2 and FMA were detected.
        unsafe { small_avx2(problem, c) }
    }
}

/// [`small::multiply`] compiled with AVX2 and FMA enabled.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
unsafe fn small_avx2(problem: &Problem<'_>, c: &mut [f32]) {
    small::multiply::<true>(problem, c);
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
    a: *const f32,
    b: *const f32,
    beta: f32,
    c: *mut f32,
    ldc: usize,
) {
    let mut acc = [[_mm256_setzero_ps(); 2]; AVX2_MR];
    for step in 0..kc {
        // SAFETY: `step < kc`, so the `NR` values of B and `MR` values of A of this step lie
        // inside the slivers the caller vouched for.
        let (b0, b1, a_step) = unsafe {
            let b_step = b.add(step * AVX2_NR);
            (
                _mm256_loadu_ps(b_step),
                _mm256_loadu_ps(b_step.add(8)),
                a.add(step * AVX2_MR),
            )
        };
        for (row, acc_row) in acc.iter_mut().enumerate() {
            // SAFETY: `row < MR`, inside this step's group of A.
            let a_value = _mm256_set1_ps(unsafe { *a_step.add(row) });
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

/// Bounds-checks an 8 x 8 block, then transposes it with AVX.
///
/// Only called through an [`Avx2`] or [`Avx512`] handle, which prove AVX is available.
fn transpose_8x8_checked(src: &[f32], src_stride: usize, dst: &mut [f32], dst_stride: usize) {
    assert!(src.len() >= 7 * src_stride + 8 && dst.len() >= 7 * dst_stride + 8);
    // SAFETY: the assertion covers the 8 rows of 8 values read and written; the callers hold
    // a kernel handle constructed after detecting AVX2 or AVX-512F, both of which imply AVX.
    unsafe { transpose_8x8_avx(src.as_ptr(), src_stride, dst.as_mut_ptr(), dst_stride) }
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

/// Widest C handled by the thin-output path: beyond it the packed path wastes few lanes.
const THIN_MAX_N: usize = 16;

/// Largest transposed A (in elements, 16 MiB) the thin-output path copies into rows; beyond
/// it the packed path, which copies only cache blocks, takes over.
const THIN_MAX_A_COPY: usize = 1 << 22;

/// `op(B)ᵀ` as `n` (rounded up to 4) contiguous rows of `k` (rounded up to 16) values, zero
/// padded, so each column of `op(B)` is read with full 16-lane loads.
fn pack_b_rows(problem: &Problem<'_>, rows: &mut [f32], k_padded: usize) {
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
        transpose_into(data, ld, k, n, rows, k_padded);
    }
}

/// op(A) for a stored `k x m` Aᵀ, as `m` contiguous rows of `k` values.
fn transpose_a(problem: &Problem<'_>, rows: &mut [f32]) {
    let (m, k) = (problem.m, problem.k);
    transpose_into(problem.a.data, problem.a.ld, k, m, rows, k);
}

/// `dst[col * dst_ld + row] = src[row * src_ld + col]` for a `rows x cols` block: 8 x 8
/// blocks in registers, the ragged edges element by element.
fn transpose_into(
    src: &[f32],
    src_ld: usize,
    rows: usize,
    cols: usize,
    dst: &mut [f32],
    dst_ld: usize,
) {
    let (full_rows, full_cols) = (rows - rows % 8, cols - cols % 8);
    for col in (0..full_cols).step_by(8) {
        for row in (0..full_rows).step_by(8) {
            // dst[t * dst_ld + l] = src[(row + l) * src_ld + col + t].
            transpose_8x8_checked(
                &src[row * src_ld + col..],
                src_ld,
                &mut dst[col * dst_ld + row..],
                dst_ld,
            );
        }
    }
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
