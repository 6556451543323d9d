//! GEMM throughput: nninit's `gemm` against faer, the `gemm` crate and `matrixmultiply`,
//! interleaved in one process: for each shape and thread count, every library runs once per
//! round, round after round, so a burst of load on the (shared) machine hits all of them alike;
//! each library's time is the median over the rounds, and the line ends with nninit's ratio to
//! the best of faer and gemm (`matrixmultiply` runs on one thread: its threading feature is
//! off). The FMA peak of the machine is measured first (see `peak/`), and
//! every GFLOP/s figure is followed by its fraction of that peak.
//!
//! ```text
//! cargo bench --features internals --bench gemm            # 15 rounds
//! cargo bench --features internals --bench gemm -- 31      # more rounds
//! cargo bench --features internals --bench gemm -- 9 --threads 1 sq512 atb   # a subset
//! ```
//!
//! Shapes: squares 64 to 1024, and the products of a 784-256-256-10 training step (batch 64
//! and 256): `ab`, `abt`, `atb` are `A·B`, `A·Bᵀ` and `Aᵀ·B` with the same `m x k` times
//! `k x n` sizes, the forward and the two backward products of a layer (with PyTorch's
//! `out x in` weights, the forward pass is itself an `A·Bᵀ`). 17 shapes in all.

// The reference libraries take raw pointers: calling them is the only unsafe code here.
#![allow(unsafe_code)]

mod peak;

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use nninit::dispatch::Isa;
use nninit::linalg::{Config, Path, Transpose, gemm_with};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use std::hint::black_box;
use std::time::Instant;
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

/// The libraries compared, each one call of a shape's product.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Library {
    Nninit,
    Faer,
    Gemm,
    Matrixmultiply,
}

/// The operands of one shape.
struct Operands {
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
}

/// One call of `library` on `shape` with `threads` threads.
fn call(library: Library, shape: &Shape, threads: usize, ops: &mut Operands) {
    let (m, k, n) = (shape.m, shape.k, shape.n);
    let ((a_rs, a_cs), (b_rs, b_cs)) = shape.strides();
    let (a, b, c) = (&ops.a, &ops.b, &mut ops.c);
    match library {
        Library::Nninit => {
            let (lda, ldb) = shape.leading();
            let trans = |t: bool| if t { Transpose::Yes } else { Transpose::No };
            let config = Config {
                isa: Isa::active(),
                threads,
                path: Path::Auto,
                blocking: None,
            };
            let (ta, tb) = (trans(shape.trans_a), trans(shape.trans_b));
            gemm_with(config, ta, tb, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, n)
                .expect("valid sizes");
        }
        Library::Faer => {
            let lhs = if shape.trans_a {
                MatRef::from_row_major_slice(a, k, m).transpose()
            } else {
                MatRef::from_row_major_slice(a, m, k)
            };
            let rhs = if shape.trans_b {
                MatRef::from_row_major_slice(b, n, k).transpose()
            } else {
                MatRef::from_row_major_slice(b, k, n)
            };
            let dst = MatMut::from_row_major_slice_mut(c, m, n);
            let par = if threads == 1 {
                Par::Seq
            } else {
                Par::rayon(threads)
            };
            matmul(dst, Accum::Replace, lhs, rhs, 1.0f32, par);
        }
        Library::Gemm => {
            let parallelism = if threads == 1 {
                gemm::Parallelism::None
            } else {
                gemm::Parallelism::Rayon(threads)
            };
            // SAFETY: the strides describe `m x k`, `k x n` and `m x n` matrices inside `a`,
            // `b` and `c`, which outlive the call; `c` is not aliased.
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
        }
        Library::Matrixmultiply => {
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
        }
    }
    black_box(&mut ops.c);
}

/// Seconds per call of `library`: `calls` calls timed together.
fn time(library: Library, shape: &Shape, threads: usize, ops: &mut Operands, calls: usize) -> f64 {
    let start = Instant::now();
    for _ in 0..calls {
        call(library, shape, threads, ops);
    }
    start.elapsed().as_secs_f64() / calls as f64
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// What to run, from the command line: `[ROUNDS] [--threads N] [SHAPE...]` (`cargo bench`
/// itself passes `--bench`, which is ignored). A shape argument keeps the shapes whose name
/// contains it; without any, all 17 run, on 1 and 2 threads.
struct Options {
    rounds: usize,
    threads: Vec<usize>,
    shapes: Vec<String>,
}

impl Options {
    fn from_args() -> Options {
        let mut options = Options {
            rounds: 15,
            threads: vec![1, 2],
            shapes: Vec::new(),
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            if arg == "--threads" {
                let count = args.next().and_then(|value| value.parse::<usize>().ok());
                options.threads = vec![count.expect("--threads takes a number").max(1)];
            } else if let Ok(rounds) = arg.parse::<usize>() {
                options.rounds = rounds.max(1);
            } else if !arg.starts_with("--") {
                options.shapes.push(arg);
            }
        }
        options
    }

    fn wants(&self, shape: &Shape) -> bool {
        self.shapes.is_empty()
            || self
                .shapes
                .iter()
                .any(|name| shape.name.contains(name.as_str()))
    }
}

fn main() {
    let options = Options::from_args();
    let rounds = options.rounds;
    println!(
        "# {}",
        nninit::linalg::tuning_report().replace('\n', "\n# ")
    );
    let peaks = [peak::fma_peak_gflops(1), peak::fma_peak_gflops(2)];
    println!(
        "# FMA peak: {:.0} GFLOP/s on 1 thread, {:.0} on 2 ({rounds} rounds, medians)",
        peaks[0], peaks[1]
    );
    println!(
        "# shape threads | GFLOP/s (fraction of peak): nninit faer gemm matrixmultiply | nninit / best(faer, gemm)"
    );
    for shape in shapes().into_iter().filter(|shape| options.wants(shape)) {
        let mut ops = Operands {
            a: random(shape.m * shape.k, 1),
            b: random(shape.k * shape.n, 2),
            c: vec![0.0; shape.m * shape.n],
        };
        for threads in options.threads.clone() {
            let libraries = [
                Library::Nninit,
                Library::Faer,
                Library::Gemm,
                Library::Matrixmultiply,
            ];
            // About 10 ms per timing, from one warm-up call each.
            let calls: Vec<usize> = libraries
                .iter()
                .map(|&library| {
                    let once = time(library, &shape, threads, &mut ops, 1);
                    ((0.01 / once) as usize).clamp(1, 10_000)
                })
                .collect();
            let mut times = vec![Vec::with_capacity(rounds); libraries.len()];
            for _ in 0..rounds {
                for (index, &library) in libraries.iter().enumerate() {
                    times[index].push(time(library, &shape, threads, &mut ops, calls[index]));
                }
            }
            let gflops: Vec<f64> = times
                .into_iter()
                .map(|t| shape.flops() as f64 / median(t) / 1e9)
                .collect();
            let peak = peaks[threads - 1];
            let cells: Vec<String> = gflops
                .iter()
                .map(|g| format!("{g:7.1} ({:4.2})", g / peak))
                .collect();
            let best_peer = gflops[1].max(gflops[2]);
            println!(
                "GEMM {:<18} {threads} | {} | {:.2}",
                shape.name,
                cells.join(" "),
                gflops[0] / best_peer
            );
        }
    }
}
