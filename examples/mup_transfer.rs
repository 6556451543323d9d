//! muP's promise, measured: tune the learning rate on a narrow network, reuse it on a wide one.
//!
//! A student MLP `16 -> w -> w -> 4` (ReLU) learns a fixed random tanh teacher with Adam, for
//! widths w = 64 to 1024, under the standard parametrization (SP: He initialization, one
//! learning rate for every parameter) and under muP with base width 64
//! (`NetworkBuilder::mup(64)`: readout multiplier 1/width_mult, hidden learning rates divided
//! by width_mult; Yang et al. 2022, "Tensor Programs V"). It prints and plots:
//!
//! 1. the coordinate check of both (mean |activation| per layer over the first 5 Adam steps,
//!    across widths): flat under muP, the readout growing with width under SP;
//! 2. a learning-rate sweep (the final training loss against log2 of the learning rate, one
//!    line per width, like the paper's Figure 1): under SP the best learning rate moves with
//!    width, under muP it stays put.
//!
//! Run it with:
//!
//! ```text
//! cargo run --release --example mup_transfer [-- --out DIR]
//! ```
//!
//! It writes `mup_coord_check_sp.svg`, `mup_coord_check_mup.svg` and `mup_lr_sweep.svg` to
//! `DIR` (default `target/nninit-plots/`).

mod common;

use common::args::Args;
use common::mup_transfer::{
    BASE_WIDTH, Parametrization, Point, Sweep, best_log2_learning_rates, coordinates, sweep, task,
};
use common::plot::{Chart, Series, line_charts};
use common::train::{Progress, Table, cost};

const WIDTHS: [usize; 5] = [64, 128, 256, 512, 1024];
const LOG2_LEARNING_RATES: [i32; 10] = [-13, -12, -11, -10, -9, -8, -7, -6, -5, -4];
const SIZE: Sweep<'static> = Sweep {
    widths: &WIDTHS,
    log2_learning_rates: &LOG2_LEARNING_RATES,
    steps: 120,
    batch: 64,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env("mup_transfer")?;
    let task = task(4096)?;

    for parametrization in Parametrization::ALL {
        let check = coordinates(&task, &WIDTHS, parametrization)?;
        println!(
            "\nCoordinate check, {}: mean |y| of each layer at each of the first 5 Adam steps (lr 2^-6), and its spread \
             (max / min) across widths\n\n{check}",
            parametrization.label()
        );
        let name = format!(
            "mup_coord_check_{}.svg",
            parametrization.label().to_lowercase()
        );
        let path = args.plot_path(&name);
        let title = format!(
            "Coordinate check, {} (Adam, lr 2^-6)",
            parametrization.label()
        );
        std::fs::write(&path, check.to_svg(&title))?;
        println!("written to {}", path.display());
    }

    let runs = 2 * WIDTHS.len() * LOG2_LEARNING_RATES.len();
    let mut progress = Progress::new(runs);
    let points = sweep(&task, SIZE, |parametrization, width, k| {
        progress.next(&format!(
            "{} width {width} lr 2^{k}",
            parametrization.label()
        ))
    })?;
    print_sweep(&points);

    let charts: Vec<Chart> = Parametrization::ALL
        .iter()
        .map(|&parametrization| {
            WIDTHS.iter().fold(
                Chart::new(
                    format!("{} (base width {BASE_WIDTH})", parametrization.label()),
                    "log2 learning rate",
                    "training loss (MSE)",
                ),
                |chart, &width| {
                    let line = points
                        .iter()
                        .filter(|p| p.parametrization == parametrization && p.width == width)
                        .filter_map(|p| Some((f64::from(p.log2_learning_rate), f64::from(p.loss?))))
                        .collect();
                    chart.series(Series::new(format!("width {width}"), line))
                },
            )
        })
        .collect();
    let path = args.plot_path("mup_lr_sweep.svg");
    line_charts(
        &path,
        "Adam learning-rate sweep across widths (cf. Yang et al. 2022, Figure 1)",
        &charts,
        2,
    )?;
    println!("\nplot written to {}", path.display());
    Ok(())
}

/// The loss of every run, then the best learning rate per width.
fn print_sweep(points: &[Point]) {
    for parametrization in Parametrization::ALL {
        let mut header = vec!["log2 lr".to_string()];
        header.extend(WIDTHS.iter().map(|w| format!("w={w}")));
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        let mut table = Table::new(&header);
        for &k in &LOG2_LEARNING_RATES {
            let mut row = vec![k.to_string()];
            for &width in &WIDTHS {
                let loss = points
                    .iter()
                    .find(|p| {
                        p.parametrization == parametrization
                            && p.width == width
                            && p.log2_learning_rate == k
                    })
                    .and_then(|p| p.loss);
                row.push(loss.map_or("diverged".into(), cost));
            }
            table.row(row);
        }
        println!(
            "\n{}: training loss (MSE on 1024 samples) after {} Adam steps (batch {}), by log2 learning rate and width\n\n{table}",
            parametrization.label(),
            SIZE.steps,
            SIZE.batch
        );
    }
    println!("\nbest log2 learning rate per width:");
    for parametrization in Parametrization::ALL {
        let best: Vec<String> = best_log2_learning_rates(points, parametrization)
            .iter()
            .map(|(width, k)| format!("w={width}: {k}"))
            .collect();
        println!("  {:<4} {}", parametrization.label(), best.join(", "));
    }
    println!(
        "\nUnder SP the readout's output and the hidden layers' updates grow with width, so the best learning rate shrinks \
         as the network widens;\nunder muP every layer's update stays the same size, so the learning rate tuned at width \
         {BASE_WIDTH} stays the best one (within a step of the grid) as the width grows 16-fold,\nand near that optimum \
         the wider network is the better one."
    );
}
