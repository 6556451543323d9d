//! Memory limits of the readers: the named bounds on a safetensors header, the budget a load may
//! spend ([`ReadLimits`]), and allocations that fail as errors rather than aborting.
//!
//! Rust aborts the process when an infallible allocation fails, and a library must not: every
//! buffer whose size comes from a file is reserved with `try_reserve`, after the size has been
//! charged to the load's budget.

use crate::error::{Error, Result};

/// The default of [`ReadLimits::max_bytes`]: 16 GiB, room for a 4-billion-parameter checkpoint
/// in `f32`, or a 2-billion-parameter one read from a file kept in memory while it converts.
///
/// ```
/// assert_eq!(nninit::io::DEFAULT_MAX_BYTES, 16 << 30);
/// ```
pub const DEFAULT_MAX_BYTES: u64 = 16 << 30;

/// The largest safetensors header accepted: 16 MiB.
///
/// The header is JSON with one short entry per tensor (about 100 bytes): a checkpoint with
/// thousands of tensors has a header of a few hundred KiB. The reference `safetensors` crate
/// allows 100 MB; a tighter bound keeps the JSON parser's memory and time small on a hostile
/// file.
///
/// ```
/// assert_eq!(nninit::io::MAX_HEADER_BYTES, 16 << 20);
/// ```
pub const MAX_HEADER_BYTES: u64 = 16 << 20;

/// The most dimensions a tensor's shape may have in a safetensors header: 1024.
///
/// NumPy and PyTorch allow 64; the bound is checked on the header's text, before the JSON
/// parser allocates a `Vec` for a shape of millions of entries.
///
/// ```
/// assert_eq!(nninit::io::MAX_DIMENSIONS, 1024);
/// ```
pub const MAX_DIMENSIONS: usize = 1024;

/// How much memory a load may allocate from the sizes a file declares.
///
/// The budget counts the bytes read from the file (a safetensors file is read whole; an `.npy`
/// array or `.npz` entry one at a time, its raw bytes released once converted) and the `f32`
/// values produced (4 bytes each; an `i8`, `u8` or `bool` element grows four times). A load
/// that would exceed it fails with [`Error::OverBudget`] before allocating; an allocation the
/// system refuses is [`Error::OutOfMemory`], never an abort. The default is
/// [`DEFAULT_MAX_BYTES`]; the plain loaders ([`load_safetensors`](super::load_safetensors),
/// [`load_npy`](super::load_npy), [`load_npz`](super::load_npz)) use it, and the `_limited`
/// forms take a `ReadLimits`.
///
/// ```
/// use nninit::io::ReadLimits;
/// let limits = ReadLimits::default().max_bytes(1 << 30);
/// assert_eq!(limits.max_bytes, 1 << 30);
/// assert_eq!(ReadLimits::default().max_bytes, nninit::io::DEFAULT_MAX_BYTES);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadLimits {
    /// The most bytes a load may allocate from the file's declared sizes.
    pub max_bytes: u64,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

impl ReadLimits {
    /// Sets the budget in bytes.
    ///
    /// ```
    /// assert_eq!(nninit::io::ReadLimits::default().max_bytes(4096).max_bytes, 4096);
    /// ```
    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }
}

/// The part of a load's budget still available.
#[derive(Debug)]
pub(crate) struct Budget {
    max: u64,
    spent: u64,
}

impl Budget {
    pub(crate) fn new(limits: &ReadLimits) -> Budget {
        Budget {
            max: limits.max_bytes,
            spent: 0,
        }
    }

    /// Charges `bytes` for `what` (e.g. "tensor 'w' as f32"), or says why it cannot.
    pub(crate) fn spend(&mut self, bytes: u64, what: impl FnOnce() -> String) -> Result<()> {
        match self.spent.checked_add(bytes) {
            Some(total) if total <= self.max => {
                self.spent = total;
                Ok(())
            }
            _ => {
                let what = what();
                Err(Error::OverBudget {
                    what: if self.spent == 0 {
                        what
                    } else {
                        format!("{what}, with the {} bytes read before it,", self.spent)
                    },
                    needed: self.spent.saturating_add(bytes),
                    budget: self.max,
                })
            }
        }
    }

    /// Gives back `bytes` of a transient buffer that has been freed.
    pub(crate) fn release(&mut self, bytes: u64) {
        self.spent = self.spent.saturating_sub(bytes);
    }
}

/// An empty `Vec` with room for `len` elements, or [`Error::OutOfMemory`] naming `what`.
pub(crate) fn try_with_capacity<T>(len: usize, what: impl FnOnce() -> String) -> Result<Vec<T>> {
    let mut values = Vec::new();
    values
        .try_reserve_exact(len)
        .map_err(|_| Error::OutOfMemory {
            what: what(),
            bytes: (len as u64).saturating_mul(std::mem::size_of::<T>() as u64),
        })?;
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_charges_releases_and_refuses() {
        let mut budget = Budget::new(&ReadLimits::default().max_bytes(100));
        budget.spend(60, || "a".into()).unwrap();
        let err = budget.spend(41, || "tensor 'b'".into()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tensor 'b', with the 60 bytes read before it, needs 101 bytes, over the read \
             budget of 100 bytes (raise it with ReadLimits::max_bytes)"
        );
        budget.release(60);
        budget.spend(100, || "c".into()).unwrap();
        assert!(budget.spend(u64::MAX, || "d".into()).is_err());
    }

    #[test]
    fn an_impossible_allocation_is_an_error_not_an_abort() {
        let err = try_with_capacity::<f32>(usize::MAX / 2, || "tensor 'huge'".into()).unwrap_err();
        assert!(matches!(err, Error::OutOfMemory { .. }), "{err}");
        assert!(err.to_string().contains("tensor 'huge'"), "{err}");
        assert!(
            try_with_capacity::<f32>(16, String::new)
                .unwrap()
                .capacity()
                >= 16
        );
    }
}
