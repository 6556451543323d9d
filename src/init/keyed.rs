//! Per-tensor seeds derived from one model seed and each tensor's name.
//!
//! A model initialized tensor by tensor from one seed should not depend on the order in which
//! its tensors are created, nor on which other tensors exist: `fc1.weight` must come out the
//! same whether or not `fc0` is added first. Deriving each tensor's seed from `(seed, name)`
//! gives exactly that; the tensor is then filled with
//! [`fill_seeded`](crate::Initializer::fill_seeded) (or [`fill_shard`](crate::Initializer::fill_shard)
//! for a part of it) under the derived seed.

/// The seed of the tensor called `name` in a model initialized from `seed`.
///
/// A pure function of its arguments, the same on every platform and in every version
/// (a change would be flagged value-breaking): the name's UTF-8 bytes are hashed with 64-bit
/// FNV-1a, and the hash and the seed are mixed with SplitMix64's finalizer, so that nearby
/// seeds and similar names give unrelated streams.
///
/// ```
/// use nninit::init::seed_for_name;
/// assert_eq!(seed_for_name(7, "fc1.weight"), seed_for_name(7, "fc1.weight"));
/// assert_ne!(seed_for_name(7, "fc1.weight"), seed_for_name(7, "fc2.weight"));
/// assert_ne!(seed_for_name(7, "fc1.weight"), seed_for_name(8, "fc1.weight"));
/// ```
pub fn seed_for_name(seed: u64, name: &str) -> u64 {
    split_mix(seed ^ split_mix(fnv1a(name.as_bytes())))
}

/// 64-bit FNV-1a (Fowler, Noll, Vo).
fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

/// SplitMix64's output function (Steele, Lea, Flood 2014): a bijective 64-bit mixer.
fn split_mix(x: u64) -> u64 {
    let x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pins the derivation: a change here changes every keyed model's weights.
    /// Reference: `fnv1a(b"") = 0xcbf29ce484222325` (FNV's published test vector);
    /// `fnv1a(b"a") = 0xaf63dc4c8601ec8c`.
    #[test]
    fn fnv1a_matches_published_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn split_mix_matches_reference_output() {
        // SplitMix64 seeded with 0: its first output is split_mix(0) = 0xe220a8397b1dcdaf.
        assert_eq!(split_mix(0), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn names_and_seeds_separate_streams() {
        let names = [
            "fc1.weight",
            "fc1.bias",
            "fc2.weight",
            "",
            "model.layers.0.mlp.up_proj.weight",
        ];
        let mut seen = std::collections::HashSet::new();
        for seed in 0..4 {
            for name in names {
                assert!(seen.insert(seed_for_name(seed, name)), "{seed} {name}");
            }
        }
    }
}
