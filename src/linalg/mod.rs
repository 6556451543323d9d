//! Matrix multiply: [`gemm`] and [`matmul`], row-major, written from scratch.
//!
//! # Vocabulary
//!
//! The product is `C = alpha * op(A) * op(B) + beta * C` with `op(A)` of size `m x k`, `op(B)`
//! of size `k x n` and `C` of size `m x n`; `op(X)` is `X` or its transpose. `k` is the length
//! of the sum behind each element of C. Each operand lives in a caller's slice with a leading
//! dimension (`lda`, `ldb`, `ldc`): the distance between the starts of consecutive rows.
//!
//! The implementation follows GotoBLAS / BLIS:
//!
//! - a **microkernel** keeps an `MR x NR` tile of C in vector registers and runs the whole sum
//!   for it (one kernel per ISA: AVX-512F `8 x 32`, AVX2 + FMA `6 x 16`, portable `4 x 8`);
//! - its operands are **packed**: `op(A)` is copied into slivers of `MR` rows and `op(B)` into
//!   slivers of `NR` columns, both laid out step by step along the sum, so the kernel reads
//!   memory with unit stride whatever the transposes (packing absorbs them);
//! - three **cache blocks** bound what is packed at once: `KC` steps of the sum (a `KC x NR`
//!   sliver of B stays in L1), `MC` rows of A (an `MC x KC` block stays in L2) and `NC` columns
//!   of B (a `KC x NC` panel stays in L3). Each constant is documented on the loop it controls
//!   in `blocked.rs`.
//!
//! The kernel is chosen at run time from the CPU's features, detected once (overridable with the
//! `NNINIT_ISA` environment variable: `avx512`, `avx2`, `portable`). Problems large enough
//! are split across [`crate::num_threads`] threads; every element of C is computed by the
//! same sequence of operations whatever the thread count, so results are bit-identical for
//! any number of threads. Small problems skip packing altogether (`small.rs`), and thin
//! outputs (`n <= 16`) take dot products instead of tiles on AVX-512 (`x86.rs`); a C whose
//! shape fits the tiles better transposed (e.g. `64 x 10`) is computed as `Cᵀ = op(B)ᵀ op(A)ᵀ`.
//!
//! `unsafe` in nninit lives only in this module: the microkernels use SIMD intrinsics and raw
//! pointers into packed buffers and into C. Every public function checks the sizes first.

#![allow(unsafe_code)]

mod blocked;
mod explicit;
mod kernel;
mod pack;
mod small;
#[cfg(target_arch = "x86_64")]
mod x86;

use crate::dispatch::Isa;
use crate::error::{Error, Result};
#[cfg(not(feature = "internals"))]
pub(crate) use explicit::{Config, Path, gemm_with};
/// Unstable (the `internals` feature, outside semver): [`gemm`] with an explicit kernel,
/// thread count and path, for tests and benchmarks.
#[cfg(feature = "internals")]
pub use explicit::{Config, Path, gemm_with};
use kernel::{Kernel, Portable};

/// Whether an operand of [`gemm`] is used as stored or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transpose {
    /// Use the matrix as stored.
    No,
    /// Use its transpose.
    Yes,
}

/// Below this many multiply-adds (`m * n * k`), [`gemm`] takes the unpacked path: packing
/// would cost more than the cache-friendly layout saves.
const SMALL_MAX_WORK: usize = 32 * 32 * 32;

/// Row-major `C = alpha * op(A) * op(B) + beta * C`, with `op(A)` `m x k` and `op(B)` `k x n`.
///
/// `a` holds `A` (`m x k`, or `k x m` when `trans_a` is [`Transpose::Yes`]) with rows `lda`
/// apart; likewise `b` with `ldb` and `c` (`m x n`) with `ldc`. When `beta == 0`, C is never
/// read (NaN in C is overwritten); when `alpha == 0` or `k == 0`, A and B are not read.
///
/// Runs on [`crate::num_threads`] threads for large problems, with results bit-identical for
/// any thread count, and on the best kernel for this CPU (see the module docs).
///
/// # Errors
/// [`Error::InvalidArgument`] if a leading dimension is smaller than its row length,
/// [`Error::LengthMismatch`] if a slice is too short for the sizes given.
///
/// ```
/// use nninit::linalg::{gemm, Transpose};
/// let a = [1.0, 2.0, 3.0, 4.0];
/// let b = [5.0, 6.0, 7.0, 8.0];
/// let mut c = [f32::NAN; 4];
/// gemm(Transpose::No, Transpose::No, 2, 2, 2, 1.0, &a, 2, &b, 2, 0.0, &mut c, 2)?;
/// assert_eq!(c, [19.0, 22.0, 43.0, 50.0]);
/// // A * Bᵀ, accumulated onto C with beta = 1:
/// gemm(Transpose::No, Transpose::Yes, 2, 2, 2, 1.0, &a, 2, &b, 2, 1.0, &mut c, 2)?;
/// assert_eq!(c, [19.0 + 17.0, 22.0 + 23.0, 43.0 + 39.0, 50.0 + 53.0]);
/// # Ok::<(), nninit::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn gemm(
    trans_a: Transpose,
    trans_b: Transpose,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    lda: usize,
    b: &[f32],
    ldb: usize,
    beta: f32,
    c: &mut [f32],
    ldc: usize,
) -> Result<()> {
    let config = Config {
        isa: Isa::active(),
        threads: crate::threads::num_threads(),
        path: Path::Auto,
    };
    gemm_with(
        config, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
    )
}

/// Dispatches a validated problem with `m, n, k > 0` to the small or the packed path.
fn run<K: Kernel>(kernel: K, config: Config, problem: &Problem<'_>, c: &mut [f32]) {
    let work = problem
        .m
        .saturating_mul(problem.n)
        .saturating_mul(problem.k);
    let small = match config.path {
        Path::Small => true,
        Path::Packed => false,
        Path::Auto | Path::Thin => work < SMALL_MAX_WORK,
    };
    let thin = config.path == Path::Thin || (config.path == Path::Auto && !small);
    if thin && kernel.thin(problem, c) {
        return;
    }
    if small {
        kernel.small(problem, c);
    } else {
        blocked::multiply(kernel, config.threads, problem, c);
    }
}

/// `C = beta * C` (`C = 0` when `beta == 0`, without reading C).
fn scale_rows(c: &mut [f32], m: usize, n: usize, ldc: usize, beta: f32) {
    for row in c.chunks_mut(ldc).take(m) {
        for value in &mut row[..n] {
            *value = if beta == 0.0 { 0.0 } else { beta * *value };
        }
    }
}

/// A validated, read-only operand of [`gemm`]: its slice, leading dimension and transpose.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Operand<'a> {
    /// The caller's slice; every element of `op(M)` lies inside it.
    pub(crate) data: &'a [f32],
    /// Distance between the starts of consecutive rows of the stored matrix.
    pub(crate) ld: usize,
    /// Whether the stored matrix is the transpose of `op(M)`.
    pub(crate) transposed: bool,
}

impl<'a> Operand<'a> {
    /// Checks that `op(M)` of size `rows x cols` fits in `data`.
    fn checked(
        name: &str,
        data: &'a [f32],
        ld: usize,
        trans: Transpose,
        (rows, cols): (usize, usize),
    ) -> Result<Self> {
        let transposed = trans == Transpose::Yes;
        let (stored_rows, stored_cols) = if transposed {
            (cols, rows)
        } else {
            (rows, cols)
        };
        check_operand(name, data.len(), stored_rows, stored_cols, ld)?;
        Ok(Operand {
            data,
            ld,
            transposed,
        })
    }

    /// Index in `data` of element `(row, col)` of `op(M)`.
    #[inline(always)]
    pub(crate) fn index(&self, row: usize, col: usize) -> usize {
        if self.transposed {
            col * self.ld + row
        } else {
            row * self.ld + col
        }
    }
}

/// A validated product: sizes, scalars and operands.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Problem<'a> {
    pub(crate) m: usize,
    pub(crate) n: usize,
    pub(crate) k: usize,
    pub(crate) alpha: f32,
    pub(crate) a: Operand<'a>,
    pub(crate) b: Operand<'a>,
    pub(crate) beta: f32,
    pub(crate) ldc: usize,
}

impl<'a> Problem<'a> {
    /// The same product transposed: `Cᵀ = op(B)ᵀ op(A)ᵀ`, `n x m`, written into the same C
    /// read column by column.
    pub(crate) fn swapped(&self) -> Problem<'a> {
        Problem {
            m: self.n,
            n: self.m,
            a: self.b.flipped(),
            b: self.a.flipped(),
            ..*self
        }
    }
}

impl<'a> Operand<'a> {
    /// The same data seen as `op(M)ᵀ`.
    fn flipped(self) -> Operand<'a> {
        Operand {
            transposed: !self.transposed,
            ..self
        }
    }
}

/// Checks a stored `rows x cols` matrix with leading dimension `ld` fits in `len` elements.
fn check_operand(name: &str, len: usize, rows: usize, cols: usize, ld: usize) -> Result<()> {
    if rows == 0 || cols == 0 {
        return Ok(());
    }
    if ld < cols {
        return Err(Error::invalid(
            "leading dimension",
            format!(">= {cols} for {name}"),
            ld,
        ));
    }
    let needed = (rows - 1)
        .checked_mul(ld)
        .and_then(|x| x.checked_add(cols))
        .ok_or_else(|| Error::invalid("leading dimension", "a size that fits in usize", ld))?;
    if len < needed {
        return Err(Error::LengthMismatch {
            what: format!("matrix {name}"),
            expected: format!("at least {needed}"),
            found: len,
        });
    }
    Ok(())
}

/// `A * B` for row-major `A` (`m x k`) and `B` (`k x n`), into a new `m x n` matrix: the plain
/// case of [`gemm`].
///
/// # Errors
/// As [`gemm`]: [`Error::LengthMismatch`] if `a` or `b` is too short, and
/// [`Error::InvalidArgument`] if `m * n` overflows.
///
/// ```
/// let c = nninit::linalg::matmul(&[1.0, 2.0], &[3.0, 4.0], 1, 2, 1)?;
/// assert_eq!(c, vec![11.0]);
/// let err = nninit::linalg::matmul(&[1.0], &[3.0, 4.0], 1, 2, 1).unwrap_err();
/// assert_eq!(err.to_string(), "matrix a has length 1, expected at least 2");
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn matmul(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Result<Vec<f32>> {
    let size = m.checked_mul(n).ok_or_else(|| {
        Error::invalid("m * n", "a size that fits in usize", format!("{m} * {n}"))
    })?;
    let mut c = vec![0.0; size];
    gemm(
        Transpose::No,
        Transpose::No,
        m,
        n,
        k,
        1.0,
        a,
        k,
        b,
        n,
        0.0,
        &mut c,
        n,
    )?;
    Ok(c)
}
