//! Variance scaling (Keras `VarianceScaling`, JAX `variance_scaling`) and LeCun initialization
//! (LeCun, Bottou, Orr and Müller, "Efficient BackProp", 1998; the SELU paper, Klambauer et
//! al. 2017, relies on it).
//!
//! Weights get variance `scale / n`, where `n` is `fan_in`, `fan_out` or their average.

use super::sampler::Sampler;
use crate::error::{Error, Result};
use crate::fans::{FanMode, Fans};

/// The standard deviation of N(0, 1) truncated to `[-2, 2]`: Keras and JAX divide by it so that
/// a truncated normal still has the requested variance.
///
/// `sqrt(1 - 4 φ(2) / (2 Φ(2) - 1))` = 0.87962566103423978.
pub const TRUNCATED_NORMAL_STD_CORRECTION: f64 = 0.879_625_661_034_239_8;

/// The shape of a [`VarianceScaling`] distribution.
///
/// ```
/// use nninit::init::Distribution;
/// assert_eq!(Distribution::default(), Distribution::TruncatedNormal);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Distribution {
    /// `U(-limit, limit)` with `limit = sqrt(3 · scale / n)`.
    Uniform,
    /// `N(0, scale / n)` (Keras' `"untruncated_normal"`).
    Normal,
    /// N(0, σ²) truncated to `[-2σ, 2σ]` with `σ = sqrt(scale / n) / 0.87962566103423978`, so
    /// that the variance is `scale / n` (Keras' and JAX's default).
    #[default]
    TruncatedNormal,
}

/// Variance scaling: weights with variance `scale / n`, `n` chosen by `mode`.
///
/// Keras `VarianceScaling(scale, mode, distribution)`, JAX `variance_scaling`; defaults scale
/// 1, `FanIn`, truncated normal. Glorot is `(1, FanAvg, Uniform)`, He `(2, FanIn, ·)`, LeCun
/// `(1, FanIn, ·)`.
///
/// ```
/// use nninit::init::Distribution;
/// use nninit::{Initializer, VarianceScaling, FanMode, Fans};
/// let init = VarianceScaling::new(2.0, FanMode::FanIn, Distribution::Uniform);
/// let mut w = vec![0.0f32; 600];
/// init.fill_seeded(&mut w, Fans::new(6, 100), 3)?;
/// assert!(w.iter().all(|&x| x.abs() <= 1.0)); // limit = sqrt(3 * 2 / 6)
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VarianceScaling {
    /// Multiplies the variance (finite, > 0).
    pub scale: f64,
    /// Which fan `n` is.
    pub mode: FanMode,
    /// Uniform, normal or truncated normal.
    pub distribution: Distribution,
}

impl VarianceScaling {
    /// Variance `scale / n` with `n` from `mode`, drawn from `distribution`.
    ///
    /// ```
    /// use nninit::init::Distribution;
    /// use nninit::{VarianceScaling, FanMode};
    /// let vs = VarianceScaling::new(1.0, FanMode::FanAvg, Distribution::Uniform);
    /// assert_eq!(vs.scale, 1.0);
    /// ```
    pub fn new(
        scale: impl Into<f64>,
        mode: FanMode,
        distribution: Distribution,
    ) -> VarianceScaling {
        VarianceScaling {
            scale: scale.into(),
            mode,
            distribution,
        }
    }

    /// Sets the scale.
    ///
    /// ```
    /// assert_eq!(nninit::VarianceScaling::default().scale(2.0).scale, 2.0);
    /// ```
    pub fn scale(mut self, scale: impl Into<f64>) -> Self {
        self.scale = scale.into();
        self
    }

    /// Sets the fan mode.
    ///
    /// ```
    /// use nninit::FanMode;
    /// let vs = nninit::VarianceScaling::default().mode(FanMode::FanOut);
    /// assert_eq!(vs.mode, FanMode::FanOut);
    /// ```
    pub fn mode(mut self, mode: FanMode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets the distribution.
    ///
    /// ```
    /// use nninit::init::Distribution;
    /// let vs = nninit::VarianceScaling::default().distribution(Distribution::Normal);
    /// assert_eq!(vs.distribution, Distribution::Normal);
    /// ```
    pub fn distribution(mut self, distribution: Distribution) -> Self {
        self.distribution = distribution;
        self
    }

    /// The target variance `scale / n`.
    ///
    /// ```
    /// use nninit::{VarianceScaling, Fans};
    /// let var = VarianceScaling::default().variance(Fans::new(4, 8))?;
    /// assert_eq!(var, 0.25);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn variance(&self, fans: Fans) -> Result<f64> {
        if !(self.scale.is_finite() && self.scale > 0.0) {
            return Err(Error::invalid("scale", "finite and > 0", self.scale));
        }
        Ok(self.scale / fans.validate()?.select(self.mode))
    }

    fn sampler(&self, fans: Fans) -> Result<Sampler> {
        let variance = self.variance(fans)?;
        match self.distribution {
            Distribution::Uniform => Sampler::symmetric_uniform("limit", (3.0 * variance).sqrt()),
            Distribution::Normal => Sampler::normal(0.0, variance.sqrt()),
            Distribution::TruncatedNormal => {
                let std = variance.sqrt() / TRUNCATED_NORMAL_STD_CORRECTION;
                Sampler::truncated_normal(0.0, std, -2.0 * std, 2.0 * std)
            }
        }
    }
}

impl Default for VarianceScaling {
    /// Scale 1, `FanIn`, truncated normal (Keras' defaults).
    fn default() -> Self {
        VarianceScaling::new(1.0, FanMode::FanIn, Distribution::TruncatedNormal)
    }
}

/// LeCun uniform: `U(-limit, limit)` with `limit = sqrt(3 / fan_in)` (variance `1 / fan_in`).
///
/// Keras `LecunUniform`, JAX `lecun_uniform`: variance scaling `(1, FanIn, Uniform)`.
///
/// ```
/// use nninit::{Initializer, LecunUniform, Fans};
/// let mut w = vec![0.0f32; 300];
/// LecunUniform.fill_seeded(&mut w, Fans::new(3, 100), 0)?;
/// assert!(w.iter().all(|&x| x.abs() <= 1.0));
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LecunUniform;

/// LeCun normal: variance `1 / fan_in`, drawn as Keras' `LecunNormal` and JAX's
/// `lecun_normal` do, from N(0, σ²) truncated to `[-2σ, 2σ]` with
/// `σ = sqrt(1 / fan_in) / 0.87962566103423978`.
///
/// The initializer SELU networks need to self-normalize. For the untruncated N(0, 1/fan_in),
/// use `VarianceScaling::default().distribution(Distribution::Normal)`.
///
/// ```
/// use nninit::{Initializer, LecunNormal, Fans};
/// let mut w = vec![0.0f64; 400];
/// LecunNormal.fill_seeded(&mut w, Fans::new(4, 100), 0)?;
/// let sigma = 0.5 / 0.87962566103423978;
/// assert!(w.iter().all(|&x| x.abs() <= 2.0 * sigma + 1e-12));
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LecunNormal;

impl LecunUniform {
    fn sampler(&self, fans: Fans) -> Result<Sampler> {
        VarianceScaling::new(1.0, FanMode::FanIn, Distribution::Uniform).sampler(fans)
    }
}

impl LecunNormal {
    fn sampler(&self, fans: Fans) -> Result<Sampler> {
        VarianceScaling::new(1.0, FanMode::FanIn, Distribution::TruncatedNormal).sampler(fans)
    }
}

super::elementwise_initializer!(VarianceScaling, "VarianceScaling", VarianceScaling);
super::elementwise_initializer!(LecunUniform, "LecunUniform", Lecun);
super::elementwise_initializer!(LecunNormal, "LecunNormal", Lecun);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::special::{normal_cdf, normal_pdf};

    #[test]
    fn correction_constant_is_the_truncated_std() {
        let variance = 1.0 - 4.0 * normal_pdf(2.0) / (2.0 * normal_cdf(2.0) - 1.0);
        assert!((variance.sqrt() - TRUNCATED_NORMAL_STD_CORRECTION).abs() < 1e-15);
    }
}
