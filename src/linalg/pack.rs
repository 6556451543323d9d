//! Packing: copying a block of `op(A)` or `op(B)` into the sliver order the microkernel reads.
//!
//! A sliver is `width` (`MR` for A, `NR` for B) consecutive rows of `op(A)` (columns of
//! `op(B)`), stored step by step along the sum: the `width` values of step 0, then of step 1,
//! and so on. The microkernel then loads each step's values contiguously, whatever the
//! transposes and leading dimensions of the caller's matrices. It needs that for B, whose
//! lanes it loads as vectors, when B is transposed or shared by many rows of A (see
//! `blocked.rs`), and for every sliver cut by the edge of the matrix, which is padded with
//! zeros so that the kernel always computes a full tile.

use std::cell::RefCell;
use std::ops::Range;

/// How the elements of one operand block are laid out in the caller's slice.
///
/// Element `(outer, step)` — `outer` a row of `op(A)` or a column of `op(B)`, `step` an index
/// of the sum — lives at `outer * outer_stride + step * step_stride`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    /// Distance between consecutive rows of `op(A)` / columns of `op(B)`.
    pub(crate) outer_stride: usize,
    /// Distance between consecutive steps of the sum.
    pub(crate) step_stride: usize,
}

/// Packs `outer x steps` of `data` into `dst` as slivers `width` wide.
///
/// `dst` must hold at least `ceil(outer.len() / width) * width * steps.len()` values; the
/// caller validated that every index of the block lies inside `data`.
pub(crate) fn pack(
    transpose: impl Transpose8,
    dst: &mut [f32],
    data: &[f32],
    layout: Layout,
    outer: Range<usize>,
    steps: Range<usize>,
    width: usize,
) {
    let depth = steps.len();
    let slivers = (outer.start..outer.end).step_by(width);
    for (first, sliver) in slivers.zip(dst.chunks_exact_mut(width * depth)) {
        let height = width.min(outer.end - first);
        if layout.outer_stride == 1 {
            // Each step's `height` values are contiguous in the source: copy them as a row.
            let source = &data[first..];
            match (height == width, width) {
                (true, 32) => copy_rows::<32>(sliver, source, layout.step_stride, &steps),
                (true, 16) => copy_rows::<16>(sliver, source, layout.step_stride, &steps),
                (true, 8) => copy_rows::<8>(sliver, source, layout.step_stride, &steps),
                _ => {
                    for (step, group) in steps.clone().zip(sliver.chunks_exact_mut(width)) {
                        let start = step * layout.step_stride;
                        group[..height].copy_from_slice(&source[start..start + height]);
                        group[height..].fill(0.0);
                    }
                }
            }
        } else {
            // Each outer line is contiguous along the sum (`step_stride` is 1 here, since one
            // of the two strides is always 1): read it once, scatter it by `width`.
            // 8 x 8 blocks go through the kernel's (SIMD) transpose; the ragged rest
            // element by element.
            debug_assert_eq!(layout.step_stride, 1);
            let full_lanes = height - height % 8;
            let full_steps = depth - depth % 8;
            if full_lanes > 0 && full_steps > 0 {
                transpose.transpose_blocks(
                    &data[first * layout.outer_stride + steps.start..],
                    layout.outer_stride,
                    sliver,
                    width,
                    (full_lanes, full_steps),
                );
            }
            let line = |lane: usize| (first + lane) * layout.outer_stride + steps.start;
            // The last steps of the whole 8-lane blocks.
            for lane in 0..full_lanes {
                for step in full_steps..depth {
                    sliver[step * width + lane] = data[line(lane) + step];
                }
            }
            // The ragged lanes, padded with zeros past `height`.
            for lane in full_lanes..width {
                for (step, group) in sliver.chunks_exact_mut(width).enumerate() {
                    group[lane] = if lane < height {
                        data[line(lane) + step]
                    } else {
                        0.0
                    };
                }
            }
        }
    }
}

/// Copies the `WIDTH` values of each step (`stride` apart in `source`) into consecutive groups
/// of `sliver`. A length known at compile time becomes a few vector moves; a run-time length
/// a call of `memmove` per step, which costs as much as the copy for a sliver 32 wide.
fn copy_rows<const WIDTH: usize>(
    sliver: &mut [f32],
    source: &[f32],
    stride: usize,
    steps: &Range<usize>,
) {
    for (step, group) in steps.clone().zip(sliver.chunks_exact_mut(WIDTH)) {
        let start = step * stride;
        let row: &[f32; WIDTH] = source[start..start + WIDTH]
            .try_into()
            .expect("a slice of WIDTH values");
        group.copy_from_slice(row);
    }
}

/// A transpose in blocks of 8 x 8, the inner step of packing an operand that is contiguous
/// along the sum. Each ISA's kernel overrides it with a loop in its own target-feature code
/// (one call per sliver, not one per block); the default is plain Rust.
pub(crate) trait Transpose8: Copy {
    /// Writes `dst[t * dst_stride + l] = src[l * src_stride + t]` for `l < lines`, `t < steps`
    /// (both multiples of 8).
    ///
    /// # Panics
    /// If `src` or `dst` is too short (never, from `pack`).
    fn transpose_blocks(
        self,
        src: &[f32],
        src_stride: usize,
        dst: &mut [f32],
        dst_stride: usize,
        (lines, steps): (usize, usize),
    ) {
        for line in 0..lines {
            for step in 0..steps {
                dst[step * dst_stride + line] = src[line * src_stride + step];
            }
        }
    }
}

/// Extra elements allocated so that a 64-byte aligned start always exists.
const ALIGN_SLACK: usize = 64 / std::mem::size_of::<f32>();

thread_local! {
    /// Each thread's packing buffers for A and B, kept between calls: allocating (and
    /// page-faulting) a fresh megabyte per call costs as much as a small product.
    static BUFFERS: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Runs `work` with this thread's packing buffers for A and B, at least `a_len` and `b_len`
/// values long, each starting on a 64-byte (cache-line) boundary.
#[inline]
pub(crate) fn with_buffers<R>(
    a_len: usize,
    b_len: usize,
    work: impl FnOnce(&mut [f32], &mut [f32]) -> R,
) -> R {
    BUFFERS.with(|buffers| match buffers.try_borrow_mut() {
        Ok(mut buffers) => {
            let (a, b) = &mut *buffers;
            work(aligned(a, a_len), aligned(b, b_len))
        }
        // Only reachable if `work` itself re-entered gemm on this thread: use fresh buffers.
        Err(_) => {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            work(aligned(&mut a, a_len), aligned(&mut b, b_len))
        }
    })
}

/// The cache-line aligned part of `storage`, `len` values long, growing `storage` if needed.
fn aligned(storage: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if storage.len() < len + ALIGN_SLACK {
        *storage = vec![0.0; len + ALIGN_SLACK];
    }
    let offset = storage.as_ptr().align_offset(64).min(ALIGN_SLACK);
    &mut storage[offset..offset + len]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy)]
    struct Scalar;
    impl Transpose8 for Scalar {}

    /// Packs a 3 x 5 row-major matrix (element value = 10 * row + col) as slivers of width 2
    /// along rows, once from the row-major layout and once from its transpose.
    #[test]
    fn packs_rows_and_columns_identically() {
        let rows = 3;
        let cols = 5;
        let matrix: Vec<f32> = (0..rows * cols)
            .map(|index| (10 * (index / cols) + index % cols) as f32)
            .collect();
        let transposed: Vec<f32> = (0..rows * cols)
            .map(|index| matrix[(index % rows) * cols + index / rows])
            .collect();
        let expected_first = [0.0, 10.0, 1.0, 11.0, 2.0, 12.0, 3.0, 13.0, 4.0, 14.0];
        let expected_second = [20.0, 0.0, 21.0, 0.0, 22.0, 0.0, 23.0, 0.0, 24.0, 0.0];
        let layouts = [
            (
                &matrix,
                Layout {
                    outer_stride: cols,
                    step_stride: 1,
                },
            ),
            (
                &transposed,
                Layout {
                    outer_stride: 1,
                    step_stride: rows,
                },
            ),
        ];
        for (data, layout) in layouts {
            let mut dst = vec![f32::NAN; 2 * 2 * cols];
            pack(Scalar, &mut dst, data, layout, 0..rows, 0..cols, 2);
            assert_eq!(dst[..10], expected_first);
            assert_eq!(dst[10..], expected_second);
        }
    }

    #[test]
    fn buffers_are_cache_line_aligned_and_sized() {
        for (a_len, b_len) in [(100, 7), (5000, 3000), (10, 10)] {
            with_buffers(a_len, b_len, |a, b| {
                assert_eq!((a.len(), b.len()), (a_len, b_len));
                assert_eq!(a.as_ptr() as usize % 64, 0);
                assert_eq!(b.as_ptr() as usize % 64, 0);
            });
        }
    }
}
