//! Differential tests of `nninit::linalg::gemm` against a naive f64 triple loop.
//!
//! Needs the unstable `internals` feature (`cargo test --features internals --test gemm`; CI
//! runs it with `--all-features`).
//!
//! Every kernel this CPU supports is forced in turn through the unstable `gemm_with` entry
//! point (no process-wide switch, so these tests can run in parallel), on both the unpacked
//! and the packed path, over every edge size 0..=17, sizes around the tile and cache-block
//! sizes, odd large sizes, all four transpose combinations, strided operands, and C poisoned
//! with NaN where `beta = 0` must not read it.
//!
//! Tolerance: each element is a sum of `k` products computed in f32. The classic bound
//! (Higham, *Accuracy and Stability of Numerical Algorithms*, 3.1) for any summation order,
//! fused or not, is `|error| <= gamma_{k+2} * (|alpha| * sum_p |a_ip b_pj| + |beta c_ij|)` with
//! `gamma_j = j u / (1 - j u)`, `u = 2^-24`; the `+2` covers the scaling by alpha and the
//! addition of `beta c`. We allow `(k + 3) * f32::EPSILON` (= `2 (k + 3) u`), a little above it.

use nninit::dispatch::Isa;
use nninit::linalg::{Blocking, Config, Path, Tile, Transpose, gemm, gemm_with, matmul};
use proptest::prelude::*;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

const TRANSPOSES: [(Transpose, Transpose); 4] = [
    (Transpose::No, Transpose::No),
    (Transpose::No, Transpose::Yes),
    (Transpose::Yes, Transpose::No),
    (Transpose::Yes, Transpose::Yes),
];

/// One gemm call: sizes, transposes, scalars and the padding added to each leading dimension.
#[derive(Clone, Copy, Debug)]
struct Case {
    m: usize,
    n: usize,
    k: usize,
    trans_a: Transpose,
    trans_b: Transpose,
    alpha: f32,
    beta: f32,
    /// Extra elements at the end of each stored row of A, B and C.
    pad: (usize, usize, usize),
}

impl Case {
    fn new(m: usize, n: usize, k: usize, (trans_a, trans_b): (Transpose, Transpose)) -> Self {
        Case {
            m,
            n,
            k,
            trans_a,
            trans_b,
            alpha: 1.0,
            beta: 0.0,
            pad: (0, 0, 0),
        }
    }

    fn scalars(self, alpha: f32, beta: f32) -> Self {
        Case {
            alpha,
            beta,
            ..self
        }
    }

    fn padded(self, pad: (usize, usize, usize)) -> Self {
        Case { pad, ..self }
    }

    /// Stored (rows, cols) of A and B.
    fn stored_shapes(&self) -> ((usize, usize), (usize, usize)) {
        let a = if self.trans_a == Transpose::No {
            (self.m, self.k)
        } else {
            (self.k, self.m)
        };
        let b = if self.trans_b == Transpose::No {
            (self.k, self.n)
        } else {
            (self.n, self.k)
        };
        (a, b)
    }
}

/// The operands of a case, with NaN in every padding slot of A and B (so reading padding
/// would poison the result) and a sentinel in C's padding (so writing it is detected).
struct Operands {
    a: Vec<f32>,
    lda: usize,
    b: Vec<f32>,
    ldb: usize,
    c: Vec<f32>,
    ldc: usize,
}

const C_PADDING: f32 = 12345.0;

fn random_matrix(
    rng: &mut Xoshiro256PlusPlus,
    rows: usize,
    cols: usize,
    ld: usize,
    pad: f32,
) -> Vec<f32> {
    (0..rows * ld)
        .map(|index| {
            if index % ld < cols {
                rng.random_range(-1.0f32..1.0)
            } else {
                pad
            }
        })
        .collect()
}

fn operands(case: &Case, seed: u64) -> Operands {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let ((a_rows, a_cols), (b_rows, b_cols)) = case.stored_shapes();
    let (lda, ldb, ldc) = (
        a_cols + case.pad.0,
        b_cols + case.pad.1,
        case.n + case.pad.2,
    );
    let a = random_matrix(&mut rng, a_rows, a_cols, lda.max(1), f32::NAN);
    let b = random_matrix(&mut rng, b_rows, b_cols, ldb.max(1), f32::NAN);
    let mut c = random_matrix(&mut rng, case.m, case.n, ldc.max(1), C_PADDING);
    if case.beta == 0.0 {
        // beta = 0 must not read C: NaN would survive any read as `0 * NaN`.
        for (index, value) in c.iter_mut().enumerate() {
            if index % ldc.max(1) < case.n {
                *value = f32::NAN;
            }
        }
    }
    Operands {
        a,
        lda,
        b,
        ldb,
        c,
        ldc,
    }
}

/// `alpha * op(A) op(B) + beta * C` in f64, and the error bound of each element.
fn reference(case: &Case, ops: &Operands) -> (Vec<f64>, Vec<f64>) {
    let a_at = |i: usize, p: usize| match case.trans_a {
        Transpose::No => ops.a[i * ops.lda + p],
        Transpose::Yes => ops.a[p * ops.lda + i],
    } as f64;
    let b_at = |p: usize, j: usize| match case.trans_b {
        Transpose::No => ops.b[p * ops.ldb + j],
        Transpose::Yes => ops.b[j * ops.ldb + p],
    } as f64;
    let mut expected = Vec::with_capacity(case.m * case.n);
    let mut bounds = Vec::with_capacity(case.m * case.n);
    let gamma = (case.k + 3) as f64 * f32::EPSILON as f64;
    for i in 0..case.m {
        for j in 0..case.n {
            let (mut sum, mut magnitude) = (0.0, 0.0);
            for p in 0..case.k {
                sum += a_at(i, p) * b_at(p, j);
                magnitude += (a_at(i, p) * b_at(p, j)).abs();
            }
            let c_old = if case.beta == 0.0 {
                0.0
            } else {
                ops.c[i * ops.ldc + j] as f64
            };
            let (alpha, beta) = (case.alpha as f64, case.beta as f64);
            expected.push(alpha * sum + beta * c_old);
            bounds
                .push(gamma * (alpha.abs() * magnitude + (beta * c_old).abs()) + f64::MIN_POSITIVE);
        }
    }
    (expected, bounds)
}

fn call(config: Config, case: &Case, ops: &mut Operands) -> nninit::Result<()> {
    gemm_with(
        config,
        case.trans_a,
        case.trans_b,
        case.m,
        case.n,
        case.k,
        case.alpha,
        &ops.a,
        ops.lda,
        &ops.b,
        ops.ldb,
        case.beta,
        &mut ops.c,
        ops.ldc,
    )
}

/// Runs `case` with `config` and checks every element of C and every padding slot.
fn check(config: Config, case: Case, seed: u64) -> Vec<f32> {
    let mut ops = operands(&case, seed);
    let (expected, bounds) = reference(&case, &ops);
    call(config, &case, &mut ops).expect("valid sizes");
    for i in 0..case.m {
        for j in 0..case.n {
            let got = ops.c[i * ops.ldc + j] as f64;
            let index = i * case.n + j;
            assert!(
                (got - expected[index]).abs() <= bounds[index],
                "{config:?} {case:?}: c[{i}][{j}] = {got}, expected {} (bound {})",
                expected[index],
                bounds[index]
            );
        }
        for j in case.n..ops.ldc.min(ops.c.len() - i * ops.ldc) {
            assert_eq!(
                ops.c[i * ops.ldc + j],
                C_PADDING,
                "{config:?} {case:?}: padding written"
            );
        }
    }
    ops.c
}

fn configs(threads: usize) -> Vec<Config> {
    let mut configs = Vec::new();
    for isa in Isa::available() {
        for path in [Path::Small, Path::Packed, Path::Thin] {
            configs.push(Config {
                isa,
                threads,
                path,
                blocking: None,
            });
        }
    }
    configs
}

/// Every (m, n, k) in 0..=17, every transpose pair, every kernel and path: all edge tiles of
/// every kernel (the largest tile is 8 x 32; k up to 17 covers loops with tails).
#[test]
fn every_size_up_to_17() {
    let scalars = [(1.0, 0.0), (-0.5, 1.0), (2.0, -1.5)];
    for config in configs(1) {
        for m in 0..=17 {
            for n in 0..=17 {
                for k in 0..=17 {
                    for (index, &transposes) in TRANSPOSES.iter().enumerate() {
                        let (alpha, beta) = scalars[(m + n + k + index) % scalars.len()];
                        let case = Case::new(m, n, k, transposes).scalars(alpha, beta);
                        check(config, case, (m * 400 + n * 20 + k) as u64);
                    }
                }
            }
        }
    }
}

/// Columns just around NR multiples of every kernel (8, 16, 32) and beyond, with thin and
/// wide shapes.
#[test]
fn sizes_around_tiles() {
    let sizes = [
        (1, 33, 5),
        (9, 31, 7),
        (25, 64, 3),
        (8, 65, 16),
        (6, 97, 40),
        (13, 15, 300),
        (65, 2, 70),
    ];
    for config in configs(1) {
        for &(m, n, k) in &sizes {
            for &transposes in &TRANSPOSES {
                check(config, Case::new(m, n, k, transposes).scalars(0.75, 0.5), 7);
            }
        }
    }
}

/// The register tile of each kernel (see the module docs of `nninit::linalg`).
fn tile_of(isa: Isa) -> Tile {
    match isa {
        Isa::Portable => Tile { mr: 4, nr: 8 },
        Isa::Avx2 => Tile { mr: 6, nr: 16 },
        Isa::Avx512 => Tile { mr: 8, nr: 32 },
    }
}

/// Sizes straddling the cache blocks this CPU's caches give (`KC`, `MC`, `NC` derived at run
/// time), so every loop of the nest runs a partial last block.
#[test]
fn sizes_around_cache_blocks() {
    for isa in Isa::available() {
        let config = Config {
            isa,
            threads: 1,
            path: Path::Packed,
            blocking: None,
        };
        let Blocking { kc, mc, nc } = Blocking::for_this_cpu(tile_of(isa));
        let sizes = [
            (mc + 1, 40, kc + 1),
            (mc - 1, 33, kc - 1),
            (2 * mc + 3, 17, 2 * kc + 1),
            (3, nc + 1, 9),
            (5, 2 * nc + 1, 3),
        ];
        for &(m, n, k) in &sizes {
            for &transposes in &TRANSPOSES {
                check(
                    config,
                    Case::new(m, n, k, transposes).scalars(1.0, -1.0),
                    11,
                );
            }
        }
    }
}

/// Tiny forced blocks (as on a CPU with very small caches, or a wrong reading) over sizes that
/// cut every block several times, with odd block sizes that are not tile multiples.
#[test]
fn forced_small_blocks() {
    let blockings = [
        Blocking {
            kc: 8,
            mc: 16,
            nc: 32,
        },
        Blocking {
            kc: 13,
            mc: 7,
            nc: 50,
        },
        Blocking {
            kc: 1,
            mc: 1,
            nc: 1,
        },
    ];
    for isa in Isa::available() {
        for blocking in blockings {
            let config = Config {
                isa,
                threads: 2,
                path: Path::Packed,
                blocking: Some(blocking),
            };
            for &(m, n, k) in &[(33, 65, 27), (17, 100, 9), (70, 7, 40)] {
                for &transposes in &TRANSPOSES {
                    check(config, Case::new(m, n, k, transposes).scalars(0.5, 1.5), 29);
                }
            }
        }
    }
}

/// 257 x 511 x 129 through the default path with 1 and 2 threads, every transpose pair.
#[test]
fn odd_large_size() {
    for isa in Isa::available() {
        for threads in [1, 2] {
            let config = Config {
                isa,
                threads,
                path: Path::Auto,
                blocking: None,
            };
            for &transposes in &TRANSPOSES {
                check(
                    config,
                    Case::new(257, 511, 129, transposes).scalars(1.25, 0.0),
                    13,
                );
            }
        }
    }
}

/// Leading dimensions larger than the rows: padding is neither read (it holds NaN) nor
/// written (it holds a sentinel). The shapes include each form of the unpacked path with a
/// copied operand: columns (`40 x 5 x 7`, `20 x 3 x 2`), dots with B copied (`5 x 7 x 40`) and
/// rows with Bᵀ copied (`7 x 40 x 5`).
#[test]
fn strided_operands() {
    for config in configs(2) {
        for &transposes in &TRANSPOSES {
            let shapes = [
                (5, 7, 3),
                (37, 41, 43),
                (70, 90, 300),
                (40, 5, 7),
                (5, 7, 40),
                (7, 40, 5),
                (20, 3, 2),
            ];
            for &(m, n, k) in &shapes {
                let case = Case::new(m, n, k, transposes)
                    .scalars(-1.0, 2.0)
                    .padded((3, 5, 7));
                check(config, case, 17);
            }
        }
    }
}

/// beta = 0 overwrites NaN in C; alpha = 0 never reads A or B (NaN there too) and only
/// scales C; k = 0 gives beta * C.
#[test]
fn special_scalars() {
    for config in configs(1) {
        check(
            config,
            Case::new(20, 40, 30, TRANSPOSES[0]).scalars(1.0, 0.0),
            19,
        );
        check(
            config,
            Case::new(20, 40, 0, TRANSPOSES[1]).scalars(1.0, 0.5),
            19,
        );
        check(
            config,
            Case::new(20, 40, 0, TRANSPOSES[2]).scalars(1.0, 0.0),
            19,
        );
        let nan = vec![f32::NAN; 6];
        let mut c = vec![1.0, 2.0, 3.0, 4.0];
        gemm_with(
            config,
            Transpose::No,
            Transpose::No,
            2,
            2,
            3,
            0.0,
            &nan,
            3,
            &nan,
            2,
            3.0,
            &mut c,
            2,
        )
        .expect("valid sizes");
        assert_eq!(c, [3.0, 6.0, 9.0, 12.0]);
    }
}

/// The same product on 1, 2 and 3 threads is bit-identical, for row and column splits.
#[test]
fn thread_count_does_not_change_bits() {
    for isa in Isa::available() {
        // Each above the 2^23 multiply-adds from which gemm uses several threads.
        for &(m, n, k) in &[(300, 200, 300), (37, 1400, 330), (513, 257, 130)] {
            for &transposes in &TRANSPOSES {
                let case = Case::new(m, n, k, transposes).scalars(0.5, 1.0);
                let runs: Vec<Vec<f32>> = [1, 2, 3]
                    .iter()
                    .map(|&threads| {
                        check(
                            Config {
                                isa,
                                threads,
                                path: Path::Auto,
                                blocking: None,
                            },
                            case,
                            23,
                        )
                    })
                    .collect();
                let bits = |c: &Vec<f32>| c.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&runs[0]),
                    bits(&runs[1]),
                    "{isa:?} {case:?}: 1 vs 2 threads"
                );
                assert_eq!(
                    bits(&runs[0]),
                    bits(&runs[2]),
                    "{isa:?} {case:?}: 1 vs 3 threads"
                );
            }
        }
    }
}

#[test]
fn public_entry_points_agree_with_reference() {
    for &transposes in &TRANSPOSES {
        let case = Case::new(67, 45, 89, transposes)
            .scalars(1.0, 0.25)
            .padded((1, 2, 3));
        let mut ops = operands(&case, 29);
        let (expected, bounds) = reference(&case, &ops);
        gemm(
            case.trans_a,
            case.trans_b,
            case.m,
            case.n,
            case.k,
            case.alpha,
            &ops.a,
            ops.lda,
            &ops.b,
            ops.ldb,
            case.beta,
            &mut ops.c,
            ops.ldc,
        )
        .expect("valid sizes");
        for i in 0..case.m {
            for j in 0..case.n {
                let got = ops.c[i * ops.ldc + j] as f64;
                assert!((got - expected[i * case.n + j]).abs() <= bounds[i * case.n + j]);
            }
        }
    }
    // matmul: [[1, 2, 3], [4, 5, 6]] * [[1, 0], [0, 1], [1, 1]] = [[4, 5], [10, 11]].
    let c = matmul(
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0],
        2,
        3,
        2,
    )
    .unwrap();
    assert_eq!(c, [4.0, 5.0, 10.0, 11.0]);
}

#[test]
fn short_slices_and_bad_leading_dimensions_are_errors() {
    let a = vec![1.0f32; 12];
    let b = vec![1.0f32; 12];
    let mut c = vec![0.0f32; 12];
    let no = Transpose::No;
    // A is 3 x 4 (12): fine; 4 x 4 would need 16.
    assert!(gemm(no, no, 3, 3, 4, 1.0, &a, 4, &b, 3, 0.0, &mut c, 3).is_ok());
    let err = gemm(no, no, 4, 3, 4, 1.0, &a, 4, &b, 3, 0.0, &mut c, 3).unwrap_err();
    assert_eq!(
        err.to_string(),
        "matrix a has length 12, expected at least 16"
    );
    // op(B) = Bᵀ with B stored 5 x 3 (needs 15).
    let err = gemm(
        no,
        Transpose::Yes,
        2,
        5,
        3,
        1.0,
        &a,
        3,
        &b,
        3,
        0.0,
        &mut c,
        5,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "matrix b has length 12, expected at least 15"
    );
    // C 3 x 5 with ldc 5 needs 15.
    let err = gemm(no, no, 3, 5, 2, 1.0, &a, 2, &b, 5, 0.0, &mut c, 5).unwrap_err();
    assert_eq!(
        err.to_string(),
        "matrix c has length 12, expected at least 15"
    );
    // A leading dimension shorter than the stored row.
    let err = gemm(no, no, 2, 2, 3, 1.0, &a, 2, &b, 2, 0.0, &mut c, 2).unwrap_err();
    assert_eq!(
        err.to_string(),
        "leading dimension must be >= 3 for a, got 2"
    );
    // Overflowing sizes are an error, not a panic.
    assert!(
        gemm(
            no,
            no,
            usize::MAX,
            2,
            2,
            1.0,
            &a,
            2,
            &b,
            2,
            0.0,
            &mut c,
            usize::MAX
        )
        .is_err()
    );
    assert!(matmul(&a, &b, usize::MAX, 0, 2).is_err());
    assert_eq!(
        matmul(&a[..5], &b, 2, 3, 2).unwrap_err().to_string(),
        "matrix a has length 5, expected 6 (m x k = 2 x 3)"
    );
    // Errors leave C as the first, valid call wrote it: 3 x 3 sums of four ones.
    assert!(c[..9].iter().all(|&x| x == 4.0));
    assert!(c[9..].iter().all(|&x| x == 0.0));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random shapes, transposes, paddings and scalars on every kernel and path.
    #[test]
    fn random_shapes_match_reference(
        m in 0usize..90, n in 0usize..90, k in 0usize..300,
        transposes in 0usize..4, pad in (0usize..4, 0usize..4, 0usize..4),
        alpha in -2.0f32..2.0, beta in prop_oneof![Just(0.0f32), -2.0f32..2.0],
        threads in 1usize..4, seed in any::<u64>(),
    ) {
        let case = Case::new(m, n, k, TRANSPOSES[transposes]).scalars(alpha, beta).padded(pad);
        for config in configs(threads) {
            check(config, case, seed);
        }
    }
}
