//! The conclusion of `examples/init_strategies.rs` at reduced size (fewer, larger steps): zeros
//! stays at ln 2 and 50%, N(0, 1) x 10 starts saturated with a huge cost and does not learn,
//! and He, the ReLU network's own initializer, generalizes to the held-out circles.

#[path = "../examples/common/mod.rs"]
mod common;

use common::data::circles;
use common::init_strategies::run;

#[test]
fn he_learns_the_circles_while_zeros_and_huge_weights_do_not() -> nninit::Result<()> {
    let (train, test) = (circles(300, 0.05, 1), circles(100, 0.05, 2));
    let outcomes = run(&train, &test, 3000, 0.05, |_| {})?;
    let find = |label: &str| {
        let found = outcomes.iter().find(|o| o.label == label);
        found.unwrap_or_else(|| panic!("no run labelled {label}"))
    };
    let (zeros, huge, he) = (find("zeros"), find("N(0, 1) x 10"), find("He normal"));
    let ln2 = std::f32::consts::LN_2;
    assert!(zeros.run.costs.iter().all(|c| (c - ln2).abs() < 1e-5));
    assert_eq!((zeros.train_accuracy, zeros.test_accuracy), (0.5, 0.5));
    assert!(huge.run.costs[0] > 10.0, "{}", huge.run.costs[0]);
    assert!(huge.test_accuracy < 0.7, "{}", huge.test_accuracy);
    assert!(
        he.test_accuracy >= 0.9,
        "He test accuracy {}",
        he.test_accuracy
    );
    assert!(he.run.final_cost() < 0.5 * zeros.run.final_cost());
    Ok(())
}
