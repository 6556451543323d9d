//! The candle adapter against the real candle-nn: fans from candle's layout, name keying,
//! equality with `fill_seeded` on a `Vec`, trainable variables, and errors.
//!
//! Statistical checks use the whole weight of a 784 -> 256 layer, n = 200,704 values. The
//! sample variance of n draws has relative standard deviation sqrt((kurtosis - 1) / n):
//! sqrt(2 / n) = 0.32% for a normal, sqrt(0.8 / n) = 0.20% for a uniform. At 5 sigma the
//! tolerances are 1.6% and 1.0%; the nearest wrong answer (fan_out instead of fan_in, or
//! Glorot's fan sum instead of fan_in) is off by a factor of 3 or more.

use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Conv2dConfig, Init, VarBuilder, VarMap, conv2d, linear};
use nninit::candle::InitBackend;
use nninit::init::seed_for_name;
use nninit::{Fans, GlorotUniform, HeNormal, Initializer, Orthogonal, Zeros};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn values(tensor: &Tensor) -> candle_core::Result<Vec<f64>> {
    tensor.flatten_all()?.to_dtype(DType::F64)?.to_vec1::<f64>()
}

fn variance(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n
}

fn assert_relative(found: f64, expected: f64, tolerance: f64) {
    let error = (found / expected - 1.0).abs();
    assert!(
        error <= tolerance,
        "variance {found}, expected {expected} (relative error {error})"
    );
}

fn builder(backend: InitBackend) -> VarBuilder<'static> {
    VarBuilder::from_backend(Box::new(backend), DType::F32, Device::Cpu)
}

#[test]
fn kaiming_hint_uses_fan_in_of_out_in_layout() -> TestResult {
    // candle-nn's `linear` asks for [out, in] = [256, 784] with its Kaiming-normal (ReLU) hint:
    // HeNormal with fan_in = 784, variance 2 / 784.
    let fc = linear(784, 256, builder(InitBackend::new(1)).pp("fc"))?;
    assert_eq!(fc.weight().dims(), &[256, 784]);
    assert_relative(variance(&values(fc.weight())?), 2.0 / 784.0, 0.016);
    // The bias hint is U(±1 / sqrt(784)).
    let bias = values(fc.bias().ok_or("bias")?)?;
    let bound = 1.0 / 784f64.sqrt();
    assert!(bias.iter().all(|b| b.abs() <= bound) && bias.iter().any(|&b| b != 0.0));
    Ok(())
}

#[test]
fn glorot_override_by_suffix_has_glorot_variance() -> TestResult {
    let backend = InitBackend::new(2).init_suffix("weight", GlorotUniform::default());
    let fc = linear(784, 256, builder(backend).pp("fc"))?;
    assert_relative(
        variance(&values(fc.weight())?),
        2.0 / (784.0 + 256.0),
        0.010,
    );
    Ok(())
}

#[test]
fn conv_kernel_fans_include_the_receptive_field() -> TestResult {
    // conv2d 64 -> 96, 3x3: [96, 64, 3, 3], Kaiming hint, variance 2 / (64 * 9); n = 55,296,
    // 5 sigma of sqrt(2 / n) = 3.0%.
    let conv = conv2d(
        64,
        96,
        3,
        Conv2dConfig::default(),
        builder(InitBackend::new(3)).pp("c"),
    )?;
    assert_eq!(conv.weight().dims(), &[96, 64, 3, 3]);
    assert_relative(variance(&values(conv.weight())?), 2.0 / (64.0 * 9.0), 0.03);
    Ok(())
}

#[test]
fn values_depend_only_on_seed_and_name() -> TestResult {
    let make = || InitBackend::new(11).init_named("fc2.weight", Orthogonal::new());
    let vb = builder(make());
    let fc1 = linear(16, 8, vb.pp("fc1"))?;
    let fc2 = linear(8, 4, vb.pp("fc2"))?;
    // Another order, and an extra layer created first.
    let vb = builder(make());
    let _extra = linear(16, 16, vb.pp("fc0"))?;
    let fc2_again = linear(8, 4, vb.pp("fc2"))?;
    let fc1_again = linear(16, 8, vb.pp("fc1"))?;
    assert_eq!(values(fc1.weight())?, values(fc1_again.weight())?);
    assert_eq!(values(fc2.weight())?, values(fc2_again.weight())?);
    assert_eq!(
        values(fc1.bias().ok_or("bias")?)?,
        values(fc1_again.bias().ok_or("bias")?)?
    );
    // Another seed gives other values.
    let other = linear(16, 8, builder(InitBackend::new(12)).pp("fc1"))?;
    assert_ne!(values(fc1.weight())?, values(other.weight())?);
    Ok(())
}

#[test]
fn values_equal_fill_seeded_on_a_vec() -> TestResult {
    let seed = 5;
    let backend = InitBackend::new(seed).init_suffix("weight", GlorotUniform::default());
    let fc = linear(30, 20, builder(backend).pp("enc").pp("fc1"))?;
    let mut expected = vec![0.0f32; 20 * 30];
    GlorotUniform::default().fill_seeded(
        &mut expected,
        Fans::new(30, 20),
        seed_for_name(seed, "enc.fc1.weight"),
    )?;
    assert_eq!(fc.weight().flatten_all()?.to_vec1::<f32>()?, expected);

    // F64 tensors are filled in f64, BF16 ones rounded from the f32 fill.
    let f64_tensor =
        nninit::candle::tensor((6, 5), &HeNormal::default(), 9, DType::F64, &Device::Cpu)?;
    let mut expected64 = vec![0.0f64; 30];
    HeNormal::default().fill_seeded(&mut expected64, Fans::new(5, 6), 9)?;
    assert_eq!(f64_tensor.flatten_all()?.to_vec1::<f64>()?, expected64);
    let bf16 = nninit::candle::tensor((6, 5), &HeNormal::default(), 9, DType::BF16, &Device::Cpu)?;
    let f32_tensor =
        nninit::candle::tensor((6, 5), &HeNormal::default(), 9, DType::F32, &Device::Cpu)?;
    assert_eq!(values(&bf16)?, values(&f32_tensor.to_dtype(DType::BF16)?)?);
    Ok(())
}

#[test]
fn registered_variables_train_and_keep_the_values() -> TestResult {
    let varmap = VarMap::new();
    let vb = VarBuilder::from_backend(
        Box::new(InitBackend::new(4).register_in(&varmap)),
        DType::F32,
        Device::Cpu,
    );
    let fc = linear(6, 3, vb.pp("fc"))?;
    let plain = linear(6, 3, builder(InitBackend::new(4)).pp("fc"))?;
    assert_eq!(values(fc.weight())?, values(plain.weight())?);
    let variables = varmap.data().lock().map_err(|_| "poisoned")?;
    let mut names: Vec<_> = variables.keys().cloned().collect();
    names.sort();
    assert_eq!(names, ["fc.bias", "fc.weight"]);
    // Asking again for the same name returns the same variable; another shape is an error.
    drop(variables);
    let again = linear(6, 3, vb.pp("fc"))?;
    assert_eq!(values(again.weight())?, values(fc.weight())?);
    let error = linear(7, 3, vb.pp("fc")).unwrap_err().to_string();
    assert!(
        error.contains("variable 'fc.weight' has shape [3, 6]"),
        "{error}"
    );
    Ok(())
}

#[test]
fn errors_name_the_tensor_dtype_and_shape() {
    let backend = InitBackend::new(0).init_suffix("bias", HeNormal::default());
    let shape = Shape::from((3, 4));
    let hint = candle_nn::init::DEFAULT_KAIMING_NORMAL;
    let error = backend
        .get(shape.clone(), "fc.weight", hint, DType::U32, &Device::Cpu)
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("dtype must be f16, bf16, f32 or f64, got U32 for tensor 'fc.weight'"),
        "{error}"
    );
    // He needs fans; a bias has one dimension.
    let error = backend
        .get(
            Shape::from(4),
            "fc.bias",
            Init::Const(0.0),
            DType::F32,
            &Device::Cpu,
        )
        .unwrap_err();
    assert!(error.to_string().contains("tensor 'fc.bias'"), "{error}");
    // An invalid hint is refused, not turned into NaN weights.
    let error = backend
        .get(
            shape.clone(),
            "w",
            Init::Randn {
                mean: 0.0,
                stdev: -1.0,
            },
            DType::F32,
            &Device::Cpu,
        )
        .unwrap_err();
    assert!(error.to_string().contains("std"), "{error}");
    assert!(
        backend
            .get_unchecked("w", DType::F32, &Device::Cpu)
            .is_err()
    );
    // A bias override that ignores the fans is fine.
    let zeros = InitBackend::new(0).init_suffix("bias", Zeros);
    let bias = zeros.get(
        Shape::from(4),
        "fc.bias",
        Init::Const(1.0),
        DType::F32,
        &Device::Cpu,
    );
    assert!(bias.is_ok_and(|b| values(&b).is_ok_and(|v| v == [0.0; 4])));
}
