//! Filling a tensor from its shape: the fans come from the shape and its [`Layout`], and the
//! values are laid out as that layout stores them.

use num_traits::Float;

use super::{Initializer, InitializerFamily};
use crate::error::{Error, Result};
use crate::fans::{Fans, Layout};

/// [`Initializer::fill_shape`]: checks `weights` holds `shape`, derives the fans, and fills in
/// PyTorch's layout, transposing into `[k..., in, out]` where the values depend on position.
pub(crate) fn fill_shape<T: Float, I: Initializer<T> + ?Sized>(
    init: &I,
    weights: &mut [T],
    shape: &[usize],
    layout: Layout,
    seed: u64,
) -> Result<()> {
    let elements = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| {
            Error::invalid(
                "shape",
                "a product that fits in usize",
                format!("{shape:?}"),
            )
        })?;
    if elements != weights.len() {
        return Err(Error::LengthMismatch {
            what: "weights".into(),
            expected: format!("{elements} (the product of shape {shape:?})"),
            found: weights.len(),
        });
    }
    if weights.is_empty() {
        return Ok(());
    }
    let family = init.family();
    // A bias (one dimension) has no fans; the families that ignore them fill it all the same.
    let ignores_fans = matches!(
        family,
        InitializerFamily::Constant | InitializerFamily::FixedScale
    );
    let fans = if shape.len() < 2 && ignores_fans {
        Fans::new(1, 1)
    } else {
        Fans::from_layout(shape, layout)?
    };
    if layout == Layout::OutIn || family.is_elementwise() {
        return init.fill_seeded(weights, fans, seed);
    }
    let mut out_in = vec![T::zero(); weights.len()];
    init.fill_seeded(&mut out_in, fans, seed)?;
    transpose_into_in_out(&out_in, shape, weights);
    Ok(())
}

/// Writes `out_in` (`[out, in, k...]`, row-major) into `in_out` as `[k..., in, out]`, where
/// `shape` is the `InOut` shape `[k..., in, out]`.
fn transpose_into_in_out<T: Copy>(out_in: &[T], shape: &[usize], in_out: &mut [T]) {
    let rank = shape.len();
    let (inputs, outputs) = (shape[rank - 2], shape[rank - 1]);
    let kernel: usize = shape[..rank - 2].iter().product();
    for o in 0..outputs {
        for i in 0..inputs {
            for k in 0..kernel {
                in_out[(k * inputs + i) * outputs + o] = out_in[(o * inputs + i) * kernel + k];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::{Identity, Orthogonal, Uniform};

    #[test]
    fn in_out_is_the_transpose_of_out_in_for_structured_initializers() {
        // A conv kernel: PyTorch [out 3, in 2, 2, 2], Keras [2, 2, in 2, out 3].
        let mut out_in = vec![0.0f64; 24];
        Orthogonal::new()
            .fill_shape(&mut out_in, &[3, 2, 2, 2], Layout::OutIn, 9)
            .unwrap();
        let mut in_out = vec![0.0f64; 24];
        Orthogonal::new()
            .fill_shape(&mut in_out, &[2, 2, 2, 3], Layout::InOut, 9)
            .unwrap();
        for o in 0..3 {
            for i in 0..2 {
                for k in 0..4 {
                    assert_eq!(in_out[(k * 2 + i) * 3 + o], out_in[(o * 2 + i) * 4 + k]);
                }
            }
        }
        // The identity of a [in 3, out 3] kernel is the identity.
        let mut eye = vec![0.0f32; 9];
        Identity
            .fill_shape(&mut eye, &[3, 3], Layout::InOut, 0)
            .unwrap();
        assert_eq!(eye, [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn shapes_that_do_not_match_the_buffer_are_refused_untouched() {
        let mut w = vec![7.0f32; 10];
        let error = Uniform::new(-1.0, 1.0)
            .fill_shape(&mut w, &[784, 256], Layout::InOut, 1)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "weights has length 10, expected 200704 (the product of shape [784, 256])"
        );
        assert!(w.iter().all(|&x| x == 7.0));
        // Empty: a no-op, whatever the (zero-dimension) shape.
        let mut empty: Vec<f32> = Vec::new();
        assert!(
            Uniform::new(-1.0, 1.0)
                .fill_shape(&mut empty, &[0, 5], Layout::OutIn, 1)
                .is_ok()
        );
        // One dimension (a bias): no fans, which a uniform ignores and He needs.
        assert!(
            Uniform::new(-1.0, 1.0)
                .fill_shape(&mut w, &[10], Layout::OutIn, 1)
                .is_ok()
        );
        assert!(
            crate::init::HeNormal::default()
                .fill_shape(&mut w, &[10], Layout::OutIn, 1)
                .is_err()
        );
    }
}
