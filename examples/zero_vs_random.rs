//! Zero initialization never learns; random initialization does.
//!
//! The classic two-layer experiment of deeplearning.ai's "Planar data classification with one
//! hidden layer": a [2, 4, 1] tanh / sigmoid network on the 400-point "flower" dataset, binary
//! cross entropy, full-batch gradient descent with learning rate 1.2. Started from zero
//! weights, every hidden unit computes tanh(0) = 0, the output weights get no gradient, the
//! hidden weights get none either, and the cost stays at ln 2 = 0.693147 forever. Started
//! from N(0, 1) or from Glorot uniform, the units differ and the cost falls.
//!
//! Run it with:
//!
//! ```text
//! cargo run --release --example zero_vs_random [-- --out DIR]
//! ```
//!
//! It writes `zero_vs_random.svg` (the three cost curves) to `DIR` (default
//! `target/nninit-plots/`).

mod common;

use common::args::Args;
use common::data::flower;
use common::plot::{Chart, Series, line_chart};
use common::train::{Table, cost, percent};
use common::zero_vs_random::{HIDDEN, LEARNING_RATE, run};

/// Iterations, as in the assignment's printout (0 to 1000 inclusive).
const ITERATIONS: usize = 1001;
/// A cost line every this many iterations.
const PRINT_EVERY: usize = 100;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env("zero_vs_random")?;
    let data = flower(200, 1);
    println!(
        "[2, {HIDDEN}, 1] tanh / sigmoid on the {} dataset ({} points), BCE, learning rate {LEARNING_RATE}",
        data.name,
        data.len()
    );
    let mut current = String::new();
    let outcomes = run(&data, ITERATIONS, |label, i, c| {
        if label != current {
            println!("\n{label}:");
            current = label.to_string();
        }
        if i % PRINT_EVERY == 0 {
            println!("Cost after iteration {i}: {c:.6}");
        }
    })?;

    let mut table = Table::new(&[
        "init",
        "cost at 0",
        "cost at 1000",
        "train accuracy",
        "hidden units",
    ]);
    for outcome in &outcomes {
        let units = if outcome.identical_hidden_units {
            "all identical"
        } else {
            "distinct"
        };
        table.row(vec![
            outcome.label.to_string(),
            cost(outcome.run.costs[0]),
            cost(outcome.run.final_cost()),
            percent(outcome.accuracy),
            units.to_string(),
        ]);
    }
    println!("\n{table}");
    println!(
        "\nZero weights: every hidden unit outputs tanh(0) = 0, so no weight receives a gradient \
         and the cost never leaves ln 2;\nthe network predicts the class balance (50%) for every \
         point. Random weights break the symmetry and the cost falls."
    );

    let chart = outcomes.iter().fold(
        Chart::new(
            "Zero vs random initialization, [2, 4, 1] tanh/sigmoid, lr 1.2",
            "iteration",
            "cost (binary cross entropy)",
        ),
        |chart, o| chart.series(Series::from_values(o.label, &o.run.costs)),
    );
    let path = args.plot_path("zero_vs_random.svg");
    line_chart(&path, &chart)?;
    println!("\nplot written to {}", path.display());
    Ok(())
}
