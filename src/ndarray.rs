//! ndarray arrays as weight buffers (feature `ndarray`).
//!
//! Every ndarray array of `f32` or `f64`, of any dimension, is a [`Weights`]: the free functions
//! (`nninit::xavier_uniform(&mut array, fan_in, fan_out)`, ...) fill it in place. An array that
//! is not contiguous in standard (row-major) order, such as a transposed or strided view, is an
//! error, never filled in storage order (which would put each value at the wrong index).
//!
//! [`fill`] and [`array`] take the fans from the array's shape, read in the [`Layout`] given
//! (PyTorch's `[out, in, k...]` or Keras' `[k..., in, out]`).
//!
//! ```
//! use ndarray::Array2;
//! // A dense layer 784 -> 256 in PyTorch's layout [out, in].
//! let mut weight = Array2::<f32>::zeros((256, 784));
//! nninit::xavier_uniform(&mut weight, 784, 256)?;
//! let bound = (6.0f32 / (784.0 + 256.0)).sqrt();
//! assert!(weight.iter().all(|w| w.abs() <= bound));
//! // A transposed view is not row-major: refused, left untouched.
//! assert!(nninit::xavier_uniform(&mut weight.view_mut().reversed_axes(), 256, 784).is_err());
//! # Ok::<(), nninit::Error>(())
//! ```

use ::ndarray::{Array, ArrayBase, ArrayRef, DataMut, Dimension, ShapeBuilder};

use crate::error::{Error, Result};
use crate::fans::Layout;
use crate::init::{Element, Initializer, Weights};

/// The row-major slice of an array, or an error naming its shape and strides.
fn standard_slice<'a, T>(
    shape: &[usize],
    strides: &[isize],
    slice: Option<&'a mut [T]>,
) -> Result<&'a mut [T]> {
    slice.ok_or_else(|| {
        Error::invalid(
            "array",
            "contiguous in standard (row-major) order",
            format!("shape {shape:?} with strides {strides:?}"),
        )
    })
}

impl<T, S, D> Weights for ArrayBase<S, D>
where
    T: Element,
    S: DataMut<Elem = T>,
    D: Dimension,
{
    type Element = T;

    /// The elements in row-major order; an error unless the array is in standard layout.
    fn weights_mut(&mut self) -> Result<&mut [T]> {
        let (shape, strides) = (self.shape().to_vec(), self.strides().to_vec());
        standard_slice(&shape, &strides, self.as_slice_mut())
    }
}

impl<T: Element, D: Dimension> Weights for ArrayRef<T, D> {
    type Element = T;

    /// The elements in row-major order; an error unless the array is in standard layout.
    fn weights_mut(&mut self) -> Result<&mut [T]> {
        let (shape, strides) = (self.shape().to_vec(), self.strides().to_vec());
        standard_slice(&shape, &strides, self.as_slice_mut())
    }
}

/// Fills `array` with `initializer`, the fans read from the array's shape in `layout`:
/// [`Initializer::fill_shape`] on the row-major elements (for [`Layout::OutIn`], exactly
/// `fill_seeded` with [`Fans::from_shape`](crate::Fans::from_shape)'s fans).
///
/// An array of one dimension (a bias) takes only the initializers that ignore the fans
/// (constants, fixed-scale distributions); an array not in standard layout is an error.
///
/// ```
/// use ndarray::{Array2, Array4};
/// use nninit::{Fans, HeNormal, Initializer, Layout};
/// // A PyTorch-style 3x3 convolution from 16 to 32 channels: fan_in = 16 * 9.
/// let mut kernel = Array4::<f32>::zeros((32, 16, 3, 3));
/// nninit::ndarray::fill(&mut kernel, &HeNormal::default(), Layout::OutIn, 7)?;
/// // Exactly what the same initializer writes into a Vec with the same fans and seed.
/// let mut flat = vec![0.0f32; 32 * 16 * 9];
/// HeNormal::default().fill_seeded(&mut flat, Fans::new(16 * 9, 32 * 9), 7)?;
/// assert_eq!(kernel.as_slice(), Some(flat.as_slice()));
/// // A Keras-style dense kernel [in, out] = [784, 256]: fan_in is 784.
/// let mut dense = Array2::<f32>::zeros((784, 256));
/// nninit::ndarray::fill(&mut dense, &HeNormal::default(), Layout::InOut, 7)?;
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn fill<T, S, D, I>(
    array: &mut ArrayBase<S, D>,
    initializer: &I,
    layout: Layout,
    seed: u64,
) -> Result<()>
where
    T: Element,
    S: DataMut<Elem = T>,
    D: Dimension,
    I: Initializer<T> + ?Sized,
{
    let shape = array.shape().to_vec();
    initializer.fill_shape(array.weights_mut()?, &shape, layout, seed)
}

/// A new array of `shape` (standard layout) filled by [`fill`] with `layout` and `seed`.
///
/// ```
/// use nninit::{GlorotUniform, Layout};
/// let weight: ndarray::Array2<f64> =
///     nninit::ndarray::array((256, 784), &GlorotUniform::default(), Layout::OutIn, 1)?;
/// assert_eq!(weight.shape(), &[256, 784]);
/// let bound = (6.0f64 / (784.0 + 256.0)).sqrt();
/// assert!(weight.iter().all(|w| w.abs() <= bound));
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn array<T, D, Sh, I>(
    shape: Sh,
    initializer: &I,
    layout: Layout,
    seed: u64,
) -> Result<Array<T, D>>
where
    T: Element,
    D: Dimension,
    Sh: ShapeBuilder<Dim = D>,
    I: Initializer<T> + ?Sized,
{
    // `zeros` allocates in standard layout unless the shape asks for Fortran order; the fill
    // refuses the latter rather than writing it in storage order.
    let mut array = Array::<T, D>::zeros(shape);
    fill(&mut array, initializer, layout, seed)?;
    Ok(array)
}

#[cfg(test)]
mod tests {
    use ::ndarray::{Array1, Array2, Array3, ArrayD, IxDyn, ShapeBuilder, s};

    use super::*;
    use crate::{GlorotUniform, HeNormal, Orthogonal};

    #[test]
    fn free_functions_fill_arrays_like_vecs() {
        let mut array = Array2::<f32>::zeros((8, 5));
        let mut flat = vec![0.0f32; 40];
        crate::manual_seed(3);
        crate::xavier_uniform(&mut array, 5, 8).unwrap();
        crate::manual_seed(3);
        crate::xavier_uniform(&mut flat, 5, 8).unwrap();
        assert_eq!(array.as_slice().unwrap(), flat.as_slice());
    }

    #[test]
    fn every_dimension_and_both_element_types() {
        let mut one = Array1::<f64>::zeros(4);
        crate::constant(&mut one, 0.5).unwrap();
        assert!(one.iter().all(|&x| x == 0.5));
        let mut three = Array3::<f32>::zeros((4, 3, 2));
        crate::kaiming_normal(&mut three, 6, 8).unwrap();
        assert!(three.iter().all(|x| x.is_finite()) && three.iter().any(|&x| x != 0.0));
        let mut dynamic = ArrayD::<f64>::zeros(IxDyn(&[2, 3, 2, 2]));
        fill(&mut dynamic, &GlorotUniform::default(), Layout::OutIn, 1).unwrap();
        assert!(dynamic.iter().any(|&x| x != 0.0));
    }

    #[test]
    fn non_standard_layouts_are_refused_and_untouched() {
        let mut weight = Array2::<f32>::zeros((4, 6));
        let error =
            crate::xavier_uniform(&mut weight.view_mut().reversed_axes(), 4, 6).unwrap_err();
        assert_eq!(
            error.to_string(),
            "array must be contiguous in standard (row-major) order, got shape [6, 4] with \
             strides [1, 6]"
        );
        // A strided slice of rows.
        assert!(crate::ones(&mut weight.slice_mut(s![..;2, ..])).is_err());
        // Fortran order, owned.
        let mut fortran = Array2::<f64>::zeros((3, 4).f());
        assert!(fill(&mut fortran, &HeNormal::default(), Layout::OutIn, 1).is_err());
        assert!(array::<f64, _, _, _>((3, 4).f(), &HeNormal::default(), Layout::OutIn, 1).is_err());
        assert!(weight.iter().all(|&x| x == 0.0));
        assert!(fortran.iter().all(|&x| x == 0.0));
    }

    #[test]
    fn contiguous_views_are_filled() {
        // A block of whole rows is still contiguous and row-major.
        let mut weight = Array2::<f32>::zeros((6, 4));
        crate::ones(&mut weight.slice_mut(s![2..4, ..])).unwrap();
        assert_eq!(weight.sum(), 8.0);
        assert_eq!(weight.row(2).sum(), 4.0);
        assert_eq!(weight.row(0).sum(), 0.0);
        // Through the borrowed-array type as well.
        let view: &mut ArrayRef<f32, _> = &mut weight;
        crate::zeros(view).unwrap();
        assert_eq!(weight.sum(), 0.0);
    }

    #[test]
    fn shape_driven_fans_are_pytorch_layout() {
        // Orthogonal on [out, in] = [3, 5]: the rows are orthonormal, which holds only if the
        // fill read the shape as 3 rows of 5.
        let weight: Array2<f64> = array((3, 5), &Orthogonal::new(), Layout::OutIn, 2).unwrap();
        let gram = weight.dot(&weight.t());
        for i in 0..3 {
            for j in 0..3 {
                let expected = if i == j { 1.0 } else { 0.0 };
                assert!((gram[[i, j]] - expected).abs() < 1e-12, "{gram}");
            }
        }
        // In Keras' layout [in, out] = [5, 3], the columns are orthonormal.
        let weight: Array2<f64> = array((5, 3), &Orthogonal::new(), Layout::InOut, 2).unwrap();
        let gram = weight.t().dot(&weight);
        for i in 0..3 {
            for j in 0..3 {
                let expected = if i == j { 1.0 } else { 0.0 };
                assert!((gram[[i, j]] - expected).abs() < 1e-12, "{gram}");
            }
        }
        // A bias has no fans: He refuses it, a constant fills it.
        assert!(array::<f32, _, _, _>(4, &HeNormal::default(), Layout::OutIn, 1).is_err());
        let bias: Array1<f32> = array(4, &crate::Constant::new(0.5), Layout::OutIn, 1).unwrap();
        assert!(bias.iter().all(|&b| b == 0.5));
    }
}
