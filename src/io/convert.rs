//! Element conversions: the element types of safetensors and NumPy files, as bytes, to `f32`.
//!
//! Widening (`f16`, `bf16`, the two 8-bit floats -> `f32`) is exact, NaN payloads included:
//! every such value is an `f32`. Narrowing `f64` -> `f32` rounds to nearest, ties to even
//! (Rust's `as`), overflowing to +-inf as IEEE 754 prescribes.
//!
//! Integers and booleans convert as PyTorch's `tensor.float()` and NumPy's `astype(np.float32)`
//! do: `false` / `true` are 0 / 1; an integer is exact up to 2^24 in magnitude (every 8- and
//! 16-bit integer), and beyond that rounds to the nearest `f32`, ties to even (2^24 + 1 becomes
//! 2^24); `u64::MAX` becomes 1.8446744e19. No integer overflows to infinity.

/// Byte order of the elements in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endian {
    /// Least significant byte first (`<` in NumPy; always in safetensors).
    Little,
    /// Most significant byte first (`>` in NumPy).
    Big,
}

/// The element types nninit reads (and converts to `f32`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ElementKind {
    /// IEEE 754 binary16.
    F16,
    /// bfloat16: the top half of an `f32`.
    Bf16,
    /// IEEE 754 binary32.
    F32,
    /// IEEE 754 binary64.
    F64,
    /// 8-bit float, 4 exponent bits (bias 7), 3 mantissa bits, no infinities (OCP `E4M3FN`,
    /// PyTorch's `float8_e4m3fn`).
    F8E4M3,
    /// 8-bit float, 5 exponent bits (bias 15), 2 mantissa bits: the top byte of an `f16`.
    F8E5M2,
    /// One byte, 0 or 1 (any nonzero byte reads as 1, as NumPy's `astype` does).
    Bool,
    /// Unsigned integers of 8, 16, 32 and 64 bits.
    U8,
    /// See [`ElementKind::U8`].
    U16,
    /// See [`ElementKind::U8`].
    U32,
    /// See [`ElementKind::U8`].
    U64,
    /// Two's-complement signed integers of 8, 16, 32 and 64 bits.
    I8,
    /// See [`ElementKind::I8`].
    I16,
    /// See [`ElementKind::I8`].
    I32,
    /// See [`ElementKind::I8`].
    I64,
}

impl ElementKind {
    /// Bytes per element.
    pub(crate) fn size(self) -> usize {
        use ElementKind as K;
        match self {
            K::F8E4M3 | K::F8E5M2 | K::Bool | K::U8 | K::I8 => 1,
            K::F16 | K::Bf16 | K::U16 | K::I16 => 2,
            K::F32 | K::U32 | K::I32 => 4,
            K::F64 | K::U64 | K::I64 => 8,
        }
    }
}

/// Decodes `bytes` (a whole number of elements of `kind`) into `f32`s appended to `out`.
///
/// The caller reserves room in `out` first (fallibly), so this never reallocates. A trailing
/// partial element, which callers rule out by validating sizes first, is ignored.
pub(crate) fn decode_into(bytes: &[u8], kind: ElementKind, endian: Endian, out: &mut Vec<f32>) {
    use ElementKind as K;
    match kind {
        K::F16 => out.extend(words::<2>(bytes, endian).map(|b| f16_to_f32(u16::from_le_bytes(b)))),
        K::Bf16 => {
            out.extend(words::<2>(bytes, endian).map(|b| bf16_to_f32(u16::from_le_bytes(b))))
        }
        K::F32 => out.extend(words::<4>(bytes, endian).map(f32::from_le_bytes)),
        K::F64 => out.extend(words::<8>(bytes, endian).map(|b| f64::from_le_bytes(b) as f32)),
        K::F8E4M3 => out.extend(bytes.iter().map(|&b| f8_e4m3_to_f32(b))),
        K::F8E5M2 => out.extend(bytes.iter().map(|&b| f16_to_f32(u16::from(b) << 8))),
        K::Bool => out.extend(bytes.iter().map(|&b| f32::from(u8::from(b != 0)))),
        K::U8 => out.extend(bytes.iter().map(|&b| f32::from(b))),
        K::I8 => out.extend(bytes.iter().map(|&b| f32::from(b as i8))),
        K::U16 => out.extend(words::<2>(bytes, endian).map(|b| f32::from(u16::from_le_bytes(b)))),
        K::I16 => out.extend(words::<2>(bytes, endian).map(|b| f32::from(i16::from_le_bytes(b)))),
        // `as` rounds to nearest, ties to even: what `tensor.float()` does on every platform.
        K::U32 => out.extend(words::<4>(bytes, endian).map(|b| u32::from_le_bytes(b) as f32)),
        K::I32 => out.extend(words::<4>(bytes, endian).map(|b| i32::from_le_bytes(b) as f32)),
        K::U64 => out.extend(words::<8>(bytes, endian).map(|b| u64::from_le_bytes(b) as f32)),
        K::I64 => out.extend(words::<8>(bytes, endian).map(|b| i64::from_le_bytes(b) as f32)),
    }
}

/// Decodes into a new vector (tests and small buffers; the readers reserve fallibly).
#[cfg(test)]
pub(crate) fn decode(bytes: &[u8], kind: ElementKind, endian: Endian) -> Vec<f32> {
    let mut out = Vec::with_capacity(bytes.len() / kind.size());
    decode_into(bytes, kind, endian, &mut out);
    out
}

/// Widens an OCP E4M3FN byte to `f32`, exactly: sign, 4 exponent bits (bias 7), 3 mantissa
/// bits; exponent 0 is subnormal (`m * 2^-9`); `S.1111.111` is NaN and there is no infinity.
pub(crate) fn f8_e4m3_to_f32(bits: u8) -> f32 {
    let sign = if bits & 0x80 != 0 { -1.0f32 } else { 1.0 };
    let exponent = i32::from((bits >> 3) & 0x0f);
    let mantissa = f32::from(bits & 0x07);
    match (exponent, bits & 0x07) {
        (0x0f, 0x07) => f32::NAN,
        // Both factors are exact in f32, so the products are exact.
        (0, _) => sign * mantissa * (-9.0f32).exp2(),
        (e, _) => sign * (1.0 + mantissa / 8.0) * ((e - 7) as f32).exp2(),
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
        assert_eq!(decode(&le, ElementKind::F64, Endian::Little), [1.5]);
        assert_eq!(decode(&be, ElementKind::F64, Endian::Big), [1.5]);
        assert_eq!(
            decode(&[0x00, 0x3c, 0x3c, 0x00], ElementKind::F16, Endian::Little)[0],
            1.0
        );
        assert_eq!(decode(&[0x3c, 0x00], ElementKind::F16, Endian::Big), [1.0]);
        let bytes = encode_f32_le(&[2.0, -0.0]);
        let back = decode(&bytes, ElementKind::F32, Endian::Little);
        assert_eq!(back[0], 2.0);
        assert_eq!(back[1].to_bits(), (-0.0f32).to_bits());
    }

    #[test]
    fn f64_narrowing_rounds_to_nearest_even() {
        // 1 + 2^-24 is halfway between 1 and 1 + 2^-23: ties go to the even mantissa (1.0).
        let halfway = 1.0 + 2f64.powi(-24);
        assert_eq!(
            decode(&halfway.to_le_bytes(), ElementKind::F64, Endian::Little),
            [1.0]
        );
        let above = 1.0 + 2f64.powi(-24) + 2f64.powi(-40);
        assert_eq!(
            decode(&above.to_le_bytes(), ElementKind::F64, Endian::Little),
            [1.0 + f32::EPSILON]
        );
        assert_eq!(
            decode(&1e300f64.to_le_bytes(), ElementKind::F64, Endian::Little),
            [f32::INFINITY]
        );
    }

    #[test]
    fn integers_and_bools_convert_like_tensor_float() {
        let le = Endian::Little;
        assert_eq!(decode(&[0, 1, 7], ElementKind::Bool, le), [0.0, 1.0, 1.0]);
        assert_eq!(decode(&[0xff, 0x80], ElementKind::I8, le), [-1.0, -128.0]);
        assert_eq!(decode(&[0xff], ElementKind::U8, le), [255.0]);
        let big = (1i64 << 24) + 1;
        assert_eq!(
            decode(&big.to_le_bytes(), ElementKind::I64, le),
            [16_777_216.0]
        );
        assert_eq!(
            decode(&(-3i64).to_be_bytes(), ElementKind::I64, Endian::Big),
            [-3.0]
        );
        assert_eq!(
            decode(&u64::MAX.to_le_bytes(), ElementKind::U64, le),
            [1.844_674_4e19]
        );
        assert_eq!(
            decode(&i32::MIN.to_le_bytes(), ElementKind::I32, le),
            [-2_147_483_648.0]
        );
        assert_eq!(
            decode(&u16::MAX.to_le_bytes(), ElementKind::U16, le),
            [65535.0]
        );
        assert_eq!(
            decode(&i16::MIN.to_be_bytes(), ElementKind::I16, Endian::Big),
            [-32768.0]
        );
        assert_eq!(
            decode(&u32::MAX.to_le_bytes(), ElementKind::U32, le),
            [4_294_967_296.0]
        );
    }

    #[test]
    fn eight_bit_floats_widen_exactly() {
        // E4M3FN landmarks (OCP spec table): 0x38 = 1, 0x7e = 448 (max), 0x01 = 2^-9, 0xff NaN.
        assert_eq!(f8_e4m3_to_f32(0x38), 1.0);
        assert_eq!(f8_e4m3_to_f32(0x7e), 448.0);
        assert_eq!(f8_e4m3_to_f32(0x01), 2f32.powi(-9));
        assert_eq!(f8_e4m3_to_f32(0xc0), -2.0);
        assert!(f8_e4m3_to_f32(0x7f).is_nan() && f8_e4m3_to_f32(0xff).is_nan());
        assert!((0..=255u8).all(|b| !f8_e4m3_to_f32(b).is_infinite()));
        // E5M2: 0x3c = 1, 0x7b = 57344 (max), 0x7c = inf.
        let le = Endian::Little;
        assert_eq!(
            decode(&[0x3c, 0x7b, 0x7c], ElementKind::F8E5M2, le),
            [1.0, 57344.0, f32::INFINITY]
        );
    }
}
