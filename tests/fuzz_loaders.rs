//! A time-bounded mutation fuzzer for the three loaders (`load_safetensors`, `load_npy`,
//! `load_npz`), ignored by default because it runs for minutes:
//!
//! ```text
//! NNINIT_FUZZ_SECONDS=600 cargo test --test fuzz_loaders -- --ignored --nocapture
//! ```
//!
//! It starts from valid files of every format (floats, integers, booleans, Fortran order,
//! stored and deflated archives, the fixtures in `tests/data`), applies one to six random
//! mutations (bit flips, truncation, inserted and duplicated bytes, lengths and offsets
//! written over the file, digits inserted into headers), and loads the result with the default
//! limits. The only properties: no load panics or aborts the process (an abort ends the test
//! binary with a signal), and none takes over one second. A failing input is written to
//! `target/fuzz-failures/` and the seed printed; `NNINIT_FUZZ_SEED` replays a run. (The test
//! profile is optimized, `opt-level = 2`, so the timings are those of a release build.)

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nninit::io::{self, Tensor};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// The slowest load accepted.
const MAX_LOAD_TIME: Duration = Duration::from_secs(1);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Safetensors,
    Npy,
    Npz,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Safetensors => "safetensors",
            Format::Npy => "npy",
            Format::Npz => "npz",
        }
    }

    /// Loads `path`; the number of tensors, or the error's message.
    fn load(self, path: &Path) -> Result<usize, String> {
        let outcome = match self {
            Format::Safetensors => io::load_safetensors(path).map(|t| t.len()),
            Format::Npy => io::load_npy(path).map(|_| 1),
            Format::Npz => io::load_npz(path).map(|t| t.len()),
        };
        outcome.map_err(|e| e.to_string())
    }
}

/// A `.npy` file from its header dict and data.
fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let order = if fortran { "True" } else { "False" };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}");
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

/// A safetensors file with one tensor per (name, dtype, shape, bytes).
fn safetensors(tensors: &[(&str, &str, &str, Vec<u8>)]) -> Vec<u8> {
    let mut data = Vec::new();
    let mut entries = vec![r#""__metadata__":{"format":"pt"}"#.to_string()];
    for (name, dtype, shape, bytes) in tensors {
        let start = data.len();
        data.extend_from_slice(bytes);
        entries.push(format!(
            r#""{name}":{{"dtype":"{dtype}","shape":{shape},"data_offsets":[{start},{}]}}"#,
            data.len()
        ));
    }
    let header = format!("{{{}}}", entries.join(","));
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&data);
    bytes
}

/// A zip of (name, content) entries, each stored or deflated.
fn npz(entries: &[(&str, Vec<u8>)], method: zip::CompressionMethod) -> Vec<u8> {
    let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, content) in entries {
        archive.start_file(*name, options).unwrap();
        archive.write_all(content).unwrap();
    }
    archive.finish().unwrap().into_inner()
}

fn le_f32(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Valid files of every format: the corpus the mutations start from.
fn seeds(dir: &Path) -> Vec<(Format, Vec<u8>)> {
    let ramp: Vec<f32> = (0..24).map(|i| i as f32 * 0.25 - 3.0).collect();
    let ints: Vec<u8> = [3i64, -4, 1 << 40]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let mut seeds = vec![
        (
            Format::Safetensors,
            safetensors(&[
                ("0.weight", "F32", "[2,3]", le_f32(&ramp[..6])),
                ("0.bias", "F16", "[2]", vec![0, 0x3c, 0, 0xc0]),
                (
                    "bn.num_batches_tracked",
                    "I64",
                    "[]",
                    7i64.to_le_bytes().to_vec(),
                ),
                ("mask", "BOOL", "[3]", vec![1, 0, 1]),
                ("fp8", "F8_E4M3", "[2]", vec![0x38, 0x7e]),
                ("wide", "F64", "[1]", 1.5f64.to_le_bytes().to_vec()),
            ]),
        ),
        (
            Format::Npy,
            npy("<f4", false, "(2, 3)", &le_f32(&ramp[..6])),
        ),
        (Format::Npy, npy(">f8", true, "(2, 2, 2)", &[0x3f; 64])),
        (Format::Npy, npy("<i8", false, "(3,)", &ints)),
        (Format::Npy, npy("|b1", false, "(4,)", &[0, 1, 1, 0])),
        (Format::Npy, npy("<f2", false, "()", &[0, 0x3c])),
    ];
    let entries = [
        ("weight.npy", npy("<f4", false, "(4, 6)", &le_f32(&ramp))),
        ("steps.npy", npy("<i8", false, "(3,)", &ints)),
        (
            "half.npy",
            npy(">f2", true, "(2, 2)", &[0x3c, 0, 0x40, 0, 0xc0, 0, 0, 0]),
        ),
    ];
    for method in [
        zip::CompressionMethod::Stored,
        zip::CompressionMethod::Deflated,
    ] {
        seeds.push((Format::Npz, npz(&entries, method)));
    }
    // What our own writers produce, and NumPy's and safetensors' own (the fixtures).
    let tensors = BTreeMap::from([(
        "w".to_string(),
        Tensor::new(vec![3, 2], ramp[..6].to_vec()).unwrap(),
    )]);
    let written = dir.join("written.npz");
    io::save_npz_compressed(&written, &tensors).unwrap();
    seeds.push((Format::Npz, fs::read(&written).unwrap()));
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    for entry in fs::read_dir(&fixtures).unwrap().flatten() {
        let path = entry.path();
        let format = match path.extension().and_then(|e| e.to_str()) {
            Some("safetensors") => Format::Safetensors,
            Some("npy") => Format::Npy,
            Some("npz") => Format::Npz,
            _ => continue,
        };
        seeds.push((format, fs::read(&path).unwrap()));
    }
    seeds
}

/// Lengths, offsets and counts that sit on boundaries.
const INTERESTING: [u64; 12] = [
    0,
    1,
    7,
    8,
    255,
    65_535,
    1 << 24,
    (1 << 31) - 1,
    1 << 32,
    1 << 40,
    u64::MAX / 2,
    u64::MAX,
];

/// Applies one random mutation to `bytes`.
fn mutate(bytes: &mut Vec<u8>, rng: &mut Xoshiro256PlusPlus) {
    if bytes.is_empty() {
        bytes.push(rng.random());
        return;
    }
    let len = bytes.len();
    // Headers sit at the start: bias positions toward the first 256 bytes half of the time.
    let at = if rng.random_bool(0.5) {
        rng.random_range(0..len.min(256))
    } else {
        rng.random_range(0..len)
    };
    match rng.random_range(0..8u8) {
        0 | 1 => bytes[at] ^= 1 << rng.random_range(0..8u32),
        2 => bytes[at] = rng.random(),
        3 => bytes.truncate(at),
        4 => {
            let inserted: Vec<u8> = (0..rng.random_range(1..16)).map(|_| rng.random()).collect();
            bytes.splice(at..at, inserted);
        }
        5 => {
            // A plausible or boundary length written over 2, 4 or 8 bytes.
            let value = if rng.random_bool(0.5) {
                INTERESTING[rng.random_range(0..INTERESTING.len())]
            } else {
                rng.random_range(0..1u64 << 20)
            };
            let width = [2usize, 4, 8][rng.random_range(0..3)];
            let end = (at + width).min(len);
            bytes[at..end].copy_from_slice(&value.to_le_bytes()[..end - at]);
        }
        6 => {
            // Digits into a header: dimensions and offsets grow.
            let digits: Vec<u8> = (0..rng.random_range(1..12))
                .map(|_| b'0' + rng.random_range(0..10u8))
                .collect();
            bytes.splice(at..at, digits);
        }
        _ => {
            // A chunk of the file repeated (duplicated entries, repeated dims).
            let end = (at + rng.random_range(1..64)).min(len);
            let chunk = bytes[at..end].to_vec();
            let to = rng.random_range(0..=len);
            bytes.splice(to..to, chunk);
        }
    }
}

#[test]
#[ignore = "runs for NNINIT_FUZZ_SECONDS (default 600); see the module docs"]
fn mutated_files_never_panic_abort_or_stall() {
    let seconds: u64 = std::env::var("NNINIT_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let seed: u64 = std::env::var("NNINIT_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
        });
    println!("fuzzing the loaders for {seconds} s, NNINIT_FUZZ_SEED={seed}");
    let dir = std::env::temp_dir().join(format!("nninit-fuzz-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let failures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
    let corpus = seeds(&dir);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let (mut runs, mut loaded, mut slowest) = (0u64, 0u64, (Duration::ZERO, String::new()));
    let mut problems = Vec::new();
    // A panic's message goes to stderr as usual; we also keep the input that caused it.
    while Instant::now() < deadline && problems.len() < 10 {
        let (format, original) = &corpus[rng.random_range(0..corpus.len())];
        let mut bytes = original.clone();
        // One mutation half the time, two a quarter, ...: most inputs stay close to valid
        // files, so the checks past the first one are reached too.
        let count = 1 + rng.random::<u32>().trailing_zeros().min(5);
        for _ in 0..count {
            mutate(&mut bytes, &mut rng);
        }
        let path = dir.join(format!("input.{}", format.extension()));
        fs::write(&path, &bytes).unwrap();
        let start = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| format.load(&path)));
        let elapsed = start.elapsed();
        runs += 1;
        let problem = match &outcome {
            Err(_) => Some("panic"),
            Ok(_) if elapsed > MAX_LOAD_TIME => Some("slow"),
            Ok(result) => {
                loaded += u64::from(result.is_ok());
                None
            }
        };
        if elapsed > slowest.0 {
            slowest = (elapsed, format!("{format:?}, {} bytes", bytes.len()));
        }
        if let Some(kind) = problem {
            fs::create_dir_all(&failures).unwrap();
            let saved = failures.join(format!("{kind}-{runs}.{}", format.extension()));
            fs::write(&saved, &bytes).unwrap();
            problems.push(format!("{kind} after {elapsed:?}: {}", saved.display()));
        }
    }
    fs::remove_dir_all(&dir).unwrap();
    println!(
        "{runs} mutated files, {loaded} loaded without error, slowest load {:?} ({})",
        slowest.0, slowest.1
    );
    assert!(runs > 0);
    assert!(problems.is_empty(), "seed {seed}: {problems:#?}");
}
