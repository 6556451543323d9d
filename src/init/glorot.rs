//! Glorot (Xavier) initialization: Glorot & Bengio, "Understanding the difficulty of training
//! deep feedforward neural networks" (AISTATS 2010).
//!
//! Keeping `Var(W) = 2 / (fan_in + fan_out)` balances the variance of activations in the
//! forward pass (which wants `1 / fan_in`) against that of gradients in the backward pass
//! (`1 / fan_out`). It suits tanh, sigmoid and softsign; for ReLU use He.

use super::sampler::Sampler;
use crate::error::{Error, Result};
use crate::fans::Fans;

/// Glorot uniform: `U(-bound, bound)` with `bound = gain · sqrt(6 / (fan_in + fan_out))`.
///
/// PyTorch `xavier_uniform_(w, gain)`; Keras `GlorotUniform` (gain 1); JAX `glorot_uniform`.
/// Default gain 1.
///
/// ```
/// use nninit::{Initializer, GlorotUniform, Fans};
/// let mut w = vec![0.0f32; 784 * 256];
/// GlorotUniform::default().fill_seeded(&mut w, Fans::new(784, 256), 42)?;
/// let bound = (6.0f32 / (784.0 + 256.0)).sqrt();
/// assert!(w.iter().all(|&x| x.abs() <= bound));
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GlorotUniform {
    /// Scales the bound; use `calculate_gain` of the layer's nonlinearity.
    pub gain: f64,
}

/// Glorot normal: `N(0, std²)` with `std = gain · sqrt(2 / (fan_in + fan_out))`.
///
/// PyTorch `xavier_normal_(w, gain)`. Keras' `GlorotNormal` instead draws a truncated normal
/// with the same variance; use [`VarianceScaling`](crate::VarianceScaling) with `FanAvg` for
/// that. Default gain 1.
///
/// ```
/// use nninit::{Initializer, GlorotNormal, Fans};
/// let mut w = vec![0.0f64; 100];
/// GlorotNormal::default().gain(5.0 / 3.0).fill_seeded(&mut w, Fans::new(10, 10), 1)?;
/// assert!(w.iter().any(|&x| x != 0.0));
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GlorotNormal {
    /// Scales the standard deviation.
    pub gain: f64,
}

macro_rules! gain_builder {
    ($ty:ident) => {
        impl $ty {
            /// With gain 1.
            ///
            /// ```
            #[doc = concat!("assert_eq!(nninit::", stringify!($ty), "::new().gain, 1.0);")]
            /// ```
            pub fn new() -> Self {
                $ty { gain: 1.0 }
            }

            /// Sets the gain (finite, `> 0`).
            ///
            /// ```
            #[doc = concat!("assert_eq!(nninit::", stringify!($ty), "::default().gain(2.0).gain, 2.0);")]
            /// ```
            pub fn gain(mut self, gain: impl Into<f64>) -> Self {
                self.gain = gain.into();
                self
            }
        }

        impl Default for $ty {
            fn default() -> Self {
                $ty::new()
            }
        }
    };
}

gain_builder!(GlorotUniform);
gain_builder!(GlorotNormal);

/// Checks a gain is finite and > 0.
pub(crate) fn check_gain(gain: f64) -> Result<()> {
    if gain.is_finite() && gain > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid("gain", "finite and > 0", gain))
    }
}

impl GlorotUniform {
    /// The bound `gain · sqrt(6 / (fan_in + fan_out))`.
    ///
    /// ```
    /// use nninit::{GlorotUniform, Fans};
    /// let bound = GlorotUniform::default().bound(Fans::new(3, 5))?;
    /// assert!((bound - (6.0f64 / 8.0).sqrt()).abs() < 1e-15);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn bound(&self, fans: Fans) -> Result<f64> {
        check_gain(self.gain)?;
        let fans = fans.validate()?;
        Ok(self.gain * (6.0 / (fans.fan_in as f64 + fans.fan_out as f64)).sqrt())
    }

    fn sampler(&self, fans: Fans) -> Result<Sampler> {
        Sampler::symmetric_uniform("bound", self.bound(fans)?)
    }
}

impl GlorotNormal {
    /// The standard deviation `gain · sqrt(2 / (fan_in + fan_out))`.
    ///
    /// ```
    /// use nninit::{GlorotNormal, Fans};
    /// let std = GlorotNormal::default().std(Fans::new(100, 100))?;
    /// assert!((std - 0.1).abs() < 1e-15);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn std(&self, fans: Fans) -> Result<f64> {
        check_gain(self.gain)?;
        let fans = fans.validate()?;
        Ok(self.gain * (2.0 / (fans.fan_in as f64 + fans.fan_out as f64)).sqrt())
    }

    fn sampler(&self, fans: Fans) -> Result<Sampler> {
        Sampler::normal(0.0, self.std(fans)?)
    }
}

super::elementwise_initializer!(GlorotUniform, "GlorotUniform", Glorot);
super::elementwise_initializer!(GlorotNormal, "GlorotNormal", Glorot);
