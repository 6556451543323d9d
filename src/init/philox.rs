//! Philox4x32-10, the counter-based generator behind every seeded fill.
//!
//! Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as easy as 1, 2, 3" (SC 2011).
//! A block of four 32-bit words is a pure function of a 128-bit counter and a 64-bit key, so
//! block `i` of a stream can be computed without computing blocks `0 .. i`: this is what makes
//! seeded fills parallel and shardable. The same generator drives cuRAND, PyTorch's CUDA
//! backend and NumPy's `Philox` bit generator.
//!
//! nninit uses the seed as the key and the block index as the low 64 bits of the counter.

/// Multipliers of the two S-boxes (Salmon et al., Table 2).
const MULTIPLIER_0: u32 = 0xD251_1F53;
const MULTIPLIER_1: u32 = 0xCD9E_8D57;
/// Weyl-sequence increments of the key schedule (golden ratio and sqrt(3) - 1).
const KEY_STEP_0: u32 = 0x9E37_79B9;
const KEY_STEP_1: u32 = 0xBB67_AE85;
/// Rounds: 10 is the variant that passes BigCrush with a safety margin.
pub(crate) const ROUNDS: usize = 10;

/// A Philox4x32-10 keyed generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Philox {
    key: [u32; 2],
}

impl Philox {
    /// The generator for `seed`.
    pub(crate) fn new(seed: u64) -> Philox {
        Philox {
            key: [seed as u32, (seed >> 32) as u32],
        }
    }

    /// Block `index` of the stream: the 4 words for counter `[index, 0]`.
    #[inline]
    pub(crate) fn block(&self, index: u64) -> [u32; 4] {
        philox4x32_10([index as u32, (index >> 32) as u32, 0, 0], self.key)
    }
}

/// The Philox4x32 bijection with 10 rounds on `counter` under `key`.
#[inline]
pub(crate) fn philox4x32_10(mut counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    for round_key in round_keys(key) {
        counter = single_round(counter, round_key);
    }
    counter
}

/// The key of each round: `key`, then advanced by the Weyl steps (every kernel uses these).
#[inline]
pub(crate) fn round_keys(key: [u32; 2]) -> [[u32; 2]; ROUNDS] {
    std::array::from_fn(|round| {
        let round = round as u32;
        [
            key[0].wrapping_add(KEY_STEP_0.wrapping_mul(round)),
            key[1].wrapping_add(KEY_STEP_1.wrapping_mul(round)),
        ]
    })
}

#[inline(always)]
fn single_round(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let product_0 = u64::from(MULTIPLIER_0) * u64::from(counter[0]);
    let product_1 = u64::from(MULTIPLIER_1) * u64::from(counter[2]);
    let (high_0, low_0) = ((product_0 >> 32) as u32, product_0 as u32);
    let (high_1, low_1) = ((product_1 >> 32) as u32, product_1 as u32);
    [
        high_1 ^ counter[1] ^ key[0],
        low_1,
        high_0 ^ counter[3] ^ key[1],
        low_0,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known-answer vectors of the Random123 reference (`kat_vectors`, philox4x32 10 rounds).
    #[test]
    fn random123_known_answers() {
        assert_eq!(
            philox4x32_10([0, 0, 0, 0], [0, 0]),
            [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]
        );
        assert_eq!(
            philox4x32_10([u32::MAX; 4], [u32::MAX; 2]),
            [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]
        );
        assert_eq!(
            philox4x32_10(
                [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
                [0xa409_3822, 0x299f_31d0]
            ),
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]
        );
    }

    #[test]
    fn blocks_differ_by_index_and_seed() {
        let philox = Philox::new(42);
        assert_ne!(philox.block(0), philox.block(1));
        assert_ne!(philox.block(1 << 32), philox.block(0));
        assert_ne!(Philox::new(43).block(0), philox.block(0));
    }
}
