//! What a deep network does to its signal at initialization, and why that decides training.
//!
//! For 50 hidden layers of 128 units, each of six activations (tanh, sigmoid, ReLU, leaky
//! ReLU, ELU, SELU) crossed with five initializers (N(0, 0.01), N(0, 1), Glorot, He, LeCun):
//! the activations' standard deviation at depth 1, 10, 20, 30, 40 and 50, the weight-gradient
//! norm of the first and last hidden layer, and the dead and saturated fractions, all read from
//! `Network::diagnose`. Then histograms of a tanh network's activations per layer (as in Glorot
//! & Bengio 2010, Fig. 6), and a short training run of a 30-layer ReLU network started from
//! Glorot and from He (as in He et al. 2015, Fig. 3).
//!
//! Run it with:
//!
//! ```text
//! cargo run --release --example deep_signal [-- --out DIR]
//! ```
//!
//! It writes `deep_signal_std.svg`, `deep_signal_gradients.svg`, `deep_signal_histograms.svg`
//! and `deep_signal_training.svg` to `DIR` (default `target/nninit-plots/`).

mod common;

use common::args::Args;
use common::data::spiral;
use common::deep_signal::{Act, Cell, DeepRun, Survey, survey, tanh_activations, train_deep_relu};
use common::plot::{Chart, Scale, Series, histogram_chart, line_chart, line_charts};
use common::train::{Progress, Table, cost, percent};

/// The survey's size.
const SURVEY: Survey = Survey {
    depth: 50,
    width: 128,
    batch: 128,
};
/// Depths shown in the table.
const DEPTHS: [usize; 6] = [1, 10, 20, 30, 40, 50];
/// The deep ReLU training run.
const DEEP_RUN: DeepRun = DeepRun {
    depth: 30,
    width: 32,
    iterations: 400,
    learning_rate: 0.0005,
    momentum: 0.95,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env("deep_signal")?;
    let cells_total = Act::ALL.len() * 5;
    let mut progress = Progress::new(cells_total + 3);
    let cells = survey(SURVEY, |act, init| {
        progress.next(&format!("diagnosing {} + {init}", act.label()))
    })?;
    print_survey(&cells);

    progress.next("tanh activations per layer for the histograms");
    let panels = tanh_activations(5, SURVEY.width, 1000)?;
    let charts: Vec<Chart> = panels
        .iter()
        .map(|(label, layers)| {
            let groups: Vec<(String, Vec<f32>)> = layers
                .iter()
                .enumerate()
                .map(|(l, a)| (format!("layer {}", l + 1), a.clone()))
                .collect();
            histogram_chart(
                format!("tanh, {label}"),
                "activation value",
                &groups,
                (-1.0, 1.0),
                40,
            )
        })
        .collect();
    let histograms = args.plot_path("deep_signal_histograms.svg");
    line_charts(
        &histograms,
        "Activation histograms of a 5-layer tanh network at initialization (cf. Glorot & Bengio 2010, Fig. 6)",
        &charts,
        3,
    )?;

    let data = spiral(100, 3, 1);
    let trained = train_deep_relu(&data, DEEP_RUN, |init| {
        progress.next(&format!(
            "training the {}-layer ReLU network from {init}",
            DEEP_RUN.depth
        ))
    })?;
    println!(
        "\n{}-layer ReLU network ({} units per layer) on the 3-class spiral, cross entropy, SGD lr {} momentum {}, {} full-batch steps",
        DEEP_RUN.depth,
        DEEP_RUN.width,
        DEEP_RUN.learning_rate,
        DEEP_RUN.momentum,
        DEEP_RUN.iterations
    );
    let mut table = Table::new(&["init", "cost at 0", "best cost", "final cost", "accuracy"]);
    for t in &trained {
        let final_cost = match t.run.diverged_at {
            Some(step) => format!("diverged at step {step}"),
            None => cost(t.run.final_cost()),
        };
        let best = t.run.costs.iter().copied().fold(f32::INFINITY, f32::min);
        table.row(vec![
            t.init.to_string(),
            cost(t.run.costs[0]),
            cost(best),
            final_cost,
            percent(t.accuracy),
        ]);
    }
    println!("{table}");
    println!(
        "\nWith Glorot, each ReLU layer halves the signal's variance: after {} layers the logits are ~2^-{} of the input \
         and so are the gradients,\nso SGD barely moves: the cost stays near ln 3 = 1.0986. (Its accuracy can still beat \
         chance: the argmax of vanishing logits\ncarries some information, but the cost, which is what gradient descent \
         follows, has not moved.) He's factor 2 keeps the\nvariance constant through depth and the network learns.",
        DEEP_RUN.depth,
        DEEP_RUN.depth / 2
    );

    let std_path = args.plot_path("deep_signal_std.svg");
    line_charts(
        &std_path,
        "Activation std per layer at initialization (50 layers x 128 units)",
        &panels_by_act(&cells, |s| s.activation_std, "activation std"),
        3,
    )?;
    let gradient_path = args.plot_path("deep_signal_gradients.svg");
    line_charts(
        &gradient_path,
        "Weight-gradient norm per layer at initialization (50 layers x 128 units)",
        &panels_by_act(&cells, |s| s.gradient_norm, "weight-gradient L2 norm"),
        3,
    )?;
    let training = trained.iter().fold(
        Chart::new(
            format!(
                "{}-layer ReLU network: Glorot vs He (cf. He et al. 2015, Fig. 3)",
                DEEP_RUN.depth
            ),
            "iteration (full-batch SGD step)",
            "cost (cross entropy)",
        ),
        |chart, t| chart.series(Series::from_values(t.init, &t.run.costs)),
    );
    let training_path = args.plot_path("deep_signal_training.svg");
    line_chart(&training_path, &training)?;
    println!(
        "\nplots written to {}, {}, {} and {}",
        std_path.display(),
        gradient_path.display(),
        histograms.display(),
        training_path.display()
    );
    Ok(())
}

/// The survey table: one row per activation x initializer.
fn print_survey(cells: &[Cell]) {
    let depth_headers: Vec<String> = DEPTHS.iter().map(|d| format!("std@{d}")).collect();
    let mut header: Vec<&str> = vec!["activation", "init"];
    header.extend(depth_headers.iter().map(String::as_str));
    header.extend(["grad@1", "grad@50", "dead@50", "saturated@50"]);
    let mut table = Table::new(&header);
    for cell in cells {
        let Some(last) = cell.layers.last() else {
            continue;
        };
        let mut row = vec![cell.act.label().to_string(), cell.init.to_string()];
        row.extend(DEPTHS.iter().map(|&d| {
            cell.std_at(d)
                .map_or("overflow".into(), |s| format!("{s:.2e}"))
        }));
        row.push(format!("{:.2e}", cell.layers[0].gradient_norm));
        if cell.overflowed {
            row.extend(["overflow", "-", "-"].map(String::from));
        } else {
            row.push(format!("{:.2e}", last.gradient_norm));
            row.push(percent(last.dead_fraction));
            row.push(percent(last.saturated_fraction));
        }
        table.row(row);
    }
    println!(
        "\nAt initialization: {} hidden layers of {} units, a batch of {} N(0, 1) inputs; std@d = std of layer d's \
         outputs, grad@d = L2 norm of layer d's weight gradient (MSE to N(0, 1) targets)\n",
        SURVEY.depth, SURVEY.width, SURVEY.batch
    );
    println!("{table}");
    println!(
        "\ntanh keeps its size with Glorot or LeCun (shrinking slowly) and saturates with N(0, 1). ReLU and leaky ReLU keep it \
         only with He:\nGlorot and LeCun halve the variance at every layer (std x 2^-25 after 50). N(0, 0.01) vanishes for \
         every activation, and N(0, 1)\noverflows f32 for the unbounded ones. SELU self-normalizes with LeCun (std near 1 \
         at every depth). Glorot and LeCun\ncoincide here because the layers are square (fan_in = fan_out)."
    );
}

/// One chart per activation, one line per initializer, of a per-layer statistic (log scale).
fn panels_by_act(
    cells: &[Cell],
    stat: fn(&nninit::LayerStats) -> f32,
    y_label: &str,
) -> Vec<Chart> {
    Act::ALL
        .iter()
        .map(|&act| {
            cells.iter().filter(|c| c.act == act).fold(
                Chart::new(act.label(), "layer", y_label).y_scale(Scale::Log),
                |chart, cell| {
                    let points = cell
                        .layers
                        .iter()
                        .map(|s| ((s.index + 1) as f64, f64::from(stat(s))));
                    chart.series(Series::new(cell.init, points.collect()))
                },
            )
        })
        .collect()
}
