//! Training loops, accuracy, progress lines and plain-text tables shared by the examples.

use std::sync::Arc;
use std::time::Instant;

use nninit::{Error, Fans, Initializer, Loss, Network, Optimizer};
use rand::Rng;

use super::data::Dataset;

/// The fraction of samples a network classifies correctly: a sigmoid output above 0.5 means
/// class 1; with several outputs, the largest one is the class.
pub fn accuracy(net: &mut Network, data: &Dataset) -> nninit::Result<f32> {
    let outputs = net.forward(&data.x)?;
    let width = net.outputs();
    let correct = outputs
        .chunks(width)
        .zip(&data.y)
        .filter(|(row, label)| predicted_class(row) == **label as usize)
        .count();
    Ok(correct as f32 / data.len().max(1) as f32)
}

/// The class a row of outputs predicts.
pub fn predicted_class(row: &[f32]) -> usize {
    match row {
        [probability] => usize::from(*probability > 0.5),
        _ => (0..row.len()).fold(0, |best, i| if row[i] > row[best] { i } else { best }),
    }
}

/// The costs of a full-batch gradient-descent run, and where it diverged if it did.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The cost before each step.
    pub costs: Vec<f32>,
    /// The step at which the loss or a gradient became NaN or infinite.
    pub diverged_at: Option<usize>,
}

impl Run {
    /// The cost before the last step taken.
    pub fn final_cost(&self) -> f32 {
        self.costs.last().copied().unwrap_or(f32::NAN)
    }
}

/// `iterations` steps of gradient descent on the whole dataset, calling `each(i, cost)` after
/// each. A non-finite loss or gradient ends the run (the library refuses the step and says
/// where); any other error is returned.
pub fn train_full_batch(
    net: &mut Network,
    data: &Dataset,
    loss: &dyn Loss,
    optimizer: &mut dyn Optimizer,
    iterations: usize,
    mut each: impl FnMut(usize, f32),
) -> nninit::Result<Run> {
    let mut costs = Vec::with_capacity(iterations);
    for i in 0..iterations {
        match net.train_step(&data.x, &data.y, loss, optimizer) {
            Ok(cost) if cost.is_finite() => {
                costs.push(cost);
                each(i, cost);
            }
            Ok(_) | Err(Error::NonFinite { .. }) => {
                return Ok(Run {
                    costs,
                    diverged_at: Some(i),
                });
            }
            Err(error) => return Err(error),
        }
    }
    Ok(Run {
        costs,
        diverged_at: None,
    })
}

/// Prints `[k/n] message (elapsed s)` progress lines to stderr.
#[derive(Debug)]
pub struct Progress {
    start: Instant,
    total: usize,
    done: usize,
}

impl Progress {
    /// Progress over `total` tasks.
    pub fn new(total: usize) -> Progress {
        Progress {
            start: Instant::now(),
            total,
            done: 0,
        }
    }

    /// Announces the next task.
    pub fn next(&mut self, message: &str) {
        self.done += 1;
        let elapsed = self.start.elapsed().as_secs_f32();
        eprintln!("[{}/{}] {message} ({elapsed:.1} s)", self.done, self.total);
    }
}

/// A plain-text table whose columns are as wide as their widest cell; numbers right-aligned.
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text, one line per row, a rule under the header.
    pub fn render(&self) -> String {
        let columns = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let padded: Vec<String> = (0..columns)
                .map(|i| {
                    let cell = cells.get(i).map_or("", String::as_str);
                    let numeric =
                        cell.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+');
                    if numeric && i > 0 {
                        format!("{cell:>width$}", width = widths[i])
                    } else {
                        format!("{cell:<width$}", width = widths[i])
                    }
                })
                .collect();
            padded.join("  ").trim_end().to_string()
        };
        let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
        let mut text = vec![line(&self.header), rule.join("  ")];
        text.extend(self.rows.iter().map(|row| line(row)));
        text.join("\n")
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

/// A percentage with one decimal, e.g. `"93.5%"`.
pub fn percent(fraction: f32) -> String {
    format!("{:.1}%", 100.0 * fraction)
}

/// A cost for a table: fixed notation when readable, scientific otherwise, `diverged` for NaN.
pub fn cost(value: f32) -> String {
    if !value.is_finite() {
        "diverged".to_string()
    } else if value != 0.0 && (value.abs() < 1e-3 || value.abs() >= 1e4) {
        format!("{value:.3e}")
    } else {
        format!("{value:.6}")
    }
}

/// A shared initializer usable where the builder wants an `Initializer` by value, so that the
/// experiments can keep their initializers in a list and build several networks from one.
#[derive(Debug, Clone)]
pub struct SharedInit(Arc<dyn Initializer<f32>>);

impl SharedInit {
    /// Wraps `init`.
    pub fn new(init: Box<dyn Initializer<f32>>) -> SharedInit {
        SharedInit(Arc::from(init))
    }
}

impl Initializer<f32> for SharedInit {
    fn fill(&self, weights: &mut [f32], fans: Fans, rng: &mut dyn Rng) -> nninit::Result<()> {
        self.0.fill(weights, fans, rng)
    }

    fn fill_seeded(&self, weights: &mut [f32], fans: Fans, seed: u64) -> nninit::Result<()> {
        self.0.fill_seeded(weights, fans, seed)
    }

    fn fill_shard(
        &self,
        shard: &mut [f32],
        fans: Fans,
        seed: u64,
        offset: usize,
    ) -> nninit::Result<()> {
        self.0.fill_shard(shard, fans, seed, offset)
    }

    fn name(&self) -> &'static str {
        self.0.name()
    }
}
