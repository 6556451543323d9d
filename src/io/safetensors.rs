//! safetensors files, read and written through the reference `safetensors` crate.
//!
//! Layout: an 8-byte little-endian header length `n`, `n` bytes of JSON mapping each tensor
//! name to `{dtype, shape, data_offsets}` (plus an optional `__metadata__` string map), then
//! the data, tensors back to back, little-endian, row-major. The crate validates the JSON,
//! the offsets (contiguous, no overlap, no hole, covering the data exactly) and the shape
//! products (checked). Before handing it the header we check the header length against the
//! file length and [`MAX_HEADER_BYTES`], and scan the JSON text for arrays longer than
//! [`MAX_DIMENSIONS`], so that no shape of millions of entries is ever allocated. Each of its
//! errors becomes an [`Error::MalformedFile`] with a precise reason naming the tensor (found by
//! re-reading the header when the crate's error does not say which).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::Path;

use ::safetensors::tensor::{Dtype, Metadata, SafeTensorError, SafeTensors, TensorInfo, View};

use super::atomic::write_atomically;
use super::convert::{ElementKind, Endian, decode_into, encode_f32_le};
use super::limits::{Budget, MAX_DIMENSIONS, MAX_HEADER_BYTES, ReadLimits, try_with_capacity};
use super::npz::{DtypePolicy, SkippedDtypes};
use super::tensor::{Tensor, element_count};
use crate::error::{Error, Result};

const FORMAT: &str = "safetensors";

/// Size of the little-endian `u64` header length that opens the file.
const LENGTH_PREFIX: usize = 8;

/// The key the format reserves for the free-form string metadata.
const METADATA_KEY: &str = "__metadata__";

/// The deepest nesting of JSON objects and arrays accepted in a header: the format needs 3
/// (the root object, a tensor's object, its shape).
const MAX_NESTING: usize = 16;

/// Loads every tensor of a safetensors file, converted to `f32`, within the default
/// [`ReadLimits`].
///
/// `F32`, `F64` (rounded to nearest even), `F16`, `BF16`, `F8_E4M3`, `F8_E5M2` (exact),
/// `BOOL` (0 or 1) and the integers `I8` to `I64` and `U8` to `U64` (as `tensor.float()`
/// converts them: exact up to 2^24, rounded to nearest even beyond) are supported, so a
/// PyTorch checkpoint with a BatchNorm's `I64 num_batches_tracked` or a `BOOL` mask loads
/// whole. Any other dtype (complex, sub-byte and scaling floats) is
/// [`Error::UnsupportedDtype`] naming the dtype and the tensor; a non-strict
/// [`Network::load_safetensors_with`](crate::Network::load_safetensors_with) skips such
/// tensors and reports them. A malformed file is [`Error::MalformedFile`] with
/// `format: "safetensors"`, naming the tensor at fault.
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
    load_safetensors_limited(path, &ReadLimits::default())
}

/// [`load_safetensors`] with a memory budget: the file (read whole) and the `f32` values may
/// take at most `limits.max_bytes`, checked before allocating ([`Error::OverBudget`]).
///
/// ```no_run
/// use nninit::io::{ReadLimits, load_safetensors_limited};
/// let tensors = load_safetensors_limited("model.safetensors", &ReadLimits::default().max_bytes(1 << 30))?;
/// assert!(!tensors.is_empty());
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn load_safetensors_limited(
    path: impl AsRef<Path>,
    limits: &ReadLimits,
) -> Result<BTreeMap<String, Tensor>> {
    read_safetensors(path.as_ref(), limits, DtypePolicy::Refuse).map(|loaded| loaded.tensors)
}

/// Loads every tensor of a safetensors file and its `__metadata__` string map (empty when the
/// file has none), within the default [`ReadLimits`].
///
/// ```no_run
/// let (tensors, metadata) = nninit::io::load_safetensors_with_metadata("model.safetensors")?;
/// assert_eq!(metadata.get("format").map(String::as_str), Some("pt"));
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn load_safetensors_with_metadata(
    path: impl AsRef<Path>,
) -> Result<(BTreeMap<String, Tensor>, BTreeMap<String, String>)> {
    let loaded = read_safetensors(path.as_ref(), &ReadLimits::default(), DtypePolicy::Refuse)?;
    Ok((loaded.tensors, loaded.metadata))
}

/// What [`read_safetensors`] found.
pub(crate) struct Loaded {
    pub(crate) tensors: BTreeMap<String, Tensor>,
    pub(crate) metadata: BTreeMap<String, String>,
    /// Tensors left out under [`DtypePolicy::Skip`]: (name, dtype).
    pub(crate) skipped: SkippedDtypes,
}

/// Reads a whole file: every tensor converted, or skipped by `policy` if its dtype does not
/// convert.
pub(crate) fn read_safetensors(
    path: &Path,
    limits: &ReadLimits,
    policy: DtypePolicy,
) -> Result<Loaded> {
    let mut budget = Budget::new(limits);
    let bytes = read_checked(path, &mut budget)?;
    let file = parse(&bytes)?;
    let mut tensors = BTreeMap::new();
    let mut skipped = Vec::new();
    for (name, info) in file.header.tensors() {
        match element_kind(info.dtype) {
            Some(kind) => {
                let tensor = to_tensor(&name, info, kind, &file, &mut budget)?;
                tensors.insert(name, tensor);
            }
            None if policy == DtypePolicy::Skip => skipped.push((name, info.dtype.to_string())),
            None => return Err(unsupported(&name, info.dtype)),
        }
    }
    skipped.sort();
    let metadata = file
        .header
        .metadata()
        .as_ref()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    Ok(Loaded {
        tensors,
        metadata,
        skipped,
    })
}

/// Loads the single tensor `key` of a safetensors file (the others are validated, not
/// converted).
pub(crate) fn load_safetensors_tensor(path: &Path, key: &str) -> Result<Tensor> {
    let mut budget = Budget::new(&ReadLimits::default());
    let bytes = read_checked(path, &mut budget)?;
    let file = parse(&bytes)?;
    match file.header.info(key) {
        Some(info) => {
            let kind = element_kind(info.dtype).ok_or_else(|| unsupported(key, info.dtype))?;
            to_tensor(key, info, kind, &file, &mut budget)
        }
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
/// declared header fits in it and in [`MAX_HEADER_BYTES`]: a lying length must not make anyone
/// read or allocate for it. The file's bytes are charged to `budget` and reserved fallibly.
fn read_checked(path: &Path, budget: &mut Budget) -> Result<Vec<u8>> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut prefix = Vec::with_capacity(LENGTH_PREFIX);
    (&mut file)
        .take(LENGTH_PREFIX as u64)
        .read_to_end(&mut prefix)
        .map_err(|e| Error::io(path, e))?;
    check_declared_length(&prefix, len.saturating_sub(LENGTH_PREFIX as u64))?;
    let what = || format!("file '{}'", path.display());
    budget.spend(len, what)?;
    let capacity = usize::try_from(len).map_err(|_| Error::OutOfMemory {
        what: what(),
        bytes: len,
    })?;
    let mut bytes = try_with_capacity(capacity, what)?;
    bytes.extend_from_slice(&prefix);
    file.read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    // The file may have changed between the two reads: check again on what was read.
    check_header_length(&bytes)?;
    Ok(bytes)
}

/// Checks the header length prefix against the length of the file and [`MAX_HEADER_BYTES`].
fn check_header_length(bytes: &[u8]) -> Result<()> {
    check_declared_length(bytes, bytes.len().saturating_sub(LENGTH_PREFIX) as u64)
}

/// Checks the header length in the 8-byte `prefix` against the `available` bytes after it and
/// [`MAX_HEADER_BYTES`].
fn check_declared_length(prefix: &[u8], available: u64) -> Result<()> {
    let Some(prefix) = prefix.first_chunk::<LENGTH_PREFIX>() else {
        return Err(malformed_because(format!(
            "file is {} bytes, shorter than the {LENGTH_PREFIX}-byte header length",
            prefix.len()
        )));
    };
    let declared = u64::from_le_bytes(*prefix);
    if declared > available {
        return Err(malformed_because(format!(
            "header length {declared} exceeds the {available} bytes that follow it"
        )));
    }
    if declared > MAX_HEADER_BYTES {
        return Err(malformed_because(format!(
            "header length {declared} exceeds the limit of {MAX_HEADER_BYTES} bytes \
             (io::MAX_HEADER_BYTES)"
        )));
    }
    Ok(())
}

/// Scans the header's JSON text, strings skipped, for an array of more than [`MAX_DIMENSIONS`]
/// entries or a nesting deeper than [`MAX_NESTING`], before any parser allocates for them.
/// The error names the tensor whose entry holds the array.
fn check_header_arrays(header: &[u8]) -> Result<()> {
    // Open brackets, with the entries counted so far for arrays.
    let mut open: Vec<(u8, usize)> = Vec::new();
    let (mut in_string, mut escaped) = (false, false);
    // The last key of the root object (a tensor's name), as a byte range.
    let (mut key_start, mut key) = (0, 0..0);
    for (position, &byte) in header.iter().enumerate() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => {
                    in_string = false;
                    if open.len() == 1 {
                        key = key_start..position;
                    }
                }
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => {
                in_string = true;
                key_start = position + 1;
            }
            b'[' | b'{' if open.len() >= MAX_NESTING => {
                return Err(malformed_because(format!(
                    "header nests objects and arrays deeper than {MAX_NESTING} levels"
                )));
            }
            b'[' | b'{' => open.push((byte, 1)),
            b']' | b'}' => {
                open.pop();
            }
            b',' => {
                if let Some((b'[', entries)) = open.last_mut() {
                    *entries += 1;
                    if *entries > MAX_DIMENSIONS {
                        let name = String::from_utf8_lossy(&header[key]);
                        return Err(malformed_because(format!(
                            "tensor '{name}' has an array of more than {MAX_DIMENSIONS} entries \
                             (a shape may have at most io::MAX_DIMENSIONS = {MAX_DIMENSIONS} \
                             dimensions)"
                        )));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A validated file: its header and its data section.
struct File<'a> {
    header: Metadata,
    data: &'a [u8],
}

/// Parses and validates the header (the crate checks offsets, sizes and overflow), after
/// bounding it; `bytes` has passed [`check_header_length`].
fn parse(bytes: &[u8]) -> Result<File<'_>> {
    let header_end = bytes
        .first_chunk::<LENGTH_PREFIX>()
        .and_then(|prefix| usize::try_from(u64::from_le_bytes(*prefix)).ok())
        .and_then(|len| len.checked_add(LENGTH_PREFIX))
        .filter(|&end| end <= bytes.len())
        .ok_or_else(|| malformed_because("header length exceeds the file length".to_string()))?;
    let header = &bytes[LENGTH_PREFIX..header_end];
    check_header_arrays(header)?;
    let (header_len, metadata) = SafeTensors::read_metadata(bytes).map_err(|e| {
        if names_no_tensor(&e) {
            locate(header, bytes.len() - header_end).unwrap_or_else(|| malformed(&e))
        } else {
            malformed(&e)
        }
    })?;
    let data = LENGTH_PREFIX
        .checked_add(header_len)
        .and_then(|start| bytes.get(start..))
        .ok_or_else(|| malformed_because("header length exceeds the file length".to_string()))?;
    Ok(File {
        header: metadata,
        data,
    })
}

/// Whether the crate's error is about one tensor without saying which.
fn names_no_tensor(error: &SafeTensorError) -> bool {
    use SafeTensorError as E;
    matches!(
        error,
        E::TensorInvalidInfo
            | E::ValidationOverflow
            | E::MisalignedSlice
            | E::InvalidHeaderDeserialization(_)
            | E::JsonError(_)
    )
}

/// Finds the tensor at fault in a header the crate refused, and says what is wrong with it:
/// the crate's errors do not always say which tensor. `None` if no single tensor is to blame.
fn locate(header: &[u8], data_len: usize) -> Option<Error> {
    let entries: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(header).ok()?;
    let mut tensors = Vec::with_capacity(entries.len());
    for (name, value) in entries {
        if name == METADATA_KEY {
            continue;
        }
        if let Some(dtype) = value.get("dtype")
            && serde_json::from_value::<Dtype>(dtype.clone()).is_err()
        {
            return Some(malformed_because(format!(
                "tensor '{name}' has an unknown dtype {dtype}"
            )));
        }
        match serde_json::from_value::<TensorInfo>(value) {
            Ok(info) => tensors.push((name, info)),
            Err(e) => {
                return Some(malformed_because(format!(
                    "header is not a valid safetensors JSON object: tensor '{name}' has an invalid entry ({e})"
                )));
            }
        }
    }
    check_layout(&mut tensors, data_len).err()
}

/// Checks that the tensors, in offset order, tile the data section exactly and that each
/// one's byte range fits its shape and dtype; errors name the tensor.
fn check_layout(tensors: &mut [(String, TensorInfo)], data_len: usize) -> Result<()> {
    tensors.sort_by_key(|(_, info)| info.data_offsets);
    let mut end = 0usize;
    for (name, info) in tensors.iter() {
        let (start, stop) = info.data_offsets;
        if start != end || stop < start {
            return Err(malformed_because(format!(
                "tensor '{name}' has data offsets [{start}, {stop}], but the previous tensor \
                 ends at {end} (tensors must follow each other without overlap or hole)"
            )));
        }
        let needed = byte_size(name, info)?;
        if needed != stop - start {
            return Err(malformed_because(format!(
                "tensor '{name}' of dtype {} and shape {:?} needs {needed} bytes, but its data \
                 offsets [{start}, {stop}] hold {}",
                info.dtype,
                info.shape,
                stop - start
            )));
        }
        end = stop;
    }
    if end != data_len {
        return Err(malformed_because(format!(
            "the tensors' data ends at byte {end} of a data section of {data_len} bytes"
        )));
    }
    Ok(())
}

/// The bytes a tensor's shape and dtype need, or why they cannot be counted.
fn byte_size(name: &str, info: &TensorInfo) -> Result<usize> {
    let bits = element_count(&info.shape)
        .and_then(|count| count.checked_mul(info.dtype.bitsize()))
        .ok_or_else(|| {
            malformed_because(format!(
                "tensor '{name}' has shape {:?}, which overflows when its dimensions are \
                 multiplied",
                info.shape
            ))
        })?;
    if !bits.is_multiple_of(8) {
        return Err(malformed_because(format!(
            "tensor '{name}' of the sub-byte dtype {} does not end on a byte boundary",
            info.dtype
        )));
    }
    Ok(bits / 8)
}

/// The element type nninit converts a safetensors dtype from, if it converts it.
fn element_kind(dtype: Dtype) -> Option<ElementKind> {
    Some(match dtype {
        Dtype::F32 => ElementKind::F32,
        Dtype::F64 => ElementKind::F64,
        Dtype::F16 => ElementKind::F16,
        Dtype::BF16 => ElementKind::Bf16,
        Dtype::F8_E4M3 => ElementKind::F8E4M3,
        Dtype::F8_E5M2 => ElementKind::F8E5M2,
        Dtype::BOOL => ElementKind::Bool,
        Dtype::U8 => ElementKind::U8,
        Dtype::I8 => ElementKind::I8,
        Dtype::U16 => ElementKind::U16,
        Dtype::I16 => ElementKind::I16,
        Dtype::U32 => ElementKind::U32,
        Dtype::I32 => ElementKind::I32,
        Dtype::U64 => ElementKind::U64,
        Dtype::I64 => ElementKind::I64,
        // Complex, the sub-byte MX floats, the E8M0 scale and the FNUZ variants.
        _ => return None,
    })
}

fn unsupported(name: &str, dtype: Dtype) -> Error {
    Error::UnsupportedDtype {
        format: FORMAT,
        dtype: dtype.to_string(),
        tensor: name.to_string(),
    }
}

/// Converts one validated tensor to `f32`, charging the values to `budget`.
fn to_tensor(
    name: &str,
    info: &TensorInfo,
    kind: ElementKind,
    file: &File<'_>,
    budget: &mut Budget,
) -> Result<Tensor> {
    let (start, end) = info.data_offsets;
    // The crate has checked the offsets; `get` keeps even a bug there from panicking.
    let bytes = file.data.get(start..end).ok_or_else(|| {
        malformed_because(format!("tensor '{name}' has data offsets out of range"))
    })?;
    let count = bytes.len() / kind.size();
    let what = || format!("tensor '{name}' as f32");
    budget.spend((count as u64).saturating_mul(4), what)?;
    let mut data = try_with_capacity(count, what)?;
    decode_into(bytes, kind, Endian::Little, &mut data);
    Ok(Tensor {
        shape: info.shape.clone(),
        data,
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
        let mut budget = Budget::new(&ReadLimits::default());
        let tensor = to_tensor("a", info, ElementKind::F32, &file, &mut budget).unwrap();
        assert_eq!(tensor, tensors["a"]);
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
