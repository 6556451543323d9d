//! Initialization throughput (GB/s of f32 written), beside `slice.fill` and a naive
//! `rand_distr` loop over `SmallRng` measured in the same run. See BENCHMARKS.md.
//!
//! `cargo bench --bench init`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nninit::{Fans, GlorotNormal, GlorotUniform, Initializer, Normal, TruncatedNormal, Uniform};
use rand::SeedableRng;
use rand::rngs::{ChaCha8Rng, SmallRng};
use rand_distr::Distribution;

/// Issue "foundation": the common initializers on a 10,000,000-element layer.
fn ten_million(c: &mut Criterion) {
    const N: usize = 10_000_000;
    let fans = Fans::new(4096, 2441);
    let mut buffer = vec![1.0f32; N];
    let mut group = c.benchmark_group("init_10M");
    group
        .throughput(Throughput::Bytes((N * 4) as u64))
        .sample_size(20);
    group.bench_function("slice_fill", |b| {
        b.iter(|| black_box(&mut buffer[..]).fill(0.0))
    });
    let initializers: [(&str, Box<dyn Initializer<f32>>); 3] = [
        ("xavier_uniform", Box::new(GlorotUniform::default())),
        ("xavier_normal", Box::new(GlorotNormal::default())),
        ("trunc_normal", Box::new(TruncatedNormal::default())),
    ];
    for (name, init) in &initializers {
        group.bench_function(*name, |b| {
            b.iter(|| init.fill_seeded(black_box(&mut buffer), fans, 42))
        });
    }
    group.finish();
}

/// Issue "at scale": seeded uniform and normal on 100,000,000 elements, 1 and 2 threads.
fn hundred_million(c: &mut Criterion) {
    const N: usize = 100_000_000;
    let fans = Fans::new(10_000, 10_000);
    let mut buffer = vec![1.0f32; N];
    let mut group = c.benchmark_group("seeded_100M");
    group
        .throughput(Throughput::Bytes((N * 4) as u64))
        .sample_size(10);
    group.bench_function("slice_fill", |b| {
        b.iter(|| black_box(&mut buffer[..]).fill(0.5))
    });
    group.bench_function("naive_uniform_smallrng", |b| {
        let uniform = rand_distr::Uniform::new(-1.0f32, 1.0).expect("valid range");
        let mut rng = SmallRng::seed_from_u64(1);
        b.iter(|| {
            buffer
                .iter_mut()
                .for_each(|x| *x = uniform.sample(&mut rng))
        })
    });
    group.bench_function("naive_uniform_chacha8", |b| {
        let uniform = rand_distr::Uniform::new(-1.0f32, 1.0).expect("valid range");
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        b.iter(|| {
            buffer
                .iter_mut()
                .for_each(|x| *x = uniform.sample(&mut rng))
        })
    });
    group.bench_function("naive_normal_smallrng", |b| {
        let normal = rand_distr::Normal::new(0.0f32, 1.0).expect("valid std");
        let mut rng = SmallRng::seed_from_u64(1);
        b.iter(|| buffer.iter_mut().for_each(|x| *x = normal.sample(&mut rng)))
    });
    for threads in [1, 2] {
        nninit::set_num_threads(threads);
        group.bench_with_input(
            BenchmarkId::new("seeded_uniform", threads),
            &threads,
            |b, _| b.iter(|| Uniform::new(-1.0, 1.0).fill_seeded(&mut buffer, fans, 7)),
        );
        group.bench_with_input(
            BenchmarkId::new("seeded_normal", threads),
            &threads,
            |b, _| b.iter(|| Normal::new(0.0, 1.0).fill_seeded(&mut buffer, fans, 7)),
        );
    }
    nninit::set_num_threads(0);
    group.finish();
}

criterion_group!(benches, ten_million, hundred_million);
criterion_main!(benches);
