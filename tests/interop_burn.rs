//! The burn adapter against the real burn (Flex CPU backend): fans from burn's layouts
//! (`Linear` is `[d_input, d_output]`), path keying independent of visiting order, equality
//! with `fill_seeded` on a `Vec`, biases, and errors.
//!
//! Statistical checks use the whole weight of a 784 -> 256 layer, n = 200,704 values: the
//! sample variance has relative standard deviation sqrt(2 / n) = 0.32% for a normal and
//! sqrt(0.8 / n) = 0.20% for a uniform, so 5-sigma tolerances of 1.6% and 1.0%. Reading the
//! layout wrong (fan_in = 256) would be off by a factor of 3.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig, Relu};
use burn::tensor::{Device, Tensor};
use nninit::burn::Reinit;
use nninit::init::seed_for_name;
use nninit::{Fans, GlorotUniform, HeNormal, Initializer, Layout, Normal, Orthogonal, Zeros};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn values<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, String> {
    tensor
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|e| format!("{e:?}"))
}

fn variance(values: &[f32]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    values
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n
}

fn assert_relative(found: f64, expected: f64, tolerance: f64) {
    let error = (found / expected - 1.0).abs();
    assert!(
        error <= tolerance,
        "variance {found}, expected {expected} (relative error {error})"
    );
}

#[derive(Module, Debug)]
struct Mlp {
    fc1: Linear,
    activation: Relu,
    fc2: Linear,
}

/// The same layers declared in the other order, plus one more: the mapper visits them
/// differently.
#[derive(Module, Debug)]
struct Reordered {
    extra: Linear,
    fc2: Linear,
    fc1: Linear,
}

fn linear(d_input: usize, d_output: usize, device: &Device) -> Linear {
    LinearConfig::new(d_input, d_output).init(device)
}

#[test]
fn linear_fans_are_d_input_and_d_output() -> TestResult {
    let device = Device::flex();
    let layer = Reinit::new(GlorotUniform::default(), 1).apply(linear(784, 256, &device))?;
    assert_eq!(layer.weight.dims(), [784, 256]);
    assert_relative(
        variance(&values(layer.weight.val())?),
        2.0 / (784.0 + 256.0),
        0.010,
    );
    // He: the in-dimension 784 (burn's first axis), not PyTorch's second axis 256.
    let layer = Reinit::new(HeNormal::default(), 1).apply(linear(784, 256, &device))?;
    assert_relative(variance(&values(layer.weight.val())?), 2.0 / 784.0, 0.016);
    Ok(())
}

#[test]
fn grouped_conv_fans_are_channels_in_over_groups_times_kernel() -> TestResult {
    // [channels_out, channels_in / groups, 3, 3] = [96, 32, 3, 3]: fan_in = 32 * 9; n = 27,648,
    // 5 sigma of sqrt(2 / n) = 4.3%.
    let device = Device::flex();
    let conv: Conv2d = Conv2dConfig::new([64, 96], [3, 3])
        .with_groups(2)
        .init(&device);
    let conv = Reinit::new(HeNormal::default(), 2).apply(conv)?;
    assert_eq!(conv.weight.dims(), [96, 32, 3, 3]);
    assert_relative(
        variance(&values(conv.weight.val())?),
        2.0 / (32.0 * 9.0),
        0.043,
    );
    Ok(())
}

#[test]
fn values_are_keyed_by_path_not_visiting_order() -> TestResult {
    let device = Device::flex();
    let seed = 9;
    let mlp = Mlp {
        fc1: linear(12, 8, &device),
        activation: Relu::new(),
        fc2: linear(8, 4, &device),
    };
    let reordered = Reordered {
        extra: linear(5, 5, &device),
        fc2: linear(8, 4, &device),
        fc1: linear(12, 8, &device),
    };
    let mlp = Reinit::new(GlorotUniform::default(), seed).apply(mlp)?;
    let reordered = Reinit::new(GlorotUniform::default(), seed).apply(reordered)?;
    assert_eq!(
        values(mlp.fc1.weight.val())?,
        values(reordered.fc1.weight.val())?
    );
    assert_eq!(
        values(mlp.fc2.weight.val())?,
        values(reordered.fc2.weight.val())?
    );
    // Exactly fill_seeded on a Vec with the path's seed and burn's fans.
    let mut expected = vec![0.0f32; 12 * 8];
    GlorotUniform::default().fill_seeded(
        &mut expected,
        Fans::new(12, 8),
        seed_for_name(seed, "fc1.weight"),
    )?;
    assert_eq!(values(mlp.fc1.weight.val())?, expected);
    Ok(())
}

#[test]
fn biases_are_left_alone_unless_asked() -> TestResult {
    let device = Device::flex();
    let layer = linear(16, 4, &device);
    let before = values(layer.bias.as_ref().ok_or("bias")?.val())?;
    let mut reinit = Reinit::new(HeNormal::default(), 3);
    let layer = reinit.apply(layer)?;
    assert_eq!(reinit.parameters(), 1);
    assert_eq!(values(layer.bias.as_ref().ok_or("bias")?.val())?, before);

    let layer = Reinit::new(HeNormal::default(), 3)
        .bias(Zeros)
        .apply(layer)?;
    assert_eq!(values(layer.bias.as_ref().ok_or("bias")?.val())?, [0.0; 4]);
    // A fan-scaled bias initializer gets the weight's fans: He uniform with fan_in 16 is
    // bounded by sqrt(6 / 16).
    let layer = Reinit::new(HeNormal::default(), 3)
        .bias(nninit::HeUniform::default())
        .apply(layer)?;
    let bias = values(layer.bias.as_ref().ok_or("bias")?.val())?;
    assert!(bias.iter().all(|b| b.abs() <= (6.0f32 / 16.0).sqrt()));
    assert!(bias.iter().any(|&b| b != 0.0));
    Ok(())
}

#[test]
fn gradient_requirement_is_kept() -> TestResult {
    let device = Device::flex().autodiff();
    let layer = linear(4, 3, &device);
    assert!(layer.weight.val().is_require_grad());
    let layer = Reinit::new(GlorotUniform::default(), 1).apply(layer)?;
    assert!(layer.weight.val().is_require_grad());
    Ok(())
}

#[test]
fn invalid_initializers_are_errors_and_leave_parameters_alone() -> TestResult {
    let device = Device::flex();
    let layer = linear(6, 2, &device);
    let before = values(layer.weight.val())?;
    let mut reinit = Reinit::new(Normal::new(0.0, -1.0), 1);
    let layer = layer.map(&mut reinit);
    let error = reinit.finish().unwrap_err();
    assert!(error.to_string().contains("std must be"), "{error}");
    assert_eq!(values(layer.weight.val())?, before);
    assert_eq!(reinit.parameters(), 0);
    assert!(
        Reinit::new(Normal::new(0.0, f64::NAN), 1)
            .apply(layer)
            .is_err()
    );
    Ok(())
}

#[test]
fn one_tensor_equals_fill_seeded() -> TestResult {
    let device = Device::flex();
    let tensor = nninit::burn::tensor([8, 4, 3], &HeNormal::default(), Layout::OutIn, 5, &device)?;
    let mut expected = vec![0.0f32; 96];
    HeNormal::default().fill_seeded(&mut expected, Fans::from_shape(&[8, 4, 3])?, 5)?;
    assert_eq!(values(tensor)?, expected);
    // A one-dimensional shape has no fans for He.
    let error = nninit::burn::tensor([8], &HeNormal::default(), Layout::OutIn, 5, &device);
    assert!(error.is_err());
    Ok(())
}

#[test]
fn orthogonal_linear_is_orthogonal_in_burns_layout() -> TestResult {
    // Linear 8 -> 4 stores [d_input, d_output] = [8, 4]; as a map x -> x W it is a
    // semi-orthogonal matrix when its 4 columns are orthonormal.
    let device = Device::flex();
    let layer = Reinit::new(Orthogonal::new(), 4).apply(linear(8, 4, &device))?;
    let weight = layer.weight.val();
    let gram = values(weight.clone().transpose().matmul(weight))?;
    for i in 0..4 {
        for j in 0..4 {
            let expected = if i == j { 1.0 } else { 0.0 };
            assert!((gram[i * 4 + j] - expected).abs() < 1e-5, "{gram:?}");
        }
    }
    Ok(())
}
