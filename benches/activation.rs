//! Activation forward + derivative over 1,000,000 `f32`, and `CrossEntropy` on a 256 x 1000
//! batch, each beside a reference loop built on the standard library's `f32` functions
//! (libm, one call per element) measured in the same run; see BENCHMARKS.md.
//!
//! `cargo bench --bench activation -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nninit::{
    Activation, CrossEntropy, Elu, Gelu, GeluTanh, Identity, LeakyRelu, Loss, Relu, Selu, Sigmoid,
    Silu, Softplus, Softsign, Tanh,
};
use rand::{RngExt, SeedableRng, rngs::Xoshiro256PlusPlus};

const N: usize = 1_000_000;

fn inputs(n: usize, scale: f32, seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-scale..scale)).collect()
}

fn activations(c: &mut Criterion) {
    let x = inputs(N, 6.0, 1);
    let mut y = vec![0.0f32; N];
    let mut d = vec![0.0f32; N];
    let all: [(&str, Box<dyn Activation>); 13] = [
        ("identity", Box::new(Identity)),
        ("relu", Box::new(Relu)),
        ("leaky_relu", Box::new(LeakyRelu::default())),
        ("elu", Box::new(Elu::default())),
        ("selu", Box::new(Selu)),
        ("sigmoid", Box::new(Sigmoid)),
        ("tanh", Box::new(Tanh)),
        ("softsign", Box::new(Softsign)),
        ("gelu", Box::new(Gelu)),
        ("gelu_tanh", Box::new(GeluTanh)),
        ("silu", Box::new(Silu)),
        ("softplus", Box::new(Softplus::default())),
        ("softplus_beta2", Box::new(Softplus::new(2.0, 10.0))),
    ];
    let mut group = c.benchmark_group("activation_1m");
    group.throughput(Throughput::Elements(N as u64));
    for (id, activation) in &all {
        group.bench_function(*id, |b| {
            b.iter(|| {
                activation.forward_slice(black_box(&x), &mut y);
                activation.derivative_slice(black_box(&x), &mut d);
            })
        });
    }
    // References: the same formulas with libm calls, scalar loops.
    group.bench_function("libm_sigmoid", |b| {
        b.iter(|| {
            for ((y, d), &x) in y.iter_mut().zip(d.iter_mut()).zip(black_box(&x)) {
                let s = 1.0 / (1.0 + (-x).exp());
                *y = s;
                *d = s * (1.0 - s);
            }
        })
    });
    group.bench_function("libm_tanh", |b| {
        b.iter(|| {
            for ((y, d), &x) in y.iter_mut().zip(d.iter_mut()).zip(black_box(&x)) {
                let t = x.tanh();
                *y = t;
                *d = 1.0 - t * t;
            }
        })
    });
    group.bench_function("libm_silu", |b| {
        b.iter(|| {
            for ((y, d), &x) in y.iter_mut().zip(d.iter_mut()).zip(black_box(&x)) {
                let s = 1.0 / (1.0 + (-x).exp());
                *y = x * s;
                *d = s * (1.0 + x * (1.0 - s));
            }
        })
    });
    group.bench_function("libm_elu", |b| {
        b.iter(|| {
            for ((y, d), &x) in y.iter_mut().zip(d.iter_mut()).zip(black_box(&x)) {
                *y = if x > 0.0 { x } else { x.exp_m1() };
                *d = if x > 0.0 { 1.0 } else { x.exp() };
            }
        })
    });
    group.bench_function("libm_softplus", |b| {
        b.iter(|| {
            for ((y, d), &x) in y.iter_mut().zip(d.iter_mut()).zip(black_box(&x)) {
                *y = if x > 20.0 { x } else { x.exp().ln_1p() };
                *d = 1.0 / (1.0 + (-x).exp());
            }
        })
    });
    group.finish();
}

/// Softmax cross entropy with libm `exp` and `ln`, one row at a time: the reference.
fn naive_cross_entropy(
    logits: &[f32],
    classes: &[f32],
    outputs: usize,
    gradient: &mut [f32],
) -> f32 {
    let batch = classes.len();
    let mut total = 0.0f32;
    for ((row, g), &c) in logits
        .chunks(outputs)
        .zip(gradient.chunks_mut(outputs))
        .zip(classes)
    {
        let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let mut sum = 0.0;
        for (g, &v) in g.iter_mut().zip(row) {
            *g = (v - max).exp();
            sum += *g;
        }
        for g in g.iter_mut() {
            *g /= sum * batch as f32;
        }
        g[c as usize] -= 1.0 / batch as f32;
        total += max - row[c as usize] + sum.ln();
    }
    total / batch as f32
}

fn cross_entropy(c: &mut Criterion) {
    let (batch, outputs) = (256, 1000);
    let logits = inputs(batch * outputs, 10.0, 2);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let classes: Vec<f32> = (0..batch)
        .map(|_| rng.random_range(0..outputs) as f32)
        .collect();
    let mut gradient = vec![0.0f32; logits.len()];
    let mut group = c.benchmark_group("cross_entropy_256x1000");
    group.throughput(Throughput::Elements((batch * outputs) as u64));
    group.bench_function("loss", |b| {
        b.iter(|| CrossEntropy.loss(black_box(&logits), &classes, outputs))
    });
    group.bench_function("loss_and_gradient", |b| {
        b.iter(|| {
            CrossEntropy.loss_and_gradient(black_box(&logits), &classes, outputs, &mut gradient)
        })
    });
    group.bench_function("naive_libm_loss_and_gradient", |b| {
        b.iter(|| naive_cross_entropy(black_box(&logits), &classes, outputs, &mut gradient))
    });
    group.finish();
}

criterion_group!(benches, activations, cross_entropy);
criterion_main!(benches);
