//! Pre-trained weights: safetensors and NumPy `.npy` / `.npz` files.
//!
//! Weights trained elsewhere are the fourth way to initialize a network, and the only one that
//! crosses a trust boundary: a weights file may come from anywhere. Every reader here treats its
//! input as hostile.
//!
//! - [`load_safetensors`] / [`save_safetensors`] go through the reference `safetensors` crate;
//!   float (`F64` to `F8`), integer and `BOOL` tensors load as `f32` (integers as
//!   `tensor.float()` converts them), anything else is
//!   [`Error::UnsupportedDtype`](crate::Error::UnsupportedDtype). `__metadata__` is kept by
//!   [`load_safetensors_with_metadata`] and written by [`save_safetensors_with_metadata`].
//! - [`load_npy`] / [`save_npy`] read `.npy` versions 1.0, 2.0 and 3.0, little- and big-endian
//!   floats, integers and booleans, C and Fortran order; object (pickled) arrays are refused.
//! - [`load_npz`] reads `np.savez` and `np.savez_compressed` archives; [`save_npz`] and
//!   [`save_npz_compressed`] write them.
//! - [`match_state_dict`] maps a file's keys onto the keys a network expects (strict or not,
//!   with key renaming for PyTorch `nn.Sequential` or prefixed state dicts), and [`Pretrained`]
//!   is an initializer that copies a loaded tensor.
//!
//! # Loading PyTorch weights
//!
//! Export the model's `state_dict` with the `safetensors` package (`pip install safetensors`):
//!
//! ```text
//! import torch
//! from safetensors.torch import save_file
//!
//! model = torch.nn.Sequential(
//!     torch.nn.Linear(2, 4), torch.nn.Tanh(),
//!     torch.nn.Linear(4, 1), torch.nn.Sigmoid(),
//! )
//! # ... train ...
//! save_file({k: v.contiguous() for k, v in model.state_dict().items()},
//!           "pytorch_mlp.safetensors", metadata={"format": "pt"})
//! ```
//!
//! The file holds `0.weight` `[4, 2]`, `0.bias` `[4]`, `2.weight` `[1, 4]`, `2.bias` `[1]`:
//! `nn.Linear`'s `[out, in]` layout is nninit's, but the activations take indices 1 and 3.
//! [`LoadOptions::sequential_indices`]`(&[0, 2])` (or
//! [`LoadOptions::renumber_sequential`]) maps modules 0 and 2 onto dense layers 0 and 1;
//! [`LoadOptions::strip_prefix`] removes a wrapper's prefix (`model.`, or `module.` from
//! `DataParallel`); [`LoadOptions::rename`] and [`LoadOptions::map_keys`] handle named
//! layers (`fc1.weight`). `examples/data/pytorch_mlp.safetensors` is such a file (an MLP
//! that computes XOR), written by `tests/data/make_fixtures.py` with NumPy in exactly this
//! layout. A NumPy archive works the same way:
//! `np.savez("w.npz", **{k: v.numpy() for k, v in model.state_dict().items()})`.
//!
//! ```no_run
//! use nninit::io::{LoadOptions, load_safetensors, match_state_dict};
//! let file = load_safetensors("examples/data/pytorch_mlp.safetensors")?;
//! let expected = [
//!     ("0.weight".to_string(), vec![4, 2]), ("0.bias".to_string(), vec![4]),
//!     ("1.weight".to_string(), vec![1, 4]), ("1.bias".to_string(), vec![1]),
//! ];
//! let options = LoadOptions::default().sequential_indices(&[0, 2]);
//! let (tensors, report) = match_state_dict(&expected, file, &options)?;
//! assert!(report.is_complete());
//! assert_eq!(tensors["1.weight"].shape, [1, 4]);
//! # Ok::<(), nninit::Error>(())
//! ```
//!
//! # Threat model
//!
//! A file may be truncated, lie about its lengths, or be crafted to exhaust memory or to crash
//! the reader. The readers never panic on file contents, check every length read from the file
//! against the file's real length before allocating, multiply shapes with checked arithmetic,
//! and refuse formats that execute code on load (pickle). A safetensors header is bounded
//! before it is parsed ([`MAX_HEADER_BYTES`], [`MAX_DIMENSIONS`]). Every buffer sized from a
//! file is charged to a budget ([`ReadLimits`], default [`DEFAULT_MAX_BYTES`]) and reserved with
//! `try_reserve`: a file that asks for too much is
//! [`Error::OverBudget`](crate::Error::OverBudget) or
//! [`Error::OutOfMemory`](crate::Error::OutOfMemory), never an abort of the process. A deflated
//! `.npz` entry is further bounded by deflate's maximum expansion (1032:1).
//! `cargo test --test fuzz_loaders -- --ignored` mutates valid files of each format
//! and checks that every load returns in time without a panic (see the README's testing
//! section).
//!
//! Saves are atomic: the file is written to a temporary sibling `.{name}.{pid}.{n}.tmp`,
//! synced, then renamed over the target, so a failed or interrupted save never leaves a
//! truncated file in place of a good one. A save through a symbolic link replaces the file the
//! link points to (the link stays), and a file that already exists keeps its permissions. A
//! process killed mid-save leaves its temporary behind; the next save to the same target
//! removes such leftovers of processes that are no longer running.
//!
//! ```no_run
//! use std::collections::BTreeMap;
//! use nninit::io::{self, Tensor};
//!
//! let mut tensors = BTreeMap::new();
//! tensors.insert("0.weight".to_string(), Tensor::new(vec![2, 3], vec![0.5; 6])?);
//! io::save_safetensors("model.safetensors", &tensors)?;
//! let loaded = io::load_safetensors("model.safetensors")?;
//! assert_eq!(loaded["0.weight"].shape, [2, 3]);
//! # Ok::<(), nninit::Error>(())
//! ```

pub(crate) mod atomic;
mod convert;
mod limits;
mod network;
mod npy;
mod npz;
mod pretrained;
mod safetensors;
mod state_dict;
mod tensor;

pub use limits::{DEFAULT_MAX_BYTES, MAX_DIMENSIONS, MAX_HEADER_BYTES, ReadLimits};
pub use npy::{load_npy, load_npy_limited, save_npy};
pub use npz::{load_npz, load_npz_limited, save_npz, save_npz_compressed};
pub use pretrained::Pretrained;
pub use safetensors::{
    load_safetensors, load_safetensors_limited, load_safetensors_with_metadata, save_safetensors,
    save_safetensors_with_metadata,
};
pub use state_dict::{LoadOptions, LoadReport, match_state_dict};
pub use tensor::Tensor;
