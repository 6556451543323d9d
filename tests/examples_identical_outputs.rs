//! The conclusion of `examples/identical_outputs.rs` at reduced size: with every weight one
//! constant, the logits of each input are equal (softmax 1/3 everywhere), `diagnose` reports
//! the identical units, and training keeps them identical; `xavier_uniform` on each layer
//! makes the outputs differ and the loss fall.

#[path = "../examples/common/mod.rs"]
mod common;

use common::data::spiral;
use common::identical_outputs::{HIDDEN, run};
use nninit::Warning;

#[test]
fn constant_weights_give_identical_units_until_xavier_uniform() -> nninit::Result<()> {
    let data = spiral(50, 3, 1);
    let (constant, glorot) = run(&data, 400)?;
    assert_eq!(constant.spread, 0.0);
    let ln3 = 3f32.ln();
    assert!(
        (constant.run.costs[0] - ln3).abs() < 1e-5,
        "{}",
        constant.run.costs[0]
    );
    let symmetric_hidden =
        constant.report.warnings.iter().any(
            |w| matches!(w, Warning::SymmetricUnits { layer: 0, units, .. } if *units == HIDDEN),
        );
    assert!(symmetric_hidden, "{}", constant.report);
    assert!(
        constant.identical_after,
        "training separated the constant network's units"
    );

    assert!(glorot.spread > 0.01, "{}", glorot.spread);
    assert!(!glorot.identical_after);
    assert!(
        !glorot
            .report
            .warnings
            .iter()
            .any(|w| matches!(w, Warning::SymmetricUnits { .. }))
    );
    // One effective hidden unit cannot fit a 3-arm spiral; sixteen distinct ones can.
    assert!(
        glorot.run.final_cost() < 0.5 * constant.run.final_cost(),
        "{} vs {}",
        glorot.run.final_cost(),
        constant.run.final_cost()
    );
    assert!(
        glorot.accuracy > constant.accuracy + 0.2,
        "{} vs {}",
        glorot.accuracy,
        constant.accuracy
    );
    Ok(())
}
