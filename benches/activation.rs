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

/// A scalar function of one `f32`.
type Kernel = fn(f32) -> f32;

fn inputs(n: usize, scale: f32, seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-scale..scale)).collect()
}

/// The textbook formulas on `f32::exp`, `f32::exp_m1`, `f32::ln_1p` (one libm call each).
mod libm {
    pub fn sigmoid(x: f32) -> f32 {
        1.0 / (1.0 + (-x).exp())
    }

    pub fn sigmoid_derivative(x: f32) -> f32 {
        let s = sigmoid(x);
        s * (1.0 - s)
    }

    pub fn tanh_derivative(x: f32) -> f32 {
        let t = x.tanh();
        1.0 - t * t
    }

    pub fn elu(x: f32) -> f32 {
        if x > 0.0 { x } else { x.exp_m1() }
    }

    pub fn elu_derivative(x: f32) -> f32 {
        if x > 0.0 { 1.0 } else { x.exp() }
    }

    pub fn silu(x: f32) -> f32 {
        x * sigmoid(x)
    }

    pub fn silu_derivative(x: f32) -> f32 {
        let s = sigmoid(x);
        s * (1.0 + x * (1.0 - s))
    }

    pub fn softplus(x: f32) -> f32 {
        if x > 20.0 { x } else { x.exp().ln_1p() }
    }
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
    // References: the same work (a forward loop, then a derivative loop from the input) with
    // the standard library's libm calls.
    let libm: [(&str, Kernel, Kernel); 5] = [
        ("libm_sigmoid", libm::sigmoid, libm::sigmoid_derivative),
        ("libm_tanh", f32::tanh, libm::tanh_derivative),
        ("libm_elu", libm::elu, libm::elu_derivative),
        ("libm_silu", libm::silu, libm::silu_derivative),
        ("libm_softplus", libm::softplus, libm::sigmoid),
    ];
    for (id, forward, derivative) in libm {
        group.bench_function(id, |b| {
            b.iter(|| {
                for (y, &x) in y.iter_mut().zip(black_box(&x)) {
                    *y = forward(x);
                }
                for (d, &x) in d.iter_mut().zip(black_box(&x)) {
                    *d = derivative(x);
                }
            })
        });
    }
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
