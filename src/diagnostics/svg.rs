//! SVG plots of [`Report`]s and [`Snapshot`]s, written by a small writer of our own (no plotting
//! dependency): per-layer activation std over training, update-to-data ratio over training with
//! the 1e-3 line, and per-layer histograms of activations and back-propagated gradients side by
//! side (Glorot & Bengio 2010, Figures 6 and 7).
//!
//! Each function returns a complete, standalone `<svg>` document (valid XML) to write to a
//! `.svg` file or to inline into HTML, as [`html::dashboard`](super::html::dashboard) does.
//!
//! ```
//! use nninit::{Identity, Mse, Network, Tanh};
//! let mut net = Network::builder(2).dense(8, Tanh).dense(1, Identity).seed(1).build()?;
//! let report = net.diagnose(&[0.5, -1.0, 1.0, 0.25], &[0.0, 1.0], &Mse)?;
//! let svg = nninit::diagnostics::svg::histograms(&report);
//! assert!(svg.starts_with("<svg") && svg.contains("layer 0"));
//! # Ok::<(), nninit::Error>(())
//! ```

use std::fmt::Write as _;

use super::{Histogram, Report, Snapshot};

/// Width and height, in pixels, of one plot.
const WIDTH: f64 = 580.0;
const HEIGHT: f64 = 360.0;
/// Space around the plotting area: axis labels on the left and below, the legend on the right.
const MARGIN_LEFT: f64 = 72.0;
const MARGIN_RIGHT: f64 = 120.0;
const MARGIN_TOP: f64 = 34.0;
const MARGIN_BOTTOM: f64 = 48.0;
/// One colour per layer (Tableau 10), repeated past ten layers.
const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

/// Each layer's activation std at each recorded step.
///
/// ```
/// let svg = nninit::diagnostics::svg::activation_std_over_training(&[]);
/// assert!(svg.contains("no snapshots"));
/// ```
pub fn activation_std_over_training(snapshots: &[Snapshot]) -> String {
    let mut chart = Chart::new(
        "activation std per layer",
        "step",
        "std of the layer's outputs",
    );
    chart.series = per_layer_series(snapshots, |s| Some(s.activation_std));
    chart.render_document(snapshots.is_empty())
}

/// Each layer's fraction of saturated outputs at each recorded step (bounded activations).
///
/// ```
/// let svg = nninit::diagnostics::svg::saturation_over_training(&[]);
/// assert!(svg.starts_with("<svg"));
/// ```
pub fn saturation_over_training(snapshots: &[Snapshot]) -> String {
    let mut chart = Chart::new(
        "saturated outputs per layer",
        "step",
        "saturated fraction (%)",
    );
    chart.series = per_layer_series(snapshots, |s| Some(100.0 * s.saturated_fraction));
    chart.render_document(snapshots.is_empty())
}

/// `log10` of each layer's update-to-data ratio `std(ΔW) / std(W)` at each recorded step, with
/// the dashed line at 1e-3 (Karpathy's rule of thumb: far above, the learning rate is too high;
/// far below, the layer barely learns).
///
/// ```
/// let svg = nninit::diagnostics::svg::update_to_data_over_training(&[]);
/// assert!(svg.contains("1e-3"));
/// ```
pub fn update_to_data_over_training(snapshots: &[Snapshot]) -> String {
    let mut chart = Chart::new(
        "update-to-data ratio per layer",
        "step",
        "log10 std(update) / std(weight)",
    );
    chart.series = per_layer_series(snapshots, |s| {
        s.update_to_data.filter(|&r| r > 0.0).map(f32::log10)
    });
    chart.reference = Some((-3.0, "1e-3"));
    chart.render_document(snapshots.is_empty())
}

/// Per-layer histograms of the hidden layers' activations (left) and back-propagated gradients
/// `∂L/∂y` (right), each curve scaled to its own peak so that a wide and a narrow distribution
/// both show (Glorot & Bengio 2010, Figures 6 and 7, plot normalized histograms of the hidden
/// layers the same way). The output layer is left out of both (unless it is the only layer):
/// its activation and its gradient are the loss's choice, and their scale would flatten the rest.
///
/// ```
/// let report = nninit::Probe::new(&[1.0], 0.1)?.report();
/// assert!(nninit::diagnostics::svg::histograms(&report).starts_with("<svg"));
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn histograms(report: &Report) -> String {
    let hidden = match report.layers.len() {
        0 | 1 => &report.layers[..],
        n => &report.layers[..n - 1],
    };
    let panel =
        |title: &str, layers: &[super::LayerStats], pick: fn(&super::LayerStats) -> &Histogram| {
            let mut chart = Chart::new(title, "value", "count / peak count");
            chart.series = layers
                .iter()
                .map(|s| Series {
                    name: format!("layer {}", s.index),
                    points: peak_scaled_points(pick(s)),
                })
                .collect();
            chart
        };
    let activations = panel("activations (hidden layers)", hidden, |s| {
        &s.activation_histogram
    });
    let gradients = panel(
        "back-propagated gradients dL/dy (hidden layers)",
        hidden,
        |s| &s.gradient_histogram,
    );
    let empty = report.layers.is_empty();
    let mut out = String::new();
    open_svg(&mut out, 2.0 * WIDTH, HEIGHT);
    activations.render(&mut out, 0.0, empty);
    gradients.render(&mut out, WIDTH, empty);
    out.push_str("</svg>\n");
    out
}

/// One line per layer through the snapshots' values; `None` values are skipped.
fn per_layer_series(
    snapshots: &[Snapshot],
    value: impl Fn(&super::LayerStats) -> Option<f32>,
) -> Vec<Series> {
    let layers = snapshots
        .iter()
        .map(|s| s.report.layers.len())
        .max()
        .unwrap_or(0);
    (0..layers)
        .map(|layer| Series {
            name: format!("layer {layer}"),
            points: snapshots
                .iter()
                .filter_map(|s| {
                    let stats = s.report.layers.get(layer)?;
                    Some((s.step as f64, f64::from(value(stats)?)))
                })
                .collect(),
        })
        .collect()
}

/// `(bin centre, count / largest count)` for each bin, between zeros at the histogram's ends
/// (so that the axis spans its whole range, e.g. tanh's [-1, 1]).
fn peak_scaled_points(histogram: &Histogram) -> Vec<(f64, f64)> {
    let width = f64::from(histogram.bin_width());
    let peak = histogram.counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let bins = histogram.counts.iter().enumerate().map(|(bin, &count)| {
        let centre = f64::from(histogram.low) + (bin as f64 + 0.5) * width;
        (centre, count as f64 / peak)
    });
    std::iter::once((f64::from(histogram.low), 0.0))
        .chain(bins)
        .chain([(f64::from(histogram.high), 0.0)])
        .collect()
}

/// A named polyline.
struct Series {
    name: String,
    points: Vec<(f64, f64)>,
}

/// A line chart with linear axes, a legend and an optional dashed horizontal reference line.
struct Chart {
    title: String,
    x_label: String,
    y_label: String,
    series: Vec<Series>,
    reference: Option<(f64, &'static str)>,
}

/// The data range shown on one axis.
#[derive(Clone, Copy)]
struct Range {
    low: f64,
    high: f64,
}

impl Range {
    /// The range of `values` (finite ones), padded to a non-empty interval.
    fn of(values: impl Iterator<Item = f64>) -> Range {
        let (low, high) = values
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                (l.min(v), h.max(v))
            });
        if !low.is_finite() {
            return Range {
                low: 0.0,
                high: 1.0,
            };
        }
        if high - low <= f64::EPSILON * high.abs().max(low.abs()).max(1e-300) {
            let pad = (low.abs() * 0.1).max(1e-12);
            return Range {
                low: low - pad,
                high: high + pad,
            };
        }
        Range { low, high }
    }

    /// Where `value` falls between `start` and `end` pixels.
    fn map(&self, value: f64, start: f64, end: f64) -> f64 {
        start + (value - self.low) / (self.high - self.low) * (end - start)
    }

    /// About five round tick values inside the range.
    fn ticks(&self) -> Vec<f64> {
        let raw = (self.high - self.low) / 5.0;
        let magnitude = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|m| m * magnitude)
            .find(|&s| s >= raw)
            .unwrap_or(10.0 * magnitude);
        let first = (self.low / step).ceil() as i64;
        let last = (self.high / step).floor() as i64;
        (first..=last).map(|i| i as f64 * step).collect()
    }
}

impl Chart {
    fn new(title: &str, x_label: &str, y_label: &str) -> Chart {
        Chart {
            title: title.to_string(),
            x_label: x_label.to_string(),
            y_label: y_label.to_string(),
            series: Vec::new(),
            reference: None,
        }
    }

    /// The chart as a standalone SVG document.
    fn render_document(&self, empty: bool) -> String {
        let mut out = String::new();
        open_svg(&mut out, WIDTH, HEIGHT);
        self.render(&mut out, 0.0, empty);
        out.push_str("</svg>\n");
        out
    }

    /// The chart as a group shifted right by `left` pixels.
    fn render(&self, out: &mut String, left: f64, empty: bool) {
        let points = || self.series.iter().flat_map(|s| s.points.iter());
        let x = Range::of(points().map(|p| p.0));
        let reference = self.reference.map(|(value, _)| value);
        let y = Range::of(points().map(|p| p.1).chain(reference));
        let (x0, x1) = (MARGIN_LEFT, WIDTH - MARGIN_RIGHT);
        let (y0, y1) = (HEIGHT - MARGIN_BOTTOM, MARGIN_TOP);
        let _ = writeln!(out, r#"<g transform="translate({left},0)">"#);
        let _ = writeln!(
            out,
            r##"<rect x="{x0}" y="{y1}" width="{}" height="{}" fill="#ffffff" stroke="#999999"/>"##,
            x1 - x0,
            y0 - y1
        );
        text(out, (x0 + x1) / 2.0, 20.0, "middle", "title", &self.title);
        text(
            out,
            (x0 + x1) / 2.0,
            HEIGHT - 8.0,
            "middle",
            "label",
            &self.x_label,
        );
        let _ = writeln!(
            out,
            r#"<text class="label" transform="translate(16,{}) rotate(-90)" text-anchor="middle">{}</text>"#,
            (y0 + y1) / 2.0,
            escape(&self.y_label)
        );
        for tick in x.ticks() {
            let px = x.map(tick, x0, x1);
            let _ = writeln!(
                out,
                r##"<line x1="{px:.1}" y1="{y0}" x2="{px:.1}" y2="{}" stroke="#999999"/>"##,
                y0 + 4.0
            );
            text(out, px, y0 + 17.0, "middle", "tick", &tick_label(tick));
        }
        for tick in y.ticks() {
            let py = y.map(tick, y0, y1);
            let _ = writeln!(
                out,
                r##"<line x1="{x0}" y1="{py:.1}" x2="{x1}" y2="{py:.1}" stroke="#eeeeee"/>"##
            );
            text(out, x0 - 6.0, py + 4.0, "end", "tick", &tick_label(tick));
        }
        if let Some((value, label)) = self.reference {
            let py = y.map(value, y0, y1);
            let _ = writeln!(
                out,
                r##"<line x1="{x0}" y1="{py:.1}" x2="{x1}" y2="{py:.1}" stroke="#333333" stroke-dasharray="6 4"/>"##
            );
            text(out, x1 - 4.0, py - 5.0, "end", "tick", label);
        }
        if empty {
            text(
                out,
                (x0 + x1) / 2.0,
                (y0 + y1) / 2.0,
                "middle",
                "label",
                "no snapshots",
            );
        }
        for (index, series) in self.series.iter().enumerate() {
            let colour = PALETTE[index % PALETTE.len()];
            let path: Vec<String> = series
                .points
                .iter()
                .filter(|(a, b)| a.is_finite() && b.is_finite())
                .map(|&(a, b)| format!("{:.1},{:.1}", x.map(a, x0, x1), y.map(b, y0, y1)))
                .collect();
            if path.len() == 1 {
                let (cx, cy) = path[0].split_once(',').unwrap_or(("0", "0"));
                let _ = writeln!(
                    out,
                    r#"<circle cx="{cx}" cy="{cy}" r="3" fill="{colour}"/>"#
                );
            } else if !path.is_empty() {
                let _ = writeln!(
                    out,
                    r#"<polyline fill="none" stroke="{colour}" stroke-width="1.8" points="{}"/>"#,
                    path.join(" ")
                );
            }
            let ly = MARGIN_TOP + 8.0 + 18.0 * index as f64;
            let _ = writeln!(
                out,
                r#"<line x1="{}" y1="{ly}" x2="{}" y2="{ly}" stroke="{colour}" stroke-width="3"/>"#,
                x1 + 10.0,
                x1 + 30.0
            );
            text(out, x1 + 36.0, ly + 4.0, "start", "tick", &series.name);
        }
        out.push_str("</g>\n");
    }
}

/// The opening tag of a standalone SVG document, with its styles.
fn open_svg(out: &mut String, width: f64, height: f64) {
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif">"#
    );
    out.push_str(
        "<style>.title{font-size:15px;font-weight:bold}.label{font-size:12px}.tick{font-size:11px;fill:#444444}</style>\n",
    );
}

/// A text element with escaped content.
fn text(out: &mut String, x: f64, y: f64, anchor: &str, class: &str, content: &str) {
    let _ = writeln!(
        out,
        r#"<text class="{class}" x="{x:.1}" y="{y:.1}" text-anchor="{anchor}">{}</text>"#,
        escape(content)
    );
}

/// A short label for a tick value: plain decimals between 1e-3 and 1e5, scientific outside.
fn tick_label(value: f64) -> String {
    let magnitude = value.abs();
    if value == 0.0 {
        "0".to_string()
    } else if !(1e-3..1e5).contains(&magnitude) {
        format!("{value:.0e}")
    } else {
        let text = format!("{value:.4}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// `text` with the five XML special characters escaped.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_inside() {
        let ticks = Range {
            low: 0.0,
            high: 1.0,
        }
        .ticks();
        let labels: Vec<String> = ticks.into_iter().map(tick_label).collect();
        assert_eq!(labels, ["0", "0.2", "0.4", "0.6", "0.8", "1"]);
        assert_eq!(tick_label(2e-5), "2e-5");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape(r#"a<b & "c">'"#),
            "a&lt;b &amp; &quot;c&quot;&gt;&#39;"
        );
    }
}
