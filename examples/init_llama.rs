//! Initializes a Llama-3.2-1B-shaped stack of dense weights (1.236 billion `f32`, named as in
//! the Hugging Face checkpoint) in fresh memory, as PyTorch's `nn.Linear` does by default,
//! on 1 and then 2 threads; the same the plain way (`vec![0.0; n]`, then `fill_seeded`: no
//! huge-page advice, so the cost of 4 KiB page faults shows); then again as the two shards of a
//! tensor-parallel split, and checks that the shards' checksums add up to the whole's, tensor by
//! tensor.
//!
//! Each tensor's stream is keyed by the model seed and the tensor's name, so the values do not
//! depend on the thread count, on the other tensors, nor on how the tensors are split.
//! Buffers get transparent huge pages where they fault in faster than base pages (Linux);
//! the share of the model in huge pages is printed with each time.
//!
//! `cargo run --release --example init_llama` (needs about 5 GB of memory: one copy of the
//! model at a time). Options: `--layers N` (default 16), `--scale K` (every width divided by K),
//! `--seed S`, `--threads 1,2` (the thread counts to time), `--repeat R` (timed runs of the
//! whole model per thread count), `--whole-only` (skip the plain fill and the shards),
//! `--plain-only` (only the plain fill, without the checksum comparison: run as an invocation
//! of its own, it times the plain way on memory the process has not used before). Compare
//! with PyTorch: `../shared/bench/anchors.sh model` (see BENCHMARKS.md).

use std::error::Error;

#[path = "common/llama_stack.rs"]
mod llama_stack;

use llama_stack::{Stack, combined, huge_page_mode, parameters, run_plain, run_shard, run_whole};

fn main() -> Result<(), Box<dyn Error>> {
    let options = Options::parse(std::env::args().skip(1))?;
    let stack = Stack::llama_3_2_1b().reduced(options.scale, options.layers);
    let specs = stack.tensors();
    let count = parameters(&specs);
    println!(
        "{} tensors, {:.3} billion f32 ({:.2} GB); transparent huge pages: {}",
        specs.len(),
        count as f64 / 1e9,
        count as f64 * 4.0 / 1e9,
        huge_page_mode().unwrap_or_else(|| "unavailable".into())
    );

    if options.plain_only {
        for &threads in &options.threads {
            print_plain(&specs, options.seed, threads, count)?;
        }
        return Ok(());
    }
    let mut whole: Option<Vec<u64>> = None;
    for &threads in &options.threads {
        for _ in 0..options.repeat {
            let run = run_whole(&specs, options.seed, threads)?;
            println!(
                "whole model, {threads} thread{}: {:.3} s, {:.2} Gparams/s, {:.1} GB/s{}",
                plural(threads),
                run.seconds,
                count as f64 / run.seconds / 1e9,
                count as f64 * 4.0 / run.seconds / 1e9,
                huge_page_note(run.huge_page_bytes, count)
            );
            check_same(&mut whole, run.checksums, "whole model")?;
        }
    }
    if options.whole_only {
        return Ok(());
    }
    let whole = whole.ok_or("no run")?;
    for &threads in &options.threads {
        if print_plain(&specs, options.seed, threads, count)? != whole {
            return Err("the plain fill gave other values".into());
        }
    }

    let parts = 2;
    let mut shards = Vec::new();
    for part in 0..parts {
        let run = run_shard(&specs, options.seed, part, parts)?;
        println!(
            "shard {part} of {parts} (tensor-parallel rows / columns): {:.3} s",
            run.seconds
        );
        shards.push(run);
    }
    let sums = combined(&shards);
    let differing: Vec<&str> = specs
        .iter()
        .zip(sums.iter().zip(&whole))
        .filter(|(_, (shards, whole))| shards != whole)
        .map(|(spec, _)| spec.name())
        .collect();
    if !differing.is_empty() {
        return Err(format!("shards differ from the whole in {differing:?}").into());
    }
    println!(
        "the shards' checksums equal the whole model's for all {} tensors (checksum of the model {:016x})",
        specs.len(),
        whole.iter().fold(0u64, |sum, c| sum.wrapping_add(*c))
    );
    Ok(())
}

/// Times the plain way (`vec![0.0; n]`, then `fill_seeded`) and returns its checksums.
fn print_plain(
    specs: &[nninit::init::TensorSpec<f32>],
    seed: u64,
    threads: usize,
    count: usize,
) -> Result<Vec<u64>, Box<dyn Error>> {
    let run = run_plain(specs, seed, threads)?;
    println!(
        "plain vec![0.0; n] + fill_seeded, {threads} thread{}: {:.3} s, {:.2} Gparams/s{}",
        plural(threads),
        run.seconds,
        count as f64 / run.seconds / 1e9,
        huge_page_note(run.huge_page_bytes, count)
    );
    Ok(run.checksums)
}

fn plural(threads: usize) -> &'static str {
    if threads == 1 { " " } else { "s" }
}

/// Records the first run's checksums, or checks a later run gave the same.
fn check_same(first: &mut Option<Vec<u64>>, run: Vec<u64>, what: &str) -> Result<(), String> {
    match first {
        None => {
            *first = Some(run);
            Ok(())
        }
        Some(first) if *first == run => Ok(()),
        Some(_) => Err(format!("{what}: another run gave other values")),
    }
}

fn huge_page_note(bytes: Option<u64>, parameters: usize) -> String {
    match bytes {
        Some(bytes) => format!(
            ", {:.0}% in huge pages",
            100.0 * bytes as f64 / (parameters as f64 * 4.0)
        ),
        None => String::new(),
    }
}

/// The command line.
struct Options {
    /// Decoder layers (16 in Llama-3.2-1B).
    layers: usize,
    /// Every width divided by this.
    scale: usize,
    /// The model seed.
    seed: u64,
    /// The thread counts to time the whole model with, in order.
    threads: Vec<usize>,
    /// Timed runs per thread count (the first touches memory the process has not used yet;
    /// later ones may get pages the previous run gave back).
    repeat: usize,
    /// Time the whole model only: no plain fill, no shards.
    whole_only: bool,
    /// Time the plain fill only (no checksum comparison): run it as an invocation of its own,
    /// so that the plain fill, too, gets memory the process has not used before.
    plain_only: bool,
}

const USAGE: &str = "usage: cargo run --release --example init_llama -- [--layers N] [--scale K] \
[--seed S] [--threads 1,2] [--repeat R] [--whole-only] [--plain-only]";

impl Options {
    fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, Box<dyn Error>> {
        let mut options = Options {
            layers: 16,
            scale: 1,
            seed: 0,
            threads: vec![1, 2],
            repeat: 1,
            whole_only: false,
            plain_only: false,
        };
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--layers" => options.layers = value()?.parse()?,
                "--scale" => options.scale = value()?.parse()?,
                "--seed" => options.seed = value()?.parse()?,
                "--repeat" => options.repeat = value()?.parse()?,
                "--threads" => {
                    options.threads = value()?
                        .split(',')
                        .map(|t| t.trim().parse())
                        .collect::<Result<_, _>>()?
                }
                "--whole-only" => options.whole_only = true,
                "--plain-only" => options.plain_only = true,
                "--help" | "-h" => {
                    println!("{USAGE}");
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument {other:?}\n{USAGE}").into()),
            }
        }
        if options.scale == 0 || options.repeat == 0 || options.threads.contains(&0) {
            return Err("--scale, --repeat and --threads must be at least 1".into());
        }
        if options.threads.is_empty() {
            return Err("--threads needs at least one count".into());
        }
        if options.whole_only && options.plain_only {
            return Err("--whole-only and --plain-only exclude each other".into());
        }
        Ok(options)
    }
}
