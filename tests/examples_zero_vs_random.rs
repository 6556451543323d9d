//! The conclusion of `examples/zero_vs_random.rs`, at the example's own (small) size: zero
//! initialization keeps the cost at ln 2 and the hidden units identical; N(0, 1) and Glorot
//! learn.

#[path = "../examples/common/mod.rs"]
mod common;

use common::data::flower;
use common::zero_vs_random::run;

#[test]
fn zero_init_stays_at_ln_2_and_random_inits_learn() -> nninit::Result<()> {
    let outcomes = run(&flower(200, 1), 1001, |_, _, _| {})?;
    let [zeros, normal, glorot] = [&outcomes[0], &outcomes[1], &outcomes[2]];
    assert_eq!(zeros.label, "zeros");
    // Balanced classes and zero weights: the output bias's gradient is mean(p - y) = 0 too,
    // so nothing moves. The example prints these with six decimals.
    for (i, c) in zeros.run.costs.iter().enumerate() {
        assert_eq!(format!("{c:.6}"), "0.693147", "iteration {i}");
    }
    assert!(zeros.identical_hidden_units);
    assert_eq!(zeros.accuracy, 0.5);
    for random in [normal, glorot] {
        assert!(!random.identical_hidden_units, "{}", random.label);
        // The assignment reaches about 90% on this dataset with 4 hidden units.
        assert!(
            random.run.final_cost() < 0.35,
            "{}: {}",
            random.label,
            random.run.final_cost()
        );
        assert!(
            random.accuracy > 0.85,
            "{}: {}",
            random.label,
            random.accuracy
        );
    }
    Ok(())
}
