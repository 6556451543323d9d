//! A small SVG line-plot writer (log-log panels side by side), so that the coordinate check
//! can draw itself without a plotting dependency.

use std::fmt::Write;

use crate::nn::mup::Panel;

const PANEL_WIDTH: f64 = 300.0;
const PANEL_HEIGHT: f64 = 240.0;
/// Space around each panel's plot area: left (tick labels), right, top (title), bottom.
const MARGIN: [f64; 4] = [56.0, 12.0, 28.0, 40.0];
const HEADER: f64 = 30.0;
const LEGEND: f64 = 22.0;
const COLORS: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
];

/// The panels side by side, both axes on log scales; points with a non-positive or
/// non-finite coordinate are skipped.
pub(crate) fn panels(title: &str, x_label: &str, y_label: &str, panels: &[Panel]) -> String {
    let width = PANEL_WIDTH * panels.len().max(1) as f64;
    let height = HEADER + PANEL_HEIGHT + LEGEND;
    let mut svg = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect width="100%" height="100%" fill="white"/><text x="{}" y="20" text-anchor="middle" font-size="14">{}</text>"#,
        width / 2.0,
        escape(title)
    );
    for (index, panel) in panels.iter().enumerate() {
        draw_panel(
            &mut svg,
            panel,
            index as f64 * PANEL_WIDTH,
            x_label,
            y_label,
        );
    }
    if let Some(first) = panels.first() {
        for (i, (name, _)) in first.series.iter().enumerate() {
            let x = 10.0 + i as f64 * 80.0;
            let y = HEADER + PANEL_HEIGHT + 14.0;
            let _ = writeln!(
                svg,
                r#"<line x1="{x}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2"/><text x="{}" y="{y}">{}</text>"#,
                y - 4.0,
                x + 18.0,
                y - 4.0,
                COLORS[i % COLORS.len()],
                x + 22.0,
                escape(name)
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// The decimal-log range of the positive finite values, widened if empty or a point.
fn log_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (low, high) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(f64::log10)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
    if !low.is_finite() {
        (0.0, 1.0)
    } else if high - low < 1e-9 {
        (low - 0.5, high + 0.5)
    } else {
        let pad = 0.05 * (high - low);
        (low - pad, high + pad)
    }
}

fn draw_panel(svg: &mut String, panel: &Panel, left: f64, x_label: &str, y_label: &str) {
    let points = || panel.series.iter().flat_map(|(_, p)| p.iter());
    let (x_low, x_high) = log_range(points().map(|p| p.0));
    let (y_low, y_high) = log_range(points().map(|p| p.1));
    let [m_left, m_right, m_top, m_bottom] = MARGIN;
    let (plot_left, plot_top) = (left + m_left, HEADER + m_top);
    let plot_width = PANEL_WIDTH - m_left - m_right;
    let plot_height = PANEL_HEIGHT - m_top - m_bottom;
    let sx = |x: f64| plot_left + (x.log10() - x_low) / (x_high - x_low) * plot_width;
    let sy = |y: f64| plot_top + plot_height - (y.log10() - y_low) / (y_high - y_low) * plot_height;
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="12">{}</text><rect x="{plot_left}" y="{plot_top}" width="{plot_width}" height="{plot_height}" fill="none" stroke="black"/>"#,
        plot_left + plot_width / 2.0,
        HEADER + 16.0,
        escape(&panel.title)
    );
    // Tick labels at both ends of each axis.
    for (value, horizontal) in [
        (x_low, true),
        (x_high, true),
        (y_low, false),
        (y_high, false),
    ] {
        let label = format_tick(10f64.powf(value));
        if horizontal {
            let x = sx(10f64.powf(value));
            let _ = writeln!(
                svg,
                r#"<text x="{x}" y="{}" text-anchor="middle">{label}</text>"#,
                plot_top + plot_height + 14.0
            );
        } else {
            let y = sy(10f64.powf(value));
            let _ = writeln!(
                svg,
                r#"<text x="{}" y="{}" text-anchor="end">{label}</text>"#,
                plot_left - 4.0,
                y + 4.0
            );
        }
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text><text x="{}" y="{}" text-anchor="middle" transform="rotate(-90 {} {})">{}</text>"#,
        plot_left + plot_width / 2.0,
        plot_top + plot_height + 30.0,
        escape(x_label),
        left + 12.0,
        plot_top + plot_height / 2.0,
        left + 12.0,
        plot_top + plot_height / 2.0,
        escape(y_label)
    );
    for (i, (_, series)) in panel.series.iter().enumerate() {
        let path: Vec<String> = series
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite() && *x > 0.0 && *y > 0.0)
            .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
            .collect();
        let color = COLORS[i % COLORS.len()];
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
            path.join(" ")
        );
    }
}

/// A short label: 3 significant digits.
fn format_tick(value: f64) -> String {
    if (0.01..10_000.0).contains(&value) {
        format!("{}", (value * 1000.0).round() / 1000.0)
    } else {
        format!("{value:.1e}")
    }
}

/// Escapes the XML special characters of a label.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
