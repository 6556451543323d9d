//! Hostile input: malformed files give the specific error for what is wrong, never a panic,
//! and never an allocation sized by a lying header.
//!
//! `malformed_files_give_specific_errors` builds each file byte by byte; the proptest
//! mutates valid files (bit flips, truncation, insertion, overwritten lengths) and asserts only
//! that loading returns (`Ok` or `Err`) instead of panicking or aborting.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use nninit::Error;
use nninit::io::{self, Tensor};
use proptest::prelude::*;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nninit-io-hostile-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// A safetensors file: the 8-byte little-endian header length, the header, the data.
fn safetensors(header: &[u8], data: &[u8]) -> Vec<u8> {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(data);
    bytes
}

/// A version 1.0 `.npy` file with the given header text and data.
fn npy(header: &str, data: &[u8]) -> Vec<u8> {
    npy_version(1, header.as_bytes(), data)
}

fn npy_version(major: u8, header: &[u8], data: &[u8]) -> Vec<u8> {
    let mut bytes = b"\x93NUMPY".to_vec();
    bytes.extend_from_slice(&[major, 0]);
    if major == 1 {
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    } else {
        bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
    }
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(data);
    bytes
}

fn f4_header(shape: &str) -> String {
    format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}\n")
}

/// A zip archive with the given (name, content) entries, stored.
fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, content) in entries {
        archive.start_file(*name, options).unwrap();
        archive.write_all(content).unwrap();
    }
    archive.finish().unwrap().into_inner()
}

fn valid_npy() -> Vec<u8> {
    npy(&f4_header("(2,)"), &[0, 0, 128, 63, 0, 0, 0, 64])
}

/// What a case must produce.
enum Expect {
    /// `MalformedFile` for this format whose reason contains the text.
    Malformed(&'static str, &'static str),
    /// `UnsupportedDtype` for this format whose dtype contains the text.
    Dtype(&'static str, &'static str),
}

struct Case {
    name: &'static str,
    extension: &'static str,
    bytes: Vec<u8>,
    expect: Expect,
}

fn case(name: &'static str, extension: &'static str, bytes: Vec<u8>, expect: Expect) -> Case {
    Case {
        name,
        extension,
        bytes,
        expect,
    }
}

fn cases() -> Vec<Case> {
    use Expect::{Dtype, Malformed};
    let st = "safetensors";
    let f32x2 = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    let two = |b: &str| -> String {
        format!(
            r#"{{"a":{{"dtype":"F32","shape":[2],"data_offsets":[0,8]}},"b":{{"dtype":"F32","shape":[2],"data_offsets":{b}}}}}"#
        )
    };
    let stored_npz = zip(&[("w.npy", &valid_npy())]);
    let mut bad_crc = stored_npz.clone();
    // Flip a bit in the last data byte of the stored entry: the zip stays well-formed, only
    // the CRC disagrees.
    let npy_start = bad_crc.windows(6).position(|w| w == b"\x93NUMPY").unwrap();
    bad_crc[npy_start + valid_npy().len() - 1] ^= 0x40;
    vec![
        // ---- safetensors ----
        case(
            "empty file",
            st,
            vec![],
            Malformed(st, "file is 0 bytes, shorter than the 8-byte"),
        ),
        case(
            "truncated length",
            st,
            vec![1, 0, 0, 0, 0],
            Malformed(st, "file is 5 bytes"),
        ),
        case(
            "header length 2^64-1",
            st,
            [u64::MAX.to_le_bytes().as_slice(), b"{}"].concat(),
            Malformed(st, "header length 18446744073709551615 exceeds the 2 bytes"),
        ),
        case(
            "lying header length",
            st,
            [1000u64.to_le_bytes().as_slice(), f32x2.as_bytes()].concat(),
            Malformed(st, "header length 1000 exceeds"),
        ),
        case(
            "invalid JSON",
            st,
            safetensors(b"{not json", &[]),
            Malformed(st, "not a valid safetensors JSON"),
        ),
        case(
            "JSON array",
            st,
            safetensors(b"[]", &[]),
            Malformed(st, "not a valid safetensors JSON"),
        ),
        case(
            "non-UTF-8 header",
            st,
            safetensors(b"{\"\xff\xfe\":1}", &[]),
            Malformed(st, "not valid UTF-8"),
        ),
        case(
            "offsets beyond the data",
            st,
            safetensors(
                r#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#.as_bytes(),
                &[0; 8],
            ),
            Malformed(st, "do not cover the data section exactly"),
        ),
        case(
            "trailing data",
            st,
            safetensors(f32x2.as_bytes(), &[0; 12]),
            Malformed(st, "do not cover the data section"),
        ),
        case(
            "overlapping tensors",
            st,
            safetensors(two("[4,12]").as_bytes(), &[0; 12]),
            Malformed(st, "tensor 'b' has data offsets"),
        ),
        case(
            "hole between tensors",
            st,
            safetensors(two("[12,20]").as_bytes(), &[0; 20]),
            Malformed(st, "tensor 'b' has data offsets"),
        ),
        case(
            "offsets running backwards",
            st,
            safetensors(
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#.as_bytes(),
                &[0; 8],
            ),
            Malformed(st, "tensor 'a' has data offsets"),
        ),
        case(
            "shape disagrees with byte count",
            st,
            safetensors(
                r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#.as_bytes(),
                &[0; 8],
            ),
            Malformed(st, "tensor 'a' of dtype F32 and shape [3] needs 12 bytes"),
        ),
        case(
            "overflowing dims",
            st,
            safetensors(
                r#"{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}}"#
                    .as_bytes(),
                &[],
            ),
            Malformed(st, "overflows when its dimensions are multiplied"),
        ),
        case(
            "tensor claiming 4 TiB in a tiny file",
            st,
            safetensors(
                r#"{"a":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,4398046511104]}}"#
                    .as_bytes(),
                &[0; 8],
            ),
            Malformed(st, "do not cover the data section exactly"),
        ),
        case(
            "unknown dtype",
            st,
            safetensors(
                r#"{"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}}"#.as_bytes(),
                &[0],
            ),
            Malformed(st, "unknown dtype"),
        ),
        case(
            "negative dimension",
            st,
            safetensors(
                r#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#.as_bytes(),
                &[0; 4],
            ),
            Malformed(st, "not a valid safetensors JSON"),
        ),
        case(
            "non-string metadata",
            st,
            safetensors(r#"{"__metadata__":{"n":1}}"#.as_bytes(), &[]),
            Malformed(st, "not a valid safetensors JSON"),
        ),
        case(
            "complex dtype",
            st,
            safetensors(
                r#"{"phase":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#.as_bytes(),
                &[0; 8],
            ),
            Dtype(st, "C64"),
        ),
        // ---- npy ----
        case(
            "empty npy",
            "npy",
            vec![],
            Malformed(
                "npy",
                "file is 0 bytes, shorter than the 10-byte npy preamble",
            ),
        ),
        case(
            "bad magic",
            "npy",
            [b"\x93NUMPZ\x01\x00\x00\x00".as_slice()].concat(),
            Malformed("npy", "bad magic"),
        ),
        case(
            "pickle instead of npy",
            "npy",
            b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00".to_vec(),
            Malformed("npy", "bad magic"),
        ),
        case(
            "unknown version",
            "npy",
            npy_version(4, b"{}", &[]),
            Malformed("npy", "unsupported npy version 4.0"),
        ),
        case(
            "header length beyond the file",
            "npy",
            [b"\x93NUMPY\x01\x00\x88\x13".as_slice(), b"{}"].concat(),
            Malformed("npy", "header length 5000 exceeds the 2 bytes"),
        ),
        case(
            "v2 header length 2^32-1",
            "npy",
            [b"\x93NUMPY\x02\x00\xff\xff\xff\xff".as_slice(), b"{}"].concat(),
            Malformed("npy", "header length 4294967295 exceeds"),
        ),
        case(
            "claims more data than present",
            "npy",
            npy(&f4_header("(2, 3)"), &[0; 8]),
            Malformed(
                "npy",
                "header describes 24 bytes of data (shape [2, 3]), file holds 8",
            ),
        ),
        case(
            "claims a terabyte",
            "npy",
            npy(&f4_header("(1099511627776,)"), &[]),
            Malformed("npy", "header describes 4398046511104 bytes"),
        ),
        case(
            "trailing bytes",
            "npy",
            npy(&f4_header("(1,)"), &[0; 9]),
            Malformed("npy", "5 trailing bytes"),
        ),
        case(
            "overflowing shape",
            "npy",
            npy(
                &f4_header("(4611686018427387904, 4611686018427387904)"),
                &[],
            ),
            Malformed("npy", "overflows when its dimensions are multiplied"),
        ),
        case(
            "overflowing byte count",
            "npy",
            npy(&f4_header("(4611686018427387904,)"), &[]),
            Malformed("npy", "too many bytes to address"),
        ),
        case(
            "object dtype",
            "npy",
            npy(
                "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }\n",
                b"\x80\x04",
            ),
            Dtype("npy", "pickle"),
        ),
        case(
            "complex dtype",
            "npy",
            npy(
                "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n",
                &[0; 8],
            ),
            Dtype("npy", "'<c8'"),
        ),
        case(
            "missing shape",
            "npy",
            npy("{'descr': '<f4', 'fortran_order': False}\n", &[]),
            Malformed("npy", "lacks the key 'shape'"),
        ),
        case(
            "header not a dict",
            "npy",
            npy("[1, 2, 3]\n", &[]),
            Malformed("npy", "header is not a dict"),
        ),
        case(
            "code in the header",
            "npy",
            npy("{'descr': __import__('os').system('true')}", &[]),
            Malformed("npy", "not a Python literal"),
        ),
        case(
            "non-UTF-8 v3 header",
            "npy",
            npy_version(3, b"{'descr': '\xff<f4'}", &[]),
            Malformed("npy", "not valid UTF-8"),
        ),
        case(
            "deep nesting",
            "npy",
            npy(&format!("{{'shape': {}", "(".repeat(5000)), &[]),
            Malformed("npy", "nesting deeper than 16"),
        ),
        // ---- npz ----
        case(
            "npz that is not a zip",
            "npz",
            valid_npy(),
            Malformed("npz", "not a readable zip archive"),
        ),
        case(
            "empty npz",
            "npz",
            vec![],
            Malformed("npz", "not a readable zip archive"),
        ),
        case(
            "npz with a non-npy entry",
            "npz",
            zip(&[("w.npy", b"hello, world")]),
            Malformed("npz", "entry 'w.npy': bad magic"),
        ),
        case(
            "npz with a bad CRC",
            "npz",
            bad_crc,
            Malformed("npz", "entry 'w.npy'"),
        ),
        case(
            "npz truncated",
            "npz",
            stored_npz[..stored_npz.len() / 2].to_vec(),
            Malformed("npz", "not a readable zip archive"),
        ),
        case(
            "npz with duplicate keys",
            "npz",
            zip(&[("w.npy", &valid_npy()), ("w", &valid_npy())]),
            Malformed("npz", "two entries are named 'w'"),
        ),
        case(
            "npz entry lying about its data",
            "npz",
            zip(&[("w.npy", &npy(&f4_header("(1000000,)"), &[0; 8]))]),
            Malformed("npz", "entry 'w.npy': header describes 4000000 bytes"),
        ),
    ]
}

fn load(path: &Path, extension: &str) -> nninit::Result<usize> {
    match extension {
        "safetensors" => io::load_safetensors(path).map(|t| t.len()),
        "npy" => io::load_npy(path).map(|t| t.len()),
        _ => io::load_npz(path).map(|t| t.len()),
    }
}

#[test]
fn malformed_files_give_specific_errors() {
    let dir = scratch("cases");
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for (i, case) in cases.iter().enumerate() {
        let path = dir.join(format!("case{i}.{}", case.extension));
        fs::write(&path, &case.bytes).unwrap();
        let err = match load(&path, case.extension) {
            Ok(n) => panic!("{}: loaded {n} items from a malformed file", case.name),
            Err(err) => err,
        };
        match (&case.expect, &err) {
            (Expect::Malformed(format, text), Error::MalformedFile { format: f, reason }) => {
                assert_eq!(format, f, "{}: {err}", case.name);
                assert!(reason.contains(text), "{}: {err}", case.name);
            }
            (
                Expect::Dtype(format, text),
                Error::UnsupportedDtype {
                    format: f, dtype, ..
                },
            ) => {
                assert_eq!(format, f, "{}: {err}", case.name);
                assert!(dtype.contains(text), "{}: {err}", case.name);
            }
            _ => panic!("{}: unexpected error {err:?}", case.name),
        }
    }
    fs::remove_dir_all(&dir).unwrap();
}

/// Valid files of every format, the seeds the mutations start from (built once).
fn seeds() -> &'static [(&'static str, Vec<u8>)] {
    static SEEDS: std::sync::OnceLock<Vec<(&'static str, Vec<u8>)>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(|| build_seeds(&scratch("seeds")))
}

fn build_seeds(dir: &Path) -> Vec<(&'static str, Vec<u8>)> {
    let tensors = BTreeMap::from([
        (
            "0.weight".to_string(),
            Tensor::new(vec![2, 3], vec![0.5; 6]).unwrap(),
        ),
        (
            "0.bias".to_string(),
            Tensor::new(vec![2], vec![-1.0, 2.0]).unwrap(),
        ),
    ]);
    let metadata = BTreeMap::from([("format".to_string(), "pt".to_string())]);
    let st = dir.join("seed.safetensors");
    io::save_safetensors_with_metadata(&st, &tensors, &metadata).unwrap();
    let stored = dir.join("seed-stored.npz");
    io::save_npz(&stored, &tensors).unwrap();
    let deflated = dir.join("seed-deflated.npz");
    io::save_npz_compressed(&deflated, &tensors).unwrap();
    let fixture = |name: &str| {
        fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data")
                .join(name),
        )
        .unwrap()
    };
    vec![
        ("safetensors", fs::read(&st).unwrap()),
        ("safetensors", fixture("dtypes.safetensors")),
        ("npy", valid_npy()),
        ("npy", fixture("fortran_be_f8.npy")),
        ("npy", fixture("v3_f4.npy")),
        ("npz", fs::read(&stored).unwrap()),
        ("npz", fs::read(&deflated).unwrap()),
        ("npz", fixture("deflated.npz")),
    ]
}

/// One corruption of a file.
#[derive(Clone, Debug)]
enum Mutation {
    FlipBit {
        at: usize,
        bit: u8,
    },
    Truncate {
        at: usize,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    /// Writes a little-endian u64 (a plausible length or offset) over 8 bytes.
    Overwrite {
        at: usize,
        value: u64,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        1 => any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        2 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        2 => (any::<usize>(), prop_oneof![any::<u64>(), 0u64..4096])
            .prop_map(|(at, value)| Mutation::Overwrite { at, value }),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    let len = bytes.len();
    match mutation {
        Mutation::FlipBit { at, bit } => bytes[at % len] ^= 1 << bit,
        Mutation::Truncate { at } => bytes.truncate(at % len),
        Mutation::Insert { at, bytes: new } => {
            let at = at % (len + 1);
            bytes.splice(at..at, new.iter().copied());
        }
        Mutation::Overwrite { at, value } => {
            let at = at % len;
            let end = (at + 8).min(len);
            bytes[at..end].copy_from_slice(&value.to_le_bytes()[..end - at]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Corrupted files never panic: every outcome is `Ok` or a typed error.
    #[test]
    fn mutated_files_never_panic(
        seed in 0usize..8,
        mutations in prop::collection::vec(mutation(), 1..4),
        id in any::<u64>(),
    ) {
        let dir = std::env::temp_dir().join(format!("nninit-io-mutate-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let (extension, mut bytes) = seeds()[seed % seeds().len()].clone();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let path = dir.join(format!("m{id}.{extension}"));
        fs::write(&path, &bytes).unwrap();
        let outcome = load(&path, extension);
        fs::remove_file(&path).unwrap();
        if let Err(err) = outcome {
            // Errors render without panicking too.
            prop_assert!(!err.to_string().is_empty());
        }
    }
}
