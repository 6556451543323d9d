//! The conclusion of `examples/learning_rates.rs` at reduced size: 1e-3 is too slow, 0.3
//! learns, 3 jumps (or diverges, which is reported rather than crashed on).

#[path = "../examples/common/mod.rs"]
mod common;

use common::data::spiral;
use common::learning_rates::{Verdict, run};

#[test]
fn too_small_crawls_moderate_learns_too_large_jumps() -> nninit::Result<()> {
    let outcomes = run(&spiral(100, 3, 1), &[1e-3, 0.3, 3.0], 400, |_| {})?;
    assert_eq!(outcomes[0].verdict, Verdict::Slow);
    assert_eq!(outcomes[1].verdict, Verdict::Learns);
    let large = outcomes[2].verdict;
    assert!(
        matches!(large, Verdict::Unstable { .. } | Verdict::Diverged(_)),
        "{large}"
    );
    let best = outcomes[1].run.final_cost();
    assert!(outcomes.iter().all(|o| o.run.final_cost() >= best));
    Ok(())
}
