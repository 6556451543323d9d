//! GEMM throughput: nninit's `gemm` against `matrixmultiply::sgemm` and the `gemm` crate,
//! measured in the same run on square sizes and on the shapes of a dense network's training
//! step. Throughput is reported in elements per second with one "element" per floating-point
//! operation (`2 m n k` per call), so Criterion's `Gelem/s` reads as GFLOP/s.
//!
//! ```text
//! cargo bench --features internals --bench gemm -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Benchmark names are `gemm/<shape>/<library>-<threads>t`. Shapes `ab`, `abt`, `atb` are
//! `A·B`, `A·Bᵀ` and `Aᵀ·B` with the same `m x k` times `k x n` sizes: the forward and the
//! two backward products of a layer (with PyTorch's `out x in` weights, the forward pass is
//! itself an `A·Bᵀ`).

// The reference libraries take raw pointers: calling them is the only unsafe code here.
#![allow(unsafe_code)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nninit::dispatch::Isa;
use nninit::linalg::{Config, Path, Transpose, gemm_with};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use std::hint::black_box;
use std::time::Duration;

/// One product `C (m x n) = op(A) (m x k) · op(B) (k x n)`.
#[derive(Clone, Copy, Debug)]
struct Shape {
    name: &'static str,
    m: usize,
    k: usize,
    n: usize,
    trans_a: bool,
    trans_b: bool,
}

impl Shape {
    fn flops(&self) -> u64 {
        2 * (self.m * self.k * self.n) as u64
    }
    /// (row stride, column stride) of op(A) and op(B) in their stored, row-major buffers.
    fn strides(&self) -> ((isize, isize), (isize, isize)) {
        let (m, k, n) = (self.m as isize, self.k as isize, self.n as isize);
        let a = if self.trans_a { (1, m) } else { (k, 1) };
        let b = if self.trans_b { (1, k) } else { (n, 1) };
        (a, b)
    }
    fn leading(&self) -> (usize, usize) {
        let lda = if self.trans_a { self.m } else { self.k };
        let ldb = if self.trans_b { self.k } else { self.n };
        (lda, ldb)
    }
}

fn shapes() -> Vec<Shape> {
    let mut shapes = Vec::new();
    for (name, size) in [
        ("sq64", 64),
        ("sq128", 128),
        ("sq256", 256),
        ("sq512", 512),
        ("sq1024", 1024),
        ("sq2048", 2048),
    ] {
        shapes.push(Shape {
            name,
            m: size,
            k: size,
            n: size,
            trans_a: false,
            trans_b: false,
        });
    }
    let mlp = [
        ("64x784x256", 64, 784, 256),
        ("64x256x256", 64, 256, 256),
        ("64x256x10", 64, 256, 10),
        ("256x784x1024", 256, 784, 1024),
    ];
    for (base, m, k, n) in mlp {
        for (suffix, trans_a, trans_b) in [
            ("ab", false, false),
            ("abt", false, true),
            ("atb", true, false),
        ] {
            let name: &'static str = Box::leak(format!("{base}-{suffix}").into_boxed_str());
            shapes.push(Shape {
                name,
                m,
                k,
                n,
                trans_a,
                trans_b,
            });
        }
    }
    shapes
}

fn random(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

fn bench_gemm(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("gemm");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    for shape in shapes() {
        let (m, k, n) = (shape.m, shape.k, shape.n);
        let a = random(m * k, 1);
        let b = random(k * n, 2);
        let mut c = vec![0.0f32; m * n];
        let ((a_rs, a_cs), (b_rs, b_cs)) = shape.strides();
        let (lda, ldb) = shape.leading();
        let trans = |t: bool| if t { Transpose::Yes } else { Transpose::No };
        group.throughput(Throughput::Elements(shape.flops()));
        for threads in [1, 2] {
            let config = Config {
                isa: Isa::active(),
                threads,
                path: Path::Auto,
            };
            group.bench_function(
                BenchmarkId::new(shape.name, format!("nninit-{threads}t")),
                |bench| {
                    bench.iter(|| {
                        gemm_with(
                            config,
                            trans(shape.trans_a),
                            trans(shape.trans_b),
                            m,
                            n,
                            k,
                            1.0,
                            &a,
                            lda,
                            &b,
                            ldb,
                            0.0,
                            &mut c,
                            n,
                        )
                        .expect("valid sizes");
                        black_box(&mut c);
                    })
                },
            );
            let parallelism = if threads == 1 {
                gemm::Parallelism::None
            } else {
                gemm::Parallelism::Rayon(threads)
            };
            group.bench_function(
                BenchmarkId::new(shape.name, format!("gemm-{threads}t")),
                |bench| {
                    bench.iter(|| {
                        // SAFETY: the strides describe `m x k`, `k x n` and `m x n` matrices inside
                        // `a`, `b` and `c`, which outlive the call; `c` is not aliased.
                        unsafe {
                            gemm::gemm(
                                m,
                                n,
                                k,
                                c.as_mut_ptr(),
                                1,
                                n as isize,
                                false,
                                a.as_ptr(),
                                a_cs,
                                a_rs,
                                b.as_ptr(),
                                b_cs,
                                b_rs,
                                0.0,
                                1.0,
                                false,
                                false,
                                false,
                                parallelism,
                            );
                        }
                        black_box(&mut c);
                    })
                },
            );
        }
        group.bench_function(BenchmarkId::new(shape.name, "matrixmultiply-1t"), |bench| {
            bench.iter(|| {
                // SAFETY: as above: the strides stay inside `a`, `b` and `c`.
                unsafe {
                    matrixmultiply::sgemm(
                        m,
                        k,
                        n,
                        1.0,
                        a.as_ptr(),
                        a_rs,
                        a_cs,
                        b.as_ptr(),
                        b_rs,
                        b_cs,
                        0.0,
                        c.as_mut_ptr(),
                        n as isize,
                        1,
                    );
                }
                black_box(&mut c);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_gemm);
criterion_main!(benches);
