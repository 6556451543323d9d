//! The guarantees of the public API (issue 13, and issue 14 points 5 and 6): the shape is the
//! source of truth, nothing returns `Ok` with a wrong or non-finite result, and decisions that
//! depend on what an activation or initializer *is* use their typed families.
//!
//! Each test failed before its fix.

use nninit::io::Tensor;
use nninit::{
    Activation, ActivationFamily, Dense, Elu, Error, Fans, GlorotUniform, HeNormal, HeUniform,
    Huber, Identity, Initializer, InitializerFamily, Layout, LeakyRelu, Loss, Mse, Network,
    Nonlinearity, Orthogonal, Relu, Softplus, Tanh, Uniform, Warning, calculate_gain,
    try_calculate_gain,
};
use rand::RngExt;

// ---------------------------------------------------------------------------------------------
// 1. The shape is the source of truth.

#[test]
fn free_functions_refuse_a_buffer_that_cannot_belong_to_the_fans() {
    // The example: 10 weights filled with the variance of a 784 x 256 layer.
    let mut w = vec![0.5f32; 10];
    let error = nninit::xavier_uniform(&mut w, 784, 256).unwrap_err();
    assert_eq!(
        error.to_string(),
        "weights has length 10, expected fan_in * fan_out / r for a receptive field r dividing \
         both fans (fan_in 784, fan_out 256: 200704 for a dense layer)"
    );
    assert!(matches!(error, Error::LengthMismatch { found: 10, .. }));
    assert!(
        w.iter().all(|&x| x == 0.5),
        "weights must be left untouched"
    );
    let mut rng = rand::rngs::Xoshiro256PlusPlus::from_seed_u64(1);
    for call in [
        nninit::kaiming_normal::<Vec<f32>>,
        nninit::kaiming_uniform,
        nninit::lecun_normal,
        nninit::lecun_uniform,
        nninit::xavier_normal,
        nninit::orthogonal,
    ] {
        assert!(call(&mut w, 784, 256).is_err());
    }
    assert!(nninit::xavier_uniform_with(&mut w, 784, 256, &mut rng).is_err());
    assert!(w.iter().all(|&x| x == 0.5));
}

#[test]
fn free_functions_accept_every_length_a_tensor_with_those_fans_can_have() {
    // Dense [out 6, in 4]: r = 1.
    assert!(nninit::kaiming_normal(&mut vec![0f32; 24], 4, 6).is_ok());
    // Conv [out 8, in 3, 3, 3]: fan_in 27, fan_out 72, r = 9, 216 elements.
    assert!(nninit::xavier_uniform(&mut vec![0f32; 216], 27, 72).is_ok());
    // Conv1d [out 4, in 2, 3]: fan_in 6, fan_out 12, r = 3.
    assert!(nninit::kaiming_uniform(&mut vec![0f64; 24], 6, 12).is_ok());
    // 36 divides 27 * 72 (r = 54) but 54 divides neither fan.
    assert!(nninit::xavier_uniform(&mut vec![0f32; 36], 27, 72).is_err());
    // Empty: a no-op, as in PyTorch, even with zero fans.
    assert!(nninit::xavier_uniform(&mut Vec::<f32>::new(), 784, 256).is_ok());
    assert!(nninit::kaiming_normal(&mut Vec::<f32>::new(), 0, 0).is_ok());
    // Distributions without fans take any length.
    assert!(nninit::uniform(&mut vec![0f32; 7], -1.0, 1.0).is_ok());
}

#[test]
fn a_dense_layer_refuses_fans_other_than_its_own() {
    let mut layer = Dense::new(784, 256, Relu).unwrap();
    // Swapped fans fit the length but not the layer: He's fan_in would be wrong.
    let error = nninit::kaiming_normal(&mut layer, 256, 784).unwrap_err();
    assert_eq!(
        error.to_string(),
        "fans must be the layer's own (fan_in 784, fan_out 256), got fan_in 256, fan_out 784"
    );
    assert!(layer.weight().iter().all(|&w| w == 0.0));
    assert!(nninit::kaiming_normal(&mut layer, 784, 256).is_ok());
}

#[test]
fn shape_driven_entry_points_derive_the_fans() -> nninit::Result<()> {
    // burn's Linear [d_input, d_output] and Keras kernels: [.., in, out].
    assert_eq!(
        Fans::from_layout(&[784, 256], Layout::InOut)?,
        Fans::new(784, 256)
    );
    assert_eq!(
        Fans::from_layout(&[3, 3, 16, 32], Layout::InOut)?,
        Fans::from_shape(&[32, 16, 3, 3])?
    );
    // Slices: He's std from fan_in = 784 whichever layout stores the layer.
    let he = HeUniform::new();
    let bound = (6.0f32 / 784.0).sqrt();
    for (shape, layout) in [([256, 784], Layout::OutIn), ([784, 256], Layout::InOut)] {
        let mut w = vec![0.0f32; 784 * 256];
        he.fill_shape(&mut w, &shape, layout, 3)?;
        let largest = w.iter().fold(0f32, |m, x| m.max(x.abs()));
        // 200,704 uniforms on [-b, b): the largest is within b * 1e-4 of b but for a chance
        // of (1 - 1e-4 / 2)^200704 = e^-10.
        assert!(
            largest <= bound && largest > 0.9999 * bound,
            "{largest} {bound}"
        );
    }
    // io::Tensor and Dense.
    let mut tensor = Tensor::new(vec![784, 256], vec![0.0; 784 * 256])?;
    tensor.initialize(&he, Layout::InOut, 3)?;
    assert!(tensor.data.iter().all(|w| w.abs() <= bound));
    let mut layer = Dense::new(784, 256, Relu)?;
    layer.init_weight(&he, 3)?;
    assert_eq!(layer.initializer_family(), InitializerFamily::He);
    assert!(layer.weight().iter().all(|w| w.abs() <= bound));
    // The length must match the shape.
    let mut short = vec![0.0f32; 10];
    assert!(
        he.fill_shape(&mut short, &[784, 256], Layout::InOut, 3)
            .is_err()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 2. Nothing silently non-finite (and 14.5, 14.6: nothing degenerate).

#[test]
fn orthogonal_gain_outside_the_element_type_is_refused() {
    let mut w = vec![0.0f32; 16];
    // 1e39 is beyond f32::MAX: infinities, returned as Ok before.
    assert!(
        Orthogonal::new()
            .gain(1e39)
            .fill_seeded(&mut w, Fans::new(4, 4), 1)
            .is_err()
    );
    // 1e-50 underflows f32: all zeros before.
    let error = Orthogonal::new()
        .gain(1e-50)
        .fill_seeded(&mut w, Fans::new(4, 4), 1)
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("gain must be within the normal range of f32")
    );
    assert!(w.iter().all(|&x| x == 0.0), "untouched");
    // f64 holds both.
    let mut w64 = vec![0.0f64; 16];
    Orthogonal::new()
        .gain(1e39)
        .fill_seeded(&mut w64, Fans::new(4, 4), 1)
        .unwrap();
    assert!(w64.iter().all(|x| x.is_finite()) && w64.iter().any(|&x| x != 0.0));
}

#[test]
fn uniform_values_lie_in_the_range_or_the_call_is_refused() {
    // 14.5: `high - low` overflowed f32 in the vectorized kernel: every element identical.
    let mut w = vec![0.0f32; 4096];
    nninit::manual_seed(3);
    nninit::uniform(&mut w, -2e38, 2e38).unwrap();
    assert!(w.iter().all(|&x| (-2e38..2e38).contains(&x)));
    let distinct: std::collections::BTreeSet<u32> = w.iter().map(|x| x.to_bits()).collect();
    assert!(distinct.len() > 4000, "{}", distinct.len());
    // The same through the caller's generator.
    let mut rng = rand::rngs::Xoshiro256PlusPlus::from_seed_u64(2);
    nninit::uniform_with(&mut w, -2e38, 2e38, &mut rng).unwrap();
    assert!(w.iter().all(|&x| (-2e38..2e38).contains(&x)));
    // A Glorot bound whose range overflows f32 (bound 3.2e38 * sqrt(6 / 10) = 2.5e38).
    GlorotUniform::new()
        .gain(3.2e38)
        .fill_seeded(&mut w, Fans::new(5, 5), 1)
        .unwrap();
    let distinct: std::collections::BTreeSet<u32> = w.iter().map(|x| x.to_bits()).collect();
    assert!(distinct.len() > 4000, "{}", distinct.len());
    assert!(w.iter().all(|x| x.is_finite()));
    // Ranges with no f32 value: 0.99999994 (below low) and 0 before.
    for (low, high) in [(1.0, 1.0 + 1e-12), (1e-45, 2e-45)] {
        let mut w = vec![5.0f32; 64];
        assert!(
            nninit::uniform(&mut w, low, high).is_err(),
            "[{low}, {high})"
        );
        assert!(w.iter().all(|&x| x == 5.0));
    }
    // A bound beyond f32::MAX.
    assert!(
        Uniform::new(-1e39, 1e39)
            .fill_seeded(&mut w, Fans::new(1, 1), 1)
            .is_err()
    );
}

/// Every initializer parameter that would write a non-finite or degenerate `f32` weight, tried
/// on a buffer of sevens: each call is refused and the buffer stays as it was.
#[test]
fn every_initializer_parameter_outside_its_domain_is_refused() {
    use nninit::init::Distribution;
    use nninit::{
        Constant, FanMode, GlorotNormal, LecunNormal, Normal, TruncatedNormal, VarianceScaling,
    };
    let (nan, inf) = (f64::NAN, f64::INFINITY);
    let refused: Vec<(&str, Box<dyn Initializer<f32>>)> = vec![
        ("constant NaN", Box::new(Constant::new(nan))),
        ("constant beyond f32", Box::new(Constant::new(1e39))),
        ("uniform NaN", Box::new(Uniform::new(nan, 1.0))),
        ("uniform inverted", Box::new(Uniform::new(1.0, -1.0))),
        ("uniform infinite", Box::new(Uniform::new(-inf, 1.0))),
        (
            "uniform collapsed in f32",
            Box::new(Uniform::new(1.0, 1.0 + 1e-12)),
        ),
        ("normal NaN mean", Box::new(Normal::new(nan, 1.0))),
        ("normal negative std", Box::new(Normal::new(0.0, -1.0))),
        ("normal infinite std", Box::new(Normal::new(0.0, inf))),
        ("normal beyond f32", Box::new(Normal::new(0.0, 1e37))),
        ("normal std below f32", Box::new(Normal::new(0.0, 1e-50))),
        (
            "truncated zero std",
            Box::new(TruncatedNormal::new(0.0, 0.0, -1.0, 1.0)),
        ),
        (
            "truncated empty window",
            Box::new(TruncatedNormal::new(0.0, 1.0, 1.0, 1.0)),
        ),
        (
            "truncated window without mass",
            Box::new(TruncatedNormal::new(0.0, 1.0, 50.0, 60.0)),
        ),
        (
            "truncated std below f32",
            Box::new(TruncatedNormal::new(0.0, 1e-50, -1.0, 1.0)),
        ),
        ("glorot NaN gain", Box::new(GlorotUniform::new().gain(nan))),
        ("glorot zero gain", Box::new(GlorotNormal::new().gain(0.0))),
        (
            "glorot gain beyond f32",
            Box::new(GlorotUniform::new().gain(1e39)),
        ),
        (
            "glorot gain below f32",
            Box::new(GlorotUniform::new().gain(1e-50)),
        ),
        (
            "he NaN slope",
            Box::new(HeNormal::new().nonlinearity(Nonlinearity::LeakyRelu(nan))),
        ),
        (
            "he huge slope",
            Box::new(HeUniform::new().nonlinearity(Nonlinearity::LeakyRelu(1e200))),
        ),
        (
            "variance scaling NaN",
            Box::new(VarianceScaling::new(
                nan,
                FanMode::FanIn,
                Distribution::Normal,
            )),
        ),
        (
            "variance scaling zero",
            Box::new(VarianceScaling::new(
                0.0,
                FanMode::FanIn,
                Distribution::Uniform,
            )),
        ),
        (
            "variance scaling infinite",
            Box::new(VarianceScaling::new(
                inf,
                FanMode::FanAvg,
                Distribution::TruncatedNormal,
            )),
        ),
        (
            "variance scaling beyond f32",
            Box::new(VarianceScaling::new(
                1e80,
                FanMode::FanIn,
                Distribution::Normal,
            )),
        ),
        ("orthogonal NaN gain", Box::new(Orthogonal::new().gain(nan))),
        (
            "orthogonal gain beyond f32",
            Box::new(Orthogonal::new().gain(1e39)),
        ),
        (
            "orthogonal gain below f32",
            Box::new(Orthogonal::new().gain(1e-50)),
        ),
    ];
    let fans = Fans::new(4, 4);
    for (case, init) in &refused {
        let mut w = vec![7.0f32; 16];
        assert!(
            init.fill_seeded(&mut w, fans, 1).is_err(),
            "{case}: fill_seeded"
        );
        let mut rng = rand::rngs::Xoshiro256PlusPlus::from_seed_u64(1);
        assert!(init.fill(&mut w, fans, &mut rng).is_err(), "{case}: fill");
        assert!(w.iter().all(|&x| x == 7.0), "{case}: weights touched");
    }
    // Zero fans, for the families that scale by them.
    let mut w = vec![7.0f32; 16];
    for init in [
        &GlorotUniform::new() as &dyn Initializer<f32>,
        &HeNormal::new(),
        &LecunNormal,
    ] {
        assert!(init.fill_seeded(&mut w, Fans::new(0, 4), 1).is_err());
    }
    assert!(w.iter().all(|&x| x == 7.0));
}

#[test]
fn he_with_a_degenerate_slope_is_refused_or_finite() {
    // 14.6: LeakyRelu(1e200) gave a gain of 0 (slope² overflowed), so all zeros.
    let mut w = vec![0.0f32; 64];
    let he = HeNormal::new().nonlinearity(Nonlinearity::LeakyRelu(1e200));
    let error = he.fill_seeded(&mut w, Fans::new(8, 8), 1).unwrap_err();
    assert!(error.to_string().starts_with("std must be"), "{error}");
    // In f64 the std (about 5e-201) is representable: not all zeros.
    let mut w64 = vec![0.0f64; 64];
    he.fill_seeded(&mut w64, Fans::new(8, 8), 1).unwrap();
    assert!(w64.iter().all(|&x| x != 0.0 && x.abs() < 1e-195));
    for slope in [f64::NAN, f64::INFINITY] {
        let he = HeUniform::new().nonlinearity(Nonlinearity::LeakyRelu(slope));
        assert!(he.fill_seeded(&mut w, Fans::new(8, 8), 1).is_err());
    }
    // calculate_gain keeps its f64 signature; try_calculate_gain refuses.
    assert!(calculate_gain(Nonlinearity::LeakyRelu(f64::NAN)).is_nan());
    assert!(try_calculate_gain(Nonlinearity::LeakyRelu(f64::NAN)).is_err());
    assert!(calculate_gain(Nonlinearity::LeakyRelu(1e200)) > 0.0);
}

#[test]
fn activation_parameters_that_give_non_finite_outputs_are_refused() {
    // 14.6: Softplus::new(0.0, 20.0) built and `forward` returned Ok([inf, inf]).
    assert!(Softplus::try_new(0.0, 20.0).is_err());
    assert!(Softplus::try_new(-1.0, 20.0).is_err());
    assert!(Softplus::try_new(f64::NAN, 20.0).is_err());
    assert!(Softplus::try_new(1.0, f64::NAN).is_err());
    assert!(Dense::new(2, 2, Softplus::new(0.0, 20.0)).is_err());
    let built = Network::builder(2)
        .dense(2, Softplus::new(0.0, 20.0))
        .build();
    assert!(
        matches!(built, Err(Error::InvalidArgument { name: "beta", .. })),
        "{built:?}"
    );
    // A threshold beyond where e^(beta x) overflows f32 no longer gives inf.
    let wide = Softplus::try_new(1.0, 1e9).unwrap();
    assert_eq!(wide.forward(100.0), 100.0);
    let mut out = [0.0; 2];
    wide.forward_slice(&[100.0, 1e30], &mut out);
    assert_eq!(out, [100.0, 1e30]);
    for slope in [f64::NAN, f64::INFINITY, 1e39] {
        assert!(LeakyRelu::try_new(slope).is_err(), "{slope}");
        assert!(Dense::new(2, 2, LeakyRelu::new(slope)).is_err());
    }
    for alpha in [f64::NAN, f64::NEG_INFINITY, -1e39] {
        assert!(Elu::try_new(alpha).is_err(), "{alpha}");
        assert!(Dense::new(2, 2, Elu::new(alpha)).is_err());
    }
    assert!(LeakyRelu::try_new(0.01).is_ok() && Elu::try_new(1.0).is_ok());
}

#[test]
fn loss_parameters_that_give_degenerate_results_are_refused() {
    // A delta that rounds to 0 in f32 made the loss and gradient 0 everywhere.
    for delta in [0.0, -1.0, 1e-50, f64::NAN, f64::INFINITY, 1e39] {
        assert!(Huber::try_new(delta).is_err(), "{delta}");
        assert!(
            Huber::new(delta).loss(&[1.0], &[0.0], 1).is_err(),
            "{delta}"
        );
    }
    assert_eq!(
        Huber::try_new(1.0)
            .unwrap()
            .loss(&[3.0], &[0.0], 1)
            .unwrap(),
        2.5
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Typed concepts instead of strings.

/// A custom initializer whose name starts like He's.
#[derive(Debug)]
struct HeavyTail;

impl Initializer<f32> for HeavyTail {
    fn fill(
        &self,
        weights: &mut [f32],
        _fans: Fans,
        rng: &mut dyn rand::Rng,
    ) -> nninit::Result<()> {
        for w in weights {
            *w = (rng.random::<f32>() - 0.5) * 0.2;
        }
        Ok(())
    }
    fn fill_seeded(&self, weights: &mut [f32], fans: Fans, seed: u64) -> nninit::Result<()> {
        let mut rng = rand::rngs::Xoshiro256PlusPlus::from_seed_u64(seed);
        self.fill(weights, fans, &mut rng)
    }
    fn fill_shard(&self, _: &mut [f32], _: Fans, _: u64, _: usize) -> nninit::Result<()> {
        Err(Error::NotShardable {
            initializer: "HeavyTail",
        })
    }
    fn name(&self) -> &'static str {
        "HeavyTail"
    }
}

#[test]
fn diagnose_decides_by_family_not_by_name() -> nninit::Result<()> {
    let x: Vec<f32> = (0..64)
        .map(|i| ((i * 7) % 13) as f32 / 13.0 - 0.5)
        .collect();
    let y: Vec<f32> = (0..16).map(|i| (i % 2) as f32).collect();
    let mismatch = |net: &mut Network| -> nninit::Result<bool> {
        let report = net.diagnose(&x, &y, &Mse)?;
        Ok(report
            .warnings
            .iter()
            .any(|w| matches!(w, Warning::MismatchedInit { .. })))
    };
    // tanh with a custom "HeavyTail": not He, so no mismatch (it was one by name before).
    let mut custom = Network::builder(4)
        .dense_with_init(8, Tanh, HeavyTail)
        .dense(1, Tanh)
        .build()?;
    assert_eq!(
        custom.layers()[0].initializer_family(),
        InitializerFamily::Other
    );
    assert!(!mismatch(&mut custom)?);
    // tanh with He: a mismatch.
    let mut he = Network::builder(4)
        .dense_with_init(8, Tanh, HeNormal::new())
        .dense(1, Tanh)
        .build()?;
    assert!(mismatch(&mut he)?);
    Ok(())
}

#[test]
fn dense_records_what_a_free_function_initialized_it_with() -> nninit::Result<()> {
    let mut layer = Dense::new(5, 3, Tanh)?;
    nninit::kaiming_normal(&mut layer, 5, 3)?;
    // "custom" before.
    assert_eq!(layer.initializer(), "HeNormal");
    assert_eq!(layer.initializer_family(), InitializerFamily::He);
    let mut rng = rand::rngs::Xoshiro256PlusPlus::from_seed_u64(9);
    nninit::xavier_uniform_with(&mut layer, 5, 3, &mut rng)?;
    assert_eq!(layer.initializer_family(), InitializerFamily::Glorot);
    layer.weight_mut()[0] = 1.0;
    assert_eq!(layer.initializer(), "custom");
    assert_eq!(layer.initializer_family(), InitializerFamily::Other);
    Ok(())
}

#[test]
fn recommended_init_follows_the_family() {
    let cases: [(&dyn Activation, ActivationFamily, &str); 4] = [
        (&Relu, ActivationFamily::Rectifier, "HeNormal"),
        (&Tanh, ActivationFamily::Saturating, "GlorotUniform"),
        (
            &nninit::Selu,
            ActivationFamily::SelfNormalizing,
            "LecunNormal",
        ),
        (&Identity, ActivationFamily::Linear, "GlorotUniform"),
    ];
    for (activation, family, init) in cases {
        assert_eq!(activation.family(), family);
        assert_eq!(activation.recommended_init().name(), init);
        assert_eq!(family.recommended_init().name(), init);
    }
}

// ---------------------------------------------------------------------------------------------
// 4. One error variant per failure kind; matmul returns Result.

#[test]
fn matmul_reports_short_slices() {
    let error = nninit::linalg::matmul(&[1.0], &[3.0, 4.0], 1, 2, 1).unwrap_err();
    assert!(matches!(error, Error::LengthMismatch { found: 1, .. }));
    assert_eq!(
        nninit::linalg::matmul(&[1.0, 2.0], &[3.0, 4.0], 1, 2, 1).unwrap(),
        [11.0]
    );
}

#[test]
fn sharding_an_orthogonal_fill_has_its_own_variant() {
    let error = Orthogonal::new()
        .fill_shard(&mut [0.0f32; 4], Fans::new(2, 2), 0, 0)
        .unwrap_err();
    assert!(matches!(
        error,
        Error::NotShardable {
            initializer: "Orthogonal"
        }
    ));
}

/// `rand` 0.10's seeding helper under a short name.
trait FromSeed {
    fn from_seed_u64(seed: u64) -> Self;
}

impl FromSeed for rand::rngs::Xoshiro256PlusPlus {
    fn from_seed_u64(seed: u64) -> Self {
        rand::SeedableRng::seed_from_u64(seed)
    }
}

/// `matmul` takes whole matrices: a slice longer than `m x k` (or `k x n`) means the sizes do
/// not describe it, and is refused rather than silently truncated.
#[test]
fn matmul_refuses_slices_that_do_not_fit_the_sizes() {
    let error = nninit::linalg::matmul(&[1.0, 2.0, 9.0], &[3.0, 4.0], 1, 2, 1).unwrap_err();
    assert!(
        matches!(error, Error::LengthMismatch { found: 3, .. }),
        "{error}"
    );
    let error = nninit::linalg::matmul(&[1.0, 2.0], &[3.0, 4.0, 5.0], 1, 2, 1).unwrap_err();
    assert!(
        error.to_string().starts_with("matrix b has length 3"),
        "{error}"
    );
}
