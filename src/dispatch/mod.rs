//! The one place where nninit chooses an instruction set at run time.
//!
//! The matrix multiply and the vectorized samplers each have an AVX-512F kernel, an AVX2+FMA
//! kernel and a portable one. [`Isa::active`] detects the best the CPU supports once and caches
//! it; the environment variable `NNINIT_ISA` (`avx512`, `avx2`, `portable`) or [`force_isa`]
//! override it, so tests and benchmarks can exercise every kernel on one machine. A forced ISA
//! the CPU lacks falls back to the best one it has: target-feature code is never reachable
//! without detection.
//!
//! Detection yields a [`Token`]: a value that only [`Isa::token`] can make, after checking the
//! CPU. Every target-feature kernel in the crate (the gemm microkernels of `linalg`, the
//! samplers of `init::kernels`, one file per ISA in each) takes the token of its ISA, so
//! holding one is the proof its `unsafe` call needs, and the crate has exactly one notion of
//! "this CPU has AVX-512" (AVX-512F with AVX2 and FMA) instead of one per module.
//!
//! Crate-private; public only with the unstable `internals` feature (outside semver), for the
//! kernel tests and benchmarks.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

/// An instruction-set level with its own kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Isa {
    /// Plain Rust that the compiler may auto-vectorize for the baseline target. Always available.
    Portable,
    /// x86-64 AVX2 with FMA (256-bit vectors).
    Avx2,
    /// x86-64 AVX-512F (512-bit vectors), with AVX2 and FMA.
    Avx512,
}

/// A detected instruction set with its proof: what the kernels of each ISA take.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Token {
    /// The baseline target; nothing to prove.
    Portable,
    /// AVX2 and FMA were detected.
    #[cfg(target_arch = "x86_64")]
    Avx2(Avx2Token),
    /// AVX-512F, AVX2 and FMA were detected.
    #[cfg(target_arch = "x86_64")]
    Avx512(Avx512Token),
}

/// Proof that this CPU runs AVX2 and FMA code. Only [`Isa::token`] makes one.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx2Token(());

/// Proof that this CPU runs AVX-512F code, with AVX2 and FMA. Only [`Isa::token`] makes one.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx512Token(());

#[cfg(target_arch = "x86_64")]
impl Avx512Token {
    /// AVX-512 detection checked AVX2 and FMA too, so it proves them.
    pub(crate) fn avx2(self) -> Avx2Token {
        Avx2Token(())
    }
}

mod compiled;
pub(crate) use compiled::compiled_for;

const UNSET: u8 = 0;
static FORCED: AtomicU8 = AtomicU8::new(UNSET);
static DETECTED: OnceLock<Isa> = OnceLock::new();

impl Isa {
    /// Every ISA this CPU can run, best last (always starts with [`Isa::Portable`]).
    ///
    /// ```
    /// # #[cfg(feature = "internals")] {
    /// use nninit::dispatch::Isa;
    /// assert_eq!(Isa::available()[0], Isa::Portable);
    /// # }
    /// ```
    pub fn available() -> Vec<Isa> {
        [Isa::Portable, Isa::Avx2, Isa::Avx512]
            .into_iter()
            .filter(|isa| isa.is_supported())
            .collect()
    }

    /// Whether this CPU can run kernels for `self`.
    ///
    /// ```
    /// # #[cfg(feature = "internals")] {
    /// assert!(nninit::dispatch::Isa::Portable.is_supported());
    /// # }
    /// ```
    pub fn is_supported(self) -> bool {
        self.token().is_some()
    }

    /// The proof that this CPU runs `self`'s kernels, or `None` if it does not: the crate's
    /// one feature check (the standard library caches what the CPU reports, so this is a few
    /// loads after the first call).
    pub(crate) fn token(self) -> Option<Token> {
        match self {
            Isa::Portable => Some(Token::Portable),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => (is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
                .then_some(Token::Avx2(Avx2Token(()))),
            #[cfg(target_arch = "x86_64")]
            // Every AVX-512F CPU has AVX2 and FMA, and the compiler assumes them in AVX-512F
            // code; checking them too keeps that assumption out of the safety argument.
            Isa::Avx512 => (is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx2")
                && is_x86_feature_detected!("fma"))
            .then_some(Token::Avx512(Avx512Token(()))),
            #[cfg(not(target_arch = "x86_64"))]
            _ => None,
        }
    }

    /// The ISA kernels use now: the forced one if set and supported, else the best detected.
    ///
    /// ```
    /// # #[cfg(feature = "internals")] {
    /// let isa = nninit::dispatch::Isa::active();
    /// assert!(isa.is_supported());
    /// # }
    /// ```
    pub fn active() -> Isa {
        let forced = Isa::from_code(FORCED.load(Ordering::Relaxed));
        match forced {
            Some(isa) if isa.is_supported() => isa,
            _ => *DETECTED.get_or_init(detect),
        }
    }

    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    fn code(self) -> u8 {
        match self {
            Isa::Portable => 1,
            Isa::Avx2 => 2,
            Isa::Avx512 => 3,
        }
    }

    fn from_code(code: u8) -> Option<Isa> {
        match code {
            1 => Some(Isa::Portable),
            2 => Some(Isa::Avx2),
            3 => Some(Isa::Avx512),
            _ => None,
        }
    }

    fn parse(name: &str) -> Option<Isa> {
        match name.trim().to_ascii_lowercase().as_str() {
            "portable" | "generic" | "fallback" => Some(Isa::Portable),
            "avx2" | "fma" => Some(Isa::Avx2),
            "avx512" | "avx512f" | "avx-512" => Some(Isa::Avx512),
            _ => None,
        }
    }
}

/// Forces every kernel to `isa` (if the CPU supports it); `None` returns to detection.
///
/// This is process-wide: tests that force kernels should not run concurrently with tests that
/// assume another ISA. Results never depend on the ISA beyond floating-point rounding.
///
/// ```
/// # #[cfg(feature = "internals")] {
/// use nninit::dispatch::{force_isa, Isa};
/// force_isa(Some(Isa::Portable));
/// assert_eq!(Isa::active(), Isa::Portable);
/// force_isa(None);
/// # }
/// ```
// Only the unstable `internals` surface calls it.
#[cfg_attr(not(feature = "internals"), allow(dead_code))]
pub fn force_isa(isa: Option<Isa>) {
    FORCED.store(isa.map_or(UNSET, Isa::code), Ordering::Relaxed);
}

fn detect() -> Isa {
    if let Some(isa) = std::env::var("NNINIT_ISA")
        .ok()
        .as_deref()
        .and_then(Isa::parse)
        && isa.is_supported()
    {
        return isa;
    }
    Isa::available().into_iter().last().unwrap_or(Isa::Portable)
}
