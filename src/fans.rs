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
/// assert_eq!(fans, Fans::new(784, 256));
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
    /// Fans of a layer with `fan_in` inputs and `fan_out` outputs.
    ///
    /// Infallible, like the struct literal: initializers check the fans when they use them, so
    /// a zero fan is reported by the fill that needs it ("fan_in must be > 0, got 0"). Use
    /// [`Fans::try_new`] to check up front.
    ///
    /// ```
    /// let fans = nninit::Fans::new(784, 256);
    /// assert_eq!((fans.fan_in, fans.fan_out), (784, 256));
    /// ```
    pub const fn new(fan_in: usize, fan_out: usize) -> Fans {
        Fans { fan_in, fan_out }
    }

    /// Fans of a layer with `fan_in` inputs and `fan_out` outputs; both must be > 0.
    ///
    /// ```
    /// assert!(nninit::Fans::try_new(784, 256).is_ok());
    /// let error = nninit::Fans::try_new(0, 3).unwrap_err();
    /// assert_eq!(error.to_string(), "fan_in must be > 0, got 0");
    /// ```
    pub fn try_new(fan_in: usize, fan_out: usize) -> Result<Fans> {
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
        Fans::from_layout(shape, Layout::OutIn)
    }

    /// Fans of a tensor stored in `layout`: [`Layout::OutIn`] is [`Fans::from_shape`]
    /// (PyTorch, candle: `[out, in, k1, k2, ...]`); [`Layout::InOut`] reads the last two
    /// dimensions as `[.., in, out]` (Keras, JAX/Flax, burn: `[k1, k2, ..., in, out]`, so a
    /// 2-D burn `Linear` weight `[d_input, d_output]` has `fan_in = d_input`). Either way
    /// `fan_in = in · receptive field` and `fan_out = out · receptive field`, the receptive
    /// field being the product of the kernel dimensions.
    ///
    /// Fewer than 2 dimensions, a zero dimension or an overflowing product is an error.
    ///
    /// ```
    /// use nninit::{Fans, Layout};
    /// // A burn / Keras dense kernel 784 -> 256 is stored [784, 256].
    /// assert_eq!(Fans::from_layout(&[784, 256], Layout::InOut)?, Fans::new(784, 256));
    /// // The same layer in PyTorch is [256, 784].
    /// assert_eq!(Fans::from_layout(&[256, 784], Layout::OutIn)?, Fans::new(784, 256));
    /// // A Keras 3x3 convolution from 16 to 32 channels: [3, 3, 16, 32].
    /// assert_eq!(Fans::from_layout(&[3, 3, 16, 32], Layout::InOut)?, Fans::new(144, 288));
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn from_layout(shape: &[usize], layout: Layout) -> Result<Fans> {
        let rank = shape.len();
        if rank < 2 {
            return Err(Error::invalid(
                "shape",
                "at least 2-dimensional to compute fans",
                format!("{shape:?}"),
            ));
        }
        if shape.contains(&0) {
            return Err(Error::invalid(
                "shape",
                "free of zero dimensions",
                format!("{shape:?}"),
            ));
        }
        let (out_features, in_features, kernel) = match layout {
            Layout::OutIn => (shape[0], shape[1], &shape[2..]),
            Layout::InOut => (shape[rank - 1], shape[rank - 2], &shape[..rank - 2]),
        };
        let overflow = || {
            Error::invalid(
                "shape",
                "a product that fits in usize",
                format!("{shape:?}"),
            )
        };
        let receptive_field = kernel
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(overflow)?;
        let fan_in = in_features
            .checked_mul(receptive_field)
            .ok_or_else(overflow)?;
        let fan_out = out_features
            .checked_mul(receptive_field)
            .ok_or_else(overflow)?;
        Fans::try_new(fan_in, fan_out)
    }

    /// The fan selected by `mode` (`FanAvg` is the mean of the two, as in Keras).
    ///
    /// ```
    /// use nninit::{Fans, FanMode};
    /// let fans = Fans::new(100, 300);
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
        Fans::try_new(self.fan_in, self.fan_out)
    }
}

/// How a weight tensor's dimensions are ordered: which one is the output, which the input, and
/// where the kernel (receptive-field) dimensions sit.
///
/// | layout | dense weight | convolution kernel | used by |
/// |---|---|---|---|
/// | [`OutIn`](Layout::OutIn) | `[out, in]` | `[out, in, k1, k2, ...]` | PyTorch, candle, nninit's [`Dense`](crate::Dense) |
/// | [`InOut`](Layout::InOut) | `[in, out]` | `[k1, k2, ..., in, out]` | Keras, JAX/Flax, burn (`Linear` is `[d_input, d_output]`) |
///
/// ```
/// use nninit::{Fans, Layout};
/// let torch = Fans::from_layout(&[32, 16, 3, 3], Layout::OutIn)?;
/// let keras = Fans::from_layout(&[3, 3, 16, 32], Layout::InOut)?;
/// assert_eq!(torch, keras);
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Layout {
    /// `[out, in, k1, k2, ...]`: PyTorch and candle (`nn.Linear.weight` is `[out, in]`).
    #[default]
    OutIn,
    /// `[k1, k2, ..., in, out]`: Keras, JAX/Flax and burn (a burn `Linear` weight is
    /// `[d_input, d_output]`).
    InOut,
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
    fn layouts_agree_on_the_same_layer() {
        for (out_in, in_out) in [
            (vec![3, 5], vec![5, 3]),
            (vec![8, 4, 3], vec![3, 4, 8]),
            (vec![32, 16, 3, 3], vec![3, 3, 16, 32]),
            (vec![2, 3, 2, 5, 7], vec![2, 5, 7, 3, 2]),
        ] {
            assert_eq!(
                Fans::from_layout(&out_in, Layout::OutIn).unwrap(),
                Fans::from_layout(&in_out, Layout::InOut).unwrap(),
                "{out_in:?} / {in_out:?}"
            );
            assert_eq!(
                Fans::from_layout(&out_in, Layout::OutIn).unwrap(),
                Fans::from_shape(&out_in).unwrap()
            );
        }
        // A burn Linear [d_input, d_output] = [784, 256].
        assert_eq!(
            Fans::from_layout(&[784, 256], Layout::InOut).unwrap(),
            Fans::new(784, 256)
        );
        for bad in [&[][..], &[4], &[0, 4], &[3, 3, 0, 2], &[usize::MAX, 2, 2]] {
            assert!(Fans::from_layout(bad, Layout::InOut).is_err(), "{bad:?}");
        }
        // A zero dimension is named as such, not as a zero fan.
        assert_eq!(
            Fans::from_layout(&[0, 4, 5], Layout::InOut)
                .unwrap_err()
                .to_string(),
            "shape must be free of zero dimensions, got [0, 4, 5]"
        );
    }

    #[test]
    fn bad_shapes_are_errors() {
        assert!(Fans::from_shape(&[]).is_err());
        assert!(Fans::from_shape(&[4]).is_err());
        assert!(Fans::from_shape(&[0, 4]).is_err());
        assert!(Fans::from_shape(&[usize::MAX, 2, 2]).is_err());
        assert_eq!(
            Fans::try_new(3, 0).unwrap_err().to_string(),
            "fan_out must be > 0, got 0"
        );
    }
}
