//! Sparse, DeltaOrthogonal and the framework defaults: statistics with derived tolerances
//! (each check is also run on a deliberately broken sample, which it must reject), exact
//! structure, the shapes PyTorch and JAX refuse, and the builder option.

use nninit::{
    DeltaOrthogonal, Error, Fans, Framework, Identity, Initializer, InitializerFamily, Network,
    Relu, Result, Sparse,
};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

/// `(mean, variance)` in f64.
fn moments(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (
        mean,
        values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n,
    )
}

/// Whether `values` look drawn with mean 0 and variance `variance`, at 5 sigma:
/// the sample mean's sd is `σ/√n`; the sample variance's relative sd is `√(2/n)` for a
/// normal (2.2% at n = 100,000) and `√(0.8/n)` for a uniform (excess kurtosis −1.2: 1.4%).
fn plausible(values: &[f64], variance: f64, relative_sd_of_variance: f64) -> bool {
    let n = values.len() as f64;
    let (mean, sample_variance) = moments(values);
    mean.abs() <= 5.0 * (variance / n).sqrt()
        && (sample_variance / variance - 1.0).abs() <= 5.0 * relative_sd_of_variance
}

fn normal_sd(n: usize) -> f64 {
    (2.0 / n as f64).sqrt()
}

fn uniform_sd(n: usize) -> f64 {
    (0.8 / n as f64).sqrt()
}

/// Each statistical check accepts the sample and rejects it scaled by 1.1 and by 0.
fn assert_plausible(values: &[f64], variance: f64, relative_sd: f64, what: &str) {
    assert!(
        plausible(values, variance, relative_sd),
        "{what}: {:?} vs variance {variance}",
        moments(values)
    );
    let scaled: Vec<f64> = values.iter().map(|v| v * 1.1).collect();
    assert!(
        !plausible(&scaled, variance, relative_sd),
        "{what}: the check misses a 1.1x scale"
    );
    assert!(
        !plausible(&vec![0.0; values.len()], variance, relative_sd),
        "{what}: the check misses zeros"
    );
}

#[test]
fn sparse_nonzeros_are_normal_and_each_column_has_its_zeros() -> Result<()> {
    // 500 x 400 weight, half of each column zero: 100,000 nonzeros from N(0, 0.01²).
    let (rows, cols) = (500, 400);
    let sparse = Sparse::new(0.5, 0.01);
    for seeded in [true, false] {
        let mut w = vec![0.0f64; rows * cols];
        if seeded {
            sparse.fill_seeded(&mut w, Fans::new(cols, rows), 11)?;
        } else {
            sparse.fill(
                &mut w,
                Fans::new(cols, rows),
                &mut Xoshiro256PlusPlus::seed_from_u64(11),
            )?;
        }
        for column in 0..cols {
            let zeros = (0..rows).filter(|&r| w[r * cols + column] == 0.0).count();
            assert_eq!(zeros, 250, "column {column}");
        }
        let nonzero: Vec<f64> = w.iter().copied().filter(|&v| v != 0.0).collect();
        assert_eq!(nonzero.len(), 100_000);
        assert_plausible(&nonzero, 1e-4, normal_sd(nonzero.len()), "sparse nonzeros");
    }
    Ok(())
}

/// The zeros are spread uniformly over the rows: with 10 rows and 3 zeros per column, each
/// row is zero in a column with probability 0.3, so over 20,000 columns its count is
/// Binomial(20000, 0.3): mean 6000, sd √(20000 · 0.3 · 0.7) = 64.8, 5 sigma = 324. Zeroing
/// always the first rows (a broken mask) puts 20,000 in row 0.
#[test]
fn sparse_zeros_are_uniform_over_rows() -> Result<()> {
    let (rows, cols) = (10, 20_000);
    let mut w = vec![0.0f32; rows * cols];
    nninit::sparse(&mut w, cols, rows, 0.3, 1.0)?;
    let row_zero_counts = |w: &[f32]| -> Vec<usize> {
        (0..rows)
            .map(|r| {
                w[r * cols..(r + 1) * cols]
                    .iter()
                    .filter(|&&v| v == 0.0)
                    .count()
            })
            .collect()
    };
    let uniform = |counts: &[usize]| counts.iter().all(|&c| (c as f64 - 6000.0).abs() <= 324.0);
    assert!(uniform(&row_zero_counts(&w)), "{:?}", row_zero_counts(&w));
    let mut broken = vec![1.0f32; rows * cols];
    broken[..3 * cols].fill(0.0);
    assert!(!uniform(&row_zero_counts(&broken)));
    Ok(())
}

#[test]
fn sparse_edge_cases_and_refusals() -> Result<()> {
    let fans = Fans::new(4, 3);
    let mut w = vec![1.0f32; 12];
    // ceil(sparsity · rows): 0.01 of 3 rows is still one zero per column, as in PyTorch.
    Sparse::new(0.01, 1.0).fill_seeded(&mut w, fans, 0)?;
    assert_eq!(w.iter().filter(|&&v| v == 0.0).count(), 4);
    Sparse::new(1.0, 1.0).fill_seeded(&mut w, fans, 0)?;
    assert!(w.iter().all(|&v| v == 0.0));
    Sparse::new(0.0, 1.0).fill_seeded(&mut w, fans, 0)?;
    assert!(w.iter().all(|&v| v != 0.0));
    for bad in [
        Sparse::new(-0.1, 1.0),
        Sparse::new(1.5, 1.0),
        Sparse::new(f64::NAN, 1.0),
        Sparse::new(0.5, -1.0),
    ] {
        assert!(
            matches!(
                bad.fill_seeded(&mut w, fans, 0),
                Err(Error::InvalidArgument { .. })
            ),
            "{bad:?}"
        );
    }
    // A conv kernel [3, 2, 2] (fans 4, 6 but 12 elements) is refused, as PyTorch refuses non-2-d tensors.
    let err = Sparse::new(0.5, 1.0)
        .fill_seeded(&mut w, Fans::new(4, 6), 0)
        .unwrap_err();
    assert!(
        matches!(err, Error::LengthMismatch { .. }) && err.to_string().contains("2-d"),
        "{err}"
    );
    assert!(
        Sparse::new(0.5, 1.0)
            .fill_shard(&mut w[..4], fans, 0, 10)
            .is_err()
    );
    assert_eq!(
        Initializer::<f32>::family(&Sparse::new(0.5, 1.0)),
        InitializerFamily::Sparse
    );
    Ok(())
}

/// `W[o, i, centre]` has orthonormal columns (`in <= out`) scaled by the gain; every other
/// tap is zero. Checked in 1, 2 and 3 spatial dimensions with odd and even sizes, where the
/// centre is `(k − 1) / 2` on each axis.
#[test]
fn delta_orthogonal_is_an_orthogonal_centre_tap() -> Result<()> {
    let cases: [(usize, usize, &[usize], usize); 4] = [
        (8, 8, &[3], 1),
        (6, 4, &[3, 3], 4),
        (5, 2, &[4, 2], 2),    // centre (1, 0) = 1 · 2 + 0
        (4, 3, &[2, 3, 3], 4), // centre (0, 1, 1) = 0 · 9 + 1 · 3 + 1
    ];
    for (out, inputs, kernel, centre) in cases {
        let taps: usize = kernel.iter().product();
        let mut shape = vec![out, inputs];
        shape.extend_from_slice(kernel);
        let gain = 1.5;
        let init = DeltaOrthogonal::new(kernel).gain(gain);
        let mut w = vec![0.0f64; out * inputs * taps];
        init.fill_seeded(&mut w, Fans::from_shape(&shape)?, 5)?;
        let check = |w: &[f64]| -> bool {
            let off_centre_zero = w
                .iter()
                .enumerate()
                .all(|(j, &v)| j % taps == centre || v == 0.0);
            let entry = |o: usize, i: usize| w[(o * inputs + i) * taps + centre];
            let orthonormal = (0..inputs).all(|a| {
                (0..inputs).all(|b| {
                    let dot: f64 = (0..out).map(|o| entry(o, a) * entry(o, b)).sum();
                    let expected = if a == b { gain * gain } else { 0.0 };
                    (dot - expected).abs() < 1e-12
                })
            });
            off_centre_zero && orthonormal
        };
        assert!(check(&w), "{shape:?}");
        let broken: Vec<f64> = w.iter().map(|v| v * 1.1).collect();
        assert!(!check(&broken));
        let mut shifted = vec![0.0; w.len()];
        shifted[1..].copy_from_slice(&w[..w.len() - 1]);
        assert!(!check(&shifted));
        // The generator path and f32 give the same structure.
        let mut w32 = vec![0.0f32; w.len()];
        init.fill(
            &mut w32,
            Fans::from_shape(&shape)?,
            &mut Xoshiro256PlusPlus::seed_from_u64(1),
        )?;
        assert!(
            w32.iter()
                .enumerate()
                .all(|(j, &v)| j % taps == centre || v == 0.0)
        );
    }
    Ok(())
}

#[test]
fn delta_orthogonal_refuses_what_jax_refuses() {
    let mut w = vec![0.0f32; 4 * 8 * 9];
    // in > out: "`fan_in` must be less or equal than `fan_out`".
    let err = nninit::delta_orthogonal(&mut w, &[4, 8, 3, 3]).unwrap_err();
    assert!(err.to_string().contains("in_channels"), "{err}");
    // A 2-d shape (no spatial axis) and a 6-d one (4 spatial axes).
    let mut w = vec![0.0f32; 16];
    assert!(nninit::delta_orthogonal(&mut w, &[4, 4]).is_err());
    let mut w = vec![0.0f32; 4 * 4 * 16];
    assert!(nninit::delta_orthogonal(&mut w, &[4, 4, 2, 2, 2, 2]).is_err());
    // Wrong length, fans that do not fit the kernel, a shard.
    let mut w = vec![0.0f32; 10];
    assert!(matches!(
        nninit::delta_orthogonal(&mut w, &[4, 4, 3]),
        Err(Error::LengthMismatch { .. })
    ));
    let mut w = vec![0.0f32; 48];
    assert!(
        DeltaOrthogonal::new(&[3])
            .fill_seeded(&mut w, Fans::new(5, 12), 0)
            .is_err()
    );
    assert!(
        DeltaOrthogonal::new(&[3])
            .fill_shard(&mut w, Fans::new(12, 12), 0, 0)
            .is_err()
    );
}

/// Each framework's weight and bias distribution against its formula, at n = 100,000
/// (fan_in 64, fan_out 1,562): PyTorch's and burn's `U(±1/8)`, Keras' Glorot uniform, Flax'
/// truncated LeCun normal (variance 1/64 after the 0.8796 correction), candle's `N(0, 2/64)`.
#[test]
fn framework_defaults_match_their_formulas() -> Result<()> {
    let (fan_in, fan_out) = (64usize, 1562usize);
    let n = fan_in * fan_out;
    let fans = Fans::new(fan_in, fan_out);
    let bound = 1.0 / (fan_in as f64).sqrt();
    for framework in Framework::ALL {
        let mut w = vec![0.0f64; n];
        framework
            .weight_initializer()
            .fill_seeded(&mut w, fans, 17)?;
        let (variance, sd) = match framework {
            Framework::PyTorch | Framework::Burn => (bound * bound / 3.0, uniform_sd(n)),
            Framework::Keras => (2.0 / (fan_in + fan_out) as f64, uniform_sd(n)),
            // Truncated at 2 sigma: kurtosis below 3, so the normal bound is conservative.
            Framework::Flax => (1.0 / fan_in as f64, normal_sd(n)),
            Framework::Candle => (2.0 / fan_in as f64, normal_sd(n)),
            _ => unreachable!("every framework is listed"),
        };
        assert_plausible(&w, variance, sd, framework.name());
        if matches!(framework, Framework::PyTorch | Framework::Burn) {
            let largest = w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(
                largest <= bound && largest > 0.999 * bound,
                "{framework}: {largest}"
            );
        }
        // Biases: U(±1/√fan_in) for PyTorch, candle and burn; zeros for Keras and Flax.
        let mut bias = vec![1.0f64; n];
        framework
            .bias_initializer()
            .fill_seeded(&mut bias, fans, 18)?;
        match framework {
            Framework::Keras | Framework::Flax => assert!(bias.iter().all(|&b| b == 0.0)),
            _ => assert_plausible(&bias, bound * bound / 3.0, uniform_sd(n), "bias"),
        }
    }
    Ok(())
}

#[test]
fn init_like_sets_weights_and_biases() -> Result<()> {
    let keras = Network::builder(16)
        .dense(8, Relu)
        .dense(2, Identity)
        .init_like(Framework::Keras)
        .build()?;
    let limit = (6.0f32 / 24.0).sqrt();
    assert!(keras.layers()[0].weight().iter().all(|w| w.abs() <= limit));
    assert!(
        keras
            .layers()
            .iter()
            .all(|l| l.bias().iter().all(|&b| b == 0.0))
    );
    assert_eq!(keras.layers()[0].initializer(), "GlorotUniform");
    let torch = Network::builder(16)
        .dense(8, Relu)
        .dense(2, Identity)
        .init_like(Framework::PyTorch)
        .build()?;
    let second = &torch.layers()[1]; // fan_in 8: U(±1/√8)
    let bound = 1.0 / 8f32.sqrt();
    assert!(
        second
            .weight()
            .iter()
            .chain(second.bias())
            .all(|v| v.abs() <= bound)
    );
    assert!(second.bias().iter().all(|&b| b != 0.0));
    // A later per-layer initializer still wins over init_like.
    let mixed = Network::builder(4)
        .dense(3, Relu)
        .init_like(Framework::Flax)
        .layer_init(0, nninit::Zeros)
        .build()?;
    assert!(mixed.layers()[0].weight().iter().all(|&w| w == 0.0));
    Ok(())
}

/// Sparse's seeded stream is value-stable: the zero pattern of a 5 x 4 weight at seed 42 is
/// pinned (the nonzero values are the pinned normal stream). The pattern was recorded from
/// this implementation (Floyd's algorithm on the Philox mask stream) when it was written;
/// a change here is value-breaking.
#[test]
fn sparse_seeded_pattern_is_pinned() -> Result<()> {
    let mut w = vec![0.0f32; 20];
    nninit::Sparse::new(0.4, 1.0).fill_seeded(&mut w, Fans::new(4, 5), 42)?;
    let pattern: String = w
        .iter()
        .map(|&v| if v == 0.0 { '0' } else { 'x' })
        .collect();
    // Rows of the 5 x 4 weight; each column has ceil(0.4 · 5) = 2 zeros.
    assert_eq!(pattern, "x0xx000x0x0xxxx0xxx0");
    Ok(())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Any shard of a sparse fill equals the same range of the whole fill.
    #[test]
    fn sparse_shards_equal_the_whole(rows in 1usize..20, cols in 1usize..20, sparsity in 0.0f64..=1.0, start in 0usize..400, len in 0usize..400, seed in 0u64..1000) {
        let total = rows * cols;
        let start = start % total;
        let end = (start + len).min(total);
        let sparse = Sparse::new(sparsity, 1.0);
        let mut whole = vec![0.0f64; total];
        sparse.fill_seeded(&mut whole, Fans::new(cols, rows), seed).unwrap();
        let mut shard = vec![0.0f64; end - start];
        sparse.fill_shard(&mut shard, Fans::new(cols, rows), seed, start).unwrap();
        proptest::prop_assert_eq!(&whole[start..end], shard.as_slice());
    }
}

/// `fill_shape` with JAX's own layout `[k..., in, out]` puts the orthogonal matrix at
/// `W[centre, i, o]`, the transpose of the PyTorch layout; a shape whose spatial sizes are not
/// the kernel's is refused.
#[test]
fn delta_orthogonal_fills_jax_layout_from_a_shape() -> Result<()> {
    use nninit::Layout;
    let init = DeltaOrthogonal::new(&[3, 3]);
    let mut torch = vec![0.0f64; 4 * 2 * 9];
    init.fill_shape(&mut torch, &[4, 2, 3, 3], Layout::OutIn, 3)?;
    let mut jax = vec![0.0f64; 9 * 2 * 4];
    init.fill_shape(&mut jax, &[3, 3, 2, 4], Layout::InOut, 3)?;
    for o in 0..4 {
        for i in 0..2 {
            for k in 0..9 {
                assert_eq!(jax[(k * 2 + i) * 4 + o], torch[(o * 2 + i) * 9 + k]);
            }
        }
    }
    assert!(jax[(4 * 2) * 4..(4 * 2 + 2) * 4].iter().any(|&v| v != 0.0));
    assert!(
        init.fill_shape(&mut torch, &[4, 2, 9, 1], Layout::OutIn, 3)
            .is_err()
    );
    Ok(())
}
