//! Initializing a whole model in fresh memory: the Llama-3.2-1B-shaped stack of
//! `examples/init_llama.rs` with every width divided by 4 (16 layers, 77 million f32, 309 MB
//! per iteration, allocated and dropped each time so that every iteration pays the page
//! faults), on 1 and 2 threads, beside the plain way measured in the same run: `vec![0.0; n]`
//! per tensor, then `fill_seeded` (the same values, without huge-page advice). See
//! BENCHMARKS.md, which also compares the full-size example with PyTorch.
//!
//! `cargo bench --bench init_model`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nninit::init::{initialize_model, initialize_model_shard};

// The bench uses the stack's tensor list and split, not the example's timing helpers.
#[allow(dead_code)]
#[path = "../examples/common/llama_stack.rs"]
mod llama_stack;

use llama_stack::{Stack, parameters, run_plain, tensor_parallel};

fn model(c: &mut Criterion) {
    let specs = Stack::llama_3_2_1b().reduced(4, 16).tensors();
    let bytes = (parameters(&specs) * 4) as u64;
    let mut group = c.benchmark_group("init_model_llama_div4");
    group.sample_size(10);
    for threads in [1, 2] {
        group.throughput(Throughput::Bytes(bytes));
        group.bench_function(BenchmarkId::new("initialize_model", threads), |b| {
            nninit::set_num_threads(threads);
            b.iter(|| black_box(initialize_model(&specs, 7)))
        });
        // Sets the thread count itself, and restores the default.
        group.bench_function(
            BenchmarkId::new("vec_zeros_then_fill_seeded", threads),
            |b| b.iter(|| black_box(run_plain(&specs, 7, threads))),
        );
        // Half of every tensor: half the bytes.
        group.throughput(Throughput::Bytes(bytes / 2));
        group.bench_function(
            BenchmarkId::new("tensor_parallel_shard_1_of_2", threads),
            |b| {
                nninit::set_num_threads(threads);
                b.iter(|| black_box(initialize_model_shard(&specs, 7, tensor_parallel(1, 2))))
            },
        );
    }
    nninit::set_num_threads(0);
    group.finish();
}

criterion_group!(benches, model);
criterion_main!(benches);
