//! The conclusions of `examples/quickstart.rs`: every initializer's measured moments agree with
//! its formula, and of two identical networks, the zero-initialized one never learns and is
//! diagnosed as symmetric while the Glorot one learns.

#[path = "../examples/common/mod.rs"]
mod common;

use common::data::xor;
use common::initializer_table::{agrees, measure};
use common::tour::run;
use nninit::Warning;

#[test]
fn every_initializer_matches_its_formula_on_a_784_by_256_layer() -> nninit::Result<()> {
    let rows = measure(42)?;
    assert_eq!(rows.len(), 15);
    for row in &rows {
        assert!(row.ok, "{row:?}");
        assert!(row.mean.1.is_finite() && row.std.1.is_finite(), "{row:?}");
    }
    Ok(())
}

#[test]
fn the_agreement_check_rejects_a_wrong_scale_or_shift() {
    let n = 784 * 256;
    let std = 0.05;
    assert!(agrees(n, (0.0, std), (0.0, std * 1.005)));
    assert!(!agrees(n, (0.0, std), (0.0, std * 1.1)), "bound x 1.1");
    assert!(!agrees(n, (0.0, std), (0.0, 0.0)), "bound x 0");
    // 10 standard errors off in the mean.
    assert!(!agrees(
        n,
        (0.0, std),
        (10.0 * std / (n as f64).sqrt(), std)
    ));
}

#[test]
fn zero_weights_never_learn_and_are_diagnosed_while_glorot_learns() -> nninit::Result<()> {
    let [zeros, glorot] = run(&xor(200, 1), 600)?;
    let ln2 = std::f32::consts::LN_2;
    assert!(
        zeros
            .history
            .losses()
            .iter()
            .all(|c| (c - ln2).abs() < 1e-5)
    );
    let symmetric = |w: &Warning| matches!(w, Warning::SymmetricUnits { .. });
    let stalled = |w: &Warning| matches!(w, Warning::StalledLoss { .. });
    assert!(
        zeros.report.warnings.iter().any(symmetric),
        "{}",
        zeros.report
    );
    assert!(
        zeros.report.warnings.iter().any(stalled),
        "{}",
        zeros.report
    );
    assert!(
        !glorot.report.warnings.iter().any(symmetric),
        "{}",
        glorot.report
    );
    let final_cost = glorot.history.last().map_or(f32::NAN, |e| e.loss);
    assert!(final_cost < 0.3, "Glorot's final cost {final_cost}");
    assert!(
        glorot.accuracy > 0.9,
        "Glorot's accuracy {}",
        glorot.accuracy
    );
    Ok(())
}
