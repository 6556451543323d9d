//! `examples/init_llama.rs` at reduced size (every width / 32, 3 layers): the names and shapes
//! of the Hugging Face checkpoint, the same values on 1 and 2 threads, and two tensor-parallel
//! shards whose checksums add up to the whole's, tensor by tensor.

#[path = "../examples/common/llama_stack.rs"]
mod llama_stack;

use llama_stack::{Stack, checksum, combined, parameters, run_plain, run_shard, run_whole};

#[test]
fn full_size_stack_has_the_llama_names_and_1_236_billion_parameters() {
    let specs = Stack::llama_3_2_1b().tensors();
    assert_eq!(specs.len(), 1 + 16 * 7);
    // 128256·2048 + 16·(2·2048² + 2·512·2048 + 3·8192·2048)
    assert_eq!(parameters(&specs), 1_235_746_816);
    assert_eq!(specs[0].name(), "model.embed_tokens.weight");
    assert_eq!(specs[0].shape(), &[128_256, 2048]);
    let last = &specs[specs.len() - 1];
    assert_eq!(last.name(), "model.layers.15.mlp.down_proj.weight");
    assert_eq!(last.shape(), &[2048, 8192]);
    assert_eq!(specs[2].name(), "model.layers.0.self_attn.k_proj.weight");
    assert_eq!(specs[2].shape(), &[512, 2048]);
}

#[test]
fn reduced_stack_is_identical_on_any_thread_count_and_split() {
    let specs = Stack::llama_3_2_1b().reduced(32, 3).tensors();
    let one = run_whole(&specs, 5, 1).unwrap();
    let two = run_whole(&specs, 5, 2).unwrap();
    assert_eq!(one.checksums, two.checksums);
    // The plain way (vec of zeros, then fill_seeded under the keyed seed): the same values.
    assert_eq!(run_plain(&specs, 5, 2).unwrap().checksums, one.checksums);
    let shards = [
        run_shard(&specs, 5, 0, 2).unwrap(),
        run_shard(&specs, 5, 1, 2).unwrap(),
    ];
    assert_eq!(combined(&shards), one.checksums);
    // A split into three parts too, and another seed gives other values.
    let thirds: Vec<_> = (0..3)
        .map(|part| run_shard(&specs, 5, part, 3).unwrap())
        .collect();
    assert_eq!(combined(&thirds), one.checksums);
    assert_ne!(run_whole(&specs, 6, 2).unwrap().checksums, one.checksums);
}

#[test]
fn values_are_pytorch_linear_default() {
    // nn.Linear(in, out): U(±1/sqrt(in)); the embedding [4008, 64] has in = 64.
    let specs = Stack::llama_3_2_1b().reduced(32, 1).tensors();
    let embedding = specs[0].initialize(0).unwrap();
    let bound = 1.0 / 64f32.sqrt();
    assert!(embedding.iter().all(|w| w.abs() <= bound));
    // 256,512 draws of U(±b), each beyond b·(1 - 1e-4) in absolute value with probability
    // 1e-4: none is with probability (1 - 1e-4)^256512 = e^-25.7, so a smaller bound fails.
    let largest = embedding.iter().fold(0f32, |m, w| m.max(w.abs()));
    assert!(largest > bound * (1.0 - 1e-4), "{largest}");
    assert_ne!(checksum(&embedding), 0);
}

#[test]
fn huge_page_mode_is_one_of_the_kernels_modes() {
    if let Some(mode) = llama_stack::huge_page_mode() {
        assert!(
            ["always", "madvise", "never"].contains(&mode.as_str()),
            "{mode}"
        );
    }
}
