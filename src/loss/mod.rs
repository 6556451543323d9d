//! The `Loss` trait and the usual losses.

use std::fmt::Debug;

use crate::error::Result;

/// A loss over a batch: predictions are `batch x outputs`, row-major, with `outputs` explicit.
///
/// The reduction is PyTorch's default `reduction='mean'`.
pub trait Loss: Debug + Send + Sync {
    /// A short lowercase name, e.g. `"mse"`.
    fn name(&self) -> &str;

    /// The mean loss of `predictions` against `targets`.
    fn loss(&self, predictions: &[f32], targets: &[f32], outputs: usize) -> Result<f32>;

    /// The mean loss, and in `gradient` its gradient with respect to the predictions.
    fn loss_and_gradient(
        &self,
        predictions: &[f32],
        targets: &[f32],
        outputs: usize,
        gradient: &mut [f32],
    ) -> Result<f32>;

    /// The fraction of samples classified correctly, for classification losses; `None` for
    /// regression losses.
    fn accuracy(&self, predictions: &[f32], targets: &[f32], outputs: usize) -> Option<f32> {
        let _ = (predictions, targets, outputs);
        None
    }
}
