//! Eight ways to start the same network, side by side.
//!
//! The deeplearning.ai "Initialization" experiment, extended to the whole family: one
//! [2, 10, 5, 1] ReLU / ReLU / sigmoid network on the circles dataset (300 training points,
//! 100 held out), binary cross entropy, full-batch gradient descent with learning rate 0.01,
//! started from zeros, N(0, 0.01), N(0, 1) x 10 (far too large), Glorot uniform and normal,
//! He, LeCun and orthogonal weights. Zeros never breaks symmetry; tiny weights give a vanishing
//! signal; huge weights saturate the sigmoid so no gradient flows; the fan-scaled
//! initializers learn, He (made for ReLU) best.
//!
//! Run it with:
//!
//! ```text
//! cargo run --release --example init_strategies [-- --out DIR]
//! ```
//!
//! It writes `init_strategies.svg` (the cost curves) to `DIR` (default `target/nninit-plots/`).

mod common;

use common::args::Args;
use common::data::circles;
use common::init_strategies::{initializers, run};
use common::plot::{Chart, Scale, Series, line_chart};
use common::train::{Progress, Table, cost, percent};

/// Full-batch steps per initializer (the assignment runs 15,000).
const ITERATIONS: usize = 10_000;
/// The assignment's learning rate.
const LEARNING_RATE: f32 = 0.01;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env("init_strategies")?;
    let train = circles(300, 0.05, 1);
    let test = circles(100, 0.05, 2);
    let mut progress = Progress::new(initializers().len());
    let outcomes = run(&train, &test, ITERATIONS, LEARNING_RATE, |label| {
        progress.next(&format!("training from {label}"))
    })?;
    println!(
        "\n[2, 10, 5, 1] ReLU/ReLU/sigmoid on circles ({} train, {} test points), BCE, {ITERATIONS} full-batch steps of lr \
         {LEARNING_RATE}\n",
        train.len(),
        test.len()
    );
    let mut table = Table::new(&[
        "init",
        "cost at 0",
        "cost at 1000",
        "final cost",
        "train acc.",
        "test acc.",
    ]);
    for o in &outcomes {
        let at_1000 = o.run.costs.get(1000).copied().unwrap_or(f32::NAN);
        table.row(vec![
            o.label.to_string(),
            cost(o.run.costs[0]),
            cost(at_1000),
            cost(o.run.final_cost()),
            percent(o.train_accuracy),
            percent(o.test_accuracy),
        ]);
    }
    println!("{table}");
    println!(
        "\nzeros: every unit identical and the ReLUs output 0, so nothing but the output bias learns (50%).\n\
         N(0, 0.01): the signal and the gradients shrink ~100x per layer, so the cost has not left ln 2 after {ITERATIONS} steps.\n\
         N(0, 1) x 10: pre-activations in the thousands saturate the sigmoid: in f32 its outputs are exactly 0 or 1, the cost\n\
         sits at the clamp (100 per wrong point) and no gradient flows back, so training never starts.\n\
         Glorot, He, LeCun: the signal keeps its size, the cost starts near ln 2 and falls; He, made for ReLU, reaches the lowest cost.\n\
         orthogonal keeps each layer's output norm (times the gain), not each unit's variance: the 10 x 2 first layer spreads\n\
         the input over 10 units with 1/5 of He's variance each, and it learns slowest of the fan-aware ones."
    );

    let chart = outcomes.iter().fold(
        Chart::new(
            "Initialization strategies, [2, 10, 5, 1] ReLU on circles, lr 0.01",
            "iteration (full-batch step)",
            "cost (binary cross entropy, log scale)",
        )
        .y_scale(Scale::Log),
        |chart, o| chart.series(Series::sampled(o.label, &o.run.costs, 25)),
    );
    let path = args.plot_path("init_strategies.svg");
    line_chart(&path, &chart)?;
    println!("\nplot written to {}", path.display());
    Ok(())
}
