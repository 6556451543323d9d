//! The learning rate decides whether a well-initialized network learns.
//!
//! The same [2, 64, 64, 3] ReLU network, from the same He-initialized weights, trained by
//! full-batch gradient descent on the 3-class spiral with eight learning rates log-spaced from
//! 1e-3 to 3. Too small crawls; around 0.1 to 1 learns; 3 overshoots and the cost jumps. A run whose loss or gradients become NaN or infinite is reported, not crashed
//! on: `train_step` returns `Error::NonFinite` and leaves the weights as they were.
//!
//! Run it with:
//!
//! ```text
//! cargo run --release --example learning_rates [-- --out DIR]
//! ```
//!
//! It writes `learning_rates.svg` (one cost curve per learning rate) to `DIR` (default
//! `target/nninit-plots/`).

mod common;

use common::args::Args;
use common::data::spiral;
use common::learning_rates::{HIDDEN, LEARNING_RATES, run};
use common::plot::{Chart, Scale, Series, line_chart};
use common::train::{Progress, Table, cost, percent};

/// Full-batch steps per learning rate.
const ITERATIONS: usize = 1000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env("learning_rates")?;
    let data = spiral(100, 3, 1);
    let mut progress = Progress::new(LEARNING_RATES.len());
    let outcomes = run(&data, &LEARNING_RATES, ITERATIONS, |lr| {
        progress.next(&format!("training with learning rate {lr}"))
    })?;
    println!(
        "\n[2, {HIDDEN}, {HIDDEN}, 3] ReLU network, He normal, on the {}-point spiral; cross entropy; {ITERATIONS} \
         full-batch SGD steps per learning rate\n",
        data.len()
    );
    let mut table = Table::new(&[
        "learning rate",
        "cost at 0",
        "final cost",
        "accuracy",
        "verdict",
    ]);
    for o in &outcomes {
        table.row(vec![
            format!("{}", o.learning_rate),
            cost(o.run.costs[0]),
            cost(o.run.final_cost()),
            percent(o.accuracy),
            o.verdict.to_string(),
        ]);
    }
    println!("{table}");
    println!(
        "\nA good initialization is necessary, not sufficient: the step size must suit the curvature of the loss.\n\
         Too small and the cost crawls; too large and a step overshoots the valley: the cost jumps, ReLU units can die\n\
         (their inputs turn negative for every sample), and the run ends far above what a smaller rate reaches."
    );

    let chart = outcomes.iter().fold(
        Chart::new(
            "Learning rates from 1e-3 to 3: [2, 64, 64, 3] ReLU on the spiral",
            "iteration (full-batch SGD step)",
            "cost (cross entropy, log scale)",
        )
        .y_scale(Scale::Log),
        |chart, o| {
            chart.series(Series::sampled(
                format!("lr {}", o.learning_rate),
                &o.run.costs,
                2,
            ))
        },
    );
    let path = args.plot_path("learning_rates.svg");
    line_chart(&path, &chart)?;
    println!("\nplot written to {}", path.display());
    Ok(())
}
