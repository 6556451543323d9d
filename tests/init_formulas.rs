//! Bounds and standard deviations against PyTorch's formulas, orthogonality, identity, the
//! convenience functions, and the errors for bad input.

use approx::assert_relative_eq;
use nninit::{
    Error, FanMode, Fans, GlorotNormal, GlorotUniform, HeNormal, HeUniform, Identity, Initializer,
    Nonlinearity, Orthogonal, calculate_gain,
};

/// Generated with the formulas of `torch/nn/init.py` (PyTorch 2.x), in Python:
///
/// ```python
/// xu = gain * math.sqrt(2.0 / (fan_in + fan_out)) * math.sqrt(3.0)   # xavier_uniform_ bound
/// xn = gain * math.sqrt(2.0 / (fan_in + fan_out))                    # xavier_normal_ std
/// ku = math.sqrt(3.0) * gain / math.sqrt(fan_in)                     # kaiming_uniform_ bound
/// kn = gain / math.sqrt(fan_in)                                      # kaiming_normal_ std
/// kuo = math.sqrt(3.0) * gain / math.sqrt(fan_out)                   # mode='fan_out'
/// ```
/// with `gain = torch.nn.init.calculate_gain(nonlinearity, param)`.
const PYTORCH: [(usize, usize, Nonlinearity, [f64; 5]); 6] = [
    (
        784,
        256,
        Nonlinearity::Relu,
        [
            0.10741723110591492,
            0.06201736729460423,
            0.08748177652797065,
            0.05050762722761054,
            0.15309310892394865,
        ],
    ),
    (
        3,
        5,
        Nonlinearity::Tanh,
        [
            1.4433756729740643,
            0.8333333333333334,
            1.6666666666666667,
            0.9622504486493764,
            1.2909944487358056,
        ],
    ),
    (
        1,
        1,
        Nonlinearity::Linear,
        [
            1.7320508075688772,
            1.0,
            1.7320508075688772,
            1.0,
            1.7320508075688772,
        ],
    ),
    (
        4096,
        4096,
        Nonlinearity::LeakyRelu(0.2),
        [
            0.037530036048067296,
            0.021667976415048012,
            0.037530036048067296,
            0.021667976415048012,
            0.037530036048067296,
        ],
    ),
    (
        27,
        64,
        Nonlinearity::Sigmoid,
        [
            0.25677629550654774,
            0.14824986333222023,
            0.3333333333333333,
            0.19245008972987526,
            0.21650635094610965,
        ],
    ),
    (
        1000,
        10,
        Nonlinearity::Selu,
        [
            0.05780643699810464,
            0.03337456196174886,
            0.04107919181288746,
            0.023717082451262847,
            0.41079191812887456,
        ],
    ),
];

#[test]
fn bounds_and_stds_match_pytorch() -> nninit::Result<()> {
    for (fan_in, fan_out, nonlinearity, expected) in PYTORCH {
        let fans = Fans::new(fan_in, fan_out);
        let gain = calculate_gain(nonlinearity);
        let [
            xavier_uniform,
            xavier_normal,
            kaiming_uniform,
            kaiming_normal,
            kaiming_fan_out,
        ] = expected;
        assert_relative_eq!(
            GlorotUniform::default().gain(gain).bound(fans)?,
            xavier_uniform,
            max_relative = 1e-14
        );
        assert_relative_eq!(
            GlorotNormal::default().gain(gain).std(fans)?,
            xavier_normal,
            max_relative = 1e-14
        );
        let he_uniform = HeUniform::default().nonlinearity(nonlinearity);
        assert_relative_eq!(
            he_uniform.bound(fans)?,
            kaiming_uniform,
            max_relative = 1e-14
        );
        assert_relative_eq!(
            he_uniform.mode(FanMode::FanOut).bound(fans)?,
            kaiming_fan_out,
            max_relative = 1e-14
        );
        let he_normal = HeNormal::default().nonlinearity(nonlinearity);
        assert_relative_eq!(he_normal.std(fans)?, kaiming_normal, max_relative = 1e-14);
    }
    Ok(())
}

#[test]
fn conv_fans_follow_pytorch() -> nninit::Result<()> {
    // torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(64, 3, 7, 7)) == (147, 3136)
    assert_eq!(Fans::from_shape(&[64, 3, 7, 7])?, Fans::new(147, 3136));
    assert_eq!(Fans::from_shape(&[10, 20])?, Fans::new(20, 10));
    assert_eq!(Fans::from_shape(&[8, 4, 3])?, Fans::new(12, 24));
    assert!(matches!(
        Fans::from_shape(&[5]),
        Err(Error::InvalidArgument { .. })
    ));
    Ok(())
}

/// `W Wᵀ` (wide or square) or `Wᵀ W` (tall) equals `gain² I`.
fn assert_orthogonal(w: &[f64], rows: usize, cols: usize, gain: f64) {
    let (outer, inner) = if rows <= cols {
        (rows, cols)
    } else {
        (cols, rows)
    };
    let at = |i: usize, k: usize| {
        if rows <= cols {
            w[i * cols + k]
        } else {
            w[k * cols + i]
        }
    };
    for a in 0..outer {
        for b in 0..outer {
            let dot: f64 = (0..inner).map(|k| at(a, k) * at(b, k)).sum();
            let expected = if a == b { gain * gain } else { 0.0 };
            assert!(
                (dot - expected).abs() < 1e-5,
                "({a}, {b}): {dot} vs {expected}"
            );
        }
    }
}

#[test]
fn orthogonal_square_wide_tall() -> nninit::Result<()> {
    for (rows, cols, gain) in [
        (16, 16, 1.0),
        (8, 20, 2.0),
        (30, 7, 0.5),
        (1, 5, 1.0),
        (5, 1, 1.0),
    ] {
        let mut w = vec![0.0f64; rows * cols];
        Orthogonal::default()
            .gain(gain)
            .fill_seeded(&mut w, Fans::new(cols, rows), 11)?;
        assert_orthogonal(&w, rows, cols, gain);
        let mut rng = <rand::rngs::Xoshiro256PlusPlus as rand::SeedableRng>::seed_from_u64(3);
        Orthogonal::default()
            .gain(gain)
            .fill(&mut w, Fans::new(cols, rows), &mut rng)?;
        assert_orthogonal(&w, rows, cols, gain);
    }
    // A conv kernel [4, 2, 3, 3] is viewed as 4 x 18.
    let mut kernel = vec![0.0f64; 4 * 2 * 9];
    Orthogonal::default().fill_seeded(&mut kernel, Fans::from_shape(&[4, 2, 3, 3])?, 5)?;
    assert_orthogonal(&kernel, 4, 18, 1.0);
    // f32 output is orthogonal to f32 precision.
    let mut w32 = vec![0.0f32; 64 * 64];
    Orthogonal::default().fill_seeded(&mut w32, Fans::new(64, 64), 1)?;
    let w64: Vec<f64> = w32.iter().map(|&x| f64::from(x)).collect();
    assert_orthogonal(&w64, 64, 64, 1.0);
    Ok(())
}

#[test]
fn orthogonal_refuses_shards_and_bad_shapes() -> nninit::Result<()> {
    let mut w = vec![0.0f32; 12];
    let err = Orthogonal::default()
        .fill_shard(&mut w, Fans::new(4, 3), 1, 0)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotShardable {
                initializer: "Orthogonal"
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("cannot fill a shard"));
    let mut wrong = vec![0.0f32; 13];
    assert!(
        Orthogonal::default()
            .fill_seeded(&mut wrong, Fans::new(4, 3), 1)
            .is_err()
    );
    assert!(
        Orthogonal::default()
            .gain(f64::NAN)
            .fill_seeded(&mut w, Fans::new(4, 3), 1)
            .is_err()
    );
    Ok(())
}

#[test]
fn identity_matrices_and_dirac_kernels() -> nninit::Result<()> {
    let mut tall = [5.0f64; 6]; // 3 x 2
    Identity.fill_seeded(&mut tall, Fans::new(2, 3), 0)?;
    assert_eq!(tall, [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
    // dirac_ on [2, 2, 3]: the centre tap (index 1) of kernels [0, 0] and [1, 1].
    let mut kernel = [9.0f32; 12];
    Identity.fill_seeded(&mut kernel, Fans::from_shape(&[2, 2, 3])?, 0)?;
    assert_eq!(kernel, [0., 1., 0., 0., 0., 0., 0., 0., 0., 0., 1., 0.]);
    // An even kernel has no centre; a length that fits no shape is refused.
    assert!(
        Identity
            .fill_seeded(&mut [0.0f32; 16], Fans::from_shape(&[2, 2, 2, 2])?, 0)
            .is_err()
    );
    assert!(
        Identity
            .fill_seeded(&mut [0.0f32; 7], Fans::new(2, 3), 0)
            .is_err()
    );
    // Shards of the identity agree with the whole.
    let mut whole = [0.0f32; 20];
    Identity.fill_seeded(&mut whole, Fans::new(5, 4), 0)?;
    let mut shard = [0.0f32; 7];
    Identity.fill_shard(&mut shard, Fans::new(5, 4), 0, 9)?;
    assert_eq!(shard, whole[9..16]);
    Ok(())
}

#[test]
fn convenience_functions_take_vectors_slices_and_arrays() -> nninit::Result<()> {
    let mut v32 = vec![0.0f32; 784 * 256];
    nninit::xavier_uniform(&mut v32, 784, 256)?;
    let bound = (6.0f32 / 1040.0).sqrt();
    assert!(v32.iter().all(|x| x.abs() <= bound) && v32.iter().any(|&x| x != 0.0));
    let mut v64 = vec![0.0f64; 784 * 256];
    nninit::xavier_uniform(&mut v64, 784, 256)?;
    assert!(v64.iter().all(|x| x.abs() <= f64::from(bound)));
    let mut array = [0.0f32; 12];
    nninit::kaiming_normal(&mut array, 4, 3)?;
    nninit::orthogonal(&mut array[..], 4, 3)?;
    nninit::constant(&mut array, 0.25)?;
    assert_eq!(array, [0.25; 12]);
    nninit::uniform(&mut v32, -0.05, 0.05)?;
    nninit::normal(&mut v32, 0.0, 0.01)?;
    nninit::trunc_normal(&mut v32, 0.0, 0.02, -0.04, 0.04)?;
    assert!(v32.iter().all(|x| x.abs() <= 0.04));
    nninit::lecun_uniform(&mut v32, 784, 256)?;
    nninit::lecun_normal(&mut v32, 784, 256)?;
    nninit::xavier_normal(&mut v32, 784, 256)?;
    nninit::kaiming_uniform(&mut v32, 784, 256)?;
    nninit::ones(&mut v32)?;
    assert!(v32.iter().all(|&x| x == 1.0));
    nninit::zeros(&mut v32)?;
    assert!(v32.iter().all(|&x| x == 0.0));
    Ok(())
}

#[test]
fn parameters_may_be_f32_and_layers_reborrowed() -> nninit::Result<()> {
    use nninit::{Activation, Elu, Huber, LeakyRelu, Loss, Softplus};
    let mut w = vec![0.0f32; 64];
    let (low, high, value): (f32, f32, f32) = (-0.5, 0.5, 0.25);
    nninit::constant(&mut w, value)?;
    assert!(w.iter().all(|&x| x == value));
    nninit::uniform(&mut w, low, high)?;
    assert!(w.iter().all(|&x| (low..high).contains(&x)));
    nninit::normal(&mut w, 0.0f32, 0.01f32)?;
    nninit::trunc_normal(&mut w, 0.0f32, 1.0f32, low, high)?;
    assert!(w.iter().all(|&x| (low..=high).contains(&x)));
    // A slice reached through a method, borrowed again.
    nninit::xavier_uniform(&mut w.as_mut_slice(), 8, 8)?;
    let gain = 5.0f32 / 3.0;
    let glorot = GlorotUniform::default().gain(gain);
    assert_eq!(glorot.gain, f64::from(gain));
    let slope = 0.2f32;
    assert_eq!(LeakyRelu::new(slope).forward(-1.0), -slope);
    assert_eq!(Elu::new(1.0f32).forward(0.5), 0.5);
    assert!((Softplus::new(1.0f32, 20.0f32).forward(0.0) - 2f32.ln()).abs() < 1e-6);
    assert_eq!(Huber::new(1.0f32).loss(&[3.0], &[0.0], 1)?, 2.5);
    Ok(())
}

#[test]
fn manual_seed_reproduces_and_with_variants_use_the_generator() -> nninit::Result<()> {
    use rand::SeedableRng;
    let draw = || -> nninit::Result<Vec<f32>> {
        let mut a = vec![0.0f32; 100];
        nninit::kaiming_uniform(&mut a, 10, 10)?;
        let mut b = vec![0.0f32; 100];
        nninit::kaiming_uniform(&mut b, 10, 10)?;
        assert_ne!(a, b, "consecutive calls draw fresh values");
        a.extend(b);
        Ok(a)
    };
    nninit::manual_seed(7);
    let first = draw()?;
    nninit::manual_seed(7);
    assert_eq!(first, draw()?);
    let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(1);
    let mut c = vec![0.0f64; 10];
    nninit::xavier_normal_with(&mut c, 5, 2, &mut rng)?;
    let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(1);
    let mut d = vec![0.0f64; 10];
    nninit::xavier_normal_with(&mut d, 5, 2, &mut rng)?;
    assert_eq!(c, d);
    let dynamic: &mut dyn rand::Rng = &mut rng;
    nninit::uniform_with(&mut d, -1.0, 1.0, dynamic)?;
    Ok(())
}

#[test]
fn bad_input_is_a_typed_error() -> nninit::Result<()> {
    let mut w = vec![0.0f32; 10];
    let error = nninit::xavier_uniform(&mut w, 0, 10).unwrap_err();
    assert_eq!(error.to_string(), "fan_in must be > 0, got 0");
    assert!(nninit::kaiming_normal(&mut w, 10, 0).is_err());
    assert!(nninit::uniform(&mut w, 1.0, 1.0).is_err());
    assert!(nninit::uniform(&mut w, 2.0, 1.0).is_err());
    assert!(nninit::uniform(&mut w, f64::NAN, 1.0).is_err());
    assert!(nninit::normal(&mut w, 0.0, -1.0).is_err());
    assert!(nninit::normal(&mut w, 0.0, f64::INFINITY).is_err());
    assert!(nninit::normal(&mut w, f64::NAN, 1.0).is_err());
    assert!(nninit::trunc_normal(&mut w, 0.0, 1.0, 2.0, 1.0).is_err());
    assert!(
        nninit::trunc_normal(&mut w, 0.0, 1.0, 40.0, 41.0).is_err(),
        "no mass in the window"
    );
    assert!(nninit::constant(&mut w, f64::NAN).is_err());
    // An f32 weight cannot hold draws of N(0, 1e38²).
    assert!(nninit::normal(&mut w, 0.0, 1e38).is_err());
    let fans = Fans::new(3, 3);
    assert!(
        GlorotUniform::default()
            .gain(-1.0)
            .fill_seeded(&mut w, fans, 0)
            .is_err()
    );
    assert!(
        GlorotNormal::default()
            .gain(f64::NAN)
            .fill_seeded(&mut w, fans, 0)
            .is_err()
    );
    assert!(
        HeUniform::default()
            .nonlinearity(Nonlinearity::LeakyRelu(f64::NAN))
            .fill_seeded(&mut w, fans, 0)
            .is_err()
    );
    let zero_fans = Fans {
        fan_in: 0,
        fan_out: 3,
    };
    assert!(
        HeNormal::default()
            .fill_seeded(&mut w, zero_fans, 0)
            .is_err()
    );
    // Failed fills leave no NaN behind.
    assert!(w.iter().all(|x| x.is_finite()));
    // Empty slices are a no-op, as in PyTorch.
    let mut empty: Vec<f32> = Vec::new();
    nninit::xavier_uniform(&mut empty, 3, 3)?;
    assert!(
        GlorotUniform::default()
            .fill_seeded(&mut empty, zero_fans, 0)
            .is_ok()
    );
    Ok(())
}

#[test]
fn initializers_are_object_safe_and_named() -> nninit::Result<()> {
    let all: Vec<Box<dyn Initializer<f32>>> = vec![
        Box::new(nninit::Zeros),
        Box::new(nninit::Ones),
        Box::new(nninit::Constant::new(0.5)),
        Box::new(nninit::Uniform::default()),
        Box::new(nninit::Normal::default()),
        Box::new(nninit::TruncatedNormal::default()),
        Box::new(GlorotUniform::default()),
        Box::new(GlorotNormal::default()),
        Box::new(HeUniform::default()),
        Box::new(HeNormal::default()),
        Box::new(nninit::LecunUniform),
        Box::new(nninit::LecunNormal),
        Box::new(nninit::VarianceScaling::default()),
        Box::new(Orthogonal::default()),
        Box::new(Identity),
    ];
    let mut w = vec![0.0f32; 16];
    for init in &all {
        init.fill_seeded(&mut w, Fans::new(4, 4), 3)?;
        assert!(w.iter().all(|x| x.is_finite()), "{}", init.name());
        assert!(!format!("{init:?}").is_empty());
    }
    let names: Vec<&str> = all.iter().map(|i| i.name()).collect();
    assert_eq!(
        names[6..10],
        ["GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal"]
    );
    Ok(())
}

#[test]
fn boxed_and_shared_initializers_are_initializers() -> nninit::Result<()> {
    let boxed: Box<dyn Initializer<f32>> = Box::new(GlorotUniform::default());
    let shared = std::sync::Arc::new(HeNormal::default());
    let net = nninit::Network::builder(3)
        .dense(4, nninit::Relu)
        .dense(2, nninit::Tanh)
        .layer_init(0, shared.clone())
        .layer_init(1, boxed)
        .build()?;
    assert_eq!(net.layers()[0].initializer(), "HeNormal");
    assert_eq!(net.layers()[1].initializer(), "GlorotUniform");
    let mut w = [0.0f32; 4];
    Initializer::<f32>::fill_seeded(&shared, &mut w, Fans::new(2, 2), 1)?;
    assert!(w.iter().any(|&x| x != 0.0));
    Ok(())
}
