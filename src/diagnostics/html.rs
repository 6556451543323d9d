//! One self-contained HTML page: the report's table and warnings, and the [`svg`](super::svg)
//! plots inlined. No scripts, no stylesheets or fonts fetched from anywhere: a learner opens
//! the file in any browser, offline. The page is also well-formed XML (XHTML syntax), so tools
//! can parse it.

use std::path::Path;

use super::svg::{self, escape};
use super::{Report, Snapshot};
use crate::error::Result;

/// The page's styles: plain, readable, printable.
const STYLE: &str = "body{font-family:sans-serif;margin:24px;color:#222222;max-width:1320px}\
table{border-collapse:collapse;font-size:13px}\
th,td{border:1px solid #cccccc;padding:3px 8px;text-align:right}\
th{background:#f2f2f2}td.text{text-align:left}\
li{margin:4px 0}.warning{color:#a4000f}.plots{display:flex;flex-wrap:wrap;gap:8px}\
.plots svg{max-width:100%;height:auto;border:1px solid #dddddd}";

/// The dashboard of one model: `report` (typically at initialization) as a table with its
/// warnings and histograms, then, from `snapshots` recorded during training, the activation
/// std, saturation and update-to-data ratio of every layer over the steps, and the histograms
/// of the last snapshot.
///
/// ```
/// use nninit::{Identity, Mse, Network, Tanh};
/// let mut net = Network::builder(2).dense(4, Tanh).dense(1, Identity).seed(3).build()?;
/// let report = net.diagnose(&[0.5, -1.0, 1.0, 0.25], &[0.0, 1.0], &Mse)?;
/// let page = nninit::diagnostics::html::dashboard("tanh <demo>", &report, &[]);
/// assert!(page.starts_with("<!DOCTYPE html>") && page.contains("tanh &lt;demo&gt;"));
/// assert!(!page.contains("<script"));
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn dashboard(title: &str, report: &Report, snapshots: &[Snapshot]) -> String {
    let title = escape(title);
    let mut page = format!(
        "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n\
         <meta charset=\"utf-8\"/>\n<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n\
         <body>\n<h1>{title}</h1>\n"
    );
    page.push_str("<h2>Diagnosis</h2>\n");
    page.push_str(&summary(report));
    page.push_str(&table(report));
    page.push_str(&warning_list(report));
    page.push_str("<h2>Histograms (Glorot &amp; Bengio 2010, Figures 6 and 7)</h2>\n");
    page.push_str("<div class=\"plots\">\n");
    page.push_str(&svg::histograms(report));
    page.push_str("</div>\n");
    if let Some(last) = snapshots.last() {
        page.push_str("<h2>Over training</h2>\n<div class=\"plots\">\n");
        page.push_str(&svg::activation_std_over_training(snapshots));
        page.push_str(&svg::update_to_data_over_training(snapshots));
        page.push_str(&svg::saturation_over_training(snapshots));
        page.push_str("</div>\n");
        page.push_str(&format!(
            "<h2>Histograms at step {} (the last snapshot)</h2>\n<div class=\"plots\">\n",
            last.step
        ));
        page.push_str(&svg::histograms(&last.report));
        page.push_str("</div>\n");
        page.push_str("<h2>Last snapshot</h2>\n");
        page.push_str(&summary(&last.report));
        page.push_str(&table(&last.report));
        page.push_str(&warning_list(&last.report));
    }
    page.push_str("</body>\n</html>\n");
    page
}

/// Writes [`dashboard`] to `path`, atomically (a crash never leaves half a page).
///
/// ```no_run
/// # use nninit::{Identity, Mse, Network};
/// # let mut net = Network::builder(1).dense(1, Identity).build()?;
/// let report = net.diagnose(&[1.0], &[0.0], &Mse)?;
/// nninit::diagnostics::html::write_dashboard("dashboard.html", "my model", &report, &[])?;
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn write_dashboard(
    path: impl AsRef<Path>,
    title: &str,
    report: &Report,
    snapshots: &[Snapshot],
) -> Result<()> {
    let page = dashboard(title, report, snapshots);
    write_text(path.as_ref(), &page)
}

/// Writes `text` to `path` atomically, e.g. an SVG from [`svg`].
///
/// ```no_run
/// let svg = nninit::diagnostics::svg::activation_std_over_training(&[]);
/// nninit::diagnostics::html::write_text("std.svg".as_ref(), &svg)?;
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    crate::io::atomic::write_atomically(path, |writer| {
        writer
            .write_all(text.as_bytes())
            .map_err(|e| crate::Error::io(path, e))
    })
}

/// The loss line.
fn summary(report: &Report) -> String {
    let mut line = format!("<p>loss {:.6}", report.loss);
    if let Some(uninformed) = report.uninformed_loss {
        line.push_str(&format!(" (uninformed predictions: {uninformed:.4})"));
    }
    if let Some(accuracy) = report.accuracy {
        line.push_str(&format!(", accuracy {:.1}%", 100.0 * accuracy));
    }
    line.push_str(&format!(", input std {:.4}</p>\n", report.input_std));
    line
}

/// The per-layer table.
fn table(report: &Report) -> String {
    let headers = [
        "layer",
        "shape",
        "activation",
        "initializer",
        "act mean",
        "act std",
        "std/input",
        "saturated",
        "dead",
        "grad norm",
        "grad std",
        "grad/data",
        "update/data",
        "weight std",
    ];
    let mut html = String::from("<table>\n<tr>");
    for header in headers {
        html.push_str(&format!("<th>{header}</th>"));
    }
    html.push_str("</tr>\n");
    let ratio = |r: Option<f32>| r.map_or_else(|| "-".to_string(), |v| format!("{v:.3e}"));
    for s in &report.layers {
        let cells = [
            format!("<td>layer {}</td>", s.index),
            format!(
                "<td class=\"text\">{} -&gt; {}</td>",
                s.in_features, s.out_features
            ),
            format!("<td class=\"text\">{}</td>", escape(&s.activation)),
            format!("<td class=\"text\">{}</td>", escape(s.initializer)),
            format!("<td>{:.4}</td>", s.activation_mean),
            format!("<td>{:.4}</td>", s.activation_std),
            format!("<td>{:.3e}</td>", s.std_ratio),
            format!("<td>{:.1}%</td>", 100.0 * s.saturated_fraction),
            format!("<td>{:.1}%</td>", 100.0 * s.dead_fraction),
            format!("<td>{:.3e}</td>", s.gradient_norm),
            format!("<td>{:.3e}</td>", s.gradient_std),
            format!("<td>{}</td>", ratio(s.gradient_to_data)),
            format!("<td>{}</td>", ratio(s.update_to_data)),
            format!("<td>{:.4}</td>", s.weight_std),
        ];
        html.push_str(&format!("<tr>{}</tr>\n", cells.concat()));
    }
    html.push_str("</table>\n");
    html
}

/// The warnings as a list.
fn warning_list(report: &Report) -> String {
    if report.warnings.is_empty() {
        return "<p>No warnings.</p>\n".to_string();
    }
    let mut html = String::from("<ul>\n");
    for warning in &report.warnings {
        html.push_str(&format!(
            "<li class=\"warning\">{}</li>\n",
            escape(&warning.to_string())
        ));
    }
    html.push_str("</ul>\n");
    html
}
