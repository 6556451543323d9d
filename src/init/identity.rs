//! The identity: an initializer (PyTorch `eye_` for matrices, `dirac_` for convolution kernels)
//! and, in `crate::activation`, the identity activation `f(x) = x`.

use rand::Rng;

use super::element::Element;
use super::{Initializer, matrix_shape};
use crate::error::{Error, Result};
use crate::fans::Fans;

/// The identity. As an initializer: ones on the diagonal, zeros elsewhere.
///
/// For a matrix `[out, in]` (any aspect ratio) this is PyTorch's `eye_`: `W[i][i] = 1` for
/// `i < min(out, in)`. For a convolution kernel `[out, in, k...]` it is `dirac_`: the centre
/// tap of kernel `[i, i]` is 1, so the convolution passes channel `i` through unchanged.
/// Kernels are described only by their fans here, so every kernel dimension must be odd (the
/// centre is then unambiguous); an even kernel is an error. Deterministic: the generator and
/// the seed are ignored.
///
/// As an activation (see [`Activation`](crate::Activation)), `Identity` is `f(x) = x`.
///
/// ```
/// use nninit::{Initializer, Identity, Fans};
/// let mut w = [9.0f32; 6]; // 2 x 3
/// Identity.fill_seeded(&mut w, Fans::new(3, 2), 0)?;
/// assert_eq!(w, [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Identity;

/// Where the ones go: a `rows x cols` matrix whose columns are `in` channels of `taps` kernel
/// taps each (`taps = 1` for a dense layer).
struct Layout {
    cols: usize,
    taps: usize,
    centre: usize,
}

impl Layout {
    fn new(len: usize, fans: Fans) -> Result<Layout> {
        let (rows, cols) = matrix_shape(len, fans)?;
        let taps = fans.fan_out / rows;
        if taps.is_multiple_of(2) {
            return Err(Error::invalid(
                "kernel size",
                "odd in every dimension for a dirac (identity) kernel",
                format!("{taps} taps per kernel"),
            ));
        }
        Ok(Layout {
            cols,
            taps,
            centre: (taps - 1) / 2,
        })
    }

    /// Whether element `index` of the row-major tensor is on the identity.
    #[inline]
    fn is_one(&self, index: usize) -> bool {
        let (row, col) = (index / self.cols, index % self.cols);
        let (channel, tap) = (col / self.taps, col % self.taps);
        row == channel && tap == self.centre
    }

    fn write<T: Element>(&self, shard: &mut [T], offset: usize) {
        for (k, w) in shard.iter_mut().enumerate() {
            *w = if self.is_one(offset + k) {
                T::one()
            } else {
                T::zero()
            };
        }
    }
}

impl<T: Element> Initializer<T> for Identity {
    fn fill(&self, weights: &mut [T], fans: Fans, _rng: &mut dyn Rng) -> Result<()> {
        Initializer::<T>::fill_seeded(self, weights, fans, 0)
    }

    fn fill_seeded(&self, weights: &mut [T], fans: Fans, _seed: u64) -> Result<()> {
        if weights.is_empty() {
            return Ok(());
        }
        Layout::new(weights.len(), fans)?.write(weights, 0);
        Ok(())
    }

    /// Elements `offset ..` of the identity matrix `[fan_out, fan_in]`. A shard carries no
    /// kernel shape, so shards are of matrices (1x1 kernels); fill a whole convolution kernel
    /// with `fill_seeded`.
    fn fill_shard(&self, shard: &mut [T], fans: Fans, _seed: u64, offset: usize) -> Result<()> {
        if shard.is_empty() {
            return Ok(());
        }
        let fans = fans.validate()?;
        let total = fans.fan_in.checked_mul(fans.fan_out).ok_or_else(|| {
            Error::invalid("fan_in * fan_out", "a size that fits in usize", fans.fan_in)
        })?;
        let end = offset.checked_add(shard.len()).filter(|&end| end <= total);
        if end.is_none() {
            return Err(Error::LengthMismatch {
                what: "shard end (offset + length)".into(),
                expected: format!("at most {total}"),
                found: offset.saturating_add(shard.len()),
            });
        }
        Layout::new(total, fans)?.write(shard, offset);
        Ok(())
    }

    fn name(&self) -> &'static str {
        "Identity"
    }

    fn family(&self) -> super::InitializerFamily {
        super::InitializerFamily::Identity
    }
}
