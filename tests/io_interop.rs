//! Files written by NumPy and the Python safetensors package load with the right values.
//!
//! The fixtures in `tests/data/` come from `tests/data/make_fixtures.py` (numpy 2.4,
//! safetensors 0.8); its formulas are recomputed here:
//!     ramp(n)[i]     = (i - 5) * 0.25         (exact in every float type)
//!     ramp_f64(n)[i] = (i - 5) * 0.25 + 0.1   (in f64, then rounded to f32 on load)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nninit::Error;
use nninit::io::{self, LoadOptions, Tensor};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn ramp(n: usize) -> Vec<f32> {
    (0..n).map(|i| (i as f32 - 5.0) * 0.25).collect()
}

fn ramp_f64(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i as f64 - 5.0) * 0.25 + 0.1) as f32)
        .collect()
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

fn assert_tensor(tensor: &Tensor, shape: &[usize], values: &[f32]) {
    assert_eq!(tensor.shape, shape);
    assert_eq!(bits(&tensor.data), bits(values), "{tensor:?}");
}

#[test]
fn safetensors_f32_f64_f16_and_metadata() {
    let (tensors, metadata) =
        io::load_safetensors_with_metadata(data("dtypes.safetensors")).unwrap();
    assert_eq!(tensors.len(), 4);
    assert_tensor(&tensors["f32"], &[2, 3], &ramp(6));
    assert_tensor(&tensors["f64"], &[3, 2], &ramp_f64(6));
    assert_tensor(&tensors["f16"], &[4], &ramp(4));
    assert_tensor(&tensors["scalar"], &[], &[1.5]);
    let expected = BTreeMap::from([
        ("format".to_string(), "pt".to_string()),
        ("source".to_string(), "make_fixtures.py".to_string()),
    ]);
    assert_eq!(metadata, expected);
    // The plain loader gives the same tensors.
    assert_eq!(
        io::load_safetensors(data("dtypes.safetensors"))
            .unwrap()
            .len(),
        4
    );
}

#[test]
fn safetensors_bf16() {
    let tensors = io::load_safetensors(data("bf16.safetensors")).unwrap();
    assert_tensor(&tensors["bf16"], &[2, 4], &ramp(8));
}

#[test]
fn safetensors_integer_dtype_loads_as_f32() {
    // Written by safetensors.numpy.save_file({"steps": np.arange(3, dtype=np.int64), ...}).
    let tensors = io::load_safetensors(data("int64.safetensors")).unwrap();
    assert_tensor(&tensors["steps"], &[3], &[0.0, 1.0, 2.0]);
    assert_tensor(&tensors["w"], &[2], &ramp(2));
}

#[test]
fn npy_versions_1_2_3() {
    for name in ["v1_f4.npy", "v2_f4.npy", "v3_f4.npy"] {
        assert_tensor(&io::load_npy(data(name)).unwrap(), &[2, 3], &ramp(6));
    }
}

#[test]
fn npy_byte_orders_and_widths() {
    assert_tensor(&io::load_npy(data("be_f4.npy")).unwrap(), &[2, 3], &ramp(6));
    assert_tensor(
        &io::load_npy(data("be_f8.npy")).unwrap(),
        &[2, 3],
        &ramp_f64(6),
    );
    assert_tensor(
        &io::load_npy(data("le_f8.npy")).unwrap(),
        &[2, 3],
        &ramp_f64(6),
    );
    assert_tensor(&io::load_npy(data("le_f2.npy")).unwrap(), &[5], &ramp(5));
    assert_tensor(&io::load_npy(data("be_f2.npy")).unwrap(), &[5], &ramp(5));
    assert_tensor(&io::load_npy(data("scalar.npy")).unwrap(), &[], &[-2.5]);
}

#[test]
fn npy_fortran_order_is_transposed_to_row_major() {
    assert_tensor(
        &io::load_npy(data("fortran_f4.npy")).unwrap(),
        &[2, 3, 4],
        &ramp(24),
    );
    assert_tensor(
        &io::load_npy(data("fortran_be_f8.npy")).unwrap(),
        &[3, 2],
        &ramp_f64(6),
    );
}

#[test]
fn npy_object_array_is_refused_with_the_reason() {
    let err = io::load_npy(data("object.npy")).unwrap_err();
    let Error::UnsupportedDtype {
        format,
        dtype,
        tensor,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*format, "npy");
    assert!(
        dtype.starts_with("'|O'") && dtype.contains("pickle"),
        "{dtype}"
    );
    assert!(tensor.ends_with("object.npy"), "{tensor}");
}

#[test]
fn npz_stored_and_deflated() {
    for name in ["stored.npz", "deflated.npz"] {
        let arrays = io::load_npz(data(name)).unwrap();
        assert_eq!(
            arrays.keys().collect::<Vec<_>>(),
            ["bias", "weight"],
            "{name}"
        );
        assert_tensor(&arrays["weight"], &[3, 2], &ramp(6));
        assert_tensor(&arrays["bias"], &[3], &ramp(3));
    }
}

#[test]
fn npz_object_entry_is_refused() {
    let err = io::load_npz(data("object.npz")).unwrap_err();
    assert!(
        matches!(&err, Error::UnsupportedDtype { format: "npz", tensor, .. } if tensor == "bad"),
        "{err:?}"
    );
}

#[test]
fn pretrained_from_each_format() {
    use nninit::Fans;
    use nninit::init::Initializer;
    let fans = Fans::new(3, 2);
    let mut weights = [0.0f32; 6];
    let from_st = io::Pretrained::from_safetensors(data("dtypes.safetensors"), "f32").unwrap();
    from_st.fill_seeded(&mut weights, fans, 0).unwrap();
    assert_eq!(weights.to_vec(), ramp(6));
    let from_npy = io::Pretrained::from_npy(data("be_f8.npy")).unwrap();
    from_npy.fill_seeded(&mut weights, fans, 0).unwrap();
    assert_eq!(weights.to_vec(), ramp_f64(6));
    let from_npz = io::Pretrained::from_npz(data("deflated.npz"), "weight").unwrap();
    let mut transposed = [0.0f32; 6];
    // weight is [3, 2]: a layer 2 -> 3.
    from_npz
        .fill_seeded(&mut transposed, Fans::new(2, 3), 0)
        .unwrap();
    assert_eq!(transposed.to_vec(), ramp(6));
    let err = io::Pretrained::from_safetensors(data("dtypes.safetensors"), "nope").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "key must be one of the tensors in '{}' (f16, f32, f64, scalar), got 'nope'",
            data("dtypes.safetensors").display()
        )
    );
    assert!(io::Pretrained::from_npz(data("stored.npz"), "nope").is_err());
}

/// The example's PyTorch-layout file: `nn.Sequential(Linear(2, 4), Tanh(), Linear(4, 1),
/// Sigmoid())`, whose second Linear is module 2. Mapped onto dense layers 0 and 1 it computes
/// XOR (the weights are set by hand in make_fixtures.py).
#[test]
fn pytorch_sequential_mlp_maps_onto_dense_layers() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/pytorch_mlp.safetensors");
    let (file, metadata) = io::load_safetensors_with_metadata(&path).unwrap();
    assert_eq!(metadata["format"], "pt");
    let expected = [
        ("0.weight".to_string(), vec![4, 2]),
        ("0.bias".to_string(), vec![4]),
        ("1.weight".to_string(), vec![1, 4]),
        ("1.bias".to_string(), vec![1]),
    ];
    let strict = io::match_state_dict(&expected, file.clone(), &LoadOptions::default());
    assert!(matches!(strict, Err(Error::StateDict { .. })));
    let (tensors, report) = io::match_state_dict(
        &expected,
        file,
        &LoadOptions::default().sequential_indices(&[0, 2]),
    )
    .unwrap();
    assert!(report.is_complete(), "{report}");
    let forward = |x: [f32; 2]| {
        let (w1, b1) = (&tensors["0.weight"].data, &tensors["0.bias"].data);
        let (w2, b2) = (&tensors["1.weight"].data, &tensors["1.bias"].data);
        let hidden: Vec<f32> = (0..4)
            .map(|j| (w1[2 * j] * x[0] + w1[2 * j + 1] * x[1] + b1[j]).tanh())
            .collect();
        let z: f32 = (0..4).map(|j| w2[j] * hidden[j]).sum::<f32>() + b2[0];
        1.0 / (1.0 + (-z).exp())
    };
    for (x, xor) in [
        ([0.0, 0.0], 0.0),
        ([0.0, 1.0], 1.0),
        ([1.0, 0.0], 1.0),
        ([1.0, 1.0], 0.0),
    ] {
        assert!((forward(x) - xor).abs() < 0.05, "{x:?} -> {}", forward(x));
    }
}
