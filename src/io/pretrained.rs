//! `Pretrained`: the initializer that copies weights trained elsewhere.

use std::path::Path;

use rand::Rng;

use super::tensor::Tensor;
use super::{load_npy, load_npz, safetensors::load_safetensors_tensor};
use crate::error::{Error, Result};
use crate::fans::Fans;
use crate::init::Initializer;

/// An [`Initializer<f32>`] that fills a slice with a loaded tensor, after checking that it fits.
///
/// The checks, in order: a 2-D tensor of shape `[out, in]` (PyTorch's `nn.Linear` layout)
/// must agree with the fans (`fan_out = out`, `fan_in = in`), and a tensor of 3 or more
/// dimensions with the fans [`Fans::from_shape`] computes for it ([`Error::ShapeMismatch`],
/// e.g. "tensor '0.weight' has shape [8, 4], layer expects [8, 5]"); then the slice must have
/// as many elements as the tensor ([`Error::LengthMismatch`]). 0-D and 1-D tensors (biases)
/// are checked by length only. Last, every value copied must be finite: a NaN or infinity is
/// [`Error::NonFinite`] naming the element, as
/// [`Network::load_state_dict`](crate::Network::load_state_dict) refuses it, and nothing is
/// written. The generator and the seed are ignored: the result is the tensor, bit for bit.
///
/// ```
/// use nninit::Fans;
/// use nninit::init::Initializer;
/// use nninit::io::{Pretrained, Tensor};
/// let init = Pretrained::new(Tensor::new(vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])?);
/// let mut weights = [0.0f32; 6];
/// init.fill_seeded(&mut weights, Fans::new(3, 2), 0)?;
/// assert_eq!(weights, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// // A layer 2 -> 3 has the right number of weights but the transposed shape.
/// assert!(init.fill_seeded(&mut weights, Fans::new(2, 3), 0).is_err());
/// assert_eq!(init.name(), "Pretrained");
/// # Ok::<(), nninit::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Pretrained {
    tensor: Tensor,
    /// Names the tensor in error messages (its key, or its file).
    label: String,
}

impl Pretrained {
    /// Wraps a tensor already in memory. Its consistency (data length against shape) is
    /// checked when it fills, with the other checks.
    ///
    /// ```
    /// use nninit::io::{Pretrained, Tensor};
    /// let init = Pretrained::new(Tensor::new(vec![3], vec![0.1, 0.2, 0.3])?);
    /// assert_eq!(init.tensor().shape, [3]);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn new(tensor: Tensor) -> Pretrained {
        Pretrained {
            tensor,
            label: "pretrained tensor".to_string(),
        }
    }

    /// The tensor `key` of a safetensors file.
    ///
    /// ```no_run
    /// let init = nninit::io::Pretrained::from_safetensors("model.safetensors", "0.weight")?;
    /// assert_eq!(init.tensor().shape.len(), 2);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn from_safetensors(path: impl AsRef<Path>, key: &str) -> Result<Pretrained> {
        let tensor = load_safetensors_tensor(path.as_ref(), key)?;
        Ok(Pretrained::labelled(tensor, format!("tensor '{key}'")))
    }

    /// The array of a `.npy` file.
    ///
    /// ```no_run
    /// let init = nninit::io::Pretrained::from_npy("weight.npy")?;
    /// assert!(!init.tensor().is_empty());
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn from_npy(path: impl AsRef<Path>) -> Result<Pretrained> {
        let path = path.as_ref();
        let tensor = load_npy(path)?;
        Ok(Pretrained::labelled(
            tensor,
            format!("array '{}'", path.display()),
        ))
    }

    /// The array `key` (entry name without `.npy`) of an `.npz` archive.
    ///
    /// ```no_run
    /// let init = nninit::io::Pretrained::from_npz("weights.npz", "fc1_weight")?;
    /// assert_eq!(init.tensor().shape.len(), 2);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn from_npz(path: impl AsRef<Path>, key: &str) -> Result<Pretrained> {
        let path = path.as_ref();
        let mut arrays = load_npz(path)?;
        match arrays.remove(key) {
            Some(tensor) => Ok(Pretrained::labelled(tensor, format!("tensor '{key}'"))),
            None => Err(Error::invalid(
                "key",
                format!(
                    "one of the arrays in '{}' ({})",
                    path.display(),
                    arrays.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
                format!("'{key}'"),
            )),
        }
    }

    /// The tensor this initializer copies.
    ///
    /// ```
    /// use nninit::io::{Pretrained, Tensor};
    /// let init = Pretrained::new(Tensor::new(vec![1], vec![4.0])?);
    /// assert_eq!(init.tensor().data, [4.0]);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn tensor(&self) -> &Tensor {
        &self.tensor
    }

    fn labelled(tensor: Tensor, label: String) -> Pretrained {
        Pretrained { tensor, label }
    }

    /// Checks the tensor against the fans (see the type's documentation).
    fn check_fans(&self, fans: Fans) -> Result<()> {
        self.tensor.check(&self.label)?;
        let shape = &self.tensor.shape;
        let expected = vec![fans.fan_out, fans.fan_in];
        let (fits, expected_by) = match shape.len() {
            0 | 1 => return Ok(()),
            // The contract's wording: "tensor '0.weight' has shape [8, 4], layer expects [8, 5]".
            2 => (*shape == expected, "layer".to_string()),
            // No shape of this rank is implied by fans alone: name the fans, show them as
            // [out, in].
            _ => (
                Fans::from_shape(shape).ok() == Some(fans),
                format!(
                    "a layer with fan_in {} and fan_out {}",
                    fans.fan_in, fans.fan_out
                ),
            ),
        };
        if fits {
            return Ok(());
        }
        Err(Error::ShapeMismatch {
            what: self.label.clone(),
            expected_by,
            expected,
            found: shape.clone(),
        })
    }

    /// The elements `offset .. offset + len`, after every check.
    fn range(&self, fans: Fans, offset: usize, len: usize) -> Result<&[f32]> {
        self.check_fans(fans)?;
        let total = self.tensor.data.len();
        let values = offset
            .checked_add(len)
            .filter(|&end| end <= total)
            .map(|end| &self.tensor.data[offset..end])
            .ok_or_else(|| Error::LengthMismatch {
                what: format!("shard at offset {offset} of {}", self.label),
                expected: format!("at most {}", total.saturating_sub(offset)),
                found: len,
            })?;
        match values.iter().position(|v| !v.is_finite()) {
            // Worded as load_state_dict words it: "tensor '0.weight' element 3".
            Some(index) => Err(Error::NonFinite {
                what: format!("{} element {}", self.label, offset + index),
                value: f64::from(values[index]),
            }),
            None => Ok(values),
        }
    }

    /// Copies the whole tensor into `weights`, whose length must match.
    fn copy_all(&self, weights: &mut [f32], fans: Fans) -> Result<()> {
        // The shape first: a layer of the wrong size is a shape error, as the user sees it.
        self.check_fans(fans)?;
        if weights.len() != self.tensor.data.len() {
            return Err(Error::LengthMismatch {
                what: format!("weights filled from {}", self.label),
                expected: self.tensor.data.len().to_string(),
                found: weights.len(),
            });
        }
        weights.copy_from_slice(self.range(fans, 0, weights.len())?);
        Ok(())
    }
}

impl Initializer<f32> for Pretrained {
    fn fill(&self, weights: &mut [f32], fans: Fans, _rng: &mut dyn Rng) -> Result<()> {
        self.copy_all(weights, fans)
    }

    fn fill_seeded(&self, weights: &mut [f32], fans: Fans, _seed: u64) -> Result<()> {
        self.copy_all(weights, fans)
    }

    fn fill_shard(&self, shard: &mut [f32], fans: Fans, _seed: u64, offset: usize) -> Result<()> {
        shard.copy_from_slice(self.range(fans, offset, shard.len())?);
        Ok(())
    }

    fn name(&self) -> &'static str {
        "Pretrained"
    }

    fn family(&self) -> crate::init::InitializerFamily {
        crate::init::InitializerFamily::Pretrained
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn init_2x3() -> Pretrained {
        Pretrained::new(Tensor::new(vec![2, 3], (0..6).map(|v| v as f32).collect()).unwrap())
    }

    #[test]
    fn fill_copies_bit_for_bit() {
        let init = Pretrained::new(Tensor::new(vec![1, 3], vec![f32::MAX, -0.0, 1e-45]).unwrap());
        let mut weights = [1.0f32; 3];
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(1);
        init.fill(&mut weights, Fans::new(3, 1), &mut rng).unwrap();
        let bits: Vec<u32> = weights.iter().map(|w| w.to_bits()).collect();
        assert_eq!(bits, [f32::MAX.to_bits(), 0x8000_0000, 1]);
    }

    #[test]
    fn non_finite_values_are_refused_and_nothing_is_written() {
        let init =
            Pretrained::new(Tensor::new(vec![1, 3], vec![0.5, f32::NEG_INFINITY, 1.0]).unwrap());
        let mut weights = [7.0f32; 3];
        let err = init
            .fill_seeded(&mut weights, Fans::new(3, 1), 0)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "pretrained tensor element 1 is not finite (-inf)"
        );
        assert_eq!(weights, [7.0; 3]);
        let mut shard = [7.0f32; 2];
        assert!(init.fill_shard(&mut shard, Fans::new(3, 1), 0, 1).is_err());
        // A shard that avoids the bad element is fine.
        let mut first = [7.0f32; 1];
        init.fill_shard(&mut first, Fans::new(3, 1), 0, 0).unwrap();
        assert_eq!(first, [0.5]);
    }

    use rand::SeedableRng;

    #[test]
    fn shards_reassemble_the_tensor() {
        let init = init_2x3();
        let fans = Fans::new(3, 2);
        let mut whole = [0.0f32; 6];
        let (left, right) = whole.split_at_mut(4);
        init.fill_shard(left, fans, 0, 0).unwrap();
        init.fill_shard(right, fans, 0, 4).unwrap();
        assert_eq!(whole, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        let mut past_end = [0.0f32; 3];
        assert!(matches!(
            init.fill_shard(&mut past_end, fans, 0, 4),
            Err(Error::LengthMismatch { .. })
        ));
        assert!(init.fill_shard(&mut past_end, fans, 0, usize::MAX).is_err());
    }

    #[test]
    fn wrong_length_or_shape_is_refused() {
        let init = init_2x3();
        let mut short = [0.0f32; 5];
        let err = init
            .fill_seeded(&mut short, Fans::new(3, 2), 0)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "weights filled from pretrained tensor has length 5, expected 6"
        );
        let mut weights = [0.0f32; 6];
        let err = init
            .fill_seeded(&mut weights, Fans::new(2, 3), 0)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "pretrained tensor has shape [2, 3], layer expects [3, 2]"
        );
        // A layer of another size is a shape error too, whatever the slice's length.
        let mut larger = [0.0f32; 8];
        let err = init
            .fill_seeded(&mut larger, Fans::new(4, 2), 0)
            .unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "pretrained tensor has shape [2, 3], layer expects [2, 4]"
        );
    }

    #[test]
    fn conv_shapes_use_receptive_fields_and_biases_only_length() {
        let conv = Pretrained::new(Tensor::new(vec![4, 2, 3, 3], vec![0.5; 72]).unwrap());
        let mut weights = vec![0.0f32; 72];
        conv.fill_seeded(&mut weights, Fans::new(18, 36), 0)
            .unwrap();
        assert!(
            conv.fill_seeded(&mut weights, Fans::new(36, 18), 0)
                .is_err()
        );
        let bias = Pretrained::new(Tensor::new(vec![4], vec![0.1; 4]).unwrap());
        let mut b = [0.0f32; 4];
        bias.fill_seeded(&mut b, Fans::new(7, 4), 0).unwrap();
        assert_eq!(b, [0.1; 4]);
    }

    #[test]
    fn usable_as_a_boxed_initializer() {
        let boxed: Box<dyn Initializer<f32>> = Box::new(init_2x3());
        assert_eq!(boxed.name(), "Pretrained");
    }
}
