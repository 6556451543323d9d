//! Orthogonal initialization: Saxe, McClelland and Ganguli, "Exact solutions to the nonlinear
//! dynamics of learning in deep linear neural networks" (ICLR 2014).
//!
//! An orthogonal matrix preserves the norm of every vector, so a deep linear network with
//! orthogonal weights neither shrinks nor amplifies its signal. As PyTorch's `orthogonal_`:
//! draw a Gaussian `rows x cols` matrix (transposed when wide), take its QR decomposition, fix
//! the signs of Q's columns by the signs of R's diagonal (which makes Q Haar-distributed), and
//! scale by the gain.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use super::element::Element;
use super::glorot::check_gain;
use super::sampler::Sampler;
use super::{Initializer, matrix_shape};
use crate::error::{Error, Result};
use crate::fans::Fans;

/// A (semi-)orthogonal matrix times `gain` (PyTorch `orthogonal_(w, gain)`; default gain 1).
///
/// The weight is viewed as `rows x cols` with `rows = out` and `cols = fan_in` (for a conv
/// kernel `[out, in, k...]`, `cols = in · k...`). Rows are orthonormal when `rows <= cols`,
/// columns otherwise: `W Wᵀ = gain² I` or `Wᵀ W = gain² I`.
///
/// Not shardable: every element depends on the whole Gaussian matrix through the QR
/// decomposition, so [`fill_shard`](Initializer::fill_shard) returns an error.
///
/// ```
/// use nninit::{Initializer, Orthogonal, Fans};
/// let mut w = vec![0.0f64; 3 * 5]; // 3 x 5: rows orthonormal
/// Orthogonal::default().fill_seeded(&mut w, Fans::new(5, 3), 7)?;
/// let dot: f64 = (0..5).map(|j| w[j] * w[5 + j]).sum();
/// let norm: f64 = (0..5).map(|j| w[j] * w[j]).sum();
/// assert!(dot.abs() < 1e-12 && (norm - 1.0).abs() < 1e-12);
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Orthogonal {
    /// Scales the orthogonal matrix.
    pub gain: f64,
}

impl Orthogonal {
    /// With gain 1.
    ///
    /// ```
    /// assert_eq!(nninit::Orthogonal::new().gain, 1.0);
    /// ```
    pub fn new() -> Orthogonal {
        Orthogonal { gain: 1.0 }
    }

    /// Sets the gain.
    ///
    /// ```
    /// assert_eq!(nninit::Orthogonal::default().gain(2.0).gain, 2.0);
    /// ```
    pub fn gain(mut self, gain: impl Into<f64>) -> Self {
        self.gain = gain.into();
        self
    }

    /// Writes `gain · Q` into `weights` from a row-major Gaussian `rows x cols` matrix.
    fn finish<T: Element>(&self, weights: &mut [T], gaussian: Vec<f64>, rows: usize, cols: usize) {
        let q = orthogonal_from_gaussian(gaussian, rows, cols);
        for (w, &x) in weights.iter_mut().zip(&q) {
            *w = T::from_f64(self.gain * x);
        }
    }
}

impl Default for Orthogonal {
    fn default() -> Self {
        Orthogonal::new()
    }
}

impl Orthogonal {
    /// Checks the gain is finite, `> 0`, and neither overflows nor underflows `T`: every
    /// entry of `Q` lies in `[-1, 1]`, so a gain above `T::MAX` could write infinities and one
    /// below `T`'s smallest normal number writes (nearly) all zeros.
    fn check_gain_for<T: Element>(&self) -> Result<()> {
        check_gain(self.gain)?;
        let in_type = T::from_f64(self.gain);
        if in_type.is_finite() && in_type >= T::min_positive_value() {
            Ok(())
        } else {
            Err(Error::invalid(
                "gain",
                format!(
                    "within the normal range of {} ({:e} to {:e})",
                    std::any::type_name::<T>(),
                    T::min_positive_value().into_f64(),
                    T::max_value().into_f64()
                ),
                format!("{:e}", self.gain),
            ))
        }
    }
}

impl<T: Element> Initializer<T> for Orthogonal {
    fn fill(&self, weights: &mut [T], fans: Fans, rng: &mut dyn Rng) -> Result<()> {
        if weights.is_empty() {
            return Ok(());
        }
        self.check_gain_for::<T>()?;
        let (rows, cols) = matrix_shape(weights.len(), fans)?;
        let gaussian = (0..rows * cols)
            .map(|_| StandardNormal.sample(rng))
            .collect();
        self.finish(weights, gaussian, rows, cols);
        Ok(())
    }

    fn fill_seeded(&self, weights: &mut [T], fans: Fans, seed: u64) -> Result<()> {
        if weights.is_empty() {
            return Ok(());
        }
        self.check_gain_for::<T>()?;
        let (rows, cols) = matrix_shape(weights.len(), fans)?;
        let mut gaussian = vec![0.0f64; rows * cols];
        Sampler::normal(0.0, 1.0)?.fill_seeded(&mut gaussian, seed)?;
        self.finish(weights, gaussian, rows, cols);
        Ok(())
    }

    fn fill_shard(&self, _shard: &mut [T], _fans: Fans, _seed: u64, _offset: usize) -> Result<()> {
        Err(Error::NotShardable {
            initializer: "Orthogonal",
        })
    }

    fn name(&self) -> &'static str {
        "Orthogonal"
    }

    fn family(&self) -> super::InitializerFamily {
        super::InitializerFamily::Orthogonal
    }
}

/// `Q` (row-major `rows x cols`) with orthonormal rows or columns, sign-corrected, from a
/// row-major Gaussian `rows x cols` matrix.
pub(crate) fn orthogonal_from_gaussian(gaussian: Vec<f64>, rows: usize, cols: usize) -> Vec<f64> {
    // QR needs a tall matrix: a wide one is transposed, decomposed, and transposed back.
    let wide = rows < cols;
    let (tall_rows, tall_cols) = if wide { (cols, rows) } else { (rows, cols) };
    let tall = if wide {
        transpose(&gaussian, rows, cols)
    } else {
        gaussian
    };
    let (mut q, r_diagonal) = householder_qr(tall, tall_rows, tall_cols);
    for i in 0..tall_rows {
        for (j, &r) in r_diagonal.iter().enumerate() {
            // sign(0) = +1: a (measure-zero) zero pivot must not zero a column.
            if r < 0.0 {
                q[i * tall_cols + j] = -q[i * tall_cols + j];
            }
        }
    }
    if wide {
        transpose(&q, tall_rows, tall_cols)
    } else {
        q
    }
}

fn transpose<T: Copy>(a: &[T], rows: usize, cols: usize) -> Vec<T> {
    let mut t = Vec::with_capacity(a.len());
    for j in 0..cols {
        t.extend((0..rows).map(|i| a[i * cols + j]));
    }
    t
}

/// Householder QR of a row-major `m x n` matrix with `m >= n`.
///
/// Returns the thin `Q` (`m x n`, orthonormal columns) and the diagonal of `R`. Each step
/// reflects column `j` below the diagonal onto `±‖x‖ e_j`, choosing the sign opposite to
/// `x_j` so that `v = x - alpha e_j` does not cancel.
pub(crate) fn householder_qr<T: num_traits::Float>(
    mut a: Vec<T>,
    m: usize,
    n: usize,
) -> (Vec<T>, Vec<T>) {
    debug_assert!(m >= n && a.len() == m * n);
    let two = T::one() + T::one();
    let mut reflectors: Vec<Vec<T>> = Vec::with_capacity(n);
    let mut r_diagonal = Vec::with_capacity(n);
    for j in 0..n {
        let mut v: Vec<T> = (j..m).map(|i| a[i * n + j]).collect();
        let norm = v.iter().fold(T::zero(), |acc, &x| acc + x * x).sqrt();
        if norm == T::zero() {
            reflectors.push(Vec::new());
            r_diagonal.push(T::zero());
            continue;
        }
        let alpha = if v[0] > T::zero() { -norm } else { norm };
        v[0] = v[0] - alpha;
        let v_norm = v.iter().fold(T::zero(), |acc, &x| acc + x * x).sqrt();
        v.iter_mut().for_each(|x| *x = *x / v_norm);
        // A[j.., j..] -= 2 v (vᵀ A[j.., j..])
        for col in j..n {
            let dot = v
                .iter()
                .enumerate()
                .fold(T::zero(), |acc, (k, &vk)| acc + vk * a[(j + k) * n + col]);
            for (k, &vk) in v.iter().enumerate() {
                let entry = &mut a[(j + k) * n + col];
                *entry = *entry - two * vk * dot;
            }
        }
        r_diagonal.push(a[j * n + j]);
        reflectors.push(v);
    }
    // Q = H_0 H_1 ... H_{n-1} [I_n; 0], applied from the last reflector to the first.
    let mut q = vec![T::zero(); m * n];
    for i in 0..n {
        q[i * n + i] = T::one();
    }
    for (j, v) in reflectors.iter().enumerate().rev() {
        if v.is_empty() {
            continue;
        }
        for col in 0..n {
            let dot = v
                .iter()
                .enumerate()
                .fold(T::zero(), |acc, (k, &vk)| acc + vk * q[(j + k) * n + col]);
            for (k, &vk) in v.iter().enumerate() {
                let entry = &mut q[(j + k) * n + col];
                *entry = *entry - two * vk * dot;
            }
        }
    }
    (q, r_diagonal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gram(q: &[f64], m: usize, n: usize) -> Vec<f64> {
        let mut g = vec![0.0; n * n];
        for a in 0..n {
            for b in 0..n {
                g[a * n + b] = (0..m).map(|i| q[i * n + a] * q[i * n + b]).sum();
            }
        }
        g
    }

    #[test]
    fn qr_reconstructs_and_is_orthonormal() {
        // A small matrix with a known R diagonal magnitude: columns (3, 4, 0) and (1, 0, 0).
        let a: Vec<f64> = vec![3.0, 1.0, 4.0, 0.0, 0.0, 0.0];
        let (q, r) = householder_qr(a.clone(), 3, 2);
        assert!((r[0].abs() - 5.0).abs() < 1e-12);
        let g = gram(&q, 3, 2);
        for (k, &x) in g.iter().enumerate() {
            let expected = if k % 3 == 0 { 1.0 } else { 0.0 };
            assert!((x - expected).abs() < 1e-12);
        }
        // Q R reconstructs A: R = Qᵀ A is upper triangular with the returned diagonal.
        let r01: f64 = (0..3).map(|i| q[i * 2] * a[i * 2 + 1]).sum();
        let r11: f64 = (0..3).map(|i| q[i * 2 + 1] * a[i * 2 + 1]).sum();
        for i in 0..3 {
            let rebuilt = q[i * 2] * r01 + q[i * 2 + 1] * r11;
            assert!((rebuilt - a[i * 2 + 1]).abs() < 1e-12);
        }
        assert!((r11 - r[1]).abs() < 1e-12);
    }

    #[test]
    fn sign_correction_makes_r_diagonal_positive() {
        let gaussian = vec![-2.0, 0.5, 1.0, -1.0, 0.3, 0.7];
        let q = orthogonal_from_gaussian(gaussian.clone(), 3, 2);
        // Qᵀ A has a positive diagonal after the correction.
        for j in 0..2 {
            let r_jj: f64 = (0..3).map(|i| q[i * 2 + j] * gaussian[i * 2 + j]).sum();
            assert!(r_jj > 0.0);
        }
    }
}
