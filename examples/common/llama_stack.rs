//! The Llama-3.2-1B-shaped stack of dense weights that `examples/init_llama.rs` initializes
//! (and `tests/examples_init_llama.rs` at reduced size): the tensors with their Hugging Face
//! names, the tensor-parallel split of each, an exact checksum, and timed runs.

use std::sync::Arc;
use std::time::Instant;

use nninit::init::{Shard, TensorSpec, initialize_model, initialize_model_shard};
use nninit::{HeUniform, Initializer, Nonlinearity};

/// The model's sizes; `Stack::llama_3_2_1b()` is the real one, `reduced` divides every width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stack {
    /// Vocabulary size (rows of the embedding).
    pub vocab: usize,
    /// Hidden size.
    pub hidden: usize,
    /// Output features of the key and value projections (8 key-value heads of 64).
    pub key_value: usize,
    /// Intermediate size of the MLP.
    pub intermediate: usize,
    /// Number of decoder layers.
    pub layers: usize,
}

impl Stack {
    /// Llama-3.2-1B: vocabulary 128256, hidden 2048, key/value 512, MLP 8192, 16 layers.
    pub fn llama_3_2_1b() -> Stack {
        Stack {
            vocab: 128_256,
            hidden: 2048,
            key_value: 512,
            intermediate: 8192,
            layers: 16,
        }
    }

    /// Every width divided by `scale` (at least 1), with `layers` layers.
    pub fn reduced(self, scale: usize, layers: usize) -> Stack {
        let scale = scale.max(1);
        let divide = |n: usize| (n / scale).max(1);
        Stack {
            vocab: divide(self.vocab),
            hidden: divide(self.hidden),
            key_value: divide(self.key_value),
            intermediate: divide(self.intermediate),
            layers,
        }
    }

    /// The tensors, named as in the Hugging Face checkpoint, each `[out, in]` and initialized
    /// as PyTorch's `nn.Linear` does by default: `kaiming_uniform_(a=sqrt(5))`, that is
    /// U(±1/sqrt(fan_in)). (The embedding is built as an `nn.Linear` too, as in
    /// `../shared/bench/torch_model.py`.)
    pub fn tensors(&self) -> Vec<TensorSpec<f32>> {
        let linear: Arc<dyn Initializer<f32>> =
            Arc::new(HeUniform::default().nonlinearity(Nonlinearity::LeakyRelu(5f64.sqrt())));
        let spec = |name: String, out: usize, inputs: usize| {
            TensorSpec::new(name, [out, inputs], linear.clone())
        };
        let (h, kv, mlp) = (self.hidden, self.key_value, self.intermediate);
        let mut specs = vec![spec("model.embed_tokens.weight".into(), self.vocab, h)];
        for i in 0..self.layers {
            let attention = |p: &str| format!("model.layers.{i}.self_attn.{p}.weight");
            let mlp_name = |p: &str| format!("model.layers.{i}.mlp.{p}.weight");
            specs.push(spec(attention("q_proj"), h, h));
            specs.push(spec(attention("k_proj"), kv, h));
            specs.push(spec(attention("v_proj"), kv, h));
            specs.push(spec(attention("o_proj"), h, h));
            specs.push(spec(mlp_name("gate_proj"), mlp, h));
            specs.push(spec(mlp_name("up_proj"), mlp, h));
            specs.push(spec(mlp_name("down_proj"), h, mlp));
        }
        specs
    }
}

/// The number of parameters of `specs`.
pub fn parameters(specs: &[TensorSpec<f32>]) -> usize {
    specs
        .iter()
        .map(|spec| spec.shape().iter().product::<usize>())
        .sum()
}

/// Megatron-LM's tensor-parallel split of a Llama layer for rank `part` of `parts`: the
/// embedding by vocabulary rows, the column-parallel projections (q, k, v, gate, up) by output
/// rows, the row-parallel ones (o, down) by input columns, which makes those shards strided.
pub fn tensor_parallel(part: usize, parts: usize) -> impl FnMut(&TensorSpec<f32>) -> Shard {
    move |spec| {
        let row_parallel = ["o_proj.weight", "down_proj.weight"]
            .iter()
            .any(|suffix| spec.name().ends_with(suffix));
        if row_parallel {
            Shard::Columns { part, parts }
        } else {
            Shard::Rows { part, parts }
        }
    }
}

/// An exact, order-independent checksum: the wrapping sum of the values' bit patterns, so the
/// checksums of the shards of a tensor add up to the whole's exactly when the shards hold the
/// same values (in any arrangement).
pub fn checksum(values: &[f32]) -> u64 {
    values
        .iter()
        .fold(0u64, |sum, x| sum.wrapping_add(u64::from(x.to_bits())))
}

/// One timed initialization: seconds, and each tensor's checksum.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// Wall-clock seconds from the first allocation to the last value written.
    pub seconds: f64,
    /// `checksum` of each tensor (or shard), in the order of the specs.
    pub checksums: Vec<u64>,
    /// Bytes of the process backed by transparent huge pages while the tensors were alive
    /// (Linux's `AnonHugePages`), if known.
    pub huge_page_bytes: Option<u64>,
}

/// Initializes every tensor of `specs` whole from `seed` on `threads` threads, in fresh memory;
/// the tensors are dropped before returning (one copy of the model alive at a time).
pub fn run_whole(specs: &[TensorSpec<f32>], seed: u64, threads: usize) -> nninit::Result<Run> {
    nninit::set_num_threads(threads);
    let started = Instant::now();
    let tensors = initialize_model(specs, seed);
    let seconds = started.elapsed().as_secs_f64();
    nninit::set_num_threads(0);
    let tensors = tensors?;
    Ok(Run {
        seconds,
        huge_page_bytes: huge_page_bytes(),
        checksums: tensors.iter().map(|t| checksum(t)).collect(),
    })
}

/// As [`run_whole`], the plain way: `vec![0.0; n]` per tensor, then `fill_seeded` under the
/// tensor's keyed seed. The same values; the memory is not advised for huge pages, so where
/// the kernel's THP mode is `madvise` (or `never`) every 4 KiB page is faulted in on its own.
pub fn run_plain(specs: &[TensorSpec<f32>], seed: u64, threads: usize) -> nninit::Result<Run> {
    nninit::set_num_threads(threads);
    let started = Instant::now();
    let tensors: nninit::Result<Vec<Vec<f32>>> = specs
        .iter()
        .map(|spec| {
            let mut weights = vec![0.0f32; spec.shape().iter().product()];
            let fans = spec.resolved_fans()?;
            spec.initializer()
                .fill_seeded(&mut weights, fans, spec.seed(seed))?;
            Ok(weights)
        })
        .collect();
    let seconds = started.elapsed().as_secs_f64();
    nninit::set_num_threads(0);
    let tensors = tensors?;
    Ok(Run {
        seconds,
        huge_page_bytes: huge_page_bytes(),
        checksums: tensors.iter().map(|t| checksum(t)).collect(),
    })
}

/// Initializes shard `part` of `parts` of every tensor ([`tensor_parallel`]) from `seed`.
pub fn run_shard(
    specs: &[TensorSpec<f32>],
    seed: u64,
    part: usize,
    parts: usize,
) -> nninit::Result<Run> {
    let started = Instant::now();
    let tensors = initialize_model_shard(specs, seed, tensor_parallel(part, parts))?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(Run {
        seconds,
        huge_page_bytes: huge_page_bytes(),
        checksums: tensors.iter().map(|t| checksum(t)).collect(),
    })
}

/// The per-tensor sums of the shards' checksums.
pub fn combined(shards: &[Run]) -> Vec<u64> {
    let mut sums = vec![0u64; shards.first().map_or(0, |s| s.checksums.len())];
    for shard in shards {
        for (sum, c) in sums.iter_mut().zip(&shard.checksums) {
            *sum = sum.wrapping_add(*c);
        }
    }
    sums
}

/// The kernel's transparent-huge-page mode (`always`, `madvise` or `never`), if readable.
pub fn huge_page_mode() -> Option<String> {
    let modes = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").ok()?;
    let start = modes.find('[')? + 1;
    let end = start + modes[start..].find(']')?;
    Some(modes[start..end].to_string())
}

/// This process's memory backed by transparent huge pages now, in bytes (Linux).
fn huge_page_bytes() -> Option<u64> {
    let rollup = std::fs::read_to_string("/proc/self/smaps_rollup").ok()?;
    let line = rollup.lines().find(|l| l.starts_with("AnonHugePages:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
