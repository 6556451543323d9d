//! Matrix multiply: `gemm` and `matmul`, row-major.

use crate::error::{Error, Result};

/// Whether an operand of [`gemm`] is used as stored or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transpose {
    /// Use the matrix as stored.
    No,
    /// Use its transpose.
    Yes,
}

/// Row-major `C = alpha * op(A) * op(B) + beta * C`, with `op(A)` `m x k` and `op(B)` `k x n`.
///
/// `beta = 0` never reads `C`.
///
/// ```
/// use nninit::linalg::{gemm, Transpose};
/// let a = [1.0, 2.0, 3.0, 4.0];
/// let b = [5.0, 6.0, 7.0, 8.0];
/// let mut c = [f32::NAN; 4];
/// gemm(Transpose::No, Transpose::No, 2, 2, 2, 1.0, &a, 2, &b, 2, 0.0, &mut c, 2)?;
/// assert_eq!(c, [19.0, 22.0, 43.0, 50.0]);
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
    let (a_rows, a_cols) = if trans_a == Transpose::No {
        (m, k)
    } else {
        (k, m)
    };
    let (b_rows, b_cols) = if trans_b == Transpose::No {
        (k, n)
    } else {
        (n, k)
    };
    check_operand("a", a.len(), a_rows, a_cols, lda)?;
    check_operand("b", b.len(), b_rows, b_cols, ldb)?;
    check_operand("c", c.len(), m, n, ldc)?;
    let at = |i: usize, p: usize| match trans_a {
        Transpose::No => a[i * lda + p],
        Transpose::Yes => a[p * lda + i],
    };
    let bt = |p: usize, j: usize| match trans_b {
        Transpose::No => b[p * ldb + j],
        Transpose::Yes => b[j * ldb + p],
    };
    for i in 0..m {
        for j in 0..n {
            let mut sum = 0.0f32;
            for p in 0..k {
                sum += at(i, p) * bt(p, j);
            }
            let out = &mut c[i * ldc + j];
            *out = if beta == 0.0 {
                alpha * sum
            } else {
                alpha * sum + beta * *out
            };
        }
    }
    Ok(())
}

/// Checks a `rows x cols` operand with leading dimension `ld` fits in `len` elements.
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

/// `A * B` for row-major `A` (`m x k`) and `B` (`k x n`).
///
/// ```
/// let c = nninit::linalg::matmul(&[1.0, 2.0], &[3.0, 4.0], 1, 2, 1)?;
/// assert_eq!(c, vec![11.0]);
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
