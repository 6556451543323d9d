//! What the framework adapters (features `candle` and `burn`) share: initializers usable for
//! both element types a framework tensor is filled from.

use crate::init::Initializer;

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
