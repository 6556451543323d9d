//! Saving and loading a [`Network`]'s weights in PyTorch's state-dict layout: keys
//! `"{i}.weight"` (`[out, in]`, as `nn.Linear`) and `"{i}.bias"` (`[out]`), `i` the dense-layer
//! index.
//!
//! Loading is all-or-nothing: the file is read and matched against the network first (strict by
//! default, like `load_state_dict`), and only then are the weights overwritten, so a failed load
//! leaves the network as it was.

use std::collections::BTreeMap;
use std::path::Path;

use super::npz::{DtypePolicy, SkippedDtypes, read_npz};
use super::safetensors::{read_safetensors, save_safetensors_with_metadata};
use super::state_dict::{LoadOptions, LoadReport, match_state_dict};
use super::tensor::Tensor;
use crate::error::{Error, Result};
use crate::nn::Network;

impl Network {
    /// The weights and biases as a state dict (`"{i}.weight"`, `"{i}.bias"`), copied.
    ///
    /// ```
    /// let net = nninit::Network::builder(3).dense(2, nninit::Tanh).build()?;
    /// let state = net.state_dict();
    /// assert_eq!(state["0.weight"].shape, vec![2, 3]);
    /// assert_eq!(state["0.bias"].data, vec![0.0, 0.0]);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn state_dict(&self) -> BTreeMap<String, Tensor> {
        let shapes: BTreeMap<String, Vec<usize>> = self.state_dict_shapes().into_iter().collect();
        self.parameters()
            .map(|(name, values)| {
                let shape = shapes
                    .get(&name)
                    .cloned()
                    .unwrap_or_else(|| vec![values.len()]);
                let tensor = Tensor {
                    shape,
                    data: values.to_vec(),
                };
                (name, tensor)
            })
            .collect()
    }

    /// Overwrites the weights from a state dict, matched with `options` (key maps, strictness).
    ///
    /// Every tensor is checked (shape, finite values) before anything is written.
    ///
    /// ```
    /// use nninit::io::LoadOptions;
    /// let source = nninit::Network::builder(2).dense(3, nninit::Tanh).seed(1).build()?;
    /// let mut target = nninit::Network::builder(2).dense(3, nninit::Tanh).seed(2).build()?;
    /// let report = target.load_state_dict(source.state_dict(), &LoadOptions::default())?;
    /// assert!(report.is_complete());
    /// assert_eq!(target.layers()[0].weight(), source.layers()[0].weight());
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn load_state_dict(
        &mut self,
        tensors: BTreeMap<String, Tensor>,
        options: &LoadOptions,
    ) -> Result<LoadReport> {
        let shapes = self.state_dict_shapes();
        let (matched, report) = match_state_dict(&shapes, tensors, options)?;
        for (name, shape) in &shapes {
            let Some(tensor) = matched.get(name) else {
                continue;
            };
            let expected = shape.iter().product::<usize>();
            if tensor.data.len() != expected {
                return Err(Error::LengthMismatch {
                    what: format!("tensor '{name}' data"),
                    expected: expected.to_string(),
                    found: tensor.data.len(),
                });
            }
            if let Some(index) = tensor.data.iter().position(|x| !x.is_finite()) {
                return Err(Error::NonFinite {
                    what: format!("tensor '{name}' element {index}"),
                    value: f64::from(tensor.data[index]),
                });
            }
        }
        // Everything is checked: only now is the network modified.
        for (name, values) in self.parameters_mut() {
            if let Some(tensor) = matched.get(&name) {
                values.copy_from_slice(&tensor.data);
            }
        }
        Ok(report)
    }

    /// Saves the weights as safetensors with keys `"{i}.weight"` / `"{i}.bias"` and metadata
    /// `{"format": "pt"}`, so `safetensors.torch.load_file` and `model.load_state_dict` read it
    /// directly. Atomic: a temporary file is written, synced and renamed over `path`.
    ///
    /// ```no_run
    /// let net = nninit::Network::builder(2).dense(4, nninit::Tanh).dense(1, nninit::Sigmoid).build()?;
    /// net.save_safetensors("mlp.safetensors")?;
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn save_safetensors(&self, path: impl AsRef<Path>) -> Result<()> {
        let metadata = BTreeMap::from([("format".to_string(), "pt".to_string())]);
        save_safetensors_with_metadata(path, &self.state_dict(), &metadata)
    }

    /// Loads weights saved by [`Network::save_safetensors`] or by PyTorch with the same keys;
    /// strict: missing, unexpected and misshapen tensors are all listed in one error.
    ///
    /// ```no_run
    /// let mut net = nninit::Network::builder(2).dense(4, nninit::Tanh).dense(1, nninit::Sigmoid).build()?;
    /// net.load_safetensors("mlp.safetensors")?;
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn load_safetensors(&mut self, path: impl AsRef<Path>) -> Result<LoadReport> {
        self.load_safetensors_with(path, &LoadOptions::default())
    }

    /// Loads safetensors weights with key maps or non-strict matching, e.g. a PyTorch
    /// `nn.Sequential` whose activations take indices.
    ///
    /// Tensors of a dtype that does not convert to `f32` (complex, sub-byte floats) are
    /// skipped and listed in [`LoadReport::skipped`] as `"name (unsupported dtype C64)"` when
    /// the load is non-strict or a key map skips them; a strict load that would need one fails
    /// with [`Error::UnsupportedDtype`]. The file is read within
    /// [`LoadOptions::read_limits`].
    ///
    /// ```no_run
    /// use nninit::io::LoadOptions;
    /// let mut net = nninit::Network::builder(2).dense(4, nninit::Tanh).dense(1, nninit::Sigmoid).build()?;
    /// // Keys 0.weight, 0.bias, 2.weight, 2.bias (Linear, Tanh, Linear, Sigmoid).
    /// let options = LoadOptions::default().sequential_indices(&[0, 2]);
    /// net.load_safetensors_with("examples/data/pytorch_mlp.safetensors", &options)?;
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn load_safetensors_with(
        &mut self,
        path: impl AsRef<Path>,
        options: &LoadOptions,
    ) -> Result<LoadReport> {
        let loaded = read_safetensors(path.as_ref(), options.limits(), DtypePolicy::Skip)?;
        self.load_with_skipped(loaded.tensors, loaded.skipped, "safetensors", options)
    }

    /// Loads weights from a NumPy `.npz` archive with the same keys (strict).
    ///
    /// ```no_run
    /// let mut net = nninit::Network::builder(2).dense(1, nninit::Sigmoid).build()?;
    /// net.load_npz("weights.npz")?;
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn load_npz(&mut self, path: impl AsRef<Path>) -> Result<LoadReport> {
        self.load_npz_with(path, &LoadOptions::default())
    }

    /// Loads weights from a NumPy `.npz` archive with key maps or non-strict matching; arrays
    /// of a dtype that does not convert to `f32` are handled as in
    /// [`load_safetensors_with`](Network::load_safetensors_with).
    ///
    /// ```no_run
    /// use nninit::io::LoadOptions;
    /// let mut net = nninit::Network::builder(2).dense(1, nninit::Sigmoid).build()?;
    /// net.load_npz_with("weights.npz", &LoadOptions::default().strip_prefix("model."))?;
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn load_npz_with(
        &mut self,
        path: impl AsRef<Path>,
        options: &LoadOptions,
    ) -> Result<LoadReport> {
        let (arrays, skipped) = read_npz(path.as_ref(), options.limits(), DtypePolicy::Skip)?;
        self.load_with_skipped(arrays, skipped, "npz", options)
    }

    /// Loads `tensors`, then accounts for the tensors the reader skipped for their dtype
    /// (name, dtype): an error in a strict load that would use them, listed in the report
    /// otherwise.
    fn load_with_skipped(
        &mut self,
        tensors: BTreeMap<String, Tensor>,
        skipped: SkippedDtypes,
        format: &'static str,
        options: &LoadOptions,
    ) -> Result<LoadReport> {
        let mut listed = Vec::with_capacity(skipped.len());
        for (name, dtype) in skipped {
            if options.map_key(&name).is_none() {
                listed.push(name);
            } else if options.is_strict() {
                return Err(Error::UnsupportedDtype {
                    format,
                    dtype,
                    tensor: name,
                });
            } else {
                listed.push(format!("{name} (unsupported dtype {dtype})"));
            }
        }
        let mut report = self.load_state_dict(tensors, options)?;
        report.skipped.extend(listed);
        Ok(report)
    }
}
