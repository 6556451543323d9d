//! The cost of the diagnostics monitor during `fit`: the same training run (an MNIST-shaped
//! 784-256-256-10 ReLU network, 3200 samples in batches of 32, two epochs = 200 steps) with
//! and without `FitConfig::monitor(Monitor::every(100))`. The bound: at most 5% slower.
//!
//! Run: `cargo bench --bench monitor -- --warm-up-time 2 --measurement-time 10`
//! (the report prints both medians; the overhead is their ratio minus one).
use std::hint::black_box;
use std::ops::ControlFlow;

use criterion::{Criterion, criterion_group, criterion_main};
use nninit::{CrossEntropy, FitConfig, Identity, Monitor, Network, Relu, Sgd};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

const SAMPLES: usize = 3200;
const INPUTS: usize = 784;
const CLASSES: usize = 10;

fn network() -> Network {
    Network::builder(INPUTS)
        .dense(256, Relu)
        .dense(256, Relu)
        .dense(CLASSES, Identity)
        .seed(1)
        .build()
        .expect("valid sizes")
}

fn data() -> (Vec<f32>, Vec<f32>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let x = (0..SAMPLES * INPUTS)
        .map(|_| rng.random_range(0.0f32..1.0))
        .collect();
    let y = (0..SAMPLES)
        .map(|_| rng.random_range(0..CLASSES) as f32)
        .collect();
    (x, y)
}

fn train(x: &[f32], y: &[f32], config: FitConfig) -> usize {
    let mut net = network();
    let history = net
        .fit(x, y, &CrossEntropy, &mut Sgd::new(0.01), config, |_| {
            ControlFlow::Continue(())
        })
        .expect("training runs");
    history.snapshots.len()
}

fn monitor_overhead(c: &mut Criterion) {
    let (x, y) = data();
    let plain = FitConfig::new(2, 32).seed(1);
    let monitored = plain.monitor(Monitor::every(100).expect("100 > 0"));
    let mut group = c.benchmark_group("fit 200 steps");
    group.sample_size(20);
    // Interleaved in one process, so both see the same machine load.
    group.bench_function("plain", |b| b.iter(|| black_box(train(&x, &y, plain))));
    group.bench_function("monitor every 100", |b| {
        b.iter(|| black_box(train(&x, &y, monitored)))
    });
    group.finish();
}

criterion_group!(benches, monitor_overhead);
criterion_main!(benches);
