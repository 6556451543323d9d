//! He (Kaiming) initialization: He, Zhang, Ren and Sun, "Delving Deep into Rectifiers"
//! (ICCV 2015).
//!
//! A ReLU zeroes half of its inputs, halving the second moment of the signal; scaling the
//! weights' variance by `gain² / fan` with `gain = sqrt(2)` restores it, so deep ReLU networks
//! keep their activations (mode `FanIn`) or gradients (mode `FanOut`) at a constant scale.

use super::sampler::Sampler;
use crate::error::Result;
use crate::fans::{FanMode, Fans};
use crate::gain::{Nonlinearity, try_calculate_gain};

/// He uniform: `U(-bound, bound)` with `bound = gain · sqrt(3 / fan)`.
///
/// PyTorch `kaiming_uniform_(w, a, mode, nonlinearity)`: `gain = calculate_gain(nonlinearity)`,
/// `fan` the fan chosen by `mode`. Defaults: `FanIn`, ReLU (gain sqrt(2)), so
/// `bound = sqrt(6 / fan_in)`. Keras `HeUniform` is the default.
///
/// ```
/// use nninit::{Initializer, HeUniform, Fans};
/// let mut w = vec![0.0f32; 64 * 32];
/// HeUniform::default().fill_seeded(&mut w, Fans::new(32, 64), 0)?;
/// let bound = (6.0f32 / 32.0).sqrt();
/// assert!(w.iter().all(|&x| x.abs() <= bound));
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HeUniform {
    /// Which fan to divide by.
    pub mode: FanMode,
    /// The nonlinearity whose gain scales the bound.
    pub nonlinearity: Nonlinearity,
}

/// He normal: `N(0, std²)` with `std = gain / sqrt(fan)`.
///
/// PyTorch `kaiming_normal_(w, a, mode, nonlinearity)`. Defaults: `FanIn`, ReLU, so
/// `std = sqrt(2 / fan_in)`. (Keras' `HeNormal` draws a truncated normal instead; use
/// [`VarianceScaling`](crate::VarianceScaling) with scale 2 for that.)
///
/// ```
/// use nninit::{Initializer, HeNormal, Nonlinearity, Fans};
/// let he = HeNormal::default().nonlinearity(Nonlinearity::LeakyRelu(0.2));
/// let mut w = vec![0.0f64; 16];
/// he.fill_seeded(&mut w, Fans::new(4, 4), 1)?;
/// assert!(w.iter().all(|x| x.is_finite()));
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HeNormal {
    /// Which fan to divide by.
    pub mode: FanMode,
    /// The nonlinearity whose gain scales the standard deviation.
    pub nonlinearity: Nonlinearity,
}

macro_rules! he_builder {
    ($ty:ident) => {
        impl $ty {
            /// Mode `FanIn`, nonlinearity ReLU.
            ///
            /// ```
            #[doc = concat!("let he = nninit::", stringify!($ty), "::new();")]
            /// assert_eq!(he.mode, nninit::FanMode::FanIn);
            /// ```
            pub fn new() -> Self {
                $ty {
                    mode: FanMode::FanIn,
                    nonlinearity: Nonlinearity::Relu,
                }
            }

            /// Sets the fan mode.
            ///
            /// ```
            /// use nninit::FanMode;
            #[doc = concat!("let he = nninit::", stringify!($ty), "::default().mode(FanMode::FanOut);")]
            /// assert_eq!(he.mode, FanMode::FanOut);
            /// ```
            pub fn mode(mut self, mode: FanMode) -> Self {
                self.mode = mode;
                self
            }

            /// Sets the nonlinearity (its gain scales the distribution).
            ///
            /// ```
            /// use nninit::Nonlinearity;
            #[doc = concat!("let he = nninit::", stringify!($ty), "::default().nonlinearity(Nonlinearity::Tanh);")]
            /// assert_eq!(he.nonlinearity, Nonlinearity::Tanh);
            /// ```
            pub fn nonlinearity(mut self, nonlinearity: Nonlinearity) -> Self {
                self.nonlinearity = nonlinearity;
                self
            }

            /// The gain of the nonlinearity, validated (a leaky ReLU's slope must be finite).
            fn checked_gain(&self) -> Result<f64> {
                try_calculate_gain(self.nonlinearity)
            }
        }

        impl Default for $ty {
            fn default() -> Self {
                $ty::new()
            }
        }
    };
}

he_builder!(HeUniform);
he_builder!(HeNormal);

impl HeUniform {
    /// The bound `gain · sqrt(3 / fan)`.
    ///
    /// ```
    /// use nninit::{HeUniform, Fans};
    /// let bound = HeUniform::default().bound(Fans::new(6, 1))?;
    /// assert!((bound - 1.0).abs() < 1e-15);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn bound(&self, fans: Fans) -> Result<f64> {
        let fan = fans.validate()?.select(self.mode);
        Ok(self.checked_gain()? * (3.0 / fan).sqrt())
    }

    fn sampler(&self, fans: Fans) -> Result<Sampler> {
        Sampler::symmetric_uniform("bound", self.bound(fans)?)
    }
}

impl HeNormal {
    /// The standard deviation `gain / sqrt(fan)`.
    ///
    /// ```
    /// use nninit::{HeNormal, Fans};
    /// let std = HeNormal::default().std(Fans::new(2, 7))?;
    /// assert!((std - 1.0).abs() < 1e-15);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn std(&self, fans: Fans) -> Result<f64> {
        let fan = fans.validate()?.select(self.mode);
        Ok(self.checked_gain()? / fan.sqrt())
    }

    fn sampler(&self, fans: Fans) -> Result<Sampler> {
        Sampler::normal(0.0, self.std(fans)?)
    }
}

super::elementwise_initializer!(HeUniform, "HeUniform", He);
super::elementwise_initializer!(HeNormal, "HeNormal", He);
