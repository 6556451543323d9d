//! The conclusions of `examples/training_dashboard.rs`, at its full size (a second in
//! release, a few at the test profile's opt-level 2): N(0, 1) weights
//! saturate the deep tanh layers and start confidently wrong; Glorot with tanh's gain does not
//! saturate but its readout still starts above ln C; scaling the readout down 10x starts at
//! ln C, and both Glorot starts learn the spiral.

#[path = "../examples/common/mod.rs"]
mod common;

use common::data::spiral;
use common::training_dashboard::{SETUP, Start, run};
use nninit::Warning;

#[test]
fn initializations_are_told_apart_by_their_diagnosis() -> nninit::Result<()> {
    let data = spiral(200, 3, 1);
    let ln_c = 3f32.ln();
    let confidently_wrong = |w: &Warning| matches!(w, Warning::LossAboveUninformed { .. });
    let saturated = |w: &Warning| matches!(w, Warning::SaturatedUnits { .. });

    let normal = run(Start::UnitNormal, &SETUP, &data)?;
    assert!(
        normal.at_init.warnings.iter().any(saturated),
        "{}",
        normal.at_init
    );
    assert!(
        normal.at_init.warnings.iter().any(confidently_wrong),
        "{}",
        normal.at_init
    );

    let glorot = run(Start::GlorotTanhGain, &SETUP, &data)?;
    assert!(
        !glorot.at_init.warnings.iter().any(saturated),
        "{}",
        glorot.at_init
    );

    let small = run(Start::GlorotSmallReadout, &SETUP, &data)?;
    // Logits of std ~0.15: the loss lands within 10% of ln 3 (here 1.079 vs 1.099).
    assert!((small.at_init.loss - ln_c).abs() < 0.1, "{}", small.at_init);
    assert!(small.at_init.is_healthy(), "{}", small.at_init);

    // 600 samples in batches of 32: 19 steps per epoch, 760 steps, a snapshot every 25.
    for result in [&normal, &glorot, &small] {
        assert_eq!(result.history.snapshots.len(), 31);
    }
    let final_loss = |r: &common::training_dashboard::Run| r.history.last().map(|m| m.loss);
    assert!(final_loss(&small) < final_loss(&normal));
    assert!(final_loss(&glorot) < final_loss(&normal));
    Ok(())
}
