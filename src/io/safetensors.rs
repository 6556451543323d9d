//! safetensors files, read and written through the reference `safetensors` crate.
//!
//! Layout: an 8-byte little-endian header length `n`, `n` bytes of JSON mapping each tensor
//! name to `{dtype, shape, data_offsets}` (plus an optional `__metadata__` string map), then
//! the data, tensors back to back, little-endian, row-major. The crate validates the JSON,
//! the offsets (contiguous, no overlap, no hole, covering the data exactly) and the shape
//! products (checked); we check the header length against the file length ourselves first,
//! and translate each of its errors into [`Error::MalformedFile`] with a precise reason.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use ::safetensors::tensor::{Dtype, Metadata, SafeTensorError, SafeTensors, TensorInfo, View};

use super::atomic::write_atomically;
use super::convert::{Endian, FloatKind, decode, encode_f32_le};
use super::tensor::Tensor;
use crate::error::{Error, Result};

const FORMAT: &str = "safetensors";

/// Size of the little-endian `u64` header length that opens the file.
const LENGTH_PREFIX: usize = 8;

/// The key the format reserves for the free-form string metadata.
const METADATA_KEY: &str = "__metadata__";

/// Loads every tensor of a safetensors file, converted to `f32`.
///
/// `F32`, `F64` (rounded to nearest even), `F16` and `BF16` (exact) are supported; any other
/// dtype is [`Error::UnsupportedDtype`] naming the dtype and the tensor. A malformed file is
/// [`Error::MalformedFile`] with `format: "safetensors"`.
///
/// ```no_run
/// let tensors = nninit::io::load_safetensors("model.safetensors")?;
/// for (name, tensor) in &tensors {
///     println!("{name}: {:?}", tensor.shape);
/// }
/// assert!(tensors.contains_key("0.weight"));
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn load_safetensors(path: impl AsRef<Path>) -> Result<BTreeMap<String, Tensor>> {
    load_safetensors_with_metadata(path).map(|(tensors, _)| tensors)
}

/// Loads every tensor of a safetensors file and its `__metadata__` string map (empty when the
/// file has none).
///
/// ```no_run
/// let (tensors, metadata) = nninit::io::load_safetensors_with_metadata("model.safetensors")?;
/// assert_eq!(metadata.get("format").map(String::as_str), Some("pt"));
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn load_safetensors_with_metadata(
    path: impl AsRef<Path>,
) -> Result<(BTreeMap<String, Tensor>, BTreeMap<String, String>)> {
    let bytes = read_checked(path.as_ref())?;
    let file = parse(&bytes)?;
    let tensors = file
        .header
        .tensors()
        .into_iter()
        .map(|(name, info)| {
            let tensor = to_tensor(&name, info, &file)?;
            Ok((name, tensor))
        })
        .collect::<Result<_>>()?;
    let metadata = file
        .header
        .metadata()
        .as_ref()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    Ok((tensors, metadata))
}

/// Loads the single tensor `key` of a safetensors file (the others are validated, not
/// converted).
pub(crate) fn load_safetensors_tensor(path: &Path, key: &str) -> Result<Tensor> {
    let bytes = read_checked(path)?;
    let file = parse(&bytes)?;
    match file.header.info(key) {
        Some(info) => to_tensor(key, info, &file),
        None => {
            let mut names = file.header.offset_keys();
            names.sort_unstable();
            Err(Error::invalid(
                "key",
                format!(
                    "one of the tensors in '{}' ({})",
                    path.display(),
                    names.join(", ")
                ),
                format!("'{key}'"),
            ))
        }
    }
}

/// Saves `tensors` as an `F32` safetensors file, atomically.
///
/// Every tensor's data length must match its shape ([`Error::LengthMismatch`] otherwise, and
/// the file is not touched). The result loads in Python with
/// `safetensors.torch.load_file` / `safetensors.numpy.load_file`.
///
/// ```no_run
/// use std::collections::BTreeMap;
/// use nninit::io::{Tensor, save_safetensors};
/// let mut tensors = BTreeMap::new();
/// tensors.insert("0.bias".to_string(), Tensor::new(vec![3], vec![0.0; 3])?);
/// save_safetensors("model.safetensors", &tensors)?;
/// assert_eq!(nninit::io::load_safetensors("model.safetensors")?, tensors);
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn save_safetensors(path: impl AsRef<Path>, tensors: &BTreeMap<String, Tensor>) -> Result<()> {
    save_safetensors_with_metadata(path, tensors, &BTreeMap::new())
}

/// Saves `tensors` with a `__metadata__` string map (omitted when empty), atomically.
///
/// PyTorch's `safetensors.torch.save_file` writes `{"format": "pt"}`; tools such as
/// `transformers` look for it.
///
/// ```no_run
/// use std::collections::BTreeMap;
/// use nninit::io::{Tensor, save_safetensors_with_metadata, load_safetensors_with_metadata};
/// let tensors = BTreeMap::from([("w".to_string(), Tensor::new(vec![1], vec![2.0])?)]);
/// let metadata = BTreeMap::from([("format".to_string(), "pt".to_string())]);
/// save_safetensors_with_metadata("w.safetensors", &tensors, &metadata)?;
/// assert_eq!(load_safetensors_with_metadata("w.safetensors")?.1, metadata);
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn save_safetensors_with_metadata(
    path: impl AsRef<Path>,
    tensors: &BTreeMap<String, Tensor>,
    metadata: &BTreeMap<String, String>,
) -> Result<()> {
    let bytes = serialize(tensors, metadata)?;
    let path = path.as_ref();
    write_atomically(path, |out| {
        out.write_all(&bytes).map_err(|e| Error::io(path, e))
    })
}

/// Serializes `tensors` and `metadata` to the bytes of a safetensors file.
pub(crate) fn serialize(
    tensors: &BTreeMap<String, Tensor>,
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>> {
    let mut views = Vec::with_capacity(tensors.len());
    for (name, tensor) in tensors {
        if name == METADATA_KEY {
            return Err(Error::invalid(
                "tensor name",
                format!("other than '{METADATA_KEY}' (reserved by the format)"),
                name,
            ));
        }
        tensor.check(&format!("tensor '{name}'"))?;
        views.push((name.as_str(), F32View::new(tensor)));
    }
    let info = (!metadata.is_empty()).then(|| {
        metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<HashMap<_, _>>()
    });
    ::safetensors::serialize(views, info).map_err(|e| malformed(&e))
}

/// An `f32` tensor encoded as little-endian bytes, as the safetensors writer wants it.
struct F32View<'a> {
    shape: &'a [usize],
    bytes: Vec<u8>,
}

impl<'a> F32View<'a> {
    fn new(tensor: &'a Tensor) -> Self {
        F32View {
            shape: &tensor.shape,
            bytes: encode_f32_le(&tensor.data),
        }
    }
}

impl View for F32View<'_> {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }

    fn shape(&self) -> &[usize] {
        self.shape
    }

    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }

    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// Reads the file after checking, from its 8-byte prefix and its length on disk, that the
/// declared header fits in it: a lying length must not make anyone allocate for it.
fn read_checked(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    check_header_length(&bytes)?;
    Ok(bytes)
}

/// Checks the header length prefix against the length of the file.
fn check_header_length(bytes: &[u8]) -> Result<()> {
    let Some(prefix) = bytes.first_chunk::<LENGTH_PREFIX>() else {
        return Err(malformed_because(format!(
            "file is {} bytes, shorter than the {LENGTH_PREFIX}-byte header length",
            bytes.len()
        )));
    };
    let declared = u64::from_le_bytes(*prefix);
    let available = (bytes.len() - LENGTH_PREFIX) as u64;
    if declared > available {
        return Err(malformed_because(format!(
            "header length {declared} exceeds the {available} bytes that follow it"
        )));
    }
    Ok(())
}

/// A validated file: its header and its data section.
struct File<'a> {
    header: Metadata,
    data: &'a [u8],
}

/// Parses and validates the header (the crate checks offsets, sizes and overflow).
fn parse(bytes: &[u8]) -> Result<File<'_>> {
    let (header_len, header) = SafeTensors::read_metadata(bytes).map_err(|e| malformed(&e))?;
    let data = LENGTH_PREFIX
        .checked_add(header_len)
        .and_then(|start| bytes.get(start..))
        .ok_or_else(|| malformed_because("header length exceeds the file length".to_string()))?;
    Ok(File { header, data })
}

/// Converts one validated tensor to `f32`.
fn to_tensor(name: &str, info: &TensorInfo, file: &File<'_>) -> Result<Tensor> {
    let kind = match info.dtype {
        Dtype::F32 => FloatKind::F32,
        Dtype::F64 => FloatKind::F64,
        Dtype::F16 => FloatKind::F16,
        Dtype::BF16 => FloatKind::Bf16,
        other => {
            return Err(Error::UnsupportedDtype {
                format: FORMAT,
                dtype: other.to_string(),
                tensor: name.to_string(),
            });
        }
    };
    let (start, end) = info.data_offsets;
    // The crate has checked the offsets; `get` keeps even a bug there from panicking.
    let bytes = file.data.get(start..end).ok_or_else(|| {
        malformed_because(format!("tensor '{name}' has data offsets out of range"))
    })?;
    Ok(Tensor {
        shape: info.shape.clone(),
        data: decode(bytes, kind, Endian::Little),
    })
}

fn malformed_because(reason: String) -> Error {
    Error::MalformedFile {
        format: FORMAT,
        reason,
    }
}

/// Translates the crate's error into ours, with a reason a user can act on.
fn malformed(error: &SafeTensorError) -> Error {
    use SafeTensorError as E;
    let reason = match error {
        E::InvalidHeader(e) => format!("header is not valid UTF-8 ({e})"),
        E::InvalidHeaderDeserialization(e) | E::JsonError(e) => {
            let message = e.to_string();
            if message.contains("unknown variant") {
                format!("unknown dtype in header ({message})")
            } else {
                format!("header is not a valid safetensors JSON object ({message})")
            }
        }
        E::HeaderTooLarge => "header length exceeds the format's 100 MB limit".to_string(),
        E::HeaderTooSmall => "file is shorter than the 8-byte header length".to_string(),
        E::InvalidHeaderLength => "header length exceeds the file length".to_string(),
        E::TensorNotFound(name) => format!("tensor '{name}' not found"),
        E::TensorInvalidInfo => {
            "a tensor's byte range does not match its shape and dtype".to_string()
        }
        E::InvalidOffset(name) => format!(
            "tensor '{name}' has data offsets that overlap another tensor, leave a hole or run \
             backwards"
        ),
        E::IoError(e) => format!("i/o error ({e})"),
        E::InvalidTensorView(dtype, shape, bytes) => {
            format!("tensor of dtype {dtype} and shape {shape:?} cannot hold {bytes} bytes")
        }
        E::MetadataIncompleteBuffer => "tensor data offsets do not cover the data section \
                                        exactly (offsets out of range, or trailing bytes)"
            .to_string(),
        E::ValidationOverflow => {
            "a tensor's shape overflows when its dimensions are multiplied".to_string()
        }
        E::MisalignedSlice => "a sub-byte tensor does not end on a byte boundary".to_string(),
    };
    malformed_because(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_in_memory_with_metadata() {
        let tensors = BTreeMap::from([
            (
                "a".to_string(),
                Tensor::new(vec![2], vec![1.0, -0.0]).unwrap(),
            ),
            ("b".to_string(), Tensor::new(vec![], vec![3.0]).unwrap()),
        ]);
        let metadata = BTreeMap::from([("format".to_string(), "pt".to_string())]);
        let bytes = serialize(&tensors, &metadata).unwrap();
        let file = parse(&bytes).unwrap();
        let info = file.header.info("a").unwrap();
        assert_eq!(to_tensor("a", info, &file).unwrap(), tensors["a"]);
        assert_eq!(file.header.metadata().as_ref().unwrap()["format"], "pt");
    }

    #[test]
    fn reserved_name_and_bad_length_are_refused() {
        let bad = BTreeMap::from([(
            METADATA_KEY.to_string(),
            Tensor::new(vec![1], vec![0.0]).unwrap(),
        )]);
        assert!(matches!(
            serialize(&bad, &BTreeMap::new()),
            Err(Error::InvalidArgument { .. })
        ));
        let inconsistent = BTreeMap::from([(
            "w".to_string(),
            Tensor {
                shape: vec![3],
                data: vec![0.0; 2],
            },
        )]);
        assert!(matches!(
            serialize(&inconsistent, &BTreeMap::new()),
            Err(Error::LengthMismatch { .. })
        ));
    }

    #[test]
    fn lying_header_length_is_caught_before_parsing() {
        let mut bytes = u64::MAX.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"{}");
        let err = check_header_length(&bytes).unwrap_err();
        assert_eq!(
            err.to_string(),
            "malformed safetensors file: header length 18446744073709551615 exceeds the 2 bytes \
             that follow it"
        );
    }
}
