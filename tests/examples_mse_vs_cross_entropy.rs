//! The conclusions of `examples/mse_vs_cross_entropy.rs`: at a sigmoid output, cross entropy's
//! gradient is `p - y` and MSE's `2 (p - y) p (1 - p)`, so from the same saturated start cross
//! entropy reaches 85% accuracy several times sooner.

#[path = "../examples/common/mod.rs"]
mod common;

use common::data::flower;
use common::loss_comparison::{initial_wrong_gradients, output_gradients, run};

#[test]
fn output_gradients_follow_the_formulas() -> nninit::Result<()> {
    for g in output_gradients(&[0.001, 0.01, 0.1, 0.5, 0.9, 0.99])? {
        let (p, y) = (f64::from(g.p), 1.0);
        let mse = 2.0 * (p - y) * p * (1.0 - p);
        // f32 logit and sigmoid round-trip: relative error ~1e-6 / (1 - p).
        assert!(
            (f64::from(g.mse.1) - mse).abs() < 1e-4 * mse.abs() + 1e-7,
            "{g:?}"
        );
        assert!((f64::from(g.bce.1) - (p - y)).abs() < 1e-3, "{g:?}");
    }
    let wrong = output_gradients(&[0.001])?[0];
    assert!(wrong.bce.1 / wrong.mse.1 > 400.0);
    Ok(())
}

#[test]
fn cross_entropy_recovers_from_a_saturated_start_sooner() -> nninit::Result<()> {
    let data = flower(200, 1);
    let (mse_wrong, bce_wrong) = initial_wrong_gradients(&data)?;
    assert!(bce_wrong > 5.0 * mse_wrong, "{bce_wrong} vs {mse_wrong}");
    let [mse, bce] = run(&data, 400, 0.1, 10)?;
    let bce_steps = bce.steps_to(0.85).unwrap_or(usize::MAX);
    let mse_steps = mse.steps_to(0.85).unwrap_or(usize::MAX);
    assert!(bce_steps <= 100, "cross entropy needed {bce_steps} steps");
    assert!(
        mse_steps >= 3 * bce_steps,
        "MSE {mse_steps} vs cross entropy {bce_steps}"
    );
    Ok(())
}
