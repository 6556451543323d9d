//! What the framework adapters (features `candle` and `burn`) share: initializers usable for
//! both element types a framework tensor is filled from, and the fans of tensors that have
//! none.

use crate::error::Error;
use crate::fans::Fans;
use crate::init::{Initializer, InitializerFamily};

/// An initializer for both element types a framework tensor is filled from: `f32` (for f32,
/// f16 and bf16 tensors, rounded afterwards) and `f64`. Every initializer of nninit qualifies;
/// a custom one needs both `Initializer<f32>` and `Initializer<f64>`.
///
/// ```
/// fn takes<I: nninit::interop::FloatInitializer>(_: I) {}
/// takes(nninit::GlorotUniform::default());
/// takes(nninit::Zeros);
/// ```
pub trait FloatInitializer: Initializer<f32> + Initializer<f64> {}

impl<I: Initializer<f32> + Initializer<f64> + ?Sized> FloatInitializer for I {}

/// Whether an initializer of `family` ignores the fans (constants and fixed scales), so that
/// it can fill a tensor that has none, such as a bias.
pub(crate) fn ignores_fans(family: InitializerFamily) -> bool {
    matches!(
        family,
        InitializerFamily::Constant | InitializerFamily::FixedScale
    )
}

/// The error for a fan-scaled initializer on tensor `name` of shape `dims`, which has no fans.
pub(crate) fn no_fans(dims: &[usize], name: &str) -> Error {
    Error::invalid(
        "shape",
        "at least 2 dimensions for a fan-scaled initializer",
        format!("{dims:?} for tensor '{name}'"),
    )
}

/// Placeholder fans for initializers that ignore them (see [`ignores_fans`]).
pub(crate) const UNUSED_FANS: Fans = Fans::new(1, 1);
