//! Save then load is bit-exact in every format, and saves are atomic.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use nninit::Error;
use nninit::io::{self, Tensor};
use proptest::prelude::*;

/// A fresh, empty directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nninit-io-rt-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn bits(t: &Tensor) -> Vec<u32> {
    t.data.iter().map(|v| v.to_bits()).collect()
}

/// Every awkward f32: NaNs with payloads (quiet and signalling, both signs), infinities,
/// the smallest and largest subnormals, -0.0, the extremes.
fn special_values() -> Tensor {
    let patterns: [u32; 16] = [
        0x7fc0_0000,
        0x7fc0_0001,
        0x7f80_0001,
        0xffc1_2345,
        0xff80_0f00, // NaNs
        0x7f80_0000,
        0xff80_0000, // +-inf
        0x0000_0001,
        0x007f_ffff,
        0x8000_0001, // subnormals
        0x8000_0000,
        0x0000_0000, // -0.0, +0.0
        0x7f7f_ffff,
        0xff7f_ffff,
        0x0080_0000,
        0x3f80_0000, // max, min, min positive, 1.0
    ];
    Tensor::new(
        vec![4, 4],
        patterns.iter().map(|&b| f32::from_bits(b)).collect(),
    )
    .unwrap()
}

type Saver = fn(&Path, &BTreeMap<String, Tensor>) -> nninit::Result<()>;
type Loader = fn(&Path) -> nninit::Result<BTreeMap<String, Tensor>>;

/// The map formats, each with its file extension.
fn map_formats() -> [(&'static str, Saver, Loader); 3] {
    [
        (
            "safetensors",
            |p, t| io::save_safetensors(p, t),
            |p| io::load_safetensors(p),
        ),
        ("npz", |p, t| io::save_npz(p, t), |p| io::load_npz(p)),
        (
            "npz",
            |p, t| io::save_npz_compressed(p, t),
            |p| io::load_npz(p),
        ),
    ]
}

#[test]
fn special_values_round_trip_bit_exactly() {
    let dir = scratch("special");
    let tensors = BTreeMap::from([
        ("0.weight".to_string(), special_values()),
        (
            "0.bias".to_string(),
            Tensor::new(vec![2], vec![-0.0, f32::NAN]).unwrap(),
        ),
        (
            "empty".to_string(),
            Tensor::new(vec![0, 3], vec![]).unwrap(),
        ),
        (
            "scalar".to_string(),
            Tensor::new(vec![], vec![1e-40]).unwrap(),
        ),
    ]);
    for (i, (ext, save, load)) in map_formats().into_iter().enumerate() {
        let path = dir.join(format!("t{i}.{ext}"));
        save(&path, &tensors).unwrap();
        let back = load(&path).unwrap();
        assert_eq!(
            back.keys().collect::<Vec<_>>(),
            tensors.keys().collect::<Vec<_>>()
        );
        for (key, tensor) in &tensors {
            assert_eq!(back[key].shape, tensor.shape, "{ext} {key}");
            assert_eq!(bits(&back[key]), bits(tensor), "{ext} {key}");
        }
    }
    let npy = dir.join("t.npy");
    io::save_npy(&npy, &special_values()).unwrap();
    assert_eq!(bits(&io::load_npy(&npy).unwrap()), bits(&special_values()));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn safetensors_metadata_round_trips() {
    let dir = scratch("meta");
    let path = dir.join("m.safetensors");
    let tensors = BTreeMap::from([("w".to_string(), Tensor::new(vec![1], vec![2.0]).unwrap())]);
    let metadata = BTreeMap::from([
        ("format".to_string(), "pt".to_string()),
        ("note".to_string(), "ünïcode \"quoted\"".to_string()),
    ]);
    io::save_safetensors_with_metadata(&path, &tensors, &metadata).unwrap();
    let (back, meta) = io::load_safetensors_with_metadata(&path).unwrap();
    assert_eq!((back, meta), (tensors.clone(), metadata));
    io::save_safetensors(&path, &tensors).unwrap();
    assert!(
        io::load_safetensors_with_metadata(&path)
            .unwrap()
            .1
            .is_empty()
    );
    fs::remove_dir_all(&dir).unwrap();
}

/// A failed save (a tensor whose data disagrees with its shape) leaves the previous file
/// byte-for-byte intact and no temporary file behind, in every format.
#[test]
fn failed_save_keeps_the_previous_file() {
    let dir = scratch("atomic");
    let good = BTreeMap::from([("w".to_string(), special_values())]);
    let bad = BTreeMap::from([
        ("a".to_string(), special_values()),
        (
            "w".to_string(),
            Tensor {
                shape: vec![3, 3],
                data: vec![1.0; 8],
            },
        ),
    ]);
    for (i, (ext, save, _)) in map_formats().into_iter().enumerate() {
        let path = dir.join(format!("t{i}.{ext}"));
        save(&path, &good).unwrap();
        let before = fs::read(&path).unwrap();
        let names = listing(&dir);
        let err = save(&path, &bad).unwrap_err();
        assert!(
            matches!(err, Error::LengthMismatch { found: 8, .. }),
            "{err:?}"
        );
        assert_eq!(fs::read(&path).unwrap(), before, "{ext}");
        assert_eq!(listing(&dir), names, "{ext}");
    }
    let npy = dir.join("t.npy");
    io::save_npy(&npy, &special_values()).unwrap();
    let before = fs::read(&npy).unwrap();
    assert!(
        io::save_npy(
            &npy,
            &Tensor {
                shape: vec![2],
                data: vec![0.0]
            }
        )
        .is_err()
    );
    assert_eq!(fs::read(&npy).unwrap(), before);
    fs::remove_dir_all(&dir).unwrap();
}

/// A save whose final rename fails (the target is a directory) removes its temporary file.
#[test]
fn failed_rename_leaves_no_temporary_file() {
    let dir = scratch("rename");
    let target = dir.join("taken");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("inside"), b"keep").unwrap();
    let tensors = BTreeMap::from([("w".to_string(), special_values())]);
    for (_, save, _) in map_formats() {
        assert!(matches!(save(&target, &tensors), Err(Error::Io { .. })));
    }
    assert!(matches!(
        io::save_npy(&target, &special_values()),
        Err(Error::Io { .. })
    ));
    assert_eq!(listing(&dir), ["taken"]);
    assert_eq!(fs::read(target.join("inside")).unwrap(), b"keep");
    let missing_dir = dir.join("no/such/dir/w.safetensors");
    assert!(matches!(
        io::save_safetensors(&missing_dir, &tensors),
        Err(Error::Io { .. })
    ));
    fs::remove_dir_all(&dir).unwrap();
}

/// The same tensors give the same bytes, whenever and wherever they are saved.
#[test]
fn saves_are_byte_reproducible() {
    let dir = scratch("repro");
    let tensors = BTreeMap::from([("w".to_string(), special_values())]);
    for (i, (ext, save, _)) in map_formats().into_iter().enumerate() {
        let (first, second) = (
            dir.join(format!("a{i}.{ext}")),
            dir.join(format!("b{i}.{ext}")),
        );
        save(&first, &tensors).unwrap();
        save(&second, &tensors).unwrap();
        assert_eq!(
            fs::read(&first).unwrap(),
            fs::read(&second).unwrap(),
            "{ext}"
        );
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_file_is_an_io_error_naming_the_path() {
    let err = io::load_npy("/nonexistent/nninit/w.npy").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("i/o error on '/nonexistent/nninit/w.npy'"),
        "{err}"
    );
    assert!(matches!(
        io::load_safetensors("/nonexistent/x"),
        Err(Error::Io { .. })
    ));
    assert!(matches!(
        io::load_npz("/nonexistent/x"),
        Err(Error::Io { .. })
    ));
}

fn arbitrary_tensor() -> impl Strategy<Value = Tensor> {
    prop::collection::vec(0usize..5, 0..4).prop_flat_map(|shape| {
        let n = shape.iter().product::<usize>();
        prop::collection::vec(any::<u32>(), n).prop_map(move |patterns| Tensor {
            shape: shape.clone(),
            data: patterns.into_iter().map(f32::from_bits).collect(),
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any f32 bit patterns in any small shape survive every format unchanged.
    #[test]
    fn any_tensor_round_trips(tensor in arbitrary_tensor(), case in 0u64..u64::MAX) {
        let dir = std::env::temp_dir().join(format!("nninit-io-prop-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let tensors = BTreeMap::from([("t".to_string(), tensor.clone())]);
        for (i, (ext, save, load)) in map_formats().into_iter().enumerate() {
            let path = dir.join(format!("{case}-{i}.{ext}"));
            save(&path, &tensors).unwrap();
            let back = load(&path).unwrap();
            fs::remove_file(&path).unwrap();
            prop_assert_eq!(&back["t"].shape, &tensor.shape);
            prop_assert_eq!(bits(&back["t"]), bits(&tensor));
        }
        let path = dir.join(format!("{case}.npy"));
        io::save_npy(&path, &tensor).unwrap();
        let back = io::load_npy(&path).unwrap();
        fs::remove_file(&path).unwrap();
        prop_assert_eq!(bits(&back), bits(&tensor));
    }
}
