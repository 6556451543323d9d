//! Initializers whose distribution does not depend on the fans: constants, uniform, normal and
//! truncated normal (PyTorch's `zeros_`, `ones_`, `constant_`, `uniform_`, `normal_`,
//! `trunc_normal_`).

use super::sampler::Sampler;
use crate::error::Result;
use crate::fans::Fans;

/// Every weight 0 (PyTorch `zeros_`). Deterministic.
///
/// Zero weights make every hidden unit compute the same function and receive the same
/// gradient, so they stay identical forever: use it for biases, not for weights.
///
/// ```
/// use nninit::{Initializer, Zeros, Fans};
/// let mut w = [1.0f32; 3];
/// Zeros.fill_seeded(&mut w, Fans::new(3, 1), 0)?;
/// assert_eq!(w, [0.0; 3]);
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Zeros;

/// Every weight 1 (PyTorch `ones_`). Deterministic.
///
/// ```
/// use nninit::{Initializer, Ones, Fans};
/// let mut w = [0.0f64; 2];
/// Ones.fill_seeded(&mut w, Fans::new(2, 1), 0)?;
/// assert_eq!(w, [1.0; 2]);
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Ones;

/// Every weight `value` (PyTorch `constant_`). Deterministic; `value` must be finite.
///
/// ```
/// use nninit::{Initializer, Constant, Fans};
/// let mut w = [0.0f32; 2];
/// Constant::new(0.1).fill_seeded(&mut w, Fans::new(2, 1), 0)?;
/// assert_eq!(w, [0.1; 2]);
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Constant {
    /// The value written to every weight.
    pub value: f64,
}

impl Constant {
    /// Every weight `value`.
    ///
    /// ```
    /// assert_eq!(nninit::Constant::new(0.5).value, 0.5);
    /// ```
    pub fn new(value: impl Into<f64>) -> Constant {
        Constant {
            value: value.into(),
        }
    }
}

/// Uniform on `[low, high)` (PyTorch `uniform_(a=low, b=high)`; default `[0, 1)`).
///
/// Mean `(low + high) / 2`, variance `(high - low)² / 12`. Requires finite `low < high`.
///
/// ```
/// use nninit::{Initializer, Uniform, Fans};
/// let mut w = vec![0.0f32; 1000];
/// Uniform::new(-0.05, 0.05).fill_seeded(&mut w, Fans::new(100, 10), 1)?;
/// assert!(w.iter().all(|&x| (-0.05..0.05).contains(&x)));
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Uniform {
    /// Lower bound (inclusive).
    pub low: f64,
    /// Upper bound (exclusive).
    pub high: f64,
}

impl Uniform {
    /// Uniform on `[low, high)`.
    ///
    /// ```
    /// let u = nninit::Uniform::new(-1.0, 1.0);
    /// assert_eq!((u.low, u.high), (-1.0, 1.0));
    /// ```
    pub fn new(low: impl Into<f64>, high: impl Into<f64>) -> Uniform {
        Uniform {
            low: low.into(),
            high: high.into(),
        }
    }
}

impl Default for Uniform {
    /// `[0, 1)`, PyTorch's default.
    fn default() -> Self {
        Uniform::new(0.0, 1.0)
    }
}

/// Normal with mean `mean` and standard deviation `std` (PyTorch `normal_`; default N(0, 1)).
///
/// Requires a finite mean and a finite `std >= 0`.
///
/// ```
/// use nninit::{Initializer, Normal, Fans};
/// let mut w = vec![0.0f64; 10_000];
/// Normal::new(0.0, 0.01).fill_seeded(&mut w, Fans::new(100, 100), 3)?;
/// let mean = w.iter().sum::<f64>() / w.len() as f64;
/// assert!(mean.abs() < 5.0 * 0.01 / 100.0); // 5 standard errors
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Normal {
    /// Mean.
    pub mean: f64,
    /// Standard deviation.
    pub std: f64,
}

impl Normal {
    /// N(mean, std²).
    ///
    /// ```
    /// assert_eq!(nninit::Normal::new(0.0, 0.02).std, 0.02);
    /// ```
    pub fn new(mean: impl Into<f64>, std: impl Into<f64>) -> Normal {
        Normal {
            mean: mean.into(),
            std: std.into(),
        }
    }
}

impl Default for Normal {
    /// N(0, 1), PyTorch's default.
    fn default() -> Self {
        Normal::new(0.0, 1.0)
    }
}

/// Normal(mean, std²) truncated to `[a, b]` (PyTorch `trunc_normal_`; default N(0, 1) on
/// `[-2, 2]`). `a` and `b` are absolute bounds, not multiples of `std`, as in PyTorch.
///
/// Exact: values are drawn by inverting the CDF of the truncated distribution, so they always
/// lie in `[a, b]` and follow the truncated law (no clipping, no rejection). The variance is
/// smaller than `std²`: for the default ±2 std window it is `0.87962566103423978² std²`.
///
/// ```
/// use nninit::{Initializer, TruncatedNormal, Fans};
/// let mut w = vec![0.0f32; 1000];
/// TruncatedNormal::new(0.0, 0.02, -0.04, 0.04).fill_seeded(&mut w, Fans::new(10, 10), 5)?;
/// assert!(w.iter().all(|&x| (-0.04..=0.04).contains(&x)));
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TruncatedNormal {
    /// Mean of the underlying normal.
    pub mean: f64,
    /// Standard deviation of the underlying normal (before truncation).
    pub std: f64,
    /// Lower bound (inclusive); may be `-inf` (the weights stay finite).
    pub a: f64,
    /// Upper bound (inclusive); may be `+inf` (the weights stay finite).
    pub b: f64,
}

impl TruncatedNormal {
    /// N(mean, std²) truncated to `[a, b]`.
    ///
    /// ```
    /// let t = nninit::TruncatedNormal::new(0.0, 1.0, -2.0, 2.0);
    /// assert_eq!(t, nninit::TruncatedNormal::default());
    /// ```
    pub fn new(
        mean: impl Into<f64>,
        std: impl Into<f64>,
        a: impl Into<f64>,
        b: impl Into<f64>,
    ) -> TruncatedNormal {
        TruncatedNormal {
            mean: mean.into(),
            std: std.into(),
            a: a.into(),
            b: b.into(),
        }
    }

    /// Sets the mean.
    ///
    /// ```
    /// assert_eq!(nninit::TruncatedNormal::default().mean(1.0).mean, 1.0);
    /// ```
    pub fn mean(mut self, mean: impl Into<f64>) -> Self {
        self.mean = mean.into();
        self
    }

    /// Sets the standard deviation.
    ///
    /// ```
    /// assert_eq!(nninit::TruncatedNormal::default().std(0.1).std, 0.1);
    /// ```
    pub fn std(mut self, std: impl Into<f64>) -> Self {
        self.std = std.into();
        self
    }

    /// Sets the window `[a, b]`.
    ///
    /// ```
    /// let t = nninit::TruncatedNormal::default().bounds(-1.0, 1.0);
    /// assert_eq!((t.a, t.b), (-1.0, 1.0));
    /// ```
    pub fn bounds(mut self, a: impl Into<f64>, b: impl Into<f64>) -> Self {
        self.a = a.into();
        self.b = b.into();
        self
    }
}

impl Default for TruncatedNormal {
    /// N(0, 1) truncated to `[-2, 2]`, PyTorch's default.
    fn default() -> Self {
        TruncatedNormal::new(0.0, 1.0, -2.0, 2.0)
    }
}

impl Zeros {
    fn sampler(&self, _fans: Fans) -> Result<Sampler> {
        Sampler::constant(0.0)
    }
}

impl Ones {
    fn sampler(&self, _fans: Fans) -> Result<Sampler> {
        Sampler::constant(1.0)
    }
}

impl Constant {
    fn sampler(&self, _fans: Fans) -> Result<Sampler> {
        Sampler::constant(self.value)
    }
}

impl Uniform {
    fn sampler(&self, _fans: Fans) -> Result<Sampler> {
        Sampler::uniform(self.low, self.high)
    }
}

impl Normal {
    fn sampler(&self, _fans: Fans) -> Result<Sampler> {
        Sampler::normal(self.mean, self.std)
    }
}

impl TruncatedNormal {
    fn sampler(&self, _fans: Fans) -> Result<Sampler> {
        Sampler::truncated_normal(self.mean, self.std, self.a, self.b)
    }
}

super::elementwise_initializer!(Zeros, "Zeros", Constant);
super::elementwise_initializer!(Ones, "Ones", Constant);
super::elementwise_initializer!(Constant, "Constant", Constant);
super::elementwise_initializer!(Uniform, "Uniform", FixedScale);
super::elementwise_initializer!(Normal, "Normal", FixedScale);
super::elementwise_initializer!(TruncatedNormal, "TruncatedNormal", FixedScale);
