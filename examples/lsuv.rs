//! LSUV (Mishkin & Matas 2016, "All you need is a good init"): a 25-layer ReLU network that
//! does not train from a plain Gaussian trains after LSUV.
//!
//! Every weight of a 25-hidden-layer ReLU network (64 units per layer) is drawn from
//! N(0, 0.01²): each layer multiplies the signal's std by about 0.01 · √(64 / 2) = 0.06, so the
//! last layers see nothing and the gradients vanish. `Network::lsuv` replaces the weights by
//! orthonormal ones and rescales each layer, first to last, until its pre-activation has std
//! 1 on a batch. The program prints the per-layer std before and after, the LSUV report, and
//! a full-batch SGD run from each start on the 3-class spiral.
//!
//! Run it with:
//!
//! ```text
//! cargo run --release --example lsuv [-- --out DIR]
//! ```
//!
//! It writes `lsuv_std.svg` and `lsuv_training.svg` to `DIR` (default `target/nninit-plots/`).

mod common;

use common::args::Args;
use common::data::spiral;
use common::lsuv::{Comparison, Deep, compare};
use common::plot::{Chart, Scale, Series, line_chart};
use common::train::{Table, cost, percent};

const SIZE: Deep = Deep {
    depth: 25,
    width: 64,
    iterations: 500,
    learning_rate: 0.01,
    momentum: 0.9,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env("lsuv")?;
    let data = spiral(100, 3, 1);
    let Comparison {
        gaussian_stds,
        report,
        lsuv_stds,
        trained,
    } = compare(&data, SIZE)?;

    println!(
        "\nLSUV report (std before = after the orthonormal start, before rescaling):\n\n{report}"
    );
    let mut table = Table::new(&["layer", "std, N(0, 0.01²)", "std, LSUV"]);
    for (layer, (g, l)) in gaussian_stds.iter().zip(&lsuv_stds).enumerate() {
        table.row(vec![
            layer.to_string(),
            format!("{g:.3e}"),
            format!("{l:.4}"),
        ]);
    }
    println!(
        "\nstd of each layer's pre-activation on the {} spiral points:\n\n{table}",
        data.len()
    );

    let mut runs = Table::new(&["start", "cost at 0", "final cost", "accuracy"]);
    for t in &trained {
        let final_cost = match t.run.diverged_at {
            Some(step) => format!("diverged at step {step}"),
            None => cost(t.run.final_cost()),
        };
        runs.row(vec![
            t.start.to_string(),
            cost(t.run.costs[0]),
            final_cost,
            percent(t.accuracy),
        ]);
    }
    println!(
        "\n{} full-batch SGD steps (lr {}, momentum {}), cross entropy on the 3-class spiral:\n\n{runs}",
        SIZE.iterations, SIZE.learning_rate, SIZE.momentum
    );
    println!(
        "\nFrom N(0, 0.01²) the signal shrinks ~16x per layer: the logits and the early layers' gradients are ~0 and the \
         cost stays at ln 3 = 1.0986.\nAfter LSUV every layer's pre-activation has std 1 and the network learns."
    );

    let std_chart = Chart::new("Pre-activation std per layer", "layer", "std")
        .y_scale(Scale::Log)
        .series(Series::new("N(0, 0.01²)", points(&gaussian_stds)))
        .series(Series::new("LSUV", points(&lsuv_stds)));
    let std_path = args.plot_path("lsuv_std.svg");
    line_chart(&std_path, &std_chart)?;
    let training = trained.iter().fold(
        Chart::new(
            format!("{}-layer ReLU network: plain Gaussian vs LSUV", SIZE.depth),
            "iteration (full-batch SGD step)",
            "cost (cross entropy)",
        ),
        |chart, t| chart.series(Series::from_values(t.start, &t.run.costs)),
    );
    let training_path = args.plot_path("lsuv_training.svg");
    line_chart(&training_path, &training)?;
    println!(
        "\nplots written to {} and {}",
        std_path.display(),
        training_path.display()
    );
    Ok(())
}

fn points(values: &[f64]) -> Vec<(f64, f64)> {
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| (i as f64, v))
        .collect()
}
