//! The path for small problems: no packing, no blocking, one thread.
//!
//! When the operands fit in L1/L2 anyway, copying them into packed slivers costs more than it
//! saves. This path reads the caller's slices, in one of three forms chosen by which dimension
//! is long enough to fill a vector ([`Form::for_problem`]):
//!
//! - **rows** (`n` long): each row of C is a sum of rows of `op(B)` scaled by the elements of
//!   the row of `op(A)` (an "axpy" per step of the sum, vectorized along C's row);
//! - **dots** (`k` long): each element of C is a dot product of a row of `op(A)` and a column
//!   of `op(B)`, accumulated in [`LANES`] independent partial sums;
//! - **columns** (only `m` long, as in a tiny network's `batch x 4` products): the rows form
//!   applied to `Cᵀ = op(B)ᵀ op(A)ᵀ`, vectorized along C's columns, through a transposed copy.
//!
//! An operand whose needed rows or columns are strided is copied once into this thread's
//! packing buffers (no allocation per call). Each form adds the products of one element of C
//! in the order of the sum, from zero; only the dots form reassociates (in [`LANES`] partial
//! sums). It is generic over `FMA` and compiled once per ISA (see the kernels' `small`
//! methods), so the compiler vectorizes it for the instruction set of the chosen kernel.

use super::pack::with_buffers;
use super::{Operand, Problem};

/// Independent partial sums in a dot product: one 512-bit vector of `f32`, so the loop
/// vectorizes without reassociating a single running sum. Also the length below which a
/// dimension is too short to fill a vector.
const LANES: usize = 16;

/// How the small path computes C (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    Rows,
    Dots,
    Columns,
}

impl Form {
    /// Vectorize along `n` when it fills a vector, else along `k`, else along `m`. Where
    /// `op(B)`'s layout already suits a form (rows of B for `Rows`, rows of Bᵀ for `Dots`)
    /// and its dimension is long, that form is kept, so no copy of B is needed.
    fn for_problem(problem: &Problem<'_>) -> Form {
        let (m, n, k) = (problem.m, problem.n, problem.k);
        match (problem.b.transposed, n >= LANES, k >= LANES) {
            (false, true, _) => Form::Rows,
            (true, _, true) => Form::Dots,
            (_, true, false) => Form::Rows,
            (_, false, true) => Form::Dots,
            _ if m >= LANES => Form::Columns,
            _ => Form::Rows,
        }
    }

    /// The lengths of the two scratch buffers this form needs for `problem`.
    fn scratch_lengths(self, problem: &Problem<'_>) -> (usize, usize) {
        let (m, n, k) = (problem.m, problem.n, problem.k);
        let (a, b) = (problem.a.transposed, problem.b.transposed);
        match self {
            // A gathered row of a transposed A; the row sums and a copy of Bᵀ as rows.
            Form::Rows => (if a { k } else { 0 }, n + if b { k * n } else { 0 }),
            // A gathered row of a transposed A; the row sums and a copy of B as columns.
            Form::Dots => (if a { k } else { 0 }, n + if b { 0 } else { n * k }),
            // op(A) as columns (`k x m`); Cᵀ (`n x m`).
            Form::Columns => (k * m, n * m),
        }
    }
}

/// Runs `work` with this thread's scratch for `problem` (see [`rows`]).
///
/// The kernels call this outside their `#[target_feature]` function and pass the scratch in:
/// a closure run by the thread-local's `with` is compiled without the ISA's features (the
/// standard library's `LocalKey::with` is not inlined into its caller), which once turned
/// every fused multiply-add of this path into a call to libm's software `fmaf`.
pub(crate) fn with_scratch<R>(
    problem: &Problem<'_>,
    work: impl FnOnce(&mut [f32], &mut [f32]) -> R,
) -> R {
    let (a_len, b_len) = Form::for_problem(problem).scratch_lengths(problem);
    with_buffers(a_len, b_len, work)
}

/// `a * b + c`, fused when the ISA has FMA.
#[inline(always)]
fn multiply_add<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// `C = alpha * op(A) op(B) + beta * C` for a validated problem with `k > 0`, with the two
/// scratch buffers of [`with_scratch`]. Inlined into each ISA's `#[target_feature]` function,
/// so that the compiler vectorizes it for that ISA.
#[inline(always)]
pub(crate) fn multiply<const FMA: bool>(
    problem: &Problem<'_>,
    c: &mut [f32],
    a_scratch: &mut [f32],
    b_scratch: &mut [f32],
) {
    match Form::for_problem(problem) {
        Form::Rows => rows::<FMA>(problem, c, a_scratch, b_scratch),
        Form::Dots => dots::<FMA>(problem, c, a_scratch, b_scratch),
        Form::Columns => columns::<FMA>(problem, c, a_scratch, b_scratch),
    }
    if let Some(epilogue) = &problem.epilogue {
        for i in 0..problem.m {
            let c_row = &mut c[i * problem.ldc..i * problem.ldc + problem.n];
            // SAFETY: this path runs on one thread, over the validated C.
            unsafe { epilogue.run(i, 0, c_row) };
        }
    }
}

/// Row `i` of `op(A)`, contiguous: the caller's row, or gathered into `scratch`.
#[inline(always)]
fn row_of<'s>(a: &'s Operand<'_>, i: usize, k: usize, scratch: &'s mut [f32]) -> &'s [f32] {
    if a.transposed {
        for (step, value) in scratch[..k].iter_mut().enumerate() {
            *value = a.data[a.index(i, step)];
        }
        &scratch[..k]
    } else {
        &a.data[i * a.ld..i * a.ld + k]
    }
}

/// `op(M)` (`rows x cols`) transposed into `out` (`cols x rows`, row-major).
#[inline(always)]
fn transpose_into(m: &Operand<'_>, rows: usize, cols: usize, out: &mut [f32]) {
    for (col, line) in out.chunks_exact_mut(rows).take(cols).enumerate() {
        for (row, value) in line.iter_mut().enumerate() {
            *value = m.data[m.index(row, col)];
        }
    }
}

/// `out = alpha * sum + beta * out`, element by element (`out` not read when `beta == 0`).
#[inline(always)]
fn store<const FMA: bool>(out: &mut f32, sum: f32, alpha: f32, beta: f32) {
    *out = if beta == 0.0 {
        alpha * sum
    } else {
        multiply_add::<FMA>(beta, *out, alpha * sum)
    };
}

/// `sums = Σ_step a[step] · rows[step]`, from zero, with `rows` of stride `ld`.
#[inline(always)]
fn axpy_rows<const FMA: bool>(a: &[f32], rows: &[f32], ld: usize, sums: &mut [f32]) {
    let n = sums.len();
    sums.fill(0.0);
    for (step, &a_value) in a.iter().enumerate() {
        let row = &rows[step * ld..step * ld + n];
        for (sum, &b_value) in sums.iter_mut().zip(row) {
            *sum = multiply_add::<FMA>(a_value, b_value, *sum);
        }
    }
}

/// The rows form: C's rows as sums of rows of `op(B)`.
#[inline(always)]
fn rows<const FMA: bool>(
    problem: &Problem<'_>,
    c: &mut [f32],
    a_row: &mut [f32],
    scratch: &mut [f32],
) {
    let (n, k) = (problem.n, problem.k);
    let b = &problem.b;
    let (sums, b_copy) = scratch.split_at_mut(n);
    let (b_rows, b_ld): (&[f32], usize) = if b.transposed {
        // Rows of op(B) are the columns of op(B)ᵀ, the stored B read without its transpose.
        let b_transposed = Operand {
            transposed: false,
            ..*b
        };
        transpose_into(&b_transposed, n, k, b_copy);
        (&b_copy[..k * n], n)
    } else {
        (b.data, b.ld)
    };
    each_row::<FMA>(
        problem,
        c,
        a_row,
        sums,
        #[inline(always)]
        |a_i, sums| axpy_rows::<FMA>(a_i, b_rows, b_ld, sums),
    );
}

/// The dots form: each element of C a dot product along the sum.
#[inline(always)]
fn dots<const FMA: bool>(
    problem: &Problem<'_>,
    c: &mut [f32],
    a_row: &mut [f32],
    scratch: &mut [f32],
) {
    let (n, k) = (problem.n, problem.k);
    let b = &problem.b;
    let (sums, b_copy) = scratch.split_at_mut(n);
    // Columns of op(B), contiguous: the rows of a stored Bᵀ, or a copy of B's columns.
    let (b_columns, b_ld): (&[f32], usize) = if b.transposed {
        (b.data, b.ld)
    } else {
        transpose_into(b, k, n, b_copy);
        (&b_copy[..n * k], k)
    };
    each_row::<FMA>(
        problem,
        c,
        a_row,
        sums,
        #[inline(always)]
        |a_i, sums| {
            for (j, sum) in sums.iter_mut().enumerate() {
                *sum = dot::<FMA>(a_i, &b_columns[j * b_ld..j * b_ld + k]);
            }
        },
    );
}

/// For each row `i` of C: `row_sums(row i of op(A), sums)` fills the row's `n` sums, which are
/// then stored into C (scaled by `alpha`, plus `beta` times C).
#[inline(always)]
fn each_row<const FMA: bool>(
    problem: &Problem<'_>,
    c: &mut [f32],
    a_row: &mut [f32],
    sums: &mut [f32],
    row_sums: impl Fn(&[f32], &mut [f32]),
) {
    for i in 0..problem.m {
        let a_i = row_of(&problem.a, i, problem.k, a_row);
        row_sums(a_i, sums);
        let c_row = &mut c[i * problem.ldc..i * problem.ldc + problem.n];
        for (out, &sum) in c_row.iter_mut().zip(sums.iter()) {
            store::<FMA>(out, sum, problem.alpha, problem.beta);
        }
    }
}

/// The columns form: `Cᵀ`'s rows (C's columns) as sums of columns of `op(A)`, each scaled by
/// one element of `op(B)`; `a_columns` receives `op(A)ᵀ` and `c_columns` receives `Cᵀ`.
#[inline(always)]
fn columns<const FMA: bool>(
    problem: &Problem<'_>,
    c: &mut [f32],
    a_columns: &mut [f32],
    c_columns: &mut [f32],
) {
    let (m, n, k) = (problem.m, problem.n, problem.k);
    let b = &problem.b;
    // `Form::for_problem` takes this form only for sums shorter than a vector.
    debug_assert!(k < LANES);
    transpose_into(&problem.a, m, k, a_columns);
    for (j, sums) in c_columns.chunks_exact_mut(m).take(n).enumerate() {
        let b_column: [f32; LANES] = std::array::from_fn(|step| {
            if step < k {
                b.data[b.index(step, j)]
            } else {
                0.0
            }
        });
        axpy_rows::<FMA>(&b_column[..k], a_columns, m, sums);
    }
    for (i, c_row) in c.chunks_mut(problem.ldc).take(m).enumerate() {
        for (j, out) in c_row[..n].iter_mut().enumerate() {
            store::<FMA>(out, c_columns[j * m + i], problem.alpha, problem.beta);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn form(m: usize, n: usize, k: usize, b_transposed: bool) -> Form {
        let data = [0.0f32; 0];
        let operand = |transposed| Operand {
            data: &data,
            ld: 1,
            transposed,
        };
        Form::for_problem(&Problem {
            m,
            n,
            k,
            alpha: 1.0,
            a: operand(false),
            b: operand(b_transposed),
            beta: 0.0,
            ldc: n,
            epilogue: None,
        })
    }

    /// Each form is taken where its dimension fills a vector: the products of a 2-4-1
    /// network's step at batch 400 (forward `400 x 4 x 2` and `400 x 1 x 4`, weight
    /// gradients `4 x 2 x 400` and `1 x 4 x 400`) vectorize along the batch.
    #[test]
    fn the_form_follows_the_longest_dimension() {
        assert_eq!(form(400, 4, 2, true), Form::Columns);
        assert_eq!(form(400, 1, 4, true), Form::Columns);
        assert_eq!(form(400, 4, 1, false), Form::Columns);
        assert_eq!(form(4, 2, 400, false), Form::Dots);
        assert_eq!(form(1, 4, 400, false), Form::Dots);
        assert_eq!(form(8, 32, 32, false), Form::Rows);
        assert_eq!(form(8, 32, 32, true), Form::Dots);
        assert_eq!(form(8, 32, 4, true), Form::Rows);
        assert_eq!(form(4, 4, 4, false), Form::Rows);
    }
}
