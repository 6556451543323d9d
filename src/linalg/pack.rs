//! Packing: copying a block of `op(A)` or `op(B)` into the sliver order the microkernel reads.
//!
//! A sliver is `width` (`MR` for A, `NR` for B) consecutive rows of `op(A)` (columns of
//! `op(B)`), stored step by step along the sum: the `width` values of step 0, then of step 1,
//! and so on. The microkernel then reads both operands with unit stride, whatever the
//! transposes and leading dimensions of the caller's matrices. Slivers cut by the edge of the
//! matrix are padded with zeros, so the kernel always computes a full tile.

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
            for (step, group) in steps.clone().zip(sliver.chunks_exact_mut(width)) {
                let start = step * layout.step_stride + first;
                group[..height].copy_from_slice(&data[start..start + height]);
                group[height..].fill(0.0);
            }
        } else {
            // Each outer line is contiguous along the sum: read it once, scatter by `width`.
            for lane in 0..width {
                if lane < height {
                    let start =
                        (first + lane) * layout.outer_stride + steps.start * layout.step_stride;
                    let line = data[start..].iter().step_by(layout.step_stride).take(depth);
                    for (group, &value) in sliver.chunks_exact_mut(width).zip(line) {
                        group[lane] = value;
                    }
                } else {
                    for group in sliver.chunks_exact_mut(width) {
                        group[lane] = 0.0;
                    }
                }
            }
        }
    }
}

/// A heap buffer of `f32` whose usable part starts on a 64-byte (cache-line) boundary, so
/// every packed sliver step starts at a predictable offset within a line.
#[derive(Debug)]
pub(crate) struct PackBuffer {
    storage: Vec<f32>,
    offset: usize,
}

/// Extra elements allocated so that a 64-byte aligned start always exists.
const ALIGN_SLACK: usize = 64 / std::mem::size_of::<f32>();

impl PackBuffer {
    /// A zeroed buffer with at least `len` usable values.
    pub(crate) fn new(len: usize) -> Self {
        let storage = vec![0.0f32; len + ALIGN_SLACK];
        let offset = storage.as_ptr().align_offset(64).min(ALIGN_SLACK);
        PackBuffer { storage, offset }
    }

    /// The usable, aligned part.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [f32] {
        let end = self.storage.len() - ALIGN_SLACK + self.offset;
        &mut self.storage[self.offset..end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            pack(&mut dst, data, layout, 0..rows, 0..cols, 2);
            assert_eq!(dst[..10], expected_first);
            assert_eq!(dst[10..], expected_second);
        }
    }

    #[test]
    fn buffer_is_cache_line_aligned() {
        let mut buffer = PackBuffer::new(100);
        let slice = buffer.as_mut_slice();
        assert_eq!(slice.len(), 100);
        assert_eq!(slice.as_ptr() as usize % 64, 0);
    }
}
