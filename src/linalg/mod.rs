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
//! - its B operand is **packed** where it must be: `op(B)` is copied into slivers of `NR`
//!   columns laid out step by step along the sum, so the kernel loads each step's `NR` values
//!   as vectors whatever the transpose; where `op(B)` is B itself and few rows of A share a
//!   sliver, the kernel reads B in place instead, and it always reads A in place, broadcasting
//!   its `MR` values of each step wherever they are (`blocked.rs` says when and why);
//! - three **cache blocks** bound the work at once: `KC` steps of the sum (a `KC x NR`
//!   sliver of B streams from L2), `MC` rows of A (an `MC x KC` block stays in L2) and `NC`
//!   columns of B (a `KC x NC` panel stays in L3). They are derived at run time from the cache
//!   sizes the CPU reports (`blocking.rs` states the rule and its fallbacks); the loop nest they
//!   control is in `blocked.rs`.
//!
//! The kernel is chosen at run time from the CPU's features, detected once (overridable with the
//! `NNINIT_ISA` environment variable: `avx512`, `avx2`, `portable`), and each ISA's kernel
//! (`avx512.rs`, `avx2.rs`, the portable one in `kernel.rs`) holds the detection token of
//! `crate::dispatch`. Problems large enough
//! are split across [`crate::num_threads`] threads; every element of C is computed by the
//! same sequence of operations whatever the thread count, so results are bit-identical for
//! any number of threads. Small problems skip packing altogether (`small.rs`), and thin
//! outputs (`n <= 16`, `op(A)` not transposed) take dot products instead of tiles on AVX-512
//! (`avx512.rs`); a C whose
//! shape fits the tiles better transposed (e.g. `64 x 10`) is computed as `Cᵀ = op(B)ᵀ op(A)ᵀ`.
//!
//! `unsafe` in nninit lives only in this module: the microkernels use SIMD intrinsics and raw
//! pointers into the operands, packed buffers and C. Every public function checks the sizes
//! first.

#![allow(unsafe_code)]

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod blocked;
mod blocking;
mod explicit;
mod kernel;
mod pack;
mod small;

use crate::dispatch::{Isa, Token};
use crate::error::{Error, Result};
pub(crate) use blocked::PARALLEL_MIN_WORK;
#[cfg(not(feature = "internals"))]
pub(crate) use blocking::Blocking;
/// Unstable (the `internals` feature, outside semver): the cache sizes read from the CPU and
/// the cache blocks derived from them.
#[cfg(feature = "internals")]
pub use blocking::{Blocking, CacheSizes, CacheSource, Tile};
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
        blocking: None,
    };
    gemm_with(
        config, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
    )
}

/// A function applied to each finished part of C, on the thread that computed it, while the
/// part is still in cache: `apply(row, first_column, values, side)` gets
/// `C[row][first_column..first_column + values.len()]` and the same part of a second,
/// caller-owned matrix of C's shape (empty if none was given). Every element of C is handed
/// over exactly once, after its last update.
pub(crate) type Finish<'a> = &'a (dyn Fn(usize, usize, &mut [f32], &mut [f32]) + Sync);

/// [`gemm`] followed by `finish` on each part of C as soon as it is complete (the fused
/// epilogue of a layer: bias and activation, or an activation's derivative; `None`: the plain
/// product), with `side` (rows `ldc` apart, like C) handed over beside C. Runs on
/// [`crate::num_threads`] threads with the active kernel, as [`gemm`].
///
/// # Errors
/// As [`gemm`], plus [`Error::LengthMismatch`] if `side` is neither empty nor large enough
/// for an `m x n` matrix with rows `ldc` apart.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_then(
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
    side: &mut [f32],
    finish: Option<Finish<'_>>,
) -> Result<()> {
    if !side.is_empty() {
        check_operand("side output", side.len(), m, n, ldc)?;
    }
    let config = Config {
        isa: Isa::active(),
        threads: crate::threads::num_threads(),
        path: Path::Auto,
        blocking: None,
    };
    let epilogue = finish.map(|apply| Epilogue {
        apply,
        side: side.as_mut_ptr(),
        has_side: !side.is_empty(),
        ld: ldc,
    });
    multiply(
        config, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue,
    )
}

/// The validated entry point behind `gemm_with` and [`gemm_then`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn multiply(
    config: Config,
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
    epilogue: Option<Epilogue<'_>>,
) -> Result<()> {
    let a = Operand::checked("a", a, lda, trans_a, (m, k))?;
    let b = Operand::checked("b", b, ldb, trans_b, (k, n))?;
    check_operand("c", c.len(), m, n, ldc)?;
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 || alpha == 0.0 {
        scale_rows(c, m, n, ldc, beta);
        if let Some(epilogue) = &epilogue {
            for (row, values) in c.chunks_mut(ldc).take(m).enumerate() {
                // SAFETY: one thread, and the side output was validated for C's shape.
                unsafe { epilogue.run(row, 0, &mut values[..n]) };
            }
        }
        return Ok(());
    }
    let problem = Problem {
        m,
        n,
        k,
        alpha,
        a,
        b,
        beta,
        ldc,
        epilogue,
    };
    match config.isa.token().ok_or_else(|| unsupported(config.isa))? {
        Token::Portable => run(Portable, config, &problem, c),
        #[cfg(target_arch = "x86_64")]
        Token::Avx2(token) => run(avx2::Avx2(token), config, &problem, c),
        #[cfg(target_arch = "x86_64")]
        Token::Avx512(token) => run(avx512::Avx512(token), config, &problem, c),
    }
    Ok(())
}

/// What the packed path chose on this machine and why: ISA, tile, caches, blocks. For the
/// benchmarks and the curious; the wording is not stable.
///
/// Unstable (the `internals` feature, outside semver).
///
/// ```
/// let report = nninit::linalg::tuning_report();
/// assert!(report.contains("KC"));
/// ```
#[cfg(feature = "internals")]
pub fn tuning_report() -> String {
    fn describe<K: Kernel>(isa: Isa) -> String {
        let caches = CacheSizes::detected();
        let b = Blocking::derive(&caches, K::TILE);
        let kib = |elements: usize| elements * std::mem::size_of::<f32>() / 1024;
        format!(
            "isa {isa:?}, tile {mr} x {nr}: {reason}\n\
             caches: {caches}\n\
             KC = {kc}: B sliver {kc} x {nr} = {sliver} KiB, streamed from L2 (at most a quarter of it, at most 512 steps)\n\
             MC = {mc}: A block {mc} x {kc} = {block} KiB, at most half of L2\n\
             NC = {nc}: B panel {kc} x {nc} = {panel} KiB, at most half of this core's L3 \
             share (or L2 without L3), at most 8192 columns",
            mr = K::MR,
            nr = K::NR,
            reason = K::SHAPE_REASON,
            kc = b.kc,
            mc = b.mc,
            nc = b.nc,
            sliver = kib(b.kc * K::NR),
            block = kib(b.mc * b.kc),
            panel = kib(b.kc * b.nc),
        )
    }
    let isa = Isa::active();
    match isa.token() {
        #[cfg(target_arch = "x86_64")]
        Some(Token::Avx512(_)) => describe::<avx512::Avx512>(isa),
        #[cfg(target_arch = "x86_64")]
        Some(Token::Avx2(_)) => describe::<avx2::Avx2>(isa),
        _ => describe::<Portable>(Isa::Portable),
    }
}

fn unsupported(isa: Isa) -> Error {
    Error::invalid(
        "isa",
        "an instruction set this cpu supports",
        format!("{isa:?}"),
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
        if let Some(epilogue) = &problem.epilogue {
            for (row, values) in c.chunks_mut(problem.ldc).take(problem.m).enumerate() {
                // SAFETY: the thin path has returned: one thread, and the side output was
                // validated for C's shape.
                unsafe { epilogue.run(row, 0, &mut values[..problem.n]) };
            }
        }
        return;
    }
    if small {
        kernel.small(problem, c);
    } else {
        let blocking = config
            .blocking
            .unwrap_or_else(|| Blocking::for_this_cpu(K::TILE));
        blocked::multiply(kernel, config.threads, blocking, problem, c);
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
    /// Work on each finished part of C, if any.
    pub(crate) epilogue: Option<Epilogue<'a>>,
}

/// A [`Finish`] function with the side output it writes beside C.
#[derive(Clone, Copy)]
pub(crate) struct Epilogue<'a> {
    apply: Finish<'a>,
    /// Start of the side output (dangling when `has_side` is false).
    side: *mut f32,
    has_side: bool,
    /// Distance between the side output's rows (C's `ldc`).
    ld: usize,
}

impl std::fmt::Debug for Epilogue<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Epilogue")
            .field("has_side", &self.has_side)
            .finish_non_exhaustive()
    }
}

// SAFETY: the side output is only reached through `Epilogue::run`, whose callers guarantee
// that threads work on disjoint parts of it; `apply` is `Sync`.
unsafe impl Send for Epilogue<'_> {}
// SAFETY: as above.
unsafe impl Sync for Epilogue<'_> {}

impl Epilogue<'_> {
    /// Applies the function to `values`, the finished `C[row][first..first + values.len()]`.
    ///
    /// # Safety
    /// The part must lie inside the `m x n` C the side output was validated for, and no other
    /// thread may access the same part of the side output during the call.
    pub(crate) unsafe fn run(&self, row: usize, first: usize, values: &mut [f32]) {
        let side: &mut [f32] = if self.has_side {
            // SAFETY: inside the validated side output and exclusively ours, as the caller
            // guarantees.
            unsafe {
                std::slice::from_raw_parts_mut(self.side.add(row * self.ld + first), values.len())
            }
        } else {
            &mut []
        };
        (self.apply)(row, first, values, side);
    }
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
/// [`Error::LengthMismatch`] unless `a` has exactly `m * k` elements and `b` exactly `k * n`
/// (a longer slice would mean the sizes do not describe it: [`gemm`] with leading dimensions
/// is the call for sub-matrices), and [`Error::InvalidArgument`] if a size overflows.
///
/// ```
/// let c = nninit::linalg::matmul(&[1.0, 2.0], &[3.0, 4.0], 1, 2, 1)?;
/// assert_eq!(c, vec![11.0]);
/// let err = nninit::linalg::matmul(&[1.0], &[3.0, 4.0], 1, 2, 1).unwrap_err();
/// assert_eq!(err.to_string(), "matrix a has length 1, expected 2 (m x k = 1 x 2)");
/// assert!(nninit::linalg::matmul(&[1.0, 2.0, 9.0], &[3.0, 4.0], 1, 2, 1).is_err());
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn matmul(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Result<Vec<f32>> {
    exact_length("a", a.len(), m, k, "m x k")?;
    exact_length("b", b.len(), k, n, "k x n")?;
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

/// Checks that matrix `name` of `rows x cols` elements is exactly `len` long.
fn exact_length(name: &str, len: usize, rows: usize, cols: usize, dims: &str) -> Result<()> {
    let expected = rows.checked_mul(cols).ok_or_else(|| {
        Error::invalid(
            "matrix size",
            "a size that fits in usize",
            format!("{rows} * {cols}"),
        )
    })?;
    if len != expected {
        return Err(Error::LengthMismatch {
            what: format!("matrix {name}"),
            expected: format!("{expected} ({dims} = {rows} x {cols})"),
            found: len,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| ((i * 7919 + seed * 104_729) % 2001) as f32 / 1000.0 - 1.0)
            .collect()
    }

    /// Every path, kernel and thread count hands each element of C to the epilogue exactly
    /// once, after its last update, with the matching part of the side output.
    #[test]
    fn epilogue_sees_each_final_element_once() {
        let shapes = [
            (5, 7, 0),
            (17, 9, 13),
            (64, 10, 256),
            (10, 64, 40),
            (300, 200, 300),
            (37, 1400, 330),
        ];
        let transposes = [Transpose::No, Transpose::Yes];
        for isa in Isa::available() {
            for path in [Path::Small, Path::Packed, Path::Thin, Path::Auto] {
                for threads in [1, 2] {
                    let blocking = Some(Blocking {
                        kc: 64,
                        mc: 48,
                        nc: 96,
                    });
                    for blocking in [None, blocking] {
                        let config = Config {
                            isa,
                            threads,
                            path,
                            blocking,
                        };
                        for &(m, n, k) in &shapes {
                            for trans_a in transposes {
                                for trans_b in transposes {
                                    check_epilogue(config, (m, n, k), trans_a, trans_b);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    fn check_epilogue(
        config: Config,
        (m, n, k): (usize, usize, usize),
        trans_a: Transpose,
        trans_b: Transpose,
    ) {
        let (a, b) = (values(m * k, 1), values(k * n, 2));
        let lda = if trans_a == Transpose::No { k } else { m };
        let ldb = if trans_b == Transpose::No { n } else { k };
        let mut plain = values(m * n, 3);
        let mut fused = plain.clone();
        gemm_with(
            config, trans_a, trans_b, m, n, k, 1.5, &a, lda, &b, ldb, 0.5, &mut plain, n,
        )
        .expect("valid sizes");
        let mut side = vec![f32::NAN; m * n];
        let seen = AtomicUsize::new(0);
        let negate = |_row: usize, _first: usize, values: &mut [f32], side: &mut [f32]| {
            side.copy_from_slice(values);
            seen.fetch_add(values.len(), Ordering::Relaxed);
            values.iter_mut().for_each(|v| *v = -*v);
        };
        let epilogue = Epilogue {
            apply: &negate,
            side: side.as_mut_ptr(),
            has_side: true,
            ld: n,
        };
        multiply(
            config,
            trans_a,
            trans_b,
            m,
            n,
            k,
            1.5,
            &a,
            lda,
            &b,
            ldb,
            0.5,
            &mut fused,
            n,
            Some(epilogue),
        )
        .expect("valid sizes");
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let what = format!("{config:?} {m} x {n} x {k} {trans_a:?} {trans_b:?}");
        assert_eq!(seen.load(Ordering::Relaxed), m * n, "{what}: count");
        assert_eq!(bits(&side), bits(&plain), "{what}: values seen");
        let negated: Vec<f32> = plain.iter().map(|v| -v).collect();
        assert_eq!(bits(&fused), bits(&negated), "{what}: values written");
    }

    #[test]
    fn side_output_too_short_is_an_error() {
        let mut c = [0.0; 4];
        let mut side = [0.0; 3];
        let result = gemm_then(
            Transpose::No,
            Transpose::No,
            2,
            2,
            1,
            1.0,
            &[1.0, 2.0],
            1,
            &[3.0, 4.0],
            2,
            0.0,
            &mut c,
            2,
            &mut side,
            Some(&|_, _, _, _| {}),
        );
        assert!(matches!(result, Err(Error::LengthMismatch { .. })));
    }
}
