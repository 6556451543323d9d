//! Diagnostics over a whole training run, as pictures: the same deep tanh network and data
//! (a 3-class spiral, 6 hidden layers of 64 tanh units, softmax cross entropy, SGD) trained
//! from (a) N(0, 1) weights, (b) Glorot uniform with tanh's gain 5/3 and (c) (b) with the
//! readout layer scaled down 10x. A monitor records every layer's statistics every 25 steps
//! during `fit`; each run writes a self-contained HTML dashboard (report table, warnings,
//! activation and gradient histograms, activation std, saturation and update-to-data ratio
//! over training), and the first warnings are printed.
//!
//! Run it with:
//!
//! ```text
//! cargo run --release --example training_dashboard [-- --out DIR]
//! ```
//!
//! It writes `training_dashboard_a_normal.html`, `training_dashboard_b_glorot.html` and
//! `training_dashboard_c_glorot_small_readout.html` to `DIR` (default `target/nninit-plots/`);
//! open them in a browser.

mod common;

use common::args::Args;
use common::data::spiral;
use common::train::{Table, cost, percent};
use common::training_dashboard::{Run, SETUP, Start, run};
use nninit::diagnostics::html;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env("training_dashboard")?;
    let data = spiral(200, 3, 1);
    println!(
        "{} hidden tanh layers of {} units on a {}-class spiral ({} points), SGD lr {}, \
         {} epochs of batches of {}; snapshots every {} steps.\n",
        SETUP.depth,
        SETUP.width,
        data.classes,
        data.len(),
        SETUP.learning_rate,
        SETUP.epochs,
        SETUP.batch_size,
        SETUP.monitor_every
    );
    let mut table = Table::new(&[
        "start",
        "initial loss",
        "ln C",
        "final loss",
        "final accuracy",
        "most saturated layer, first snapshot",
        "warnings at init",
    ]);
    for start in Start::ALL {
        let result = run(start, &SETUP, &data)?;
        let path = args.plot_path(&format!("training_dashboard_{}.html", start.slug()));
        html::write_dashboard(
            &path,
            start.title(),
            &result.at_init,
            &result.history.snapshots,
        )?;
        print_first_warnings(&result);
        println!("  dashboard: {}\n", path.display());
        table.row(row(&result));
    }
    println!("{}", table.render());
    Ok(())
}

/// The first two warnings of the diagnosis at initialization.
fn print_first_warnings(result: &Run) {
    println!("{}: at initialization", result.start.title());
    if result.at_init.warnings.is_empty() {
        println!("  no warnings");
    }
    for warning in result.at_init.warnings.iter().take(2) {
        println!("  - {warning}");
    }
}

fn row(result: &Run) -> Vec<String> {
    let last = result.history.last();
    let first_snapshot = result.history.snapshots.first();
    vec![
        result.start.title().to_string(),
        cost(result.at_init.loss),
        result.at_init.uninformed_loss.map_or("-".into(), cost),
        last.map_or("-".into(), |m| cost(m.loss)),
        last.and_then(|m| m.accuracy).map_or("-".into(), percent),
        first_snapshot.map_or("-".into(), |s| {
            let most = s.report.layers.iter().map(|l| l.saturated_fraction);
            percent(most.fold(0.0, f32::max))
        }),
        result.at_init.warnings.len().to_string(),
    ]
}
