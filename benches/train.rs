//! Training throughput (samples/s) of `Network::train_step`, with the matrix multiplies of
//! one step measured alone as the reference: `train / gemm only` is the overhead outside gemm.
//!
//! Run: `cargo bench --bench train -- --warm-up-time 1 --measurement-time 3`
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nninit::linalg::{Transpose, gemm};
use nninit::{BinaryCrossEntropy, CrossEntropy, Identity, Network, Relu, Sgd, Sigmoid, Tanh};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

const MNIST_SHAPE: [usize; 4] = [784, 256, 256, 10];

fn random(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

fn mnist_network() -> Network {
    Network::builder(MNIST_SHAPE[0])
        .dense(MNIST_SHAPE[1], Relu)
        .dense(MNIST_SHAPE[2], Relu)
        .dense(MNIST_SHAPE[3], Identity)
        .seed(1)
        .build()
        .expect("valid sizes")
}

/// The gemm calls of one training step of the 784-256-256-10 network: per layer the forward
/// product, the weight gradient and (except the first layer) the input gradient.
fn gemm_of_one_step(batch: usize, buffers: &mut [Vec<f32>; 3]) {
    let [a, b, c] = buffers;
    for layer in 0..3 {
        let (inputs, units) = (MNIST_SHAPE[layer], MNIST_SHAPE[layer + 1]);
        // z = x Wᵀ
        gemm(
            Transpose::No,
            Transpose::Yes,
            batch,
            units,
            inputs,
            1.0,
            a,
            inputs,
            b,
            inputs,
            0.0,
            c,
            units,
        )
        .expect("sizes fit");
        // dW = δᵀ x
        gemm(
            Transpose::Yes,
            Transpose::No,
            units,
            inputs,
            batch,
            1.0,
            c,
            units,
            a,
            inputs,
            0.0,
            b,
            inputs,
        )
        .expect("sizes fit");
        if layer > 0 {
            // dx = δ W
            gemm(
                Transpose::No,
                Transpose::No,
                batch,
                inputs,
                units,
                1.0,
                c,
                units,
                b,
                inputs,
                0.0,
                a,
                inputs,
            )
            .expect("sizes fit");
        }
    }
}

fn mnist(c: &mut Criterion) {
    let mut group = c.benchmark_group("train/784-256-256-10");
    for batch in [64, 256] {
        group.throughput(Throughput::Elements(batch as u64));
        let x = random(batch * MNIST_SHAPE[0], 2);
        let y: Vec<f32> = (0..batch).map(|i| (i % 10) as f32).collect();
        for threads in [1, 2] {
            nninit::set_num_threads(threads);
            let mut net = mnist_network();
            let mut sgd = Sgd::new(0.01);
            let id = BenchmarkId::new(format!("train_step/threads{threads}"), batch);
            group.bench_function(id, |bench| {
                bench.iter(|| {
                    net.train_step(black_box(&x), &y, &CrossEntropy, &mut sgd)
                        .expect("finite")
                })
            });
            let size = batch * 784;
            let mut buffers = [random(size, 3), random(784 * 256, 4), random(size, 5)];
            let id = BenchmarkId::new(format!("gemm_only/threads{threads}"), batch);
            group.bench_function(id, |bench| {
                bench.iter(|| gemm_of_one_step(batch, &mut buffers))
            });
        }
    }
    nninit::set_num_threads(0);
    group.finish();
}

fn xor_sized(c: &mut Criterion) {
    let mut group = c.benchmark_group("train/2-4-1");
    let batch = 400;
    group.throughput(Throughput::Elements(batch as u64));
    let x = random(batch * 2, 6);
    let y: Vec<f32> = (0..batch).map(|i| (i % 2) as f32).collect();
    nninit::set_num_threads(1);
    let mut net = Network::builder(2)
        .dense(4, Tanh)
        .dense(1, Sigmoid)
        .seed(1)
        .build()
        .expect("valid sizes");
    let mut sgd = Sgd::new(0.1);
    group.bench_function(BenchmarkId::new("train_step/threads1", batch), |bench| {
        bench.iter(|| {
            net.train_step(black_box(&x), &y, &BinaryCrossEntropy, &mut sgd)
                .expect("finite")
        })
    });
    nninit::set_num_threads(0);
    group.finish();
}

criterion_group!(benches, mnist, xor_sized);
criterion_main!(benches);
