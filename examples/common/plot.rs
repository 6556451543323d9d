//! SVG plots with `plotters`: line charts (one or a grid of panels, linear or log axes) and
//! histograms drawn as lines, one per series, as in Glorot & Bengio (2010), Fig. 6.

use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

use super::BoxError;

/// Tableau's ten categorical colours: distinct, and readable on white.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The colour of series `index`.
pub fn color(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// An axis scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Evenly spaced values.
    Linear,
    /// Evenly spaced powers of ten (non-positive values are left out).
    Log,
}

/// One named line.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend entry.
    pub label: String,
    /// `(x, y)` points; non-finite ones are left out.
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// A series from `(x, y)` points.
    pub fn new(label: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            label: label.into(),
            points,
        }
    }

    /// A series whose x values are 0, 1, 2, ... (e.g. a cost per iteration).
    pub fn from_values(label: impl Into<String>, values: &[f32]) -> Series {
        let points = values
            .iter()
            .enumerate()
            .map(|(i, &v)| (i as f64, f64::from(v)));
        Series::new(label, points.collect())
    }
}

impl Series {
    /// Values `0, step, 2 step, ...` (and the last one) at their index: keeps SVGs small.
    pub fn sampled(label: impl Into<String>, values: &[f32], step: usize) -> Series {
        let step = step.max(1);
        let last = values.len().saturating_sub(1);
        let points = values
            .iter()
            .enumerate()
            .filter(|(i, _)| i % step == 0 || *i == last)
            .map(|(i, &v)| (i as f64, f64::from(v)));
        Series::new(label, points.collect())
    }
}

/// A chart: title, labelled axes and its lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Drawn above the plot.
    pub title: String,
    /// The horizontal axis's label.
    pub x_label: String,
    /// The vertical axis's label.
    pub y_label: String,
    /// Horizontal scale.
    pub x_scale: Scale,
    /// Vertical scale.
    pub y_scale: Scale,
    /// The lines, each in the legend.
    pub series: Vec<Series>,
}

impl Chart {
    /// A chart with linear axes and no lines yet.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Chart {
        Chart {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            x_scale: Scale::Linear,
            y_scale: Scale::Linear,
            series: Vec::new(),
        }
    }

    /// Sets the vertical scale.
    pub fn y_scale(mut self, scale: Scale) -> Chart {
        self.y_scale = scale;
        self
    }

    /// Sets the horizontal scale.
    pub fn x_scale(mut self, scale: Scale) -> Chart {
        self.x_scale = scale;
        self
    }

    /// Adds a line.
    pub fn series(mut self, series: Series) -> Chart {
        self.series.push(series);
        self
    }

    /// The points that can be drawn on this chart's scales.
    fn drawable(&self, series: &Series) -> Vec<(f64, f64)> {
        let fits = |v: f64, scale: Scale| v.is_finite() && (scale == Scale::Linear || v > 0.0);
        series
            .points
            .iter()
            .copied()
            .filter(|&(x, y)| fits(x, self.x_scale) && fits(y, self.y_scale))
            .collect()
    }

    /// The range of the drawable values along one axis, padded so lines do not touch the frame.
    fn range(&self, axis: fn(&(f64, f64)) -> f64, scale: Scale) -> (f64, f64) {
        let values = self
            .series
            .iter()
            .flat_map(|s| self.drawable(s))
            .map(|p| axis(&p));
        let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        if !low.is_finite() {
            return if scale == Scale::Log {
                (0.1, 10.0)
            } else {
                (0.0, 1.0)
            };
        }
        match scale {
            Scale::Log if high / low < 1.0001 => (low / 2.0, high * 2.0),
            Scale::Log => (low / 1.2, high * 1.2),
            Scale::Linear if high - low < 1e-12 => (low - 0.5, high + 0.5),
            Scale::Linear => {
                let pad = 0.04 * (high - low);
                (low - pad, high + pad)
            }
        }
    }
}

/// Writes `chart` to `path` as an 900 x 560 SVG.
pub fn line_chart(path: &Path, chart: &Chart) -> Result<(), BoxError> {
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    draw_chart(&root, chart)?;
    root.present()?;
    Ok(())
}

/// Writes several charts to `path` as a grid with `columns` columns under one `title`.
pub fn line_charts(
    path: &Path,
    title: &str,
    charts: &[Chart],
    columns: usize,
) -> Result<(), BoxError> {
    let columns = columns.clamp(1, charts.len().max(1));
    let rows = charts.len().div_ceil(columns).max(1);
    let size = (520 * columns as u32, 380 * rows as u32 + 50);
    let root = SVGBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE)?;
    let body = root.titled(title, ("sans-serif", 28))?;
    for (area, chart) in body.split_evenly((rows, columns)).iter().zip(charts) {
        draw_chart(area, chart)?;
    }
    root.present()?;
    Ok(())
}

/// Draws one chart into `area`, choosing the coordinate types from its scales.
fn draw_chart(area: &DrawingArea<SVGBackend<'_>, Shift>, chart: &Chart) -> Result<(), BoxError> {
    let (x0, x1) = chart.range(|p| p.0, chart.x_scale);
    let (y0, y1) = chart.range(|p| p.1, chart.y_scale);
    match (chart.x_scale, chart.y_scale) {
        (Scale::Linear, Scale::Linear) => draw_lines(area, chart, x0..x1, y0..y1),
        (Scale::Linear, Scale::Log) => draw_lines(area, chart, x0..x1, (y0..y1).log_scale()),
        (Scale::Log, Scale::Linear) => draw_lines(area, chart, (x0..x1).log_scale(), y0..y1),
        (Scale::Log, Scale::Log) => {
            draw_lines(area, chart, (x0..x1).log_scale(), (y0..y1).log_scale())
        }
    }
}

/// Draws the frame, labelled axes, the lines and the legend.
fn draw_lines<X, Y>(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    chart: &Chart,
    x_range: X,
    y_range: Y,
) -> Result<(), BoxError>
where
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut context = ChartBuilder::on(area)
        .caption(&chart.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(64)
        .build_cartesian_2d(x_range, y_range)?;
    context
        .configure_mesh()
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .x_label_formatter(&|v| tick(*v, chart.x_scale))
        .y_label_formatter(&|v| tick(*v, chart.y_scale))
        .draw()?;
    for (index, series) in chart.series.iter().enumerate() {
        let style = color(index).stroke_width(2);
        context
            .draw_series(LineSeries::new(chart.drawable(series), style))?
            .label(series.label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    }
    if !chart.series.is_empty() {
        context
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()?;
    }
    Ok(())
}

/// An axis label: integers without decimals, small and large values in scientific notation.
/// On a linear axis, a tick within rounding error of zero is zero.
fn tick(value: f64, scale: Scale) -> String {
    let magnitude = value.abs();
    if value == 0.0 || (scale == Scale::Linear && magnitude < 1e-12) {
        "0".to_string()
    } else if !(1e-3..1e5).contains(&magnitude) {
        format!("{value:.0e}")
    } else if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.4}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Normalized histogram counts: `bins` equal bins over `[low, high]` (values outside are
/// counted in the end bins), as `(bin centre, fraction of values)` points.
pub fn histogram(values: &[f32], low: f64, high: f64, bins: usize) -> Vec<(f64, f64)> {
    let bins = bins.max(1);
    let width = (high - low) / bins as f64;
    let mut counts = vec![0usize; bins];
    for &v in values.iter().filter(|v| v.is_finite()) {
        let bin = ((f64::from(v) - low) / width)
            .floor()
            .clamp(0.0, (bins - 1) as f64);
        counts[bin as usize] += 1;
    }
    let total = values.len().max(1) as f64;
    let centres = (0..bins).map(|i| low + (i as f64 + 0.5) * width);
    centres
        .zip(counts)
        .map(|(c, n)| (c, n as f64 / total))
        .collect()
}

/// A chart of histograms: one line per `(label, values)`, `bins` bins over `[low, high]`.
pub fn histogram_chart(
    title: impl Into<String>,
    x_label: impl Into<String>,
    groups: &[(String, Vec<f32>)],
    (low, high): (f64, f64),
    bins: usize,
) -> Chart {
    groups.iter().fold(
        Chart::new(title, x_label, "fraction of values"),
        |chart, (label, values)| {
            chart.series(Series::new(
                label.clone(),
                histogram(values, low, high, bins),
            ))
        },
    )
}
