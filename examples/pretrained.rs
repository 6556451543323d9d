//! Pre-trained weights, the fourth way to initialize: train a small network, save it, load it
//! into a freshly built one and get the same predictions; then load a file exported from a
//! PyTorch `nn.Sequential`.
//!
//! Run it with:
//!
//! ```text
//! cargo run --release --example pretrained [-- --out DIR]
//! ```
//!
//! It writes `xor_mlp.safetensors` to `DIR` (default `target/nninit-plots/`). The PyTorch file
//! `examples/data/pytorch_mlp.safetensors` holds `nn.Sequential(Linear(2, 4), Tanh(),
//! Linear(4, 1), Sigmoid())` weights (keys `0.*` and `2.*`); it is made by
//! `tests/data/make_fixtures.py`, and the README shows the equivalent `torch` export.

mod common;

use std::path::Path;

use common::args::Args;
use nninit::io::LoadOptions;
use nninit::{BinaryCrossEntropy, FitConfig, Network, Sgd, Sigmoid, Tanh};

/// XOR: the four corners of the unit square, labelled by whether exactly one coordinate is 1.
const INPUTS: [f32; 8] = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
const LABELS: [f32; 4] = [0.0, 1.0, 1.0, 0.0];

fn mlp(seed: u64) -> nninit::Result<Network> {
    Network::builder(2)
        .dense(4, Tanh)
        .dense(1, Sigmoid)
        .seed(seed)
        .build()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::from_env("pretrained")?;

    println!("1. train a [2, 4, 1] tanh / sigmoid network on XOR (Glorot init, SGD 1.0)");
    let mut trained = mlp(7)?;
    let mut sgd = Sgd::new(1.0);
    let history = trained.fit(
        &INPUTS,
        &LABELS,
        &BinaryCrossEntropy,
        &mut sgd,
        FitConfig::new(2000, 4),
        |_| std::ops::ControlFlow::Continue(()),
    )?;
    println!(
        "   cost {:.6} -> {:.6}",
        history.losses()[0],
        history.losses().last().copied().unwrap_or(f32::NAN)
    );

    let path = args.out.join("xor_mlp.safetensors");
    trained.save_safetensors(&path)?;
    println!(
        "2. saved to {} (keys 0.weight, 0.bias, 1.weight, 1.bias)",
        path.display()
    );

    let mut fresh = mlp(99)?;
    let before = fresh.forward(&INPUTS)?;
    fresh.load_safetensors(&path)?;
    let after = fresh.forward(&INPUTS)?;
    let original = trained.forward(&INPUTS)?;
    println!("3. a fresh network (other seed) loads it:\n");
    println!(
        "   {:<8} {:>10} {:>12} {:>12}",
        "input", "fresh", "loaded", "trained"
    );
    for (i, corner) in INPUTS.chunks(2).enumerate() {
        println!(
            "   {:<8} {:>10.6} {:>12.6} {:>12.6}",
            format!("{corner:?}"),
            before[i],
            after[i],
            original[i]
        );
    }
    let identical = after
        .iter()
        .zip(&original)
        .all(|(a, b)| a.to_bits() == b.to_bits());
    println!("\n   loaded predictions are bit-identical to the trained network's: {identical}");

    let exported =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/pytorch_mlp.safetensors");
    println!(
        "\n4. load {} (PyTorch nn.Sequential keys 0.* and 2.*)",
        exported.display()
    );
    let mut from_pytorch = mlp(0)?;
    match from_pytorch.load_safetensors(&exported) {
        Err(error) => println!("   strict loading without a key map refuses it: {error}"),
        Ok(_) => println!("   (unexpectedly loaded without a key map)"),
    }
    let report = from_pytorch.load_safetensors_with(
        &exported,
        &LoadOptions::default().sequential_indices(&[0, 2]),
    )?;
    println!("   with LoadOptions::default().sequential_indices(&[0, 2]): {report}");
    let outputs = from_pytorch.forward(&INPUTS)?;
    for (corner, p) in INPUTS.chunks(2).zip(&outputs) {
        println!("   {corner:?} -> {p:.4} (class {})", u8::from(*p > 0.5));
    }
    if identical {
        Ok(())
    } else {
        Err("loaded predictions differ from the trained network's".into())
    }
}
