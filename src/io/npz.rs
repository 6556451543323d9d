//! NumPy `.npz` archives: a zip of `.npy` files, stored (`np.savez`) or deflated
//! (`np.savez_compressed`).
//!
//! The zip container is read and written by the `zip` crate. A deflated entry may legitimately
//! expand up to about 1032 times (deflate's maximum ratio), so an entry's declared size is
//! checked against that bound before reading, and no buffer is reserved beyond the bytes the
//! archive really holds: memory grows only with data that actually decompresses.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::atomic::write_atomically;
use super::limits::{Budget, ReadLimits};
use super::npy::{Limits, read_npy, write_npy};
use super::tensor::Tensor;
use crate::error::{Error, Result};

const FORMAT: &str = "npz";

/// Deflate's maximum expansion: a 258-byte match costs at least 2 bits, so one compressed byte
/// yields at most 258 * 4 = 1032 bytes.
const MAX_DEFLATE_RATIO: u64 = 1032;

/// Slack for the few bytes of a deflate stream's block headers.
const DEFLATE_SLACK: u64 = 1024;

/// Loads every array of an `.npz` archive, within the default [`ReadLimits`]; keys are the
/// entry names without `.npy`, as `np.load(path).files` lists them.
///
/// Each entry is read like [`load_npy`](super::load_npy) (same dtypes, integers and booleans
/// included, byte orders, Fortran order, refusal of object arrays). A file that is not a zip
/// archive, a corrupt entry (bad CRC, size lies, a corrupt deflate stream, a compression method
/// other than stored or deflate) or two entries with the same key is [`Error::MalformedFile`]
/// with `format: "npz"`, naming the entry.
///
/// ```no_run
/// // Written in Python by: np.savez_compressed("w.npz", weight=np.eye(2), bias=np.zeros(2))
/// let arrays = nninit::io::load_npz("w.npz")?;
/// assert_eq!(arrays["weight"].data, [1.0, 0.0, 0.0, 1.0]);
/// assert_eq!(arrays["bias"].shape, [2]);
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn load_npz(path: impl AsRef<Path>) -> Result<BTreeMap<String, Tensor>> {
    load_npz_limited(path, &ReadLimits::default())
}

/// [`load_npz`] with a memory budget: the arrays' `f32` values (and each entry's raw data while
/// it converts) may take at most `limits.max_bytes`, checked before allocating; a deflated
/// entry that would expand beyond it is [`Error::OverBudget`].
///
/// ```no_run
/// use nninit::io::{ReadLimits, load_npz_limited};
/// let arrays = load_npz_limited("w.npz", &ReadLimits::default().max_bytes(64 << 20))?;
/// assert!(arrays.contains_key("weight"));
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn load_npz_limited(
    path: impl AsRef<Path>,
    limits: &ReadLimits,
) -> Result<BTreeMap<String, Tensor>> {
    read_npz(path.as_ref(), limits, DtypePolicy::Refuse).map(|(arrays, _)| arrays)
}

/// What a reader does with a tensor whose dtype does not convert to `f32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DtypePolicy {
    /// Fail the whole load with [`Error::UnsupportedDtype`].
    Refuse,
    /// Leave the tensor out and list it (name, dtype) beside the others.
    Skip,
}

/// Tensors left out for their dtype under [`DtypePolicy::Skip`]: (name, dtype).
pub(crate) type SkippedDtypes = Vec<(String, String)>;

/// Reads an archive; with [`DtypePolicy::Skip`], entries of unsupported dtypes come back as
/// (key, dtype) pairs instead of failing the load.
pub(crate) fn read_npz(
    path: &Path,
    limits: &ReadLimits,
    policy: DtypePolicy,
) -> Result<(BTreeMap<String, Tensor>, SkippedDtypes)> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut archive = ZipArchive::new(BufReader::new(file))
        .map_err(|e| malformed(format!("not a readable zip archive ({e})")))?;
    let mut budget = Budget::new(limits);
    let mut arrays = BTreeMap::new();
    let mut skipped = Vec::new();
    for index in 0..archive.len() {
        let name = match archive.name_for_index(index) {
            Some(Ok(name)) => name.into_owned(),
            Some(Err(e)) => {
                return Err(malformed(format!(
                    "entry {index} has an invalid name ({e})"
                )));
            }
            None => return Err(malformed(format!("entry {index} is missing"))),
        };
        let mut entry = archive
            .by_index(index)
            .map_err(|e| malformed(format!("entry '{name}' cannot be read ({e})")))?;
        if entry.is_dir() {
            continue;
        }
        let key = name.strip_suffix(".npy").unwrap_or(&name).to_string();
        if arrays.contains_key(&key) || skipped.iter().any(|(k, _)| *k == key) {
            return Err(malformed(format!("two entries are named '{key}'")));
        }
        let stream = entry_limits(
            &name,
            entry.compression(),
            entry.compressed_size(),
            entry.size(),
            file_len,
        )?;
        match read_entry(&mut entry, stream, &key, &mut budget).map_err(|e| in_entry(e, &name)) {
            Ok(tensor) => {
                arrays.insert(key, tensor);
            }
            Err(Error::UnsupportedDtype { dtype, .. }) if policy == DtypePolicy::Skip => {
                skipped.push((key, dtype));
            }
            Err(e) => return Err(e),
        }
    }
    Ok((arrays, skipped))
}

/// Reads one entry to its end, so that the zip reader checks the size and the CRC.
fn read_entry(
    entry: &mut impl Read,
    limits: Limits,
    key: &str,
    budget: &mut Budget,
) -> Result<Tensor> {
    let tensor = read_npy(entry, limits, key, budget)?;
    let mut probe = [0u8; 1];
    match entry.read(&mut probe) {
        Ok(0) => Ok(tensor),
        Ok(_) => Err(malformed_npy("bytes after the data".to_string())),
        Err(e) => Err(Error::io("", e)),
    }
}

/// What an entry's declared size can be trusted for, or why it is a lie.
fn entry_limits(
    name: &str,
    method: CompressionMethod,
    compressed: u64,
    declared: u64,
    file_len: u64,
) -> Result<Limits> {
    let bound = if method == CompressionMethod::Stored {
        compressed
    } else {
        compressed
            .saturating_mul(MAX_DEFLATE_RATIO)
            .saturating_add(DEFLATE_SLACK)
    };
    if declared > bound {
        return Err(malformed(format!(
            "entry '{name}' claims {declared} bytes, but its {compressed} compressed bytes \
             expand to at most {bound}"
        )));
    }
    if compressed > file_len {
        return Err(malformed(format!(
            "entry '{name}' claims {compressed} compressed bytes in a file of {file_len}"
        )));
    }
    Ok(Limits {
        available: declared,
    })
}

/// Re-labels an error from the `.npy` reader as an error in entry `name` of the archive.
///
/// Reading an entry's bytes goes through the zip reader, whose failures (bad CRC, size lies,
/// a corrupt deflate stream, an unsupported compression method) all mean the archive is
/// malformed. (Our own buffers are reserved before reading, so no allocation fails there.)
fn in_entry(error: Error, name: &str) -> Error {
    match error {
        Error::MalformedFile { reason, .. } => malformed(format!("entry '{name}': {reason}")),
        Error::UnsupportedDtype { dtype, tensor, .. } => Error::UnsupportedDtype {
            format: FORMAT,
            dtype,
            tensor,
        },
        Error::Io { source, .. } => malformed(format!("entry '{name}': {source}")),
        other => other,
    }
}

/// Saves `tensors` as an uncompressed `.npz` archive (like `np.savez`), atomically; entry
/// names are the keys plus `.npy`.
///
/// ```no_run
/// use std::collections::BTreeMap;
/// use nninit::io::{Tensor, save_npz, load_npz};
/// let arrays = BTreeMap::from([("w".to_string(), Tensor::new(vec![2], vec![1.0, 2.0])?)]);
/// save_npz("w.npz", &arrays)?;
/// assert_eq!(load_npz("w.npz")?, arrays);
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn save_npz(path: impl AsRef<Path>, tensors: &BTreeMap<String, Tensor>) -> Result<()> {
    write_npz(path.as_ref(), tensors, CompressionMethod::Stored)
}

/// Saves `tensors` as a deflated `.npz` archive (like `np.savez_compressed`), atomically.
///
/// ```no_run
/// use std::collections::BTreeMap;
/// use nninit::io::{Tensor, save_npz_compressed, load_npz};
/// let arrays = BTreeMap::from([("w".to_string(), Tensor::new(vec![1000], vec![0.0; 1000])?)]);
/// save_npz_compressed("w.npz", &arrays)?;
/// assert_eq!(load_npz("w.npz")?, arrays);
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn save_npz_compressed(
    path: impl AsRef<Path>,
    tensors: &BTreeMap<String, Tensor>,
) -> Result<()> {
    write_npz(path.as_ref(), tensors, CompressionMethod::Deflated)
}

fn write_npz(
    path: &Path,
    tensors: &BTreeMap<String, Tensor>,
    method: CompressionMethod,
) -> Result<()> {
    for (key, tensor) in tensors {
        tensor.check(&format!("tensor '{key}'"))?;
    }
    let zip_error = |e: zip::result::ZipError| Error::io(path, std::io::Error::other(e));
    write_atomically(path, |out| {
        let mut archive = ZipWriter::new(out);
        for (key, tensor) in tensors {
            // Zip64 only when an entry needs it (over 4 GiB), as NumPy does.
            let large = tensor.data.len() as u64 * 4 >= u64::from(u32::MAX) - (1 << 20);
            // A fixed timestamp (1980-01-01, zip's epoch) makes saves byte-reproducible.
            let options = SimpleFileOptions::default()
                .compression_method(method)
                .last_modified_time(zip::DateTime::DEFAULT)
                .large_file(large);
            archive
                .start_file(format!("{key}.npy"), options)
                .map_err(zip_error)?;
            write_npy(&mut archive, tensor).map_err(|e| Error::io(path, e))?;
        }
        archive.finish().map_err(zip_error)?;
        Ok(())
    })
}

fn malformed(reason: String) -> Error {
    Error::MalformedFile {
        format: FORMAT,
        reason,
    }
}

fn malformed_npy(reason: String) -> Error {
    Error::MalformedFile {
        format: "npy",
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_size_beyond_deflate_ratio_is_refused() {
        let err = entry_limits("w.npy", CompressionMethod::Deflated, 10, 1 << 40, 100).unwrap_err();
        assert!(err.to_string().contains("expand to at most 11344"), "{err}");
        let err = entry_limits("w.npy", CompressionMethod::Stored, 10, 11, 100).unwrap_err();
        assert!(err.to_string().contains("at most 10"), "{err}");
        let ok = entry_limits("w.npy", CompressionMethod::Deflated, 10, 5000, 100).unwrap();
        assert_eq!(ok.available, 5000);
        assert!(entry_limits("w.npy", CompressionMethod::Stored, 200, 10, 100).is_err());
    }
}
