//! The crate's single error type.
//!
//! Every fallible function returns [`Result<T>`]. Messages are lowercase, say what was wrong and
//! carry the offending value, so that they read well after "error: ".

use std::path::PathBuf;

/// `Result<T, nninit::Error>`.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong in nninit.
///
/// ```
/// let err = nninit::Fans::try_new(0, 10).unwrap_err();
/// assert_eq!(err.to_string(), "fan_in must be > 0, got 0");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter outside its domain, e.g. a zero fan, a negative std or `low >= high`.
    #[error("{name} must be {expected}, got {value}")]
    InvalidArgument {
        /// The parameter's name, as in the API (`fan_in`, `std`, `low`).
        name: &'static str,
        /// What the parameter must satisfy, e.g. `"> 0"` or `"finite"`.
        expected: String,
        /// The value that was passed, formatted.
        value: String,
    },

    /// A tensor or matrix whose shape does not match what the receiver expects.
    #[error("{what} has shape {found:?}, {expected_by} expects {expected:?}")]
    ShapeMismatch {
        /// What has the wrong shape, e.g. `tensor '0.weight'`.
        what: String,
        /// Who expects another shape, e.g. `layer`.
        expected_by: String,
        /// The shape that was expected.
        expected: Vec<usize>,
        /// The shape that was found.
        found: Vec<usize>,
    },

    /// A slice whose length does not fit the sizes given with it.
    #[error("{what} has length {found}, expected {expected}")]
    LengthMismatch {
        /// What has the wrong length, e.g. `weights` or `targets`.
        what: String,
        /// The length required (an exact length, or "at least N" for strided operands).
        expected: String,
        /// The length found.
        found: usize,
    },

    /// A NaN or infinite number where a finite one is required.
    #[error("{what} is not finite ({value})")]
    NonFinite {
        /// Where the value was found, e.g. `prediction at index 3` or `loss at step 12`.
        what: String,
        /// The value itself (NaN or +-inf).
        value: f64,
    },

    /// An initializer asked for a shard of a tensor it can only fill whole (e.g. `Orthogonal`,
    /// whose every element depends on the whole matrix through its QR decomposition).
    #[error(
        "{initializer} cannot fill a shard on its own: every element depends on the whole \
         tensor; fill the whole tensor with fill_seeded"
    )]
    NotShardable {
        /// The initializer's name, e.g. `Orthogonal`.
        initializer: &'static str,
    },

    /// An I/O error while reading or writing `path`.
    #[error("i/o error on '{}': {source}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A file that is not a valid file of its format.
    #[error("malformed {format} file: {reason}")]
    MalformedFile {
        /// The format, e.g. `safetensors`, `npy`, `npz`.
        format: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// A valid file whose element type nninit does not convert.
    #[error("unsupported dtype {dtype} for tensor '{tensor}' in {format} file")]
    UnsupportedDtype {
        /// The format, e.g. `safetensors` or `npy`.
        format: &'static str,
        /// The dtype as the file names it, e.g. `I64` or `<c8`.
        dtype: String,
        /// The tensor's name (the file name for `.npy`).
        tensor: String,
    },

    /// Reading a file would need more memory than the reader's budget allows
    /// ([`io::ReadLimits::max_bytes`](crate::io::ReadLimits::max_bytes)).
    #[error(
        "{what} needs {needed} bytes, over the read budget of {budget} bytes (raise it with ReadLimits::max_bytes)"
    )]
    OverBudget {
        /// What needed the memory, e.g. `tensor 'w' as f32`.
        what: String,
        /// The bytes it needed.
        needed: u64,
        /// The budget in force.
        budget: u64,
    },

    /// The allocator refused memory that a file's sizes asked for (reported instead of aborting
    /// the process).
    #[error("cannot allocate {bytes} bytes for {what}: out of memory")]
    OutOfMemory {
        /// What the memory was for, e.g. `tensor 'w' as f32`.
        what: String,
        /// The size of the refused allocation.
        bytes: u64,
    },

    /// An error reported by a tensor framework nninit adapts to (feature `candle` or `burn`),
    /// e.g. a device that refuses an allocation.
    #[error("{framework} error: {source}")]
    Framework {
        /// The framework, e.g. `candle`.
        framework: &'static str,
        /// The framework's own error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// Loading a state dict into a network found missing, unexpected or misshapen tensors.
    #[error("{}", describe_state_dict(missing, unexpected, mismatched))]
    StateDict {
        /// Keys the network needs that the file lacks.
        missing: Vec<String>,
        /// Keys in the file that the network does not use.
        unexpected: Vec<String>,
        /// Keys whose shape differs: (key, shape in file, shape the network expects).
        mismatched: Vec<(String, Vec<usize>, Vec<usize>)>,
    },
}

fn describe_state_dict(
    missing: &[String],
    unexpected: &[String],
    mismatched: &[(String, Vec<usize>, Vec<usize>)],
) -> String {
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("missing keys: {}", missing.join(", ")));
    }
    if !unexpected.is_empty() {
        parts.push(format!("unexpected keys: {}", unexpected.join(", ")));
    }
    for (key, found, expected) in mismatched {
        parts.push(format!(
            "tensor '{key}' has shape {found:?}, layer expects {expected:?}"
        ));
    }
    format!(
        "state dict does not match the network: {}",
        parts.join("; ")
    )
}

impl Error {
    /// Shorthand for [`Error::InvalidArgument`].
    pub(crate) fn invalid(
        name: &'static str,
        expected: impl Into<String>,
        value: impl std::fmt::Display,
    ) -> Self {
        Error::InvalidArgument {
            name,
            expected: expected.into(),
            value: value.to_string(),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Checks that `value` is finite as an `f32` (the type activations and losses compute in).
pub(crate) fn check_finite_f32(name: &'static str, value: f64) -> Result<()> {
    if (value as f32).is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(name, "finite in f32", value))
    }
}

/// Checks that `value` is positive and at least `f32::MIN_POSITIVE` (the smallest normal
/// `f32`), so that dividing by it stays finite.
pub(crate) fn check_positive_f32(name: &'static str, value: f64) -> Result<()> {
    let in_f32 = value as f32;
    if in_f32.is_finite() && in_f32 >= f32::MIN_POSITIVE {
        Ok(())
    } else {
        Err(Error::invalid(
            name,
            format!(
                "finite and >= {:e} (f32's smallest normal number)",
                f32::MIN_POSITIVE
            ),
            value,
        ))
    }
}

/// Checks that `value` is finite.
pub(crate) fn check_finite(name: &'static str, value: f64) -> Result<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(name, "finite", value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_static() {
        fn assert_bounds<E: std::error::Error + Send + Sync + 'static>() {}
        assert_bounds::<Error>();
    }

    #[test]
    fn messages_carry_values() {
        let err = Error::ShapeMismatch {
            what: "tensor '0.weight'".into(),
            expected_by: "layer".into(),
            expected: vec![8, 5],
            found: vec![8, 4],
        };
        assert_eq!(
            err.to_string(),
            "tensor '0.weight' has shape [8, 4], layer expects [8, 5]"
        );
        assert_eq!(
            check_finite("std", f64::NAN).unwrap_err().to_string(),
            "std must be finite, got NaN"
        );
    }
}
