//! Element conversions: IEEE half (`f16`), bfloat16, `f32` and `f64` bytes to `f32`.
//!
//! Widening (`f16`, `bf16` -> `f32`) is exact, NaN payloads included: every half and bfloat16
//! value is an `f32`. Narrowing `f64` -> `f32` rounds to nearest, ties to even (Rust's `as`),
//! overflowing to +-inf as IEEE 754 prescribes.

/// Byte order of the elements in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endian {
    /// Least significant byte first (`<` in NumPy; always in safetensors).
    Little,
    /// Most significant byte first (`>` in NumPy).
    Big,
}

/// The floating-point element types nninit reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FloatKind {
    /// IEEE 754 binary16.
    F16,
    /// bfloat16: the top half of an `f32`.
    Bf16,
    /// IEEE 754 binary32.
    F32,
    /// IEEE 754 binary64.
    F64,
}

impl FloatKind {
    /// Bytes per element.
    pub(crate) fn size(self) -> usize {
        match self {
            FloatKind::F16 | FloatKind::Bf16 => 2,
            FloatKind::F32 => 4,
            FloatKind::F64 => 8,
        }
    }
}

/// Decodes `bytes` (a whole number of elements of `kind`) into `f32`s.
///
/// A trailing partial element, which callers rule out by validating sizes first, is ignored.
pub(crate) fn decode(bytes: &[u8], kind: FloatKind, endian: Endian) -> Vec<f32> {
    match kind {
        FloatKind::F16 => words::<2>(bytes, endian)
            .map(|b| f16_to_f32(u16::from_le_bytes(b)))
            .collect(),
        FloatKind::Bf16 => words::<2>(bytes, endian)
            .map(|b| bf16_to_f32(u16::from_le_bytes(b)))
            .collect(),
        FloatKind::F32 => words::<4>(bytes, endian).map(f32::from_le_bytes).collect(),
        FloatKind::F64 => words::<8>(bytes, endian)
            .map(|b| f64::from_le_bytes(b) as f32)
            .collect(),
    }
}

/// The elements of `bytes` as little-endian byte arrays of `N` bytes.
fn words<const N: usize>(bytes: &[u8], endian: Endian) -> impl Iterator<Item = [u8; N]> + '_ {
    bytes.chunks_exact(N).map(move |chunk| {
        let mut word = [0u8; N];
        word.copy_from_slice(chunk);
        if endian == Endian::Big {
            word.reverse();
        }
        word
    })
}

/// Encodes `values` as little-endian `f32` bytes (the only type nninit writes).
pub(crate) fn encode_f32_le(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Widens an IEEE binary16 value to `f32`, exactly.
///
/// binary16: 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits. Normal numbers rebias
/// the exponent to 127 and shift the mantissa up by 13; subnormals (`m * 2^-24`) become normal
/// `f32`s; inf and NaN keep their payload in the top mantissa bits.
pub(crate) fn f16_to_f32(bits: u16) -> f32 {
    let sign = u32::from(bits >> 15) << 31;
    let exponent = u32::from((bits >> 10) & 0x1f);
    let mantissa = u32::from(bits & 0x3ff);
    let magnitude = match (exponent, mantissa) {
        (0, 0) => 0,
        // Subnormal: m * 2^-24, both factors exact in f32, so the product is exact.
        (0, m) => (m as f32 * (-24.0f32).exp2()).to_bits(),
        (0x1f, m) => 0x7f80_0000 | (m << 13),
        (e, m) => ((e + 127 - 15) << 23) | (m << 13),
    };
    f32::from_bits(sign | magnitude)
}

/// Widens a bfloat16 value to `f32`, exactly: bfloat16 is the top 16 bits of an `f32`.
pub(crate) fn bf16_to_f32(bits: u16) -> f32 {
    f32::from_bits(u32::from(bits) << 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of a binary16 bit pattern from its definition, computed in f64.
    fn f16_reference(bits: u16) -> f64 {
        let sign = if bits >> 15 == 1 { -1.0 } else { 1.0 };
        let e = i32::from((bits >> 10) & 0x1f);
        let m = f64::from(bits & 0x3ff);
        match e {
            0 => sign * m * 2f64.powi(-24),
            0x1f if m == 0.0 => sign * f64::INFINITY,
            0x1f => f64::NAN,
            _ => sign * (1.0 + m / 1024.0) * 2f64.powi(e - 15),
        }
    }

    #[test]
    fn f16_widening_is_exact_for_all_65536_patterns() {
        for bits in 0..=u16::MAX {
            let got = f16_to_f32(bits);
            let want = f16_reference(bits);
            if want.is_nan() {
                assert!(got.is_nan(), "{bits:#06x}");
                // The payload survives: the f16 mantissa sits in the top f32 mantissa bits.
                assert_eq!((got.to_bits() >> 13) & 0x3ff, u32::from(bits & 0x3ff));
            } else {
                assert_eq!(f64::from(got), want, "{bits:#06x}");
                assert_eq!(got.is_sign_negative(), bits >> 15 == 1, "{bits:#06x}");
            }
        }
    }

    #[test]
    fn f16_landmarks() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8);
        assert_eq!(f16_to_f32(0x8000).to_bits(), (-0.0f32).to_bits());
        assert_eq!(f16_to_f32(0xfc00), f32::NEG_INFINITY);
    }

    #[test]
    fn bf16_is_the_top_half_of_f32() {
        for value in [1.0f32, -3.5, f32::MIN_POSITIVE, f32::INFINITY, -0.0] {
            let top = (value.to_bits() >> 16) as u16;
            assert_eq!(bf16_to_f32(top).to_bits(), value.to_bits());
        }
        assert_eq!(bf16_to_f32(0x3f80), 1.0);
    }

    #[test]
    fn decode_respects_byte_order() {
        let le = 1.5f64.to_le_bytes();
        let be = 1.5f64.to_be_bytes();
        assert_eq!(decode(&le, FloatKind::F64, Endian::Little), [1.5]);
        assert_eq!(decode(&be, FloatKind::F64, Endian::Big), [1.5]);
        assert_eq!(
            decode(&[0x00, 0x3c, 0x3c, 0x00], FloatKind::F16, Endian::Little)[0],
            1.0
        );
        assert_eq!(decode(&[0x3c, 0x00], FloatKind::F16, Endian::Big), [1.0]);
        let bytes = encode_f32_le(&[2.0, -0.0]);
        let back = decode(&bytes, FloatKind::F32, Endian::Little);
        assert_eq!(back[0], 2.0);
        assert_eq!(back[1].to_bits(), (-0.0f32).to_bits());
    }

    #[test]
    fn f64_narrowing_rounds_to_nearest_even() {
        // 1 + 2^-24 is halfway between 1 and 1 + 2^-23: ties go to the even mantissa (1.0).
        let halfway = 1.0 + 2f64.powi(-24);
        assert_eq!(
            decode(&halfway.to_le_bytes(), FloatKind::F64, Endian::Little),
            [1.0]
        );
        let above = 1.0 + 2f64.powi(-24) + 2f64.powi(-40);
        assert_eq!(
            decode(&above.to_le_bytes(), FloatKind::F64, Endian::Little),
            [1.0 + f32::EPSILON]
        );
        assert_eq!(
            decode(&1e300f64.to_le_bytes(), FloatKind::F64, Endian::Little),
            [f32::INFINITY]
        );
    }
}
