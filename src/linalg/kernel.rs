//! The microkernel contract and the portable microkernel.
//!
//! A microkernel multiplies one `MR x kc` sliver of A by one `kc x NR` sliver of B, keeping the
//! `MR x NR` tile of C in registers for the whole `kc` loop, then writes
//! `alpha * (A B) + beta * C` once. The slivers are packed copies, or the caller's matrices read
//! in place where their layout allows (see [`Sliver`]). Everything else in the blocked driver
//! only moves data so that this loop never waits for memory.

use super::Problem;
use super::blocking::Tile;
use super::pack::Transpose8;
use super::small;

/// The largest `MR * NR` of any kernel: the size of the on-stack scratch tile used for edge
/// tiles (checked at compile time by [`assert_tile_fits`]).
pub(crate) const MAX_TILE: usize = 256;

/// Where a microkernel reads one operand of its tile: element `(lane, step)` — `lane` a row of
/// the A sliver or a column of the B sliver, `step` an index of the sum — lives at
/// `ptr + lane * lane_stride + step * step_stride`.
///
/// A packed sliver has `lane_stride = 1` and `step_stride = MR` (or `NR`); an operand read in
/// place has the strides of the caller's matrix. A B sliver's lanes are always contiguous
/// (`lane_stride == 1`), since the kernels load them as vectors.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sliver {
    pub(crate) ptr: *const f32,
    pub(crate) lane_stride: usize,
    pub(crate) step_stride: usize,
}

impl Sliver {
    /// A packed sliver: `width` values per step, one step after the other.
    pub(crate) fn packed(values: &[f32], width: usize) -> Sliver {
        Sliver {
            ptr: values.as_ptr(),
            lane_stride: 1,
            step_stride: width,
        }
    }
}

/// A register-blocked microkernel (the cache blocks around it come from `blocking.rs`).
///
/// Implementations are zero-sized handles; a handle for an ISA-specific kernel can only be
/// obtained from a constructor that checked the CPU, so holding one proves its target
/// features are available.
pub(crate) trait Kernel: Transpose8 + Send + Sync {
    /// Rows of the C tile held in registers.
    const MR: usize;
    /// Columns of the C tile held in registers (a multiple of the vector width).
    const NR: usize;
    /// Why this tile shape, for the tuning report (an `internals` feature).
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    const SHAPE_REASON: &'static str;
    /// The tile as a value, for [`Blocking::derive`](super::Blocking::derive).
    const TILE: Tile = Tile {
        mr: Self::MR,
        nr: Self::NR,
    };

    /// Writes `C = alpha * A B + beta * C` for one full `MR x NR` tile.
    ///
    /// `a` holds `MR` lanes and `b` `NR` lanes (`b.lane_stride == 1`) for each of the `kc`
    /// steps of the sum. When `beta == 0`, C is not read.
    ///
    /// # Safety
    /// `b.lane_stride` must be 1. Every element `(lane, step)` of `a` (`lane < MR`) and of `b`
    /// (`lane < NR`), `step < kc`, must be valid for reads; `c` must be valid for reads (when `beta != 0`) and writes of
    /// `MR` rows of `NR` elements, rows `ldc` apart, and no other thread may access those
    /// elements during the call.
    #[allow(clippy::too_many_arguments)]
    unsafe fn tile(
        self,
        kc: usize,
        alpha: f32,
        a: Sliver,
        b: Sliver,
        beta: f32,
        c: *mut f32,
        ldc: usize,
    );

    /// The unpacked path for small problems, compiled for this kernel's ISA.
    fn small(self, problem: &Problem<'_>, c: &mut [f32]);

    /// A dedicated path for thin outputs (`n` at most a few columns), if this kernel has one
    /// and it applies to `problem`; returns whether it computed C.
    fn thin(self, problem: &Problem<'_>, c: &mut [f32]) -> bool {
        let _ = (problem, c);
        false
    }
}

/// Fails to compile if a kernel's tile does not fit the edge scratch buffer.
pub(crate) const fn assert_tile_fits(mr: usize, nr: usize) -> usize {
    assert!(mr * nr <= MAX_TILE, "tile larger than MAX_TILE");
    mr * nr
}

/// Plain-Rust kernel: a `4 x 8` tile the compiler can keep in registers and vectorize with
/// the baseline SSE2 of x86-64 (or whatever the target has). Always available.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Portable;

/// Rows of the portable tile.
const PORTABLE_MR: usize = 4;
/// Columns of the portable tile.
const PORTABLE_NR: usize = 8;
const _: usize = assert_tile_fits(PORTABLE_MR, PORTABLE_NR);

impl Transpose8 for Portable {}

impl Kernel for Portable {
    const MR: usize = PORTABLE_MR;
    const NR: usize = PORTABLE_NR;
    const SHAPE_REASON: &'static str =
        "32 scalar accumulators the compiler keeps in the 16 SSE registers as 8 vectors";

    /// # Safety
    /// The contract of [`Kernel::tile`]: `a`, `b` and `c` valid for the tile's reads and writes.
    unsafe fn tile(
        self,
        kc: usize,
        alpha: f32,
        a: Sliver,
        b: Sliver,
        beta: f32,
        c: *mut f32,
        ldc: usize,
    ) {
        debug_assert_eq!(b.lane_stride, 1);
        let mut acc = [[0.0f32; PORTABLE_NR]; PORTABLE_MR];
        for step in 0..kc {
            // SAFETY: the caller guarantees that the `NR` contiguous lanes of B and the `MR`
            // lanes of A at step `step < kc` are readable.
            let b_step =
                unsafe { std::slice::from_raw_parts(b.ptr.add(step * b.step_stride), PORTABLE_NR) };
            for (row, acc_row) in acc.iter_mut().enumerate() {
                // SAFETY: as above, lane `row < MR` of A at this step.
                let a_value = unsafe { *a.ptr.add(row * a.lane_stride + step * a.step_stride) };
                for (acc_value, &b_value) in acc_row.iter_mut().zip(b_step) {
                    *acc_value += a_value * b_value;
                }
            }
        }
        for (row, acc_row) in acc.iter().enumerate() {
            // SAFETY: the caller guarantees row `row < MR` of the tile, `NR` elements long,
            // is valid and exclusively ours.
            let c_row = unsafe { std::slice::from_raw_parts_mut(c.add(row * ldc), PORTABLE_NR) };
            for (c_value, &sum) in c_row.iter_mut().zip(acc_row) {
                *c_value = if beta == 0.0 {
                    alpha * sum
                } else {
                    alpha * sum + beta * *c_value
                };
            }
        }
    }

    fn small(self, problem: &Problem<'_>, c: &mut [f32]) {
        small::with_scratch(problem, |a_row, scratch| {
            small::multiply::<false>(problem, c, a_row, scratch);
        });
    }
}
