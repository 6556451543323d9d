//! Weights that all hold one constant make every unit a copy of its neighbours.
//!
//! A [2, 16, 3] tanh network whose weights are all 0.5 classifies the 3-class spiral. Every
//! hidden unit computes the same `tanh(0.5 (x0 + x1))`, so the three logits are equal for every
//! input and the softmax says (1/3, 1/3, 1/3) everywhere; `diagnose` reports the identical
//! units. Training cannot separate them (they receive identical gradients), so the network
//! stays as good as one hidden unit. Re-initializing each layer with
//! `xavier_uniform(&mut layer, fan_in, fan_out)` makes the outputs differ, and the loss falls.
//!
//! Run it with:
//!
//! ```text
//! cargo run --release --example identical_outputs [-- --out DIR]
//! ```
//!
//! It writes `identical_outputs.svg` (both cost curves) to `DIR` (default
//! `target/nninit-plots/`).

mod common;

use common::args::Args;
use common::data::spiral;
use common::identical_outputs::{CONSTANT, HIDDEN, LEARNING_RATE, constant_network, run};
use common::plot::{Chart, Series, line_chart};
use common::train::{Progress, Table, cost, percent};

/// Full-batch Adam steps per phase.
const ITERATIONS: usize = 1500;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env("identical_outputs")?;
    let data = spiral(100, 3, 1);
    println!(
        "[2, {HIDDEN}, 3] tanh network (3 logits, softmax cross entropy) on the {}-point, 3-class spiral; \
         every weight = {CONSTANT}; {ITERATIONS} full-batch Adam steps of lr {LEARNING_RATE}\n",
        data.len()
    );
    show_first_outputs(&data)?;

    let mut progress = Progress::new(1);
    progress.next("training the constant network, then the re-initialized one");
    let (constant, glorot) = run(&data, ITERATIONS)?;
    println!(
        "\nnet.diagnose(...) of the constant network:\n{}",
        constant.report
    );
    println!(
        "\nnet.diagnose(...) after xavier_uniform(&mut layer, fan_in, fan_out) on each layer:\n{}",
        glorot.report
    );

    let mut table = Table::new(&[
        "weights",
        "output spread",
        "cost at 0",
        "final cost",
        "accuracy",
        "hidden units after training",
    ]);
    for (label, phase) in [("all 0.5", &constant), ("xavier_uniform", &glorot)] {
        let units = if phase.identical_after {
            "still identical"
        } else {
            "distinct"
        };
        table.row(vec![
            label.to_string(),
            format!("{:.6}", phase.spread),
            cost(phase.run.costs[0]),
            cost(phase.run.final_cost()),
            percent(phase.accuracy),
            units.to_string(),
        ]);
    }
    println!("\n{table}");
    println!(
        "\n\"output spread\": the largest gap between two logits of the same input, over all inputs. \
         0 means the network says\n(1/3, 1/3, 1/3) for every input (cost ln 3 = 1.098612). The constant \
         network's hidden units get identical gradients\nand stay identical, so it can only learn what one \
         hidden unit can; after xavier_uniform they differ and the loss falls."
    );

    let chart = Chart::new(
        "Constant weights vs xavier_uniform, [2, 16, 3] tanh on the spiral",
        "iteration (full-batch Adam step)",
        "cost (cross entropy)",
    )
    .series(Series::from_values("all weights 0.5", &constant.run.costs))
    .series(Series::from_values("xavier_uniform", &glorot.run.costs));
    let path = args.plot_path("identical_outputs.svg");
    line_chart(&path, &chart)?;
    println!("\nplot written to {}", path.display());
    Ok(())
}

/// Prints the constant network's logits and probabilities for a few inputs.
fn show_first_outputs(data: &common::data::Dataset) -> Result<(), Box<dyn std::error::Error>> {
    let mut net = constant_network(data.classes)?;
    let mut table = Table::new(&["input x0", "input x1", "logits", "softmax"]);
    for sample in [0, 60, 150, 240, 299] {
        let x = &data.x[2 * sample..2 * sample + 2];
        let logits = net.forward(x)?;
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exps: Vec<f32> = logits.iter().map(|z| (z - max).exp()).collect();
        let total: f32 = exps.iter().sum();
        let show = |values: &[f32]| {
            values
                .iter()
                .map(|v| format!("{v:.4}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let probabilities: Vec<f32> = exps.iter().map(|e| e / total).collect();
        table.row(vec![
            format!("{:.3}", x[0]),
            format!("{:.3}", x[1]),
            show(&logits),
            show(&probabilities),
        ]);
    }
    println!("{table}");
    Ok(())
}
