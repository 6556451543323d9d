//! Issue 14: bounded memory on any file, real checkpoints load, no step leaves NaN behind.
//!
//! Each test here failed before its fix; the comment on each names the defect it pins.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use nninit::io::{self, Pretrained, ReadLimits, Tensor};
use nninit::{Adam, CrossEntropy, Error, FitConfig, Identity, Mse, Network, Optimizer, Sgd, Tanh};

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("nninit-reliability-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// A safetensors file from a header (JSON text) and its data section.
fn safetensors_bytes(header: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

/// A `.npy` version 1.0 file with `descr` and `shape` (a Python tuple literal), C order.
fn npy_bytes(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    bytes.extend_from_slice(dict.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

// ---------------------------------------------------------------------------------------------
// Point 1: the header is bounded before the parser sees it.

#[test]
fn a_shape_with_too_many_dimensions_is_refused_before_parsing() {
    // 100,000 dimensions of 1: before the fix this parsed (a 20 MB header of 10 million ones
    // took 1.45 s and 410 MB; 40 million aborted) and loaded.
    let ones = vec!["1"; 100_000].join(",");
    let header = format!(r#"{{"w":{{"dtype":"F32","shape":[{ones}],"data_offsets":[0,4]}}}}"#);
    let dir = scratch("dims");
    let path = dir.join("w.safetensors");
    fs::write(&path, safetensors_bytes(&header, &1.0f32.to_le_bytes())).unwrap();
    let err = io::load_safetensors(&path).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MalformedFile {
                format: "safetensors",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("dimensions"), "{err}");
    assert!(
        err.to_string().contains(&io::MAX_DIMENSIONS.to_string()),
        "{err}"
    );
}

#[test]
fn a_header_over_the_named_limit_is_refused() {
    let mut header = r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#.to_string();
    header.extend(std::iter::repeat_n(' ', io::MAX_HEADER_BYTES as usize));
    let dir = scratch("header");
    let path = dir.join("w.safetensors");
    fs::write(&path, safetensors_bytes(&header, &1.0f32.to_le_bytes())).unwrap();
    let err = io::load_safetensors(&path).unwrap_err();
    assert!(err.to_string().contains("header"), "{err}");
    assert!(
        err.to_string().contains(&io::MAX_HEADER_BYTES.to_string()),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Point 2: a size budget, and allocation failures are errors.

#[test]
fn a_compressed_archive_over_the_budget_is_an_error_not_an_allocation() {
    let dir = scratch("budget");
    let path = dir.join("zeros.npz");
    // 4 MiB of f32 zeros deflate to a few KiB: the shape of a decompression bomb.
    let zeros = Tensor::new(vec![1 << 20], vec![0.0; 1 << 20]).unwrap();
    io::save_npz_compressed(&path, &BTreeMap::from([("w".to_string(), zeros)])).unwrap();
    assert!(fs::metadata(&path).unwrap().len() < 64 * 1024);
    let limits = ReadLimits::default().max_bytes(1 << 20);
    let err = io::load_npz_limited(&path, &limits).unwrap_err();
    assert!(matches!(err, Error::OverBudget { .. }), "{err}");
    assert!(err.to_string().contains("'w'"), "{err}");
    // The default budget loads it.
    assert_eq!(io::load_npz(&path).unwrap()["w"].len(), 1 << 20);
    assert_eq!(ReadLimits::default().max_bytes, io::DEFAULT_MAX_BYTES);
}

#[test]
fn the_budget_applies_to_npy_and_safetensors_too() {
    let dir = scratch("budget2");
    let tensor = Tensor::new(vec![1000], vec![0.5; 1000]).unwrap();
    let npy = dir.join("w.npy");
    io::save_npy(&npy, &tensor).unwrap();
    let st = dir.join("w.safetensors");
    io::save_safetensors(&st, &BTreeMap::from([("w".to_string(), tensor.clone())])).unwrap();
    let tight = ReadLimits::default().max_bytes(1000);
    assert!(matches!(
        io::load_npy_limited(&npy, &tight),
        Err(Error::OverBudget { .. })
    ));
    let err = io::load_safetensors_limited(&st, &tight).unwrap_err();
    assert!(matches!(err, Error::OverBudget { .. }), "{err}");
    let enough = ReadLimits::default().max_bytes(1 << 16);
    assert_eq!(io::load_npy_limited(&npy, &enough).unwrap(), tensor);
    assert_eq!(
        io::load_safetensors_limited(&st, &enough).unwrap()["w"],
        tensor
    );
}

// ---------------------------------------------------------------------------------------------
// Point 3: integer and boolean tensors load, converted as `tensor.float()` does.

#[test]
fn a_pytorch_batchnorm_checkpoint_loads_with_its_integer_and_bool_tensors() {
    // F32 weight, I64 num_batches_tracked (a scalar), BOOL mask, I8, U8, I32, I16, U16.
    let mut data = Vec::new();
    let mut header = String::from("{");
    let mut add = |name: &str, dtype: &str, shape: &str, bytes: &[u8]| {
        let start = data.len();
        data.extend_from_slice(bytes);
        if header.len() > 1 {
            header.push(',');
        }
        header.push_str(&format!(
            r#""{name}":{{"dtype":"{dtype}","shape":{shape},"data_offsets":[{start},{}]}}"#,
            data.len()
        ));
    };
    let weight: Vec<u8> = [0.5f32, -2.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    add("bn.weight", "F32", "[2]", &weight);
    add(
        "bn.num_batches_tracked",
        "I64",
        "[]",
        &((1i64 << 24) + 1).to_le_bytes(),
    );
    add("mask", "BOOL", "[3]", &[1, 0, 1]);
    add("i8", "I8", "[2]", &[0xff, 0x7f]);
    add("u8", "U8", "[1]", &[200]);
    add("i32", "I32", "[1]", &(-7i32).to_le_bytes());
    add("i16", "I16", "[1]", &(-300i16).to_le_bytes());
    add("u16", "U16", "[1]", &60000u16.to_le_bytes());
    header.push('}');
    let dir = scratch("ints");
    let path = dir.join("bn.safetensors");
    fs::write(&path, safetensors_bytes(&header, &data)).unwrap();
    let tensors = io::load_safetensors(&path).unwrap();
    assert_eq!(tensors["bn.weight"].data, [0.5, -2.0]);
    // 2^24 + 1 is not an f32: it rounds to nearest even, 2^24, as torch's .float() does.
    assert_eq!(tensors["bn.num_batches_tracked"].data, [16_777_216.0]);
    assert!(tensors["bn.num_batches_tracked"].shape.is_empty());
    assert_eq!(tensors["mask"].data, [1.0, 0.0, 1.0]);
    assert_eq!(tensors["i8"].data, [-1.0, 127.0]);
    assert_eq!(tensors["u8"].data, [200.0]);
    assert_eq!(tensors["i32"].data, [-7.0]);
    assert_eq!(tensors["i16"].data, [-300.0]);
    assert_eq!(tensors["u16"].data, [60000.0]);
}

#[test]
fn integer_and_bool_npy_arrays_load() {
    let dir = scratch("npyints");
    let cases: [(&str, Vec<u8>, Vec<f32>); 6] = [
        (
            "<i8",
            [3i64, -4].iter().flat_map(|v| v.to_le_bytes()).collect(),
            vec![3.0, -4.0],
        ),
        (
            ">i4",
            [5i32, -6].iter().flat_map(|v| v.to_be_bytes()).collect(),
            vec![5.0, -6.0],
        ),
        ("|b1", vec![0, 1], vec![0.0, 1.0]),
        ("|u1", vec![255, 0], vec![255.0, 0.0]),
        ("|i1", vec![0x80, 1], vec![-128.0, 1.0]),
        (
            "<u8",
            [u64::MAX, 1].iter().flat_map(|v| v.to_le_bytes()).collect(),
            vec![1.8446744e19, 1.0],
        ),
    ];
    for (descr, data, expected) in cases {
        let path = dir.join("a.npy");
        fs::write(&path, npy_bytes(descr, "(2,)", &data)).unwrap();
        let tensor = io::load_npy(&path).unwrap_or_else(|e| panic!("{descr}: {e}"));
        assert_eq!(tensor.data, expected, "{descr}");
    }
}

#[test]
fn an_npz_with_an_int64_array_loads_whole() {
    // np.savez_compressed("m.npz", weight=np.ones((1, 2), np.float32), steps=np.int64(3))
    let dir = scratch("npzints");
    let path = dir.join("m.npz");
    let file = fs::File::create(&path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("weight.npy", options).unwrap();
    let ones: Vec<u8> = [1.0f32, 1.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    zip.write_all(&npy_bytes("<f4", "(1, 2)", &ones)).unwrap();
    zip.start_file("steps.npy", options).unwrap();
    zip.write_all(&npy_bytes("<i8", "()", &3i64.to_le_bytes()))
        .unwrap();
    zip.finish().unwrap();
    let arrays = io::load_npz(&path).unwrap();
    assert_eq!(arrays["weight"].data, [1.0, 1.0]);
    assert_eq!(arrays["steps"].data, [3.0]);
}

#[test]
fn a_non_strict_network_load_skips_an_unconvertible_dtype() {
    // A complex tensor cannot become f32; a non-strict load skips it and reports it.
    let mut data: Vec<u8> = [1.0f32, 2.0, 0.5]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    data.extend_from_slice(&[0u8; 8]);
    let header = r#"{"0.weight":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},"0.bias":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"phase":{"dtype":"C64","shape":[1],"data_offsets":[12,20]}}"#;
    let dir = scratch("skip");
    let path = dir.join("c.safetensors");
    fs::write(&path, safetensors_bytes(header, &data)).unwrap();
    assert!(matches!(
        io::load_safetensors(&path),
        Err(Error::UnsupportedDtype { .. })
    ));
    let mut net = Network::builder(2).dense(1, Identity).build().unwrap();
    let options = io::LoadOptions::default().strict(false);
    let report = net.load_safetensors_with(&path, &options).unwrap();
    assert_eq!(net.layers()[0].weight(), [1.0, 2.0]);
    assert_eq!(report.skipped, ["phase (unsupported dtype C64)"]);
}

#[test]
fn a_strict_network_load_names_an_unconvertible_dtype_and_changes_nothing() {
    let mut data: Vec<u8> = [1.0f32, 2.0, 0.5]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    data.extend_from_slice(&[0u8; 8]);
    let header = r#"{"0.weight":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},"0.bias":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"phase":{"dtype":"C64","shape":[1],"data_offsets":[12,20]}}"#;
    let dir = scratch("strict-skip");
    let path = dir.join("c.safetensors");
    fs::write(&path, safetensors_bytes(header, &data)).unwrap();
    let mut net = Network::builder(2).dense(1, Identity).build().unwrap();
    let before = net.state_dict();
    let err = net.load_safetensors(&path).unwrap_err();
    assert!(
        matches!(&err, Error::UnsupportedDtype { dtype, tensor, .. } if dtype == "C64" && tensor == "phase"),
        "{err}"
    );
    assert_eq!(net.state_dict(), before);
    // A key map that skips it on purpose loads the rest strictly.
    let options = io::LoadOptions::default().map_keys(|k| (k != "phase").then(|| k.to_string()));
    let report = net.load_safetensors_with(&path, &options).unwrap();
    assert_eq!(report.skipped, ["phase"]);
    // The network loaders take the budget from the options.
    let tight = options.read_limits(ReadLimits::default().max_bytes(16));
    let err = net.load_safetensors_with(&path, &tight).unwrap_err();
    assert!(matches!(err, Error::OverBudget { .. }), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Point 4: a step that would leave a non-finite value changes nothing.

fn linear_net() -> Network {
    Network::builder(3)
        .dense(4, Tanh)
        .dense(1, Identity)
        .seed(5)
        .build()
        .unwrap()
}

/// Inputs whose last column is constant (zero): its weights get a zero gradient.
fn constant_column_batch() -> (Vec<f32>, Vec<f32>) {
    let x = vec![
        0.5, -1.0, 0.0, 1.5, 0.25, 0.0, -0.75, 2.0, 0.0, 1.0, 1.0, 0.0,
    ];
    let y = vec![100.0, -100.0, 50.0, 200.0];
    (x, y)
}

/// Trains until something overflows (within 10 steps): the update, or the loss of weights an
/// earlier update made huge. That step must be refused, naming the step (and the layer, for
/// an update), with nothing changed. Returns the error's description.
fn assert_step_is_refused_and_rolled_back(optimizer: &mut dyn Optimizer) -> String {
    let mut net = linear_net();
    let (x, y) = constant_column_batch();
    for _ in 0..10 {
        let before = net.state_dict();
        let state_before = format!("{optimizer:?}");
        let steps_before = net.steps();
        let Err(err) = net.train_step(&x, &y, &Mse, optimizer) else {
            continue;
        };
        let Error::NonFinite { what, .. } = &err else {
            panic!("{}: expected NonFinite, got {err}", optimizer.name());
        };
        let step = format!("step {steps_before}");
        assert!(what.contains(&step), "{what}");
        if what.contains("update") {
            assert!(what.contains("layer"), "{what}");
        }
        assert_eq!(
            net.state_dict(),
            before,
            "{}: parameters changed",
            optimizer.name()
        );
        assert_eq!(
            format!("{optimizer:?}"),
            state_before,
            "optimizer state changed"
        );
        assert_eq!(net.steps(), steps_before);
        for (_, values) in net.parameters() {
            assert!(values.iter().all(|v| v.is_finite()));
        }
        return what.clone();
    }
    panic!("{optimizer:?} never overflowed");
}

#[test]
fn overflowing_updates_are_refused_and_nothing_changes() {
    let what = assert_step_is_refused_and_rolled_back(&mut Sgd::new(f32::MAX));
    assert!(
        what.starts_with("layer ") && what.contains("at step 0"),
        "{what}"
    );
    assert_step_is_refused_and_rolled_back(&mut Sgd::new(0.1).weight_decay(1e20));
    assert_step_is_refused_and_rolled_back(&mut Sgd::new(1e30).momentum(0.9));
    let what = assert_step_is_refused_and_rolled_back(&mut Adam::adamw(1e20, 1e20));
    assert!(what.contains("after the update"), "{what}");
    assert_step_is_refused_and_rolled_back(&mut Adam::new(1e30));
    // A step that fails after earlier good ones keeps the earlier state too.
    let mut sgd = Sgd::new(0.01).momentum(0.9);
    let mut net = linear_net();
    let (x, y) = constant_column_batch();
    net.train_step(&x, &y, &Mse, &mut sgd).unwrap();
    let before = format!("{sgd:?}");
    sgd.set_learning_rate(f32::MAX);
    let params = net.state_dict();
    assert!(net.train_step(&x, &y, &Mse, &mut sgd).is_err());
    sgd.set_learning_rate(0.01);
    assert_eq!(format!("{sgd:?}"), before);
    assert_eq!(net.state_dict(), params);
}

#[test]
fn hyperparameters_that_can_produce_nan_are_refused() {
    // eps = 0 with a constant input column: 0 / (0 + 0) on the first step.
    assert!(matches!(
        Adam::try_new(1e-3).and_then(|a| a.eps(0.0).checked()),
        Err(Error::InvalidArgument { name: "eps", .. })
    ));
    let mut net = linear_net();
    let (x, y) = constant_column_batch();
    let before = net.state_dict();
    let err = net
        .train_step(&x, &y, &Mse, &mut Adam::new(1e-3).eps(0.0))
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument { name: "eps", .. }),
        "{err}"
    );
    assert_eq!(net.state_dict(), before);
    for bad in [f32::NAN, f32::INFINITY, -1.0] {
        assert!(matches!(
            Sgd::try_new(bad),
            Err(Error::InvalidArgument {
                name: "learning_rate",
                ..
            })
        ));
        assert!(matches!(
            Adam::try_new(bad),
            Err(Error::InvalidArgument {
                name: "learning_rate",
                ..
            })
        ));
        assert!(Sgd::new(0.1).momentum(bad).checked().is_err());
        assert!(Sgd::new(0.1).weight_decay(bad).checked().is_err());
        assert!(Adam::new(0.1).weight_decay(bad).checked().is_err());
        assert!(Adam::new(0.1).eps(bad).checked().is_err());
        assert!(Adam::new(0.1).betas(bad, 0.9).checked().is_err());
        assert!(Adam::new(0.1).betas(0.9, bad).checked().is_err());
    }
    assert!(Adam::new(0.1).betas(0.9, 1.0).checked().is_err());
    assert!(
        Sgd::try_new(0.1)
            .unwrap()
            .momentum(0.9)
            .nesterov(true)
            .checked()
            .is_ok()
    );
}

// ---------------------------------------------------------------------------------------------
// Point 7: pre-trained values are refused when non-finite, as load_state_dict refuses them.

#[test]
fn pretrained_non_finite_values_are_refused_like_load_state_dict() {
    let dir = scratch("pretrained");
    let path = dir.join("nan.npy");
    io::save_npy(
        &path,
        &Tensor::new(vec![1, 2], vec![f32::NAN, f32::INFINITY]).unwrap(),
    )
    .unwrap();
    let built = Network::builder(2)
        .dense_with_init(1, Identity, Pretrained::from_npy(&path).unwrap())
        .build();
    let err = built.unwrap_err();
    let Error::NonFinite { what, value } = &err else {
        panic!("expected NonFinite, got {err}");
    };
    assert!(what.contains("element 0") && value.is_nan(), "{err}");
    // load_state_dict says the same kind of thing about the same data.
    let mut net = Network::builder(2).dense(1, Identity).build().unwrap();
    let state = BTreeMap::from([
        ("0.weight".to_string(), io::load_npy(&path).unwrap()),
        (
            "0.bias".to_string(),
            Tensor::new(vec![1], vec![0.0]).unwrap(),
        ),
    ]);
    let err = net
        .load_state_dict(state, &io::LoadOptions::default())
        .unwrap_err();
    assert!(matches!(err, Error::NonFinite { .. }), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Point 9: fit's errors name the sample in the user's array, the epoch and the step.

/// 60 samples of 2 features, 3 classes.
fn classification_data() -> (Vec<f32>, Vec<f32>) {
    let x: Vec<f32> = (0..120)
        .map(|i| ((i * 37 % 17) as f32 - 8.0) / 8.0)
        .collect();
    let y: Vec<f32> = (0..60).map(|i| (i % 3) as f32).collect();
    (x, y)
}

#[test]
fn a_bad_label_is_reported_at_its_index_in_the_training_data() {
    let (x, mut y) = classification_data();
    y[50] = 10.0;
    let mut net = Network::builder(2)
        .dense(3, Identity)
        .seed(1)
        .build()
        .unwrap();
    let err = net
        .fit(
            &x,
            &y,
            &CrossEntropy,
            &mut Sgd::new(0.1),
            FitConfig::new(3, 8).seed(4),
            |_| ControlFlow::Continue(()),
        )
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{message}");
    assert!(
        message.contains("sample 50") && message.contains("got 10"),
        "{message}"
    );
    assert!(
        message.contains("epoch 0") && message.contains("step "),
        "{message}"
    );
}

#[test]
fn a_non_finite_input_is_reported_at_its_sample() {
    let (mut x, y) = classification_data();
    x[2 * 37 + 1] = f32::INFINITY;
    let mut net = Network::builder(2)
        .dense(3, Identity)
        .seed(1)
        .build()
        .unwrap();
    let err = net
        .fit(
            &x,
            &y,
            &CrossEntropy,
            &mut Sgd::new(0.1),
            FitConfig::new(3, 8).seed(4),
            |_| ControlFlow::Continue(()),
        )
        .unwrap_err();
    assert!(matches!(err, Error::NonFinite { .. }), "{err}");
    assert!(err.to_string().contains("sample 37"), "{err}");
    assert!(err.to_string().contains("epoch 0"), "{err}");
}

#[test]
fn epochs_completed_before_an_error_reach_the_callback_and_stay_trained() {
    let (x, y) = classification_data();
    let untrained = Network::builder(2)
        .dense(3, Identity)
        .seed(1)
        .build()
        .unwrap();
    let mut net = Network::builder(2)
        .dense(3, Identity)
        .seed(1)
        .build()
        .unwrap();
    let mut epochs = Vec::new();
    // One step per epoch (batch 60); the loss fails from its third call: in epoch 2.
    let loss = FailAfter {
        calls: AtomicUsize::new(0),
        limit: 2,
    };
    let err = net
        .fit(
            &x,
            &y,
            &loss,
            &mut Sgd::new(0.1),
            FitConfig::new(5, 60),
            |m| {
                epochs.push(m.epoch);
                ControlFlow::Continue(())
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("epoch 2"), "{err}");
    assert_eq!(epochs, [0, 1]);
    assert_eq!(net.steps(), 2);
    assert_ne!(net.state_dict(), untrained.state_dict());
}

/// Cross-entropy that fails from its `limit + 1`-th gradient call on (to stop training).
#[derive(Debug)]
struct FailAfter {
    calls: AtomicUsize,
    limit: usize,
}

impl nninit::Loss for FailAfter {
    fn name(&self) -> &str {
        "fail-after"
    }

    fn loss(&self, p: &[f32], t: &[f32], outputs: usize) -> nninit::Result<f32> {
        CrossEntropy.loss(p, t, outputs)
    }

    fn loss_and_gradient(
        &self,
        p: &[f32],
        t: &[f32],
        outputs: usize,
        g: &mut [f32],
    ) -> nninit::Result<f32> {
        if self.calls.fetch_add(1, Ordering::Relaxed) >= self.limit {
            return Err(Error::NonFinite {
                what: "injected loss".into(),
                value: f64::NAN,
            });
        }
        CrossEntropy.loss_and_gradient(p, t, outputs, g)
    }
}

#[test]
fn a_diverging_fit_blames_no_sample() {
    let (x, _) = classification_data();
    let y: Vec<f32> = x.chunks(2).map(|row| 3.0 * row[0] - row[1]).collect();
    let mut net = Network::builder(2)
        .dense(1, Identity)
        .seed(1)
        .build()
        .unwrap();
    let err = net
        .fit(
            &x,
            &y,
            &Mse,
            &mut Sgd::new(1e30),
            FitConfig::new(20, 8).seed(4),
            |_| ControlFlow::Continue(()),
        )
        .unwrap_err();
    assert!(matches!(err, Error::NonFinite { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("epoch") && message.contains("step"),
        "{message}"
    );
    assert!(!message.contains("sample"), "{message}");
}

// ---------------------------------------------------------------------------------------------
// Point 10: a corrupt npz entry and a safetensors error name what they are about.

fn compressed_npz(dir: &Path) -> PathBuf {
    let path = dir.join("w.npz");
    let values: Vec<f32> = (0..4096).map(|i| (i % 7) as f32).collect();
    let tensor = Tensor::new(vec![4096], values).unwrap();
    io::save_npz_compressed(&path, &BTreeMap::from([("layer".to_string(), tensor)])).unwrap();
    path
}

#[test]
fn a_corrupt_deflate_stream_is_a_malformed_npz_naming_the_entry() {
    let dir = scratch("deflate");
    let path = compressed_npz(&dir);
    let mut bytes = fs::read(&path).unwrap();
    // The local header is 30 bytes plus the name ("layer.npy"); corrupt the stream after it.
    let start = 30 + "layer.npy".len();
    for byte in &mut bytes[start + 2..start + 40] {
        *byte = 0xff;
    }
    fs::write(&path, &bytes).unwrap();
    let err = io::load_npz(&path).unwrap_err();
    assert!(
        matches!(err, Error::MalformedFile { format: "npz", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("layer.npy"), "{err}");
}

#[test]
fn an_unsupported_compression_method_is_a_malformed_npz_naming_the_entry() {
    let dir = scratch("method");
    let path = compressed_npz(&dir);
    let mut bytes = fs::read(&path).unwrap();
    // Compression method 99 (AES) in the local header (offset 8) and the central directory
    // record (offset 10 from its signature).
    bytes[8..10].copy_from_slice(&99u16.to_le_bytes());
    let central = bytes.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    bytes[central + 10..central + 12].copy_from_slice(&99u16.to_le_bytes());
    fs::write(&path, &bytes).unwrap();
    let err = io::load_npz(&path).unwrap_err();
    assert!(
        matches!(err, Error::MalformedFile { format: "npz", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("layer.npy"), "{err}");
}

#[test]
fn a_safetensors_size_error_names_the_tensor() {
    let header = r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[3],"data_offsets":[4,12]}}"#;
    let dir = scratch("named");
    let path = dir.join("b.safetensors");
    fs::write(&path, safetensors_bytes(header, &[0u8; 12])).unwrap();
    let err = io::load_safetensors(&path).unwrap_err();
    assert!(matches!(err, Error::MalformedFile { .. }), "{err}");
    assert!(err.to_string().contains("'b'"), "{err}");
    let unknown = r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"z":{"dtype":"Q7","shape":[1],"data_offsets":[4,8]}}"#;
    fs::write(&path, safetensors_bytes(unknown, &[0u8; 8])).unwrap();
    let err = io::load_safetensors(&path).unwrap_err();
    assert!(
        err.to_string().contains("'z'") && err.to_string().contains("Q7"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Point 11: saves clean up after killed saves, follow symlinks, keep permissions.

#[test]
fn stale_temporaries_of_the_same_target_are_removed_by_the_next_save() {
    let dir = scratch("stale");
    let target = dir.join("model.safetensors");
    // Left by a killed process (pid 2^22 + 1 is above Linux's default pid_max, never alive).
    let stale = dir.join(".model.safetensors.4194305.0.tmp");
    let other = dir.join(".other.safetensors.4194305.0.tmp");
    fs::write(&stale, b"half a file").unwrap();
    fs::write(&other, b"someone else's").unwrap();
    let net = Network::builder(2).dense(1, Identity).build().unwrap();
    net.save_safetensors(&target).unwrap();
    assert!(
        !stale.exists(),
        "the stale temporary of this target is still there"
    );
    assert!(other.exists(), "another target's temporary was removed");
    assert!(target.exists());
}

#[cfg(unix)]
#[test]
fn saving_through_a_symlink_replaces_the_file_it_points_to() {
    let dir = scratch("symlink");
    let real = dir.join("real.npy");
    let link = dir.join("link.npy");
    io::save_npy(&real, &Tensor::new(vec![1], vec![1.0]).unwrap()).unwrap();
    std::os::unix::fs::symlink("real.npy", &link).unwrap();
    io::save_npy(&link, &Tensor::new(vec![1], vec![2.0]).unwrap()).unwrap();
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(io::load_npy(&real).unwrap().data, [2.0]);
}

#[cfg(unix)]
#[test]
fn saving_over_a_file_keeps_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("mode");
    let path = dir.join("secret.safetensors");
    let net = Network::builder(2).dense(1, Identity).build().unwrap();
    net.save_safetensors(&path).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    net.save_safetensors(&path).unwrap();
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

/// Parameters large enough (2^17 values) for Sgd to check and write them in parallel chunks on
/// two threads: an update that overflows in one element of the last chunk of the second
/// tensor is found, named by tensor and element, and nothing is written; without it, the
/// update equals the one-thread update bit for bit.
#[test]
fn parallel_sgd_passes_refuse_and_match_one_thread() {
    let len = 1 << 16;
    let values: Vec<f32> = (0..len).map(|i| (i % 97) as f32 * 0.01 - 0.5).collect();
    let gradient: Vec<f32> = (0..len).map(|i| (i % 89) as f32 * 0.001 - 0.04).collect();
    let mut overflowing = gradient.clone();
    overflowing[len - 3] = 3e38;
    // A good step (so the momentum buffers exist), then one with `second_gradient`.
    let run = |threads: usize, second_gradient: &[f32]| {
        nninit::set_num_threads(threads);
        let (mut first, mut second) = (values.clone(), values.clone());
        let mut sgd = Sgd::new(10.0).momentum(0.5);
        let step = |sgd: &mut Sgd, first: &mut [f32], second: &mut [f32], g: &[f32]| {
            sgd.step(&mut [
                nninit::Parameter {
                    values: first,
                    gradient: &gradient,
                },
                nninit::Parameter {
                    values: second,
                    gradient: g,
                },
            ])
        };
        step(&mut sgd, &mut first, &mut second, &gradient).expect("a finite step");
        let before = (first.clone(), second.clone(), format!("{sgd:?}"));
        let result = step(&mut sgd, &mut first, &mut second, second_gradient);
        nninit::set_num_threads(0);
        (result, before, (first, second, format!("{sgd:?}")))
    };
    let (result, before, after) = run(2, &overflowing);
    let err = result.unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("parameter 1, element {}", len - 3)),
        "{err}"
    );
    assert_eq!(before, after, "parameters or momentum buffers changed");
    let (one, two) = (run(1, &gradient), run(2, &gradient));
    assert!(one.0.is_ok() && two.0.is_ok());
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&one.2.0), bits(&two.2.0));
    assert_eq!(bits(&one.2.1), bits(&two.2.1));
    assert_eq!(one.2.2, two.2.2, "momentum buffers");
    assert_ne!(one.2.0, one.1.0, "the step wrote nothing");
}

/// A weight gradient that overflows while the loss is finite (inputs near `f32::MAX` times a
/// tiny first weight) is refused, naming the layer and the step, and nothing is written: the
/// check runs inside the weight-gradient product.
#[test]
fn an_overflowing_weight_gradient_is_named_and_nothing_changes() -> Result<(), Error> {
    let mut net = Network::builder(1)
        .dense(1, Identity)
        .dense(1, Identity)
        .build()?;
    net.layers_mut()[0].weight_mut()[0] = 1e-38;
    net.layers_mut()[1].weight_mut()[0] = 1.0;
    let (x, y) = ([3e38f32, 3e38], [-100.0f32, -100.0]);
    let before = net.state_dict();
    let err = net
        .train_step(&x, &y, &Mse, &mut Sgd::new(0.1))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("weight gradient of layer 0 at step 0"),
        "{err}"
    );
    assert_eq!(net.state_dict(), before);
    assert_eq!(net.steps(), 0);
    Ok(())
}

/// A custom optimizer that writes a non-finite value (and does not claim to check before
/// writing) is caught by the network's own pass after the step, which names the parameter.
#[test]
fn a_custom_optimizer_that_writes_nan_is_reported() -> Result<(), Error> {
    #[derive(Debug)]
    struct WritesNan;
    impl Optimizer for WritesNan {
        fn name(&self) -> &str {
            "writes-nan"
        }
        fn step(&mut self, parameters: &mut [nninit::Parameter<'_>]) -> Result<(), Error> {
            parameters[1].values[0] = f32::NAN;
            Ok(())
        }
        fn learning_rate(&self) -> f32 {
            0.0
        }
        fn set_learning_rate(&mut self, _: f32) {}
        fn reset(&mut self) {}
    }
    assert!(!WritesNan.checks_before_writing());
    let mut net = Network::builder(2).dense(1, Identity).build()?;
    let err = net
        .train_step(&[1.0, 2.0], &[0.5], &Mse, &mut WritesNan)
        .unwrap_err();
    assert!(
        err.to_string().contains("layer 0 bias") && err.to_string().contains("not undone"),
        "{err}"
    );
    Ok(())
}
