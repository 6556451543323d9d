//! The path for small problems: no packing, no blocking, one thread.
//!
//! When the operands fit in L1/L2 anyway, copying them into packed slivers costs more than it
//! saves. This path computes one row of C at a time straight from the caller's slices:
//!
//! - `op(B) = B` (rows of B contiguous): the row of C is a sum of rows of B scaled by the
//!   elements of the row of `op(A)` (an "axpy" per step of the sum, vectorized along C's row);
//! - `op(B) = Bᵀ` (columns of `op(B)` contiguous): each element of C is a dot product of two
//!   contiguous vectors, accumulated in [`LANES`] independent partial sums.
//!
//! It is generic over `FMA` and compiled once per ISA (see the kernels' `small` methods), so
//! the compiler vectorizes it for the instruction set of the chosen kernel.

use super::Problem;
use super::pack::with_buffers;

/// Independent partial sums in a dot product: one 512-bit vector of `f32`, so the loop
/// vectorizes without reassociating a single running sum.
const LANES: usize = 16;

/// `a * b + c`, fused when the ISA has FMA.
#[inline(always)]
fn multiply_add<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// `C = alpha * op(A) op(B) + beta * C` for a validated problem with `k > 0`.
#[inline(always)]
pub(crate) fn multiply<const FMA: bool>(problem: &Problem<'_>, c: &mut [f32]) {
    // This thread's packing buffers, unused on this path, hold the row sums and a gathered
    // row of a transposed A: no allocation per call. The closure is inlined so that the rows
    // are compiled with the caller's target features.
    let a_row_len = if problem.a.transposed { problem.k } else { 0 };
    with_buffers(
        a_row_len,
        problem.n,
        #[inline(always)]
        |a_row, sums| rows::<FMA>(problem, c, a_row, sums),
    );
}

/// The rows of C, with `a_row` (`k` values, if A is transposed) and `sums` (`n` values) as
/// scratch.
#[inline(always)]
fn rows<const FMA: bool>(
    problem: &Problem<'_>,
    c: &mut [f32],
    a_row: &mut [f32],
    sums: &mut [f32],
) {
    let (m, n, k) = (problem.m, problem.n, problem.k);
    let (a, b) = (&problem.a, &problem.b);
    for i in 0..m {
        let a_i: &[f32] = if a.transposed {
            for (step, value) in a_row.iter_mut().enumerate() {
                *value = a.data[a.index(i, step)];
            }
            a_row
        } else {
            &a.data[i * a.ld..i * a.ld + k]
        };
        if b.transposed {
            for (j, sum) in sums.iter_mut().enumerate() {
                *sum = dot::<FMA>(a_i, &b.data[j * b.ld..j * b.ld + k]);
            }
        } else {
            sums.fill(0.0);
            for (step, &a_value) in a_i.iter().enumerate() {
                let b_row = &b.data[step * b.ld..step * b.ld + n];
                for (sum, &b_value) in sums.iter_mut().zip(b_row) {
                    *sum = multiply_add::<FMA>(a_value, b_value, *sum);
                }
            }
        }
        let c_row = &mut c[i * problem.ldc..i * problem.ldc + n];
        let (alpha, beta) = (problem.alpha, problem.beta);
        if beta == 0.0 {
            for (out, &sum) in c_row.iter_mut().zip(sums.iter()) {
                *out = alpha * sum;
            }
        } else {
            for (out, &sum) in c_row.iter_mut().zip(sums.iter()) {
                *out = multiply_add::<FMA>(beta, *out, alpha * sum);
            }
        }
        if let Some(epilogue) = &problem.epilogue {
            // SAFETY: this path runs on one thread, over the validated C.
            unsafe { epilogue.run(i, 0, c_row) };
        }
    }
}

/// `x · y` with [`LANES`] partial sums, combined in a fixed order.
#[inline(always)]
fn dot<const FMA: bool>(x: &[f32], y: &[f32]) -> f32 {
    let mut partial = [0.0f32; LANES];
    let x_chunks = x.chunks_exact(LANES);
    let y_chunks = y.chunks_exact(LANES);
    let tail: f32 = x_chunks
        .remainder()
        .iter()
        .zip(y_chunks.remainder())
        .fold(0.0, |sum, (&a, &b)| multiply_add::<FMA>(a, b, sum));
    for (x_chunk, y_chunk) in x_chunks.zip(y_chunks) {
        for ((sum, &a), &b) in partial.iter_mut().zip(x_chunk).zip(y_chunk) {
            *sum = multiply_add::<FMA>(a, b, *sum);
        }
    }
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for lane in 0..width {
            partial[lane] += partial[lane + width];
        }
    }
    partial[0] + tail
}
