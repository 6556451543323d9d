//! Why a sigmoid output wants cross entropy, not mean squared error.
//!
//! The same [2, 16, 1] tanh / sigmoid network, from the same N(0, 3²) weights (large, so the
//! output starts saturated and confidently wrong on many points), trained on the flower dataset
//! by full-batch gradient descent with the same learning rate, once with MSE and once with
//! binary cross entropy. Cross entropy's gradient at the output pre-activation is `p - y`; MSE's
//! is `2 (p - y) p (1 - p)`, which vanishes exactly where the network is most wrong. The
//! example prints both gradients for a range of outputs, the cost and accuracy of both runs,
//! and plots them side by side.
//!
//! Run it with:
//!
//! ```text
//! cargo run --release --example mse_vs_cross_entropy [-- --out DIR]
//! ```
//!
//! It writes `mse_vs_cross_entropy.svg` (costs and accuracies) to `DIR` (default
//! `target/nninit-plots/`).

mod common;

use common::args::Args;
use common::data::flower;
use common::loss_comparison::{HIDDEN, initial_wrong_gradients, output_gradients, run};
use common::plot::{Chart, Scale, Series, line_charts};
use common::train::{Progress, Table, cost, percent};

/// Full-batch steps per loss.
const ITERATIONS: usize = 1000;
/// Both runs' step size.
const LEARNING_RATE: f32 = 0.1;
/// Accuracy measured every this many steps.
const EVERY: usize = 10;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env("mse_vs_cross_entropy")?;
    println!(
        "The gradient reaching a sigmoid output's pre-activation z, for target y = 1 (p = sigmoid(z)):\n"
    );
    let mut table = Table::new(&[
        "p",
        "sigmoid'(z)",
        "MSE dL/dp",
        "MSE dL/dz",
        "BCE dL/dp",
        "BCE dL/dz",
        "BCE / MSE",
    ]);
    for g in output_gradients(&[0.001, 0.01, 0.1, 0.5, 0.9, 0.99])? {
        table.row(vec![
            format!("{}", g.p),
            format!("{:.6}", g.slope),
            format!("{:.4}", g.mse.0),
            format!("{:.6}", g.mse.1),
            format!("{:.4}", g.bce.0),
            format!("{:.6}", g.bce.1),
            format!("{:.1}x", g.bce.1 / g.mse.1),
        ]);
    }
    println!("{table}");
    println!(
        "\nMSE: dL/dz = 2 (p - y) p (1 - p). When the output is confidently wrong (p = 0.001, y = 1) the sigmoid's flat \
         tail\nmultiplies the error by p (1 - p) = 0.001: almost no gradient. Cross entropy's dL/dp = (p - y) / (p (1 - p)) \
         cancels that\nslope exactly, leaving dL/dz = p - y: the more wrong, the larger the step.\n"
    );

    let data = flower(200, 1);
    let (mse_wrong, bce_wrong) = initial_wrong_gradients(&data)?;
    println!(
        "At initialization, the points this network gets wrong send back a mean |dL/dz| of {mse_wrong:.4} with MSE \
         and {bce_wrong:.4} with cross entropy.\n"
    );
    let mut progress = Progress::new(1);
    progress.next("training with MSE, then with cross entropy");
    let [mse, bce] = run(&data, ITERATIONS, LEARNING_RATE, EVERY)?;
    println!(
        "[2, {HIDDEN}, 1] tanh / sigmoid on the {}-point flower, N(0, 3²) weights, {ITERATIONS} full-batch steps of lr \
         {LEARNING_RATE}\n",
        data.len()
    );
    let mut table = Table::new(&[
        "loss",
        "cost at 0",
        "final cost",
        "acc. at 50",
        "acc. at 200",
        "final acc.",
        "steps to 85%",
    ]);
    for c in [&mse, &bce] {
        let at = |step: usize| {
            c.accuracies
                .iter()
                .find(|a| a.0 >= step)
                .map_or(f32::NAN, |a| a.1)
        };
        table.row(vec![
            c.label.to_string(),
            cost(c.costs[0]),
            cost(c.costs[c.costs.len() - 1]),
            percent(at(50)),
            percent(at(200)),
            percent(c.final_accuracy()),
            c.steps_to(0.85).map_or("never".into(), |s| s.to_string()),
        ]);
    }
    println!("{table}");
    println!(
        "\n(The two costs are different functions, so compare their shapes and the accuracies, not their values.)"
    );

    let costs = [&mse, &bce].iter().fold(
        Chart::new(
            "Cost (each run's own loss)",
            "iteration",
            "cost (log scale)",
        )
        .y_scale(Scale::Log),
        |chart, c| chart.series(Series::from_values(c.label, &c.costs)),
    );
    let accuracy = [&mse, &bce].iter().fold(
        Chart::new("Training accuracy", "iteration", "accuracy"),
        |chart, c| {
            let points = c.accuracies.iter().map(|&(s, a)| (s as f64, f64::from(a)));
            chart.series(Series::new(c.label, points.collect()))
        },
    );
    let path = args.plot_path("mse_vs_cross_entropy.svg");
    line_charts(
        &path,
        "MSE vs cross entropy on a sigmoid output (same network, same weights, same lr)",
        &[costs, accuracy],
        2,
    )?;
    println!("\nplot written to {}", path.display());
    Ok(())
}
