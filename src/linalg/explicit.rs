//! [`gemm`](super::gemm) with explicit choices of kernel, thread count and algorithm, for the
//! tests and benchmarks that must exercise each kernel without touching process-wide settings.
//!
//! Unstable: public only with the `internals` feature, outside semver.

use super::{Blocking, Transpose};
use crate::dispatch::Isa;
use crate::error::Result;

/// Which algorithm [`gemm_with`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
// `Small` and `Packed` are chosen only by the kernel tests, through the `internals` feature.
#[cfg_attr(not(feature = "internals"), allow(dead_code))]
pub enum Path {
    /// Unpacked for small problems, packed and blocked otherwise (what
    /// [`gemm`](super::gemm) does).
    Auto,
    /// Always the unpacked path.
    Small,
    /// Always the packed, blocked path.
    Packed,
    /// The kernel's thin-output path where it has one and the shape suits it, else as `Auto`.
    Thin,
}

/// Explicit choices for [`gemm_with`]: kernel, thread count and algorithm.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// The kernel's instruction set; must be supported by this CPU.
    pub isa: Isa,
    /// Upper bound on worker threads (`0` counts as 1).
    pub threads: usize,
    /// The algorithm.
    pub path: Path,
    /// The cache blocks; `None` derives them from this CPU's caches (what
    /// [`gemm`](super::gemm) does).
    pub blocking: Option<Blocking>,
}

/// [`gemm`](super::gemm) with an explicit kernel, thread count and path, for tests and
/// benchmarks that must exercise each kernel without touching process-wide settings.
///
/// # Errors
/// As [`gemm`](super::gemm), plus [`Error::InvalidArgument`] if this CPU lacks `config.isa`.
///
/// ```
/// # #[cfg(feature = "internals")] {
/// use nninit::dispatch::Isa;
/// use nninit::linalg::{Config, Path, Transpose, gemm_with};
/// let config = Config { isa: Isa::Portable, threads: 1, path: Path::Packed, blocking: None };
/// let mut c = [0.0; 1];
/// gemm_with(config, Transpose::No, Transpose::No, 1, 1, 2, 1.0, &[1.0, 2.0], 2, &[3.0, 4.0], 1, 0.0, &mut c, 1)?;
/// assert_eq!(c, [11.0]);
/// # }
/// # Ok::<(), nninit::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn gemm_with(
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
) -> Result<()> {
    super::multiply(
        config, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, None,
    )
}
