//! One model, one initialization, eight learning rates from 1e-3 to 3: too small crawls, too
//! large oscillates or diverges, and the library reports divergence as an error we can handle.

use nninit::{CrossEntropy, HeNormal, Identity, Network, Relu, Sgd};

use super::data::Dataset;
use super::train::{Run, accuracy, train_full_batch};

/// The learning rates tried, log-spaced by half decades.
pub const LEARNING_RATES: [f32; 8] = [1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0];
/// Hidden units.
pub const HIDDEN: usize = 64;
/// Seed of the weights (the same for every learning rate).
pub const SEED: u64 = 4;

/// The [2, 64, 64, classes] ReLU network with He-initialized weights (its recommended
/// initializer), logits out.
pub fn network(classes: usize) -> nninit::Result<Network> {
    Network::builder(2)
        .dense(HIDDEN, Relu)
        .dense(HIDDEN, Relu)
        .dense(classes, Identity)
        .init(HeNormal::new())
        .seed(SEED)
        .build()
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// The loss or a gradient became NaN or infinite at this step (the library refused the
    /// step with `Error::NonFinite`).
    Diverged(usize),
    /// The cost jumped over 1.5 times its starting value (`peak`, at step `at`).
    Unstable {
        /// The highest cost.
        peak: f32,
        /// Where it was reached.
        at: usize,
    },
    /// The cost fell, but by less than half.
    Slow,
    /// The cost fell by more than half, without jumps.
    Learns,
}

impl Verdict {
    /// Judges a run.
    pub fn of(run: &Run) -> Verdict {
        let first = run.costs.first().copied().unwrap_or(f32::NAN);
        let (at, peak) =
            run.costs
                .iter()
                .copied()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |best, (i, c)| {
                    if c > best.1 { (i, c) } else { best }
                });
        match run.diverged_at {
            Some(step) => Verdict::Diverged(step),
            None if peak > 1.5 * first => Verdict::Unstable { peak, at },
            None if run.final_cost() > 0.5 * first => Verdict::Slow,
            None => Verdict::Learns,
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Diverged(step) => write!(f, "diverged: non-finite at step {step}"),
            Verdict::Unstable { peak, at } => {
                write!(f, "unstable: cost jumped to {peak:.3} at step {at}")
            }
            Verdict::Slow => f.write_str("too slow: fell by less than half"),
            Verdict::Learns => f.write_str("learns"),
        }
    }
}

/// One learning rate's run.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The learning rate.
    pub learning_rate: f32,
    /// Costs per step (up to divergence).
    pub run: Run,
    /// Training accuracy at the end (of the weights before the refused step, if it diverged).
    pub accuracy: f32,
    /// How it ended.
    pub verdict: Verdict,
}

/// Trains the same network from the same weights with each of `learning_rates`;
/// `started(lr)` is called before each.
pub fn run(
    data: &Dataset,
    learning_rates: &[f32],
    iterations: usize,
    mut started: impl FnMut(f32),
) -> nninit::Result<Vec<Outcome>> {
    let mut outcomes = Vec::new();
    for &learning_rate in learning_rates {
        started(learning_rate);
        let mut net = network(data.classes)?;
        let mut sgd = Sgd::new(learning_rate);
        let run = train_full_batch(
            &mut net,
            data,
            &CrossEntropy,
            &mut sgd,
            iterations,
            |_, _| {},
        )?;
        outcomes.push(Outcome {
            learning_rate,
            accuracy: accuracy(&mut net, data)?,
            verdict: Verdict::of(&run),
            run,
        });
    }
    Ok(outcomes)
}
