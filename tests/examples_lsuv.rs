//! The conclusion of `examples/lsuv.rs` at reduced size: a 12-layer ReLU network from
//! N(0, 0.01²) has vanishing pre-activations and does not learn; after LSUV every layer's
//! pre-activation has std 1 ± 0.1 and it learns.

#[path = "../examples/common/mod.rs"]
mod common;

use common::data::spiral;
use common::lsuv::{Comparison, Deep, compare};

#[test]
fn the_gaussian_start_is_stuck_and_lsuv_learns() -> nninit::Result<()> {
    let size = Deep {
        depth: 12,
        width: 32,
        iterations: 300,
        learning_rate: 0.01,
        momentum: 0.9,
    };
    let data = spiral(100, 3, 1);
    let Comparison {
        gaussian_stds,
        report,
        lsuv_stds,
        trained,
    } = compare(&data, size)?;
    assert!(report.converged(), "{report}");
    assert!(
        lsuv_stds.iter().all(|s| (s - 1.0).abs() <= 0.1),
        "{lsuv_stds:?}"
    );
    // Each Gaussian layer shrinks the signal: the last is below 1e-10.
    assert!(gaussian_stds.windows(2).all(|w| w[1] < w[0]));
    assert!(gaussian_stds[size.depth] < 1e-10, "{gaussian_stds:?}");
    let ln3 = 3f32.ln();
    let (gaussian, lsuv) = (&trained[0], &trained[1]);
    assert!(
        (gaussian.run.final_cost() - ln3).abs() < 1e-3,
        "{}",
        gaussian.run.final_cost()
    );
    assert!(lsuv.run.final_cost() < 0.5, "{}", lsuv.run.final_cost());
    assert!(lsuv.accuracy > 0.8);
    Ok(())
}
