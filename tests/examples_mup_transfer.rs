//! The conclusions of `examples/mup_transfer.rs` at reduced size: under SP the best Adam
//! learning rate moves down as the width grows 8-fold, under muP it stays within one step of
//! the grid; the coordinate check's readout row is flat under muP and grows under SP.

#[path = "../examples/common/mod.rs"]
mod common;

use common::mup_transfer::{
    Parametrization, Sweep, best_log2_learning_rates, coordinates, sweep, task,
};

#[test]
fn the_best_learning_rate_transfers_under_mup_only() -> nninit::Result<()> {
    let task = task(2048)?;
    let size = Sweep {
        widths: &[64, 512],
        log2_learning_rates: &[-9, -8, -7, -6, -5],
        steps: 120,
        batch: 64,
    };
    let points = sweep(&task, size, |_, _, _| {})?;
    let best = |p| best_log2_learning_rates(&points, p);
    let sp = best(Parametrization::Standard);
    let mup = best(Parametrization::Mup);
    assert!(sp[1].1 <= sp[0].1 - 2, "SP best learning rates {sp:?}");
    assert!(
        (mup[1].1 - mup[0].1).abs() <= 1,
        "muP best learning rates {mup:?}"
    );
    Ok(())
}

#[test]
fn the_coordinate_check_separates_the_parametrizations() -> nninit::Result<()> {
    let task = task(256)?;
    let widths = [64, 256, 1024];
    let sp = coordinates(&task, &widths, Parametrization::Standard)?;
    let mup = coordinates(&task, &widths, Parametrization::Mup)?;
    let (sp_spread, mup_spread) = (sp.readout_spread(), mup.readout_spread());
    assert!(sp_spread.is_some_and(|s| s > 4.0), "{sp}");
    assert!(mup_spread.is_some_and(|s| s < 2.0), "{mup}");
    Ok(())
}
