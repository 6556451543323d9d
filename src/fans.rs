//! Fan-in and fan-out: how many inputs feed a unit and how many outputs it feeds.
//!
//! Variance-preserving initializers scale the weights by `1 / fan`: a unit summing `fan_in`
//! independent terms of variance `s²` has variance `fan_in · s²`.

use crate::error::{Error, Result};

/// The fans of a weight tensor.
///
/// ```
/// use nninit::Fans;
/// // A dense layer 784 -> 256 (PyTorch weight shape [256, 784]).
/// let fans = Fans::from_shape(&[256, 784])?;
/// assert_eq!(fans, Fans::new(784, 256)?);
/// // A 3x3 convolution from 16 to 32 channels.
/// let conv = Fans::from_shape(&[32, 16, 3, 3])?;
/// assert_eq!((conv.fan_in, conv.fan_out), (16 * 9, 32 * 9));
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fans {
    /// Number of inputs of each unit (`in_features * receptive field`).
    pub fan_in: usize,
    /// Number of outputs fed by each input (`out_features * receptive field`).
    pub fan_out: usize,
}

impl Fans {
    /// Fans of a layer with `fan_in` inputs and `fan_out` outputs; both must be > 0.
    ///
    /// ```
    /// let fans = nninit::Fans::new(784, 256)?;
    /// assert_eq!(fans.fan_in, 784);
    /// assert!(nninit::Fans::new(0, 3).is_err());
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn new(fan_in: usize, fan_out: usize) -> Result<Fans> {
        if fan_in == 0 {
            return Err(Error::invalid("fan_in", "> 0", fan_in));
        }
        if fan_out == 0 {
            return Err(Error::invalid("fan_out", "> 0", fan_out));
        }
        Ok(Fans { fan_in, fan_out })
    }

    /// Fans of a tensor with PyTorch's shape convention `[out, in, k1, k2, ...]`:
    /// `fan_in = in * k1 * k2 * ...`, `fan_out = out * k1 * k2 * ...`.
    ///
    /// Fewer than 2 dimensions, a zero dimension or an overflowing product is an error.
    ///
    /// ```
    /// let fans = nninit::Fans::from_shape(&[64, 3, 5, 5])?;
    /// assert_eq!((fans.fan_in, fans.fan_out), (75, 1600));
    /// assert!(nninit::Fans::from_shape(&[10]).is_err());
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn from_shape(shape: &[usize]) -> Result<Fans> {
        if shape.len() < 2 {
            return Err(Error::invalid(
                "shape",
                "at least 2 dimensions to compute fans",
                format!("{shape:?}"),
            ));
        }
        let overflow = || {
            Error::invalid(
                "shape",
                "a product that fits in usize",
                format!("{shape:?}"),
            )
        };
        let receptive_field = shape[2..]
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(overflow)?;
        let fan_in = shape[1].checked_mul(receptive_field).ok_or_else(overflow)?;
        let fan_out = shape[0].checked_mul(receptive_field).ok_or_else(overflow)?;
        Fans::new(fan_in, fan_out)
    }

    /// The fan selected by `mode` (`FanAvg` is the mean of the two, as in Keras).
    ///
    /// ```
    /// use nninit::{Fans, FanMode};
    /// let fans = Fans::new(100, 300)?;
    /// assert_eq!(fans.select(FanMode::FanIn), 100.0);
    /// assert_eq!(fans.select(FanMode::FanAvg), 200.0);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn select(self, mode: FanMode) -> f64 {
        match mode {
            FanMode::FanIn => self.fan_in as f64,
            FanMode::FanOut => self.fan_out as f64,
            FanMode::FanAvg => (self.fan_in as f64 + self.fan_out as f64) / 2.0,
        }
    }

    /// Checks the fans are non-zero (a `Fans` built with a struct literal may hold zeros).
    pub(crate) fn validate(self) -> Result<Fans> {
        Fans::new(self.fan_in, self.fan_out)
    }
}

/// Which fan a variance-scaling initializer divides by.
///
/// ```
/// assert_eq!(nninit::FanMode::default(), nninit::FanMode::FanIn);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FanMode {
    /// Preserve the variance of activations in the forward pass (PyTorch's default).
    #[default]
    FanIn,
    /// Preserve the variance of gradients in the backward pass.
    FanOut,
    /// The average of both (Glorot's compromise).
    FanAvg,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_and_conv_shapes() {
        assert_eq!(
            Fans::from_shape(&[3, 5]).unwrap(),
            Fans {
                fan_in: 5,
                fan_out: 3
            }
        );
        let conv1d = Fans::from_shape(&[8, 4, 3]).unwrap();
        assert_eq!((conv1d.fan_in, conv1d.fan_out), (12, 24));
        let conv3d = Fans::from_shape(&[2, 3, 2, 2, 2]).unwrap();
        assert_eq!((conv3d.fan_in, conv3d.fan_out), (24, 16));
    }

    #[test]
    fn bad_shapes_are_errors() {
        assert!(Fans::from_shape(&[]).is_err());
        assert!(Fans::from_shape(&[4]).is_err());
        assert!(Fans::from_shape(&[0, 4]).is_err());
        assert!(Fans::from_shape(&[usize::MAX, 2, 2]).is_err());
        assert_eq!(
            Fans::new(3, 0).unwrap_err().to_string(),
            "fan_out must be > 0, got 0"
        );
    }
}
