//! The conclusions of `examples/glorot_figure6.rs` (Glorot & Bengio 2010, Figures 6 and 7), at
//! full size, measured through the `Probe` on a hand-written model: with the standard
//! `U(±1/√n)` the activations shrink layer after layer and the back-propagated gradients shrink
//! toward the input; the normalized initialization keeps both within a factor 2.

#[path = "../examples/common/mod.rs"]
mod common;

use common::glorot_figure6::{DEPTH, batch, measure, normalized, standard};
use nninit::Report;

/// First hidden layer's value over the last hidden layer's.
fn first_over_last(report: &Report, pick: fn(&nninit::LayerStats) -> f32) -> f32 {
    pick(&report.layers[0]) / pick(&report.layers[DEPTH - 1])
}

#[test]
fn standard_initialization_shrinks_activations_and_gradients_normalized_does_not()
-> nninit::Result<()> {
    let (x, labels) = batch();
    let standard = measure(&x, &labels, &standard)?;
    let normalized = measure(&x, &labels, &normalized)?;
    // U(±1/√n) has variance 1/(3n): each tanh layer multiplies the variance by about 1/3 (std
    // by 0.58), so over four layers the std falls about 9x; Glorot's 2/(n_in + n_out) = 1/n
    // keeps it within a factor 2. The gradients shrink the same way going down.
    let activation = |s: &nninit::LayerStats| s.activation_std;
    let gradient = |s: &nninit::LayerStats| s.gradient_std;
    assert!(first_over_last(&standard, activation) > 5.0, "{standard}");
    assert!(first_over_last(&standard, gradient) < 0.2, "{standard}");
    let level = |r: f32| (0.5..2.0).contains(&r);
    assert!(
        level(first_over_last(&normalized, activation)),
        "{normalized}"
    );
    assert!(
        level(first_over_last(&normalized, gradient)),
        "{normalized}"
    );
    assert!(
        normalized
            .layers
            .iter()
            .all(|l| l.initializer == "GlorotUniform")
    );
    assert!(standard.layers.iter().all(|l| l.initializer == "Uniform"));
    Ok(())
}
