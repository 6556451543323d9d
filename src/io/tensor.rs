//! `Tensor`: a row-major `f32` array with its shape, the unit every reader and writer exchanges.

use std::fmt;

use crate::error::{Error, Result};
use crate::fans::Layout;
use crate::init::Initializer;

/// A row-major `f32` tensor: `data[i0 * s0 + i1 * s1 + ...]` with `s_last = 1`, as PyTorch and
/// NumPy (C order) store it.
///
/// The fields are public; [`Tensor::new`] checks that `data.len()` is the product of `shape`,
/// and every writer checks it again. A scalar has shape `[]` and one element.
///
/// ```
/// use nninit::io::Tensor;
/// let t = Tensor::new(vec![2, 3], vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0])?;
/// assert_eq!(t.len(), 6);
/// assert_eq!(format!("{t:?}"), "Tensor { shape: [2, 3], len: 6 }");
/// assert!(Tensor::new(vec![2, 3], vec![0.0; 5]).is_err());
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Default, PartialEq)]
pub struct Tensor {
    /// The dimensions, outermost first (PyTorch's `tensor.shape`).
    pub shape: Vec<usize>,
    /// The elements in row-major order.
    pub data: Vec<f32>,
}

impl Tensor {
    /// A tensor of `shape` holding `data`; `data.len()` must be the product of `shape`.
    ///
    /// ```
    /// let scalar = nninit::io::Tensor::new(vec![], vec![7.0])?;
    /// assert_eq!(scalar.data, [7.0]);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Result<Tensor> {
        let tensor = Tensor { shape, data };
        tensor.check("tensor")?;
        Ok(tensor)
    }

    /// Fills the tensor with `init` from the seeded stream, the fans derived from its shape as
    /// stored in `layout` ([`Initializer::fill_shape`]): `Layout::OutIn` for a PyTorch or
    /// candle checkpoint, `Layout::InOut` for Keras / Flax / burn.
    ///
    /// ```
    /// use nninit::io::Tensor;
    /// use nninit::{GlorotUniform, Layout};
    /// // A PyTorch conv kernel [out 16, in 3, 5, 5]: fan_in 75, fan_out 400.
    /// let mut kernel = Tensor::new(vec![16, 3, 5, 5], vec![0.0; 1200])?;
    /// kernel.initialize(&GlorotUniform::new(), Layout::OutIn, 1)?;
    /// let bound = (6.0f32 / (75.0 + 400.0)).sqrt();
    /// assert!(kernel.data.iter().all(|w| w.abs() <= bound));
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn initialize<I: Initializer<f32> + ?Sized>(
        &mut self,
        init: &I,
        layout: Layout,
        seed: u64,
    ) -> Result<()> {
        init.fill_shape(&mut self.data, &self.shape, layout, seed)
    }

    /// The number of elements.
    ///
    /// ```
    /// assert_eq!(nninit::io::Tensor::new(vec![4], vec![0.0; 4])?.len(), 4);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the tensor has no elements (some dimension is 0).
    ///
    /// ```
    /// assert!(nninit::io::Tensor::new(vec![0, 3], vec![])?.is_empty());
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Checks that `data.len()` is the product of `shape`; `what` names the tensor in the error.
    pub(crate) fn check(&self, what: &str) -> Result<()> {
        let expected = element_count(&self.shape).ok_or_else(|| {
            Error::invalid(
                "shape",
                "a product that fits in usize",
                format!("{:?} for {what}", self.shape),
            )
        })?;
        if expected == self.data.len() {
            Ok(())
        } else {
            Err(Error::LengthMismatch {
                what: format!("data of {what} with shape {:?}", self.shape),
                expected: expected.to_string(),
                found: self.data.len(),
            })
        }
    }
}

/// Shows the shape, not the data (a tensor may hold millions of numbers).
impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tensor")
            .field("shape", &self.shape)
            .field("len", &self.data.len())
            .finish()
    }
}

/// The product of `shape`, or `None` if it overflows `usize`.
pub(crate) fn element_count(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_count_is_checked() {
        assert_eq!(element_count(&[]), Some(1));
        assert_eq!(element_count(&[3, 0, 5]), Some(0));
        assert_eq!(element_count(&[usize::MAX, 2]), None);
    }

    #[test]
    fn inconsistent_tensor_is_reported() {
        let bad = Tensor {
            shape: vec![2, 2],
            data: vec![1.0; 3],
        };
        assert_eq!(
            bad.check("tensor 'w'").unwrap_err().to_string(),
            "data of tensor 'w' with shape [2, 2] has length 3, expected 4"
        );
        let overflow = Tensor {
            shape: vec![usize::MAX, 3],
            data: vec![],
        };
        assert!(matches!(
            overflow.check("t"),
            Err(Error::InvalidArgument { name: "shape", .. })
        ));
    }
}
