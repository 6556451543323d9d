//! `Network::save_safetensors` / `load_safetensors` / `load_npz`: round trips, PyTorch
//! `nn.Sequential` files, strict and non-strict loading, and failed loads that change nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nninit::io::{self, LoadOptions, Tensor};
use nninit::{Error, Network, Sigmoid, Tanh};

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nninit-io-network-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

fn mlp(seed: u64) -> nninit::Result<Network> {
    Network::builder(2)
        .dense(4, Tanh)
        .dense(1, Sigmoid)
        .seed(seed)
        .build()
}

const INPUTS: [f32; 8] = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];

#[test]
fn save_then_load_gives_identical_predictions() -> nninit::Result<()> {
    let dir = scratch_dir("roundtrip");
    let path = dir.join("mlp.safetensors");
    let mut trained = mlp(1)?;
    trained.save_safetensors(&path)?;
    let (tensors, metadata) = io::load_safetensors_with_metadata(&path)?;
    assert_eq!(metadata["format"], "pt");
    assert_eq!(tensors["0.weight"].shape, vec![4, 2]);
    assert_eq!(tensors["1.bias"].shape, vec![1]);

    let mut fresh = mlp(2)?;
    assert_ne!(fresh.forward(&INPUTS)?, trained.forward(&INPUTS)?);
    let report = fresh.load_safetensors(&path)?;
    assert!(report.is_complete(), "{report}");
    assert_eq!(fresh.forward(&INPUTS)?, trained.forward(&INPUTS)?);
    std::fs::remove_dir_all(dir).ok();
    Ok(())
}

#[test]
fn npz_with_the_same_keys_loads() -> nninit::Result<()> {
    let dir = scratch_dir("npz");
    let path = dir.join("mlp.npz");
    let mut source = mlp(3)?;
    io::save_npz(&path, &source.state_dict())?;
    let mut target = mlp(4)?;
    target.load_npz(&path)?;
    assert_eq!(target.forward(&INPUTS)?, source.forward(&INPUTS)?);
    std::fs::remove_dir_all(dir).ok();
    Ok(())
}

/// The shipped file is a PyTorch `nn.Sequential(Linear(2, 4), Tanh(), Linear(4, 1), Sigmoid())`
/// state dict (keys 0.* and 2.*) that computes XOR; see `tests/data/make_fixtures.py`.
#[test]
fn pytorch_sequential_file_loads_with_index_mapping() -> nninit::Result<()> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/pytorch_mlp.safetensors");
    let mut net = mlp(0)?;
    // Strict loading without a mapping lists every problem in one error.
    let error = net.load_safetensors(&path).unwrap_err();
    match &error {
        Error::StateDict {
            missing,
            unexpected,
            ..
        } => {
            assert_eq!(missing, &["1.weight", "1.bias"]);
            assert_eq!(unexpected, &["2.bias", "2.weight"]);
        }
        other => panic!("expected a state-dict error, got {other}"),
    }
    assert!(
        error.to_string().contains("missing keys: 1.weight, 1.bias"),
        "{error}"
    );
    let options = LoadOptions::default().sequential_indices(&[0, 2]);
    net.load_safetensors_with(&path, &options)?;
    let outputs = net.forward(&INPUTS)?;
    let predictions: Vec<bool> = outputs.iter().map(|&p| p > 0.5).collect();
    assert_eq!(predictions, [false, true, true, false], "XOR: {outputs:?}");
    Ok(())
}

#[test]
fn failed_loads_leave_the_network_unchanged() -> nninit::Result<()> {
    let mut net = mlp(5)?;
    let before = net.forward(&INPUTS)?;
    // A misshapen tensor.
    let mut state = net.state_dict();
    state.insert("0.weight".into(), Tensor::new(vec![2, 4], vec![0.5; 8])?);
    let error = net
        .load_state_dict(state, &LoadOptions::default())
        .unwrap_err();
    assert!(matches!(error, Error::ShapeMismatch { .. }), "{error}");
    assert_eq!(
        error.to_string(),
        "tensor '0.weight' has shape [2, 4], layer expects [4, 2]"
    );
    // A NaN weight is refused, even in non-strict mode.
    let mut state = mlp(6)?.state_dict();
    state.get_mut("1.weight").expect("key").data[2] = f32::NAN;
    let error = net
        .load_state_dict(state, &LoadOptions::default().strict(false))
        .unwrap_err();
    assert!(matches!(error, Error::NonFinite { .. }), "{error}");
    // A tensor whose data disagrees with its own shape.
    let mut state = mlp(7)?.state_dict();
    state.insert(
        "0.bias".into(),
        Tensor {
            shape: vec![4],
            data: vec![1.0; 3],
        },
    );
    assert!(net.load_state_dict(state, &LoadOptions::default()).is_err());
    assert_eq!(net.forward(&INPUTS)?, before);
    Ok(())
}

#[test]
fn non_strict_loads_what_matches_and_reports_the_rest() -> nninit::Result<()> {
    let source = mlp(8)?;
    let mut partial: BTreeMap<String, Tensor> = source.state_dict();
    partial.remove("1.weight");
    partial.insert("extra.weight".into(), Tensor::new(vec![1], vec![1.0])?);
    let mut net = mlp(9)?;
    let report = net.load_state_dict(partial, &LoadOptions::default().strict(false))?;
    assert_eq!(report.missing, ["1.weight"]);
    assert_eq!(report.unexpected, ["extra.weight"]);
    assert_eq!(net.layers()[0].weight(), source.layers()[0].weight());
    assert_ne!(net.layers()[1].weight(), source.layers()[1].weight());
    Ok(())
}
