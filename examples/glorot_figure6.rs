//! Glorot & Bengio (2010), Figures 6 and 7, measured on a hand-written model through the
//! model-agnostic `Probe`: five tanh layers of 256 units and a 10-class softmax readout, from
//! the "standard" initialization `U(±1/√n)` (n = fan_in) and from the "normalized" one
//! `U(±√6/√(n_in + n_out))` (Glorot uniform). With the standard one the activations shrink
//! layer after layer (the 0-peak grows with depth, Figure 6) and the back-propagated gradients
//! shrink toward the input (Figure 7); the normalized one keeps both about the same size in
//! every layer.
//!
//! The model is plain Rust (slices and loops), standing for any framework's model: it hands
//! its pre-activations, activations, weights, weight gradients and output gradients to
//! `nninit::Probe` layer by layer, which returns the same `Report` as `Network::diagnose`.
//!
//! Run it with:
//!
//! ```text
//! cargo run --release --example glorot_figure6 [-- --out DIR]
//! ```
//!
//! It writes `glorot_figure6_standard.svg`, `glorot_figure6_normalized.svg` (activation and
//! gradient histograms per layer, side by side) and `glorot_figure6_standard.html`,
//! `glorot_figure6_normalized.html` to `DIR` (default `target/nninit-plots/`).

mod common;

use common::args::Args;
use common::glorot_figure6::{BATCH, CLASSES, DEPTH, WIDTH, batch, measure, normalized, standard};
use common::train::Table;
use nninit::Report;
use nninit::diagnostics::{html, svg};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env("glorot_figure6")?;
    let (x, labels) = batch();
    let mut table = Table::new(&[
        "layer",
        "standard: act std",
        "normalized: act std",
        "standard: dL/dy std",
        "normalized: dL/dy std",
    ]);
    let reports = [
        (
            "standard",
            "standard U(±1/√n)",
            measure(&x, &labels, &standard)?,
        ),
        (
            "normalized",
            "normalized U(±√6/√(n_in + n_out))",
            measure(&x, &labels, &normalized)?,
        ),
    ];
    for layer in 0..=DEPTH {
        let stat = |report: &Report, pick: fn(&nninit::LayerStats) -> f32| {
            format!("{:.3e}", pick(&report.layers[layer]))
        };
        let (s, n) = (&reports[0].2, &reports[1].2);
        table.row(vec![
            layer.to_string(),
            stat(s, |l| l.activation_std),
            stat(n, |l| l.activation_std),
            stat(s, |l| l.gradient_std),
            stat(n, |l| l.gradient_std),
        ]);
    }
    println!("{DEPTH} tanh layers of {WIDTH} units, {CLASSES}-class softmax, batch {BATCH}:");
    println!("{}", table.render());
    for (slug, title, report) in &reports {
        let plot = args.plot_path(&format!("glorot_figure6_{slug}.svg"));
        html::write_text(&plot, &svg::histograms(report))?;
        let page = args.plot_path(&format!("glorot_figure6_{slug}.html"));
        html::write_dashboard(
            &page,
            &format!("Glorot & Bengio Figure 6/7: {title}"),
            report,
            &[],
        )?;
        println!("{title}: {} and {}", plot.display(), page.display());
        for warning in report.warnings.iter().take(2) {
            println!("  - {warning}");
        }
    }
    Ok(())
}
