//! Unit tests of the network's math with tiny private activations, losses and initializers,
//! independent of the crate's own implementations (those are exercised in `tests/`).

use std::ops::ControlFlow;

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::fans::Fans;
use crate::init::Initializer;
use crate::loss::Loss;
use crate::nn::{FitConfig, Network, Sgd, Warning};

#[derive(Debug)]
struct TestTanh;
impl Activation for TestTanh {
    fn name(&self) -> &str {
        "tanh"
    }
    fn forward(&self, x: f32) -> f32 {
        x.tanh()
    }
    fn derivative(&self, x: f32) -> f32 {
        1.0 - x.tanh().powi(2)
    }
    fn gain(&self) -> f64 {
        5.0 / 3.0
    }
    fn recommended_init(&self) -> Box<dyn Initializer<f32>> {
        Box::new(TestUniform(0.5))
    }
    fn saturation_bounds(&self) -> Option<(f32, f32)> {
        Some((-1.0, 1.0))
    }
}

#[derive(Debug)]
struct TestRelu;
impl Activation for TestRelu {
    fn name(&self) -> &str {
        "relu"
    }
    fn forward(&self, x: f32) -> f32 {
        x.max(0.0)
    }
    fn derivative(&self, x: f32) -> f32 {
        if x > 0.0 { 1.0 } else { 0.0 }
    }
    fn gain(&self) -> f64 {
        2f64.sqrt()
    }
    fn recommended_init(&self) -> Box<dyn Initializer<f32>> {
        Box::new(TestUniform(0.8))
    }
    fn is_rectifier(&self) -> bool {
        true
    }
}

#[derive(Debug)]
struct TestIdentity;
impl Activation for TestIdentity {
    fn name(&self) -> &str {
        "identity"
    }
    fn forward(&self, x: f32) -> f32 {
        x
    }
    fn derivative(&self, _: f32) -> f32 {
        1.0
    }
    fn gain(&self) -> f64 {
        1.0
    }
    fn recommended_init(&self) -> Box<dyn Initializer<f32>> {
        Box::new(TestUniform(0.5))
    }
}

/// Uniform on `(-bound, bound)` from a counter-based hash of `(seed, index)`.
#[derive(Debug)]
struct TestUniform(f32);
impl Initializer<f32> for TestUniform {
    fn fill(&self, w: &mut [f32], fans: Fans, rng: &mut dyn rand::Rng) -> Result<()> {
        self.fill_seeded(w, fans, rng.next_u64())
    }
    fn fill_seeded(&self, w: &mut [f32], fans: Fans, seed: u64) -> Result<()> {
        self.fill_shard(w, fans, seed, 0)
    }
    fn fill_shard(&self, w: &mut [f32], _: Fans, seed: u64, offset: usize) -> Result<()> {
        for (j, v) in w.iter_mut().enumerate() {
            let mut z = seed ^ ((offset + j) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z ^= z >> 29;
            let unit = (z >> 40) as f32 / (1u64 << 24) as f32;
            *v = self.0 * (2.0 * unit - 1.0);
        }
        Ok(())
    }
    fn name(&self) -> &'static str {
        "TestUniform"
    }
}

#[derive(Debug)]
struct TestZeros;
impl Initializer<f32> for TestZeros {
    fn fill(&self, w: &mut [f32], _: Fans, _: &mut dyn rand::Rng) -> Result<()> {
        w.fill(0.0);
        Ok(())
    }
    fn fill_seeded(&self, w: &mut [f32], _: Fans, _: u64) -> Result<()> {
        w.fill(0.0);
        Ok(())
    }
    fn fill_shard(&self, w: &mut [f32], _: Fans, _: u64, _: usize) -> Result<()> {
        w.fill(0.0);
        Ok(())
    }
    fn name(&self) -> &'static str {
        "Zeros"
    }
}

/// Mean squared error over all elements.
#[derive(Debug)]
struct TestMse;
impl Loss for TestMse {
    fn name(&self) -> &str {
        "mse"
    }
    fn loss(&self, p: &[f32], t: &[f32], _: usize) -> Result<f32> {
        let n = p.len() as f32;
        Ok(p.iter().zip(t).map(|(a, b)| (a - b).powi(2)).sum::<f32>() / n)
    }
    fn loss_and_gradient(&self, p: &[f32], t: &[f32], o: usize, g: &mut [f32]) -> Result<f32> {
        let n = p.len() as f32;
        for ((g, a), b) in g.iter_mut().zip(p).zip(t) {
            *g = 2.0 * (a - b) / n;
        }
        self.loss(p, t, o)
    }
    fn accuracy(&self, p: &[f32], t: &[f32], _: usize) -> Option<f32> {
        let right = p
            .iter()
            .zip(t)
            .filter(|(a, b)| (**a > 0.5) == (**b > 0.5))
            .count();
        Some(right as f32 / p.len() as f32)
    }
}

const XOR_X: [f32; 8] = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
const XOR_Y: [f32; 4] = [0.0, 1.0, 1.0, 0.0];

fn small_net() -> Network {
    Network::builder(3)
        .dense(5, TestTanh)
        .dense(4, TestRelu)
        .dense(2, TestIdentity)
        .bias_init(TestUniform(0.3))
        .seed(11)
        .build()
        .unwrap()
}

fn batch() -> (Vec<f32>, Vec<f32>) {
    let x: Vec<f32> = (0..12).map(|i| ((i * 7 % 11) as f32 - 5.0) / 4.0).collect();
    let y: Vec<f32> = (0..8).map(|i| ((i * 3 % 5) as f32 - 2.0) / 2.0).collect();
    (x, y)
}

#[test]
fn backward_matches_central_differences() {
    let (x, y) = batch();
    let mut net = small_net();
    net.forward_backward(&x, &y, &TestMse, false).unwrap();
    let analytic: Vec<Vec<f32>> = net
        .layers()
        .iter()
        .flat_map(|l| [l.weight_gradient().to_vec(), l.bias_gradient().to_vec()])
        .collect();
    // h = 1e-2: truncation h²/6·|f'''| ≈ 2e-5; f32 rounding of a loss ~1 is ~1e-6 per
    // evaluation, divided by 2h: ~1e-4. Tolerance 1e-3 absolute + 1% relative covers both.
    let h = 1e-2;
    for (tensor, exact_values) in analytic.iter().enumerate() {
        for (j, &exact) in exact_values.iter().enumerate() {
            let mut value_at = |delta: f32| {
                let (_, values) = net.parameters_mut().nth(tensor).unwrap();
                values[j] += delta;
                let out = net.forward(&x).unwrap();
                let (_, values) = net.parameters_mut().nth(tensor).unwrap();
                values[j] -= delta;
                TestMse.loss(&out, &y, 2).unwrap()
            };
            let numeric = (value_at(h) - value_at(-h)) / (2.0 * h);
            assert!(
                (numeric - exact).abs() <= 1e-3 + 1e-2 * exact.abs(),
                "tensor {tensor} element {j}: numeric {numeric}, backward {exact}"
            );
        }
    }
}

#[test]
fn zero_init_keeps_units_identical_and_diagnose_says_so() {
    let mut net = Network::builder(2)
        .dense(4, TestTanh)
        .dense(1, TestIdentity)
        .init(TestZeros)
        .build()
        .unwrap();
    let mut sgd = Sgd::new(0.5);
    for _ in 0..50 {
        net.train_step(&XOR_X, &XOR_Y, &TestMse, &mut sgd).unwrap();
    }
    let report = net.diagnose(&XOR_X, &XOR_Y, &TestMse).unwrap();
    assert_eq!(
        report.warnings[0],
        Warning::SymmetricUnits {
            layer: 0,
            units: 4,
            of: 4
        }
    );
    assert!(
        report
            .to_string()
            .contains("use a random initializer such as GlorotUniform")
    );
}

#[test]
fn xor_trains_and_fit_is_reproducible() {
    let train = || {
        let mut net = Network::builder(2)
            .dense(8, TestTanh)
            .dense(1, TestIdentity)
            .seed(3)
            .build()
            .unwrap();
        let mut sgd = Sgd::new(0.2);
        let history = net
            .fit(
                &XOR_X,
                &XOR_Y,
                &TestMse,
                &mut sgd,
                FitConfig::new(300, 4),
                |_| ControlFlow::Continue(()),
            )
            .unwrap();
        (net, history)
    };
    let (mut net, history) = train();
    let (_, again) = train();
    let bits = |h: &crate::nn::History| h.losses().iter().map(|l| l.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&history), bits(&again));
    assert_eq!(history.epochs.len(), 300);
    assert_eq!(
        net.evaluate(&XOR_X, &XOR_Y, &TestMse).unwrap().accuracy,
        Some(1.0)
    );
}

#[test]
fn divergence_is_a_non_finite_error_naming_layer_and_step() {
    let mut net = small_net();
    let (x, y) = batch();
    let mut sgd = Sgd::new(1e30);
    let err = (0..10)
        .map(|_| net.train_step(&x, &y, &TestMse, &mut sgd))
        .find_map(|r| r.err())
        .expect("a learning rate of 1e30 diverges");
    let Error::NonFinite { what, .. } = err else {
        panic!("expected NonFinite, got {err}");
    };
    assert!(what.contains("at step") && what.contains("layer"), "{what}");
}

#[test]
fn bad_shapes_are_typed_errors() {
    let mut net = small_net();
    assert!(matches!(
        net.forward(&[1.0; 4]),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(matches!(
        net.forward(&[]),
        Err(Error::LengthMismatch { .. })
    ));
    let mut sgd = Sgd::new(0.1);
    let err = net.train_step(&[1.0; 6], &[1.0; 3], &TestMse, &mut sgd);
    assert!(matches!(err, Err(Error::LengthMismatch { .. })));
    let err = Network::builder(2).dense(0, TestRelu).build();
    assert!(matches!(err, Err(Error::InvalidArgument { .. })));
}
