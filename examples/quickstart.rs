//! A one-minute tour of nninit.
//!
//! 1. Fills a 784 x 256 layer with every initializer of the crate and prints, for each, the
//!    mean and standard deviation its formula promises next to the ones measured.
//! 2. Builds the same small network ([2, 8, 8, 1], tanh / tanh / sigmoid) twice, once with
//!    all weights zero and once with Glorot uniform, trains both side by side on the XOR
//!    dataset, prints both cost columns, and prints what `Network::diagnose` says about each.
//! 3. Names the lesson.
//!
//! Run it with:
//!
//! ```text
//! cargo run --release --example quickstart [-- --out DIR]
//! ```
//!
//! It writes `quickstart_costs.svg` and `quickstart_weights.svg` to `DIR` (default
//! `target/nninit-plots/`).

mod common;

use common::args::Args;
use common::data::xor;
use common::initializer_table::{FAN_IN, FAN_OUT, cases, measure};
use common::plot::{Chart, Series, histogram_chart, line_chart};
use common::tour::{HIDDEN, LEARNING_RATE, run};
use common::train::{Progress, Table, cost, percent};
use nninit::Fans;

/// Full-batch epochs of the tour.
const EPOCHS: usize = 2000;
/// A cost row every this many epochs.
const PRINT_EVERY: usize = 200;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env("quickstart")?;
    let mut progress = Progress::new(3);
    progress.next("filling a 784 x 256 layer with each initializer");
    initializer_table()?;
    let data = xor(400, 1);
    println!(
        "\n2. The same [2, {HIDDEN}, {HIDDEN}, 1] tanh/tanh/sigmoid network on {} points of XOR, \
         BCE, full-batch gradient descent (lr {LEARNING_RATE})\n",
        data.len()
    );
    progress.next("training both networks");
    let [zeros, glorot] = run(&data, EPOCHS)?;
    let (zero_costs, glorot_costs) = (zeros.history.losses(), glorot.history.losses());
    let mut table = Table::new(&["epoch", "cost, zero weights", "cost, Glorot uniform"]);
    for epoch in (0..EPOCHS).step_by(PRINT_EVERY).chain([EPOCHS - 1]) {
        table.row(vec![
            epoch.to_string(),
            cost(zero_costs[epoch]),
            cost(glorot_costs[epoch]),
        ]);
    }
    table.row(vec![
        "accuracy".into(),
        percent(zeros.accuracy),
        percent(glorot.accuracy),
    ]);
    println!("{table}");
    for outcome in [&zeros, &glorot] {
        println!(
            "\nnet.diagnose(...) at initialization, then .with_history(...) after training, {}:\n{}",
            outcome.label, outcome.report
        );
    }
    println!(
        "\n3. The lesson: with all weights equal, every unit of a layer computes the same thing and \
         receives the same gradient,\nso the units stay identical forever (here, with zeros, tanh(0) = 0 \
         and no weight gets any gradient at all):\nthe cost stays at ln 2 = 0.693147. Random weights \
         scaled to the layer's fans (Glorot for tanh, He for ReLU)\nbreak the symmetry and keep the \
         signal's size from layer to layer, and the network learns."
    );

    progress.next("plotting");
    let costs = Chart::new(
        "Quickstart: zero weights vs Glorot uniform on XOR",
        "epoch (one full-batch step)",
        "cost (binary cross entropy)",
    )
    .series(Series::from_values("zero weights", &zero_costs))
    .series(Series::from_values("Glorot uniform", &glorot_costs));
    let costs_path = args.plot_path("quickstart_costs.svg");
    line_chart(&costs_path, &costs)?;
    let weights_path = args.plot_path("quickstart_weights.svg");
    line_chart(&weights_path, &weight_histograms()?)?;
    println!(
        "\nplots written to {} and {}",
        costs_path.display(),
        weights_path.display()
    );
    Ok(())
}

/// Part 1: every initializer on one layer, expected against measured moments.
fn initializer_table() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "1. Every initializer on a {FAN_OUT} x {FAN_IN} layer (fan_in {FAN_IN}, fan_out {FAN_OUT}, \
         {} weights), fill_seeded(seed 42)\n",
        FAN_IN * FAN_OUT
    );
    let mut table = Table::new(&[
        "initializer",
        "std formula",
        "mean",
        "measured",
        "std",
        "measured",
        "agrees",
    ]);
    for row in measure(42)? {
        table.row(vec![
            row.code.to_string(),
            row.formula.to_string(),
            format!("{:.6}", row.mean.0),
            format!("{:.6}", row.mean.1),
            format!("{:.6}", row.std.0),
            format!("{:.6}", row.std.1),
            if row.ok { "yes" } else { "NO" }.to_string(),
        ]);
    }
    println!("{table}");
    println!(
        "\"agrees\": mean within 5 standard errors (std / sqrt(n)), std within 1.5% of the formula."
    );
    Ok(())
}

/// Histograms of the fan-scaled initializers' weights on the 784 x 256 layer.
fn weight_histograms() -> Result<Chart, Box<dyn std::error::Error>> {
    let fans = Fans::new(FAN_IN, FAN_OUT);
    let mut groups = Vec::new();
    let fan_scaled = ["Glorot", "He", "Lecun", "Orthogonal"];
    for case in cases()
        .into_iter()
        .filter(|c| fan_scaled.iter().any(|f| c.code.starts_with(f)))
    {
        let mut weights = vec![0.0f32; FAN_IN * FAN_OUT];
        case.init.fill_seeded(&mut weights, fans, 42)?;
        groups.push((case.code.to_string(), weights));
    }
    Ok(histogram_chart(
        format!("Weights of a {FAN_OUT} x {FAN_IN} layer, per initializer"),
        "weight value",
        &groups,
        (-0.12, 0.12),
        48,
    ))
}
