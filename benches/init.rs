//! Criterion benchmarks (init); see BENCHMARKS.md.
use criterion::{Criterion, criterion_group, criterion_main};

fn placeholder(c: &mut Criterion) {
    let a = vec![1.0f32; 64 * 64];
    c.bench_function("init/matmul_64", |bench| {
        bench.iter(|| nninit::linalg::matmul(&a, &a, 64, 64, 64))
    });
}

criterion_group!(benches, placeholder);
criterion_main!(benches);
