//! Plain Rust compiled once per instruction set: [`compiled_for`] runs a closure inside a
//! function built with the ISA's target features, so that the loops it inlines (the samplers'
//! `f64` and truncated-normal streams, the activations' elementwise formulas, the optimizers'
//! updates) vectorize at that ISA's width. The ISA is proven by its detection token.
#![allow(unsafe_code)]

#[cfg(target_arch = "x86_64")]
use super::{Avx2Token, Avx512Token};
use super::{Isa, Token};

/// Runs `body` in code compiled for `isa` (for the baseline target if the CPU lacks it): the
/// closure is inlined into an instance built with the ISA's features, so the plain Rust in it,
/// and whatever it inlines, vectorizes at that ISA's width. Mark the closure
/// `#[inline(always)]`: left to itself, the compiler keeps a large closure as a function of its
/// own, compiled for the baseline. Only for code whose bits do not depend on the ISA, which
/// plain arithmetic satisfies: Rust never fuses a multiply and an add.
#[inline]
pub(crate) fn compiled_for<R>(isa: Isa, body: impl FnOnce() -> R) -> R {
    match isa.token().unwrap_or(Token::Portable) {
        #[cfg(target_arch = "x86_64")]
        Token::Avx512(token) => compiled_avx512(token, body),
        #[cfg(target_arch = "x86_64")]
        Token::Avx2(token) => compiled_avx2(token, body),
        Token::Portable => body(),
    }
}

/// Runs `body` in code compiled for AVX-512F; the token proves the CPU runs it.
#[cfg(target_arch = "x86_64")]
#[inline]
fn compiled_avx512<R>(token: Avx512Token, body: impl FnOnce() -> R) -> R {
    /// `body`, compiled for AVX-512F.
    ///
    /// # Safety
    /// The CPU must support AVX-512F.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn run<R>(body: impl FnOnce() -> R) -> R {
        body()
    }
    let _ = token;
    // SAFETY: the token exists only if detection found AVX-512F.
    unsafe { run(body) }
}

/// Runs `body` in code compiled for AVX2 and FMA; the token proves the CPU runs it.
#[cfg(target_arch = "x86_64")]
#[inline]
fn compiled_avx2<R>(token: Avx2Token, body: impl FnOnce() -> R) -> R {
    /// `body`, compiled for AVX2 and FMA.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn run<R>(body: impl FnOnce() -> R) -> R {
        body()
    }
    let _ = token;
    // SAFETY: the token exists only if detection found AVX2 and FMA.
    unsafe { run(body) }
}
