//! Initializes a 4096 x 4096 layer whole, then as 8 shards of uneven sizes — as 8 machines
//! holding parts of one tensor would — and shows that the bytes are identical.
//!
//! Each seeded element depends only on `(seed, index)` (a Philox4x32-10 counter-based stream),
//! so any machine can produce its own slice without the others.
//!
//! The timings are of filling memory that was already written once: the first write to a fresh
//! allocation also pays the operating system's page faults, which would hide the generator.
//!
//! `cargo run --release --example sharded_init`

use std::error::Error;
use std::time::Instant;

use nninit::{Fans, HeNormal, Initializer};

const ROWS: usize = 4096;
const COLS: usize = 4096;
const SEED: u64 = 2024;

fn main() -> Result<(), Box<dyn Error>> {
    let fans = Fans::from_shape(&[ROWS, COLS])?;
    let init = HeNormal::default();

    let mut whole = touched(ROWS * COLS);
    // One untimed fill first: the first run of anything also warms caches and clocks.
    init.fill_seeded(&mut whole, fans, SEED)?;
    let started = Instant::now();
    init.fill_seeded(&mut whole, fans, SEED)?;
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "whole tensor: {} elements in {:.1} ms on {} threads ({:.2} GB/s)\n",
        whole.len(),
        elapsed * 1e3,
        nninit::num_threads(),
        gigabytes(whole.len()) / elapsed
    );

    // Uneven shard sizes that start at odd offsets, mid-block and mid Box–Muller pair.
    let weights = [3, 1, 4, 1, 5, 9, 2, 6];
    let total: usize = weights.iter().sum();
    let mut boundaries = vec![0];
    let mut acc = 0;
    for (i, w) in weights.iter().enumerate() {
        acc += w;
        let end = if i + 1 == weights.len() {
            whole.len()
        } else {
            whole.len() * acc / total + 1
        };
        boundaries.push(end);
    }

    println!(
        "{:>5} {:>10} {:>10} {:>10} {:>9}  identical",
        "shard", "offset", "length", "ms", "GB/s"
    );
    let mut all_identical = true;
    for (shard_index, range) in boundaries.windows(2).enumerate() {
        let (offset, end) = (range[0], range[1]);
        // A machine holding only this shard allocates and fills only this shard.
        let mut shard = touched(end - offset);
        let started = Instant::now();
        init.fill_shard(&mut shard, fans, SEED, offset)?;
        let elapsed = started.elapsed().as_secs_f64();
        let identical = bytes(&shard) == bytes(&whole[offset..end]);
        all_identical &= identical;
        println!(
            "{shard_index:>5} {offset:>10} {:>10} {:>10.1} {:>9.2}  {}",
            shard.len(),
            elapsed * 1e3,
            gigabytes(shard.len()) / elapsed,
            if identical { "yes" } else { "NO" }
        );
    }
    println!(
        "\n{}",
        if all_identical {
            "every shard is byte-for-byte the same as the matching range of the whole tensor"
        } else {
            "MISMATCH: a shard differs from the whole tensor"
        }
    );
    if all_identical {
        Ok(())
    } else {
        Err("shards differ from the whole".into())
    }
}

/// A buffer whose pages have all been written (NaN, which any missed element would show).
fn touched(len: usize) -> Vec<f32> {
    vec![f32::NAN; len]
}

fn gigabytes(elements: usize) -> f64 {
    (elements * std::mem::size_of::<f32>()) as f64 / 1e9
}

fn bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|x| x.to_le_bytes()).collect()
}
