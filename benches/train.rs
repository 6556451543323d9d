//! Training throughput of `Network::train_step` on the workload of
//! `../shared/bench/torch_mlp.py` and `np_mlp.py`, printed in their format so the three can be
//! compared line by line (`bench/rounds.sh` alternates them and takes per-round ratios):
//!
//! ```text
//! MLP nninit <net> <threads> batch=<B> <median samples/s> <best samples/s> <median µs/step>
//! ```
//!
//! The workload: 784-256-256-10 with ReLU and cross entropy at batch 64 and 256, 2-4-1 with
//! tanh, a sigmoid output and binary cross entropy at batch 400; plain SGD (lr 0.01); 8
//! pre-generated random batches; 20 warm-up steps, then `REPEATS` timings of `STEPS` steps, on
//! 1 and 2 threads. A last line gives the matrix multiplies of one 784-256-256-10 step alone,
//! so `train / gemm only` shows the time spent outside gemm.
//!
//! Run: `cargo bench --bench train` (or `-- <repeats> <steps>`, default 5 200).
use std::hint::black_box;
use std::time::Instant;

use nninit::linalg::{Transpose, gemm};
use nninit::{BinaryCrossEntropy, CrossEntropy, Identity, Loss, Network, Relu, Sgd, Sigmoid, Tanh};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

const MNIST_SHAPE: [usize; 4] = [784, 256, 256, 10];
/// Pre-generated batches cycled through, as in the Python anchors.
const BATCHES: usize = 8;
const WARM_UP_STEPS: usize = 20;

fn random(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

/// The workload of one line of output.
struct Workload {
    name: &'static str,
    network: Network,
    loss: Box<dyn Loss>,
    inputs: Vec<Vec<f32>>,
    targets: Vec<Vec<f32>>,
    batch: usize,
}

fn mnist(batch: usize) -> Result<Workload, nninit::Error> {
    let network = Network::builder(MNIST_SHAPE[0])
        .dense(MNIST_SHAPE[1], Relu)
        .dense(MNIST_SHAPE[2], Relu)
        .dense(MNIST_SHAPE[3], Identity)
        .seed(1)
        .build()?;
    Ok(Workload {
        name: "784-256-256-10",
        network,
        loss: Box::new(CrossEntropy),
        inputs: (0..BATCHES)
            .map(|i| random(batch * MNIST_SHAPE[0], 10 + i as u64))
            .collect(),
        targets: (0..BATCHES)
            .map(|i| (0..batch).map(|s| ((s * 7 + i) % 10) as f32).collect())
            .collect(),
        batch,
    })
}

fn tiny(batch: usize) -> Result<Workload, nninit::Error> {
    let network = Network::builder(2)
        .dense(4, Tanh)
        .dense(1, Sigmoid)
        .seed(1)
        .build()?;
    Ok(Workload {
        name: "2-4-1",
        network,
        loss: Box::new(BinaryCrossEntropy),
        inputs: (0..BATCHES)
            .map(|i| random(batch * 2, 20 + i as u64))
            .collect(),
        targets: (0..BATCHES)
            .map(|i| (0..batch).map(|s| ((s + i) % 2) as f32).collect())
            .collect(),
        batch,
    })
}

/// Median and best samples/s over `repeats` timings of `steps` steps.
fn measure(work: &mut Workload, repeats: usize, steps: usize) -> Result<(f64, f64), nninit::Error> {
    let mut sgd = Sgd::new(0.01);
    let mut step = |i: usize, work: &mut Workload| {
        let (x, y) = (&work.inputs[i % BATCHES], &work.targets[i % BATCHES]);
        work.network
            .train_step(black_box(x), y, work.loss.as_ref(), &mut sgd)
    };
    for i in 0..WARM_UP_STEPS {
        step(i, work)?;
    }
    let mut rates = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let start = Instant::now();
        for i in 0..steps {
            black_box(step(i, work)?);
        }
        rates.push((work.batch * steps) as f64 / start.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    Ok((rates[rates.len() / 2], rates[rates.len() - 1]))
}

/// The gemm calls of one training step of the 784-256-256-10 network: per layer the forward
/// product, the weight gradient and (except the first layer) the input gradient.
fn gemm_of_one_step(batch: usize, buffers: &mut [Vec<f32>; 3]) -> Result<(), nninit::Error> {
    let [a, b, c] = buffers;
    for layer in 0..3 {
        let (inputs, units) = (MNIST_SHAPE[layer], MNIST_SHAPE[layer + 1]);
        let (n, t) = (Transpose::No, Transpose::Yes);
        gemm(
            n, t, batch, units, inputs, 1.0, a, inputs, b, inputs, 0.0, c, units,
        )?;
        gemm(
            t, n, units, inputs, batch, 1.0, c, units, a, inputs, 0.0, b, inputs,
        )?;
        if layer > 0 {
            gemm(
                n, n, batch, inputs, units, 1.0, c, units, b, inputs, 0.0, a, inputs,
            )?;
        }
    }
    Ok(())
}

fn gemm_only(batch: usize, repeats: usize, steps: usize) -> Result<f64, nninit::Error> {
    let size = batch * MNIST_SHAPE[0];
    let mut buffers = [random(size, 3), random(784 * 256, 4), random(size, 5)];
    let mut times = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let start = Instant::now();
        for _ in 0..steps {
            gemm_of_one_step(batch, &mut buffers)?;
        }
        times.push(start.elapsed().as_secs_f64() * 1e6 / steps as f64);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` passes `--bench`; numbers after it are repeats and steps.
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let repeats = numbers.first().copied().unwrap_or(5).max(1);
    let steps = numbers.get(1).copied().unwrap_or(200).max(1);
    for threads in [1, 2] {
        nninit::set_num_threads(threads);
        for mut work in [mnist(64)?, mnist(256)?, tiny(400)?] {
            let (median, best) = measure(&mut work, repeats, steps)?;
            println!(
                "MLP nninit {} {threads} batch={} {median:.0} {best:.0} {:.1}",
                work.name,
                work.batch,
                work.batch as f64 / median * 1e6
            );
        }
        for batch in [64, 256] {
            let micros = gemm_only(batch, repeats, steps)?;
            println!(
                "# gemm only, 784-256-256-10 step, {threads} threads, batch={batch}: {micros:.1} µs"
            );
        }
    }
    nninit::set_num_threads(0);
    Ok(())
}
