//! Delta-orthogonal initialization: Xiao, Bahri, Sohl-Dickstein, Schoenholz and Pennington,
//! "Dynamical Isometry and a Mean Field Theory of CNNs: How to Train 10,000-Layer Vanilla
//! Convolutional Neural Networks" (ICML 2018), as JAX's `jax.nn.initializers.delta_orthogonal`.
//!
//! A convolution whose kernel is zero except at the spatial centre, where it holds an
//! orthogonal channel matrix, is an orthogonal map of the signal at initialization: deep
//! vanilla CNNs then keep their signal (dynamical isometry) as deep linear networks do with
//! [`Orthogonal`](super::Orthogonal).
//!
//! Layout: nninit uses PyTorch's `[out, in, k1, (k2, (k3))]`; JAX's kernels are
//! `[k1, .., in, out]`. Element `W[o, i, centre]` here is JAX's `W[centre, i, o]`; the centre
//! of a spatial axis of size `k` is `(k − 1) / 2` (rounded down), as in JAX.

use rand::Rng;

use super::element::Element;
use super::orthogonal::Orthogonal;
use super::{Initializer, InitializerFamily};
use crate::error::{Error, Result};
use crate::fans::{Fans, Layout};

/// JAX's `delta_orthogonal(scale)` for a convolution kernel `[out, in, kernel_size...]`:
/// zero everywhere except the spatial centre, which holds `gain · Q` with `Q` an `out x in`
/// matrix with orthonormal columns (PyTorch's / JAX's orthogonal initializer).
///
/// Refused as JAX refuses them: kernels with other than 1, 2 or 3 spatial dimensions (JAX:
/// "requires a 3D, 4D or 5D shape") and `in > out` (JAX: "`fan_in` must be less or equal than
/// `fan_out`"). The fans must be the kernel's: `fan_in = in · k`, `fan_out = out · k` with `k`
/// the product of `kernel_size`.
///
/// Not shardable: the centre matrix comes from one QR decomposition.
///
/// ```
/// use nninit::{DeltaOrthogonal, Fans, Initializer};
/// let shape = [4, 3, 3, 3]; // out 4, in 3, 3 x 3 kernel
/// let mut w = vec![0.0f64; 4 * 3 * 9];
/// DeltaOrthogonal::new(&[3, 3]).fill_seeded(&mut w, Fans::from_shape(&shape)?, 1)?;
/// // Only the centre tap (1, 1), at flat offset 4 of each 3 x 3 kernel, is nonzero.
/// assert!(w.iter().enumerate().all(|(j, &x)| j % 9 == 4 || x == 0.0));
/// // Its channel matrix has orthonormal columns.
/// let column_norm: f64 = (0..4).map(|o| w[(o * 3) * 9 + 4].powi(2)).sum();
/// assert!((column_norm - 1.0).abs() < 1e-12);
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct DeltaOrthogonal {
    /// Scales the orthogonal matrix (JAX's `scale`, default 1).
    pub gain: f64,
    /// The spatial sizes `[k1, (k2, (k3))]` of the kernel.
    pub kernel_size: Vec<usize>,
}

impl DeltaOrthogonal {
    /// For a kernel with spatial sizes `kernel_size` (1 to 3 of them), gain 1.
    ///
    /// ```
    /// assert_eq!(nninit::DeltaOrthogonal::new(&[3, 3]).gain, 1.0);
    /// ```
    pub fn new(kernel_size: &[usize]) -> DeltaOrthogonal {
        DeltaOrthogonal {
            gain: 1.0,
            kernel_size: kernel_size.to_vec(),
        }
    }

    /// Sets the gain (JAX's `scale`).
    ///
    /// ```
    /// assert_eq!(nninit::DeltaOrthogonal::new(&[3]).gain(2.0).gain, 2.0);
    /// ```
    pub fn gain(mut self, gain: impl Into<f64>) -> Self {
        self.gain = gain.into();
        self
    }

    /// Checks the kernel against the fans and the length; returns `(out, in, taps, centre)`,
    /// `taps` the receptive field and `centre` the flat index of the centre tap.
    fn layout(&self, len: usize, fans: Fans) -> Result<(usize, usize, usize, usize)> {
        let fans = fans.validate()?;
        let spatial = self.kernel_size.len();
        if !(1..=3).contains(&spatial) {
            return Err(Error::invalid(
                "kernel_size",
                "1 to 3 spatial sizes (a 3-d, 4-d or 5-d kernel, as jax's delta_orthogonal)",
                format!("{:?}", self.kernel_size),
            ));
        }
        if self.kernel_size.contains(&0) {
            return Err(Error::invalid(
                "kernel_size",
                "sizes > 0",
                format!("{:?}", self.kernel_size),
            ));
        }
        let taps: usize = self.kernel_size.iter().product();
        let mismatch = || Error::LengthMismatch {
            what: "weights".into(),
            expected: format!(
                "out * in * {taps} with fan_in = in * {taps} ({}) and fan_out = out * {taps} ({})",
                fans.fan_in, fans.fan_out
            ),
            found: len,
        };
        if fans.fan_in % taps != 0 || fans.fan_out % taps != 0 {
            return Err(mismatch());
        }
        let (inputs, outputs) = (fans.fan_in / taps, fans.fan_out / taps);
        if outputs.checked_mul(fans.fan_in) != Some(len) {
            return Err(mismatch());
        }
        if inputs > outputs {
            return Err(Error::invalid(
                "in_channels",
                format!("<= out_channels ({outputs}), as jax's delta_orthogonal requires"),
                inputs,
            ));
        }
        // Row-major flat index of ((k1 - 1) / 2, (k2 - 1) / 2, ...).
        let centre = self
            .kernel_size
            .iter()
            .fold(0, |index, &k| index * k + (k - 1) / 2);
        Ok((outputs, inputs, taps, centre))
    }

    /// Writes zeros and `centre_matrix` (`out x in`, row-major) at the centre taps.
    fn scatter<T: Element>(weights: &mut [T], centre_matrix: &[T], taps: usize, centre: usize) {
        weights.fill(T::zero());
        // Element (o, i) of the centre matrix is kernel (o, i, centre): flat (o·in + i)·taps + centre.
        for (flat, &value) in centre_matrix.iter().enumerate() {
            weights[flat * taps + centre] = value;
        }
    }

    /// Runs `fill` of an [`Orthogonal`] on the `out x in` centre matrix and scatters it.
    fn fill_with<T: Element>(
        &self,
        weights: &mut [T],
        fans: Fans,
        orthogonal_fill: impl FnOnce(&Orthogonal, &mut [T], Fans) -> Result<()>,
    ) -> Result<()> {
        if weights.is_empty() {
            return Ok(());
        }
        let (outputs, inputs, taps, centre) = self.layout(weights.len(), fans)?;
        let mut centre_matrix = vec![T::zero(); outputs * inputs];
        let orthogonal = Orthogonal::new().gain(self.gain);
        orthogonal_fill(&orthogonal, &mut centre_matrix, Fans::new(inputs, outputs))?;
        Self::scatter(weights, &centre_matrix, taps, centre);
        Ok(())
    }
}

impl<T: Element> Initializer<T> for DeltaOrthogonal {
    fn fill(&self, weights: &mut [T], fans: Fans, rng: &mut dyn Rng) -> Result<()> {
        self.fill_with(weights, fans, |o, w, f| o.fill(w, f, rng))
    }

    fn fill_seeded(&self, weights: &mut [T], fans: Fans, seed: u64) -> Result<()> {
        self.fill_with(weights, fans, |o, w, f| o.fill_seeded(w, f, seed))
    }

    /// As the provided method (JAX's own `[k..., in, out]` with [`Layout::InOut`]), after
    /// checking that the shape's spatial sizes are this kernel's.
    fn fill_shape(
        &self,
        weights: &mut [T],
        shape: &[usize],
        layout: Layout,
        seed: u64,
    ) -> Result<()> {
        let spatial = match layout {
            Layout::OutIn => shape.get(2..),
            Layout::InOut => shape.get(..shape.len().saturating_sub(2)),
        };
        if spatial != Some(self.kernel_size.as_slice()) {
            return Err(Error::invalid(
                "shape",
                format!(
                    "spatial sizes {:?}, the kernel_size of this DeltaOrthogonal",
                    self.kernel_size
                ),
                format!("{shape:?}"),
            ));
        }
        super::shaped::fill_shape(self, weights, shape, layout, seed)
    }

    fn fill_shard(&self, _shard: &mut [T], _fans: Fans, _seed: u64, _offset: usize) -> Result<()> {
        // The centre matrix comes from one QR decomposition of the whole Gaussian matrix.
        Err(Error::NotShardable {
            initializer: "DeltaOrthogonal",
        })
    }

    fn name(&self) -> &'static str {
        "DeltaOrthogonal"
    }

    fn family(&self) -> InitializerFamily {
        InitializerFamily::Orthogonal
    }
}
