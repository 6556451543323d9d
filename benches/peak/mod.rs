//! The FMA peak of this machine, measured: independent FMA chains on the widest vectors the
//! CPU has (AVX-512F, else AVX2 + FMA), on 1 and on `threads` threads at once. Every GFLOP/s
//! figure of the benchmarks is reported as a fraction of it.
//!
//! 16 chains (accumulators) per thread: an FMA's result is ready 4 cycles later on the cores
//! we know, and up to two FMAs issue per cycle, so at least 8 independent chains are needed to
//! keep both pipes busy; 16 leaves margin and still fits the register file.

// Intrinsics behind runtime detection: the only unsafe code of this module.
#![allow(unsafe_code)]

use std::hint::black_box;
use std::time::Instant;

/// Chains per thread.
const CHAINS: usize = 16;
/// FMAs per chain per timing.
const ITERATIONS: usize = 20_000_000;

/// The measured peak in GFLOP/s (2 flops per lane per FMA) on `threads` threads together, the
/// best of three timings.
pub fn fma_peak_gflops(threads: usize) -> f64 {
    (0..3)
        .map(|_| {
            let start = Instant::now();
            let lanes: usize = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads.max(1))
                    .map(|_| scope.spawn(|| fma_chains(ITERATIONS)))
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
            });
            2.0 * (lanes * CHAINS * ITERATIONS) as f64 / start.elapsed().as_secs_f64() / 1e9
        })
        .fold(0.0, f64::max)
}

/// Runs the chains on this thread and returns the vector width used (lanes of `f32`).
fn fma_chains(iterations: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: AVX-512F was just detected.
            unsafe { chains_avx512(iterations) };
            return 16;
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: AVX2 and FMA were just detected.
            unsafe { chains_avx2(iterations) };
            return 8;
        }
    }
    let mut acc = [1.0f32; CHAINS];
    for _ in 0..iterations {
        for value in &mut acc {
            *value = value.mul_add(0.999_999, 1e-7);
        }
    }
    black_box(acc);
    1
}

/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn chains_avx512(iterations: usize) {
    use std::arch::x86_64::*;
    let (scale, shift) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
    let mut acc = [_mm512_set1_ps(1.0); CHAINS];
    for _ in 0..iterations {
        for value in &mut acc {
            *value = _mm512_fmadd_ps(*value, scale, shift);
        }
    }
    black_box(acc);
}

/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn chains_avx2(iterations: usize) {
    use std::arch::x86_64::*;
    let (scale, shift) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
    // 16 ymm registers: 12 chains leave room for the two constants.
    let mut acc = [_mm256_set1_ps(1.0); 12];
    for _ in 0..iterations * CHAINS / 12 {
        for value in &mut acc {
            *value = _mm256_fmadd_ps(*value, scale, shift);
        }
    }
    black_box(acc);
}
