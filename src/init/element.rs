//! The element types initializers write: `f32` and `f64`.

use std::fmt::Debug;

use num_traits::Float;

/// The per-type details of the seeded streams, kept out of the public API: the trait is public
/// (so that it can bound [`Element`]) but unnameable outside the crate, which also seals
/// [`Element`] to `f32` and `f64`.
pub(crate) mod sealed {
    /// How random words become numbers of one type.
    pub trait Sealed: Copy {
        /// How many elements one Philox block (four 32-bit words) yields: 4 for `f32` (one
        /// word each), 2 for `f64` (two words each, for 53 random bits).
        const PER_BLOCK: usize;

        /// The largest value of this type strictly below `self` (for half-open uniform ranges).
        fn next_below(self) -> Self;

        /// `Some(slice)` for `f32`, which has vectorized samplers; `None` for `f64`.
        fn as_f32_slice(slice: &mut [Self]) -> Option<&mut [f32]>;

        /// Uniforms in `[0, 1)` from one block; the first `PER_BLOCK` entries are valid.
        fn unit_uniforms(words: [u32; 4]) -> [f64; 4];

        /// Uniforms in `(0, 1]` from one block (safe to take the logarithm of).
        fn unit_uniforms_nonzero(words: [u32; 4]) -> [f64; 4] {
            let mut u = Self::unit_uniforms(words);
            for value in &mut u[..Self::PER_BLOCK] {
                *value = 1.0 - *value;
            }
            u
        }
    }
}

/// A floating-point weight type: `f32` or `f64` (sealed).
///
/// Every initializer is implemented for both; how random words become numbers is fixed per
/// type (privately), so that a seeded fill is exactly reproducible for each type.
///
/// ```
/// use nninit::{Element, GlorotUniform, Initializer, Fans};
/// fn glorot<T: Element>(n: usize) -> nninit::Result<Vec<T>> {
///     let mut w = vec![T::zero(); n];
///     GlorotUniform::default().fill_seeded(&mut w, Fans::new(n, 1), 7)?;
///     Ok(w)
/// }
/// assert_eq!(glorot::<f32>(4)?.len(), 4);
/// assert_eq!(glorot::<f64>(4)?.len(), 4);
/// assert_eq!(<f32 as Element>::from_f64(0.1).into_f64(), 0.1f32 as f64);
/// # Ok::<(), nninit::Error>(())
/// ```
pub trait Element: Float + Default + Debug + Send + Sync + 'static + sealed::Sealed {
    /// Rounds an `f64` to this type (nearest).
    fn from_f64(value: f64) -> Self;

    /// Widens to `f64` (exact).
    fn into_f64(self) -> f64;
}

/// 2^-24 and 2^-53: the spacing of uniforms built from 24 and 53 random bits.
const SCALE_24: f64 = 1.0 / (1u64 << 24) as f64;
const SCALE_53: f64 = 1.0 / (1u64 << 53) as f64;

impl Element for f32 {
    fn from_f64(value: f64) -> Self {
        value as f32
    }

    fn into_f64(self) -> f64 {
        f64::from(self)
    }
}

impl sealed::Sealed for f32 {
    const PER_BLOCK: usize = 4;

    fn next_below(self) -> Self {
        self.next_down()
    }

    fn as_f32_slice(slice: &mut [Self]) -> Option<&mut [f32]> {
        Some(slice)
    }

    #[inline]
    fn unit_uniforms(words: [u32; 4]) -> [f64; 4] {
        // The top 24 bits: every value is exactly representable in f32.
        words.map(|w| f64::from(w >> 8) * SCALE_24)
    }
}

impl Element for f64 {
    fn from_f64(value: f64) -> Self {
        value
    }

    fn into_f64(self) -> f64 {
        self
    }
}

impl sealed::Sealed for f64 {
    const PER_BLOCK: usize = 2;

    fn next_below(self) -> Self {
        self.next_down()
    }

    fn as_f32_slice(_slice: &mut [Self]) -> Option<&mut [f32]> {
        None
    }

    #[inline]
    fn unit_uniforms(words: [u32; 4]) -> [f64; 4] {
        let join = |low: u32, high: u32| (u64::from(high) << 32) | u64::from(low);
        let first = (join(words[0], words[1]) >> 11) as f64 * SCALE_53;
        let second = (join(words[2], words[3]) >> 11) as f64 * SCALE_53;
        [first, second, 0.0, 0.0]
    }
}
