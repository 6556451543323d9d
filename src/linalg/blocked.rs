//! The blocked loop nest (GotoBLAS / BLIS order) and the split of C across threads.
//!
//! ```text
//! for jc in 0..n step NC            columns of op(B): a KC x NC panel -> L3
//!   for pc in 0..k step KC          one depth block (C += its contribution): pack the panel
//!     for ic in 0..m step MC        rows of op(A): an MC x KC block, read in place -> L2
//!       for jr in 0..NC step NR     one KC x NR sliver of B, streamed from L2
//!         for ir in 0..MC step MR   microkernel: one MR x NR tile of C in registers
//! ```
//!
//! A is read in place; so is B when it is not transposed and its slivers serve few rows of A
//! (see [`Reading`]); otherwise B's panel is packed. A last sliver cut by the edge of a block
//! is always copied and padded with zeros.
//!
//! Threads split C into disjoint rectangles (whole rows when `m >= n`, else whole columns),
//! cut on tile boundaries; each rectangle is one task of the worker pool (`crate::threads`),
//! which runs the full loop nest on it with its thread's own packing buffers. Every element of
//! C is therefore produced by the same microkernel over the same `KC` blocks in the same
//! order, whatever the number of threads: the result is bit-identical for any thread count.

use std::ops::Range;

use super::Problem;
use super::blocking::{Blocking, CacheSizes};
use super::kernel::{Kernel, MAX_TILE, Sliver};
use super::pack::{Layout, Transpose8, pack, with_buffers};

/// Below this many multiply-adds (`m * n * k`, 2^22: about 20 µs on one AVX-512 core) one
/// thread does everything. Handing a task to a worker of the pool and waiting for it costs a
/// few microseconds when the worker is awake, tens of them when it has to be woken, more on a
/// busy machine where it may wait for a core; below this size that overhead would eat most of
/// what the second thread saves. At 2^22 every product of a batch-64 training step of a
/// 784-256-256-10 network but the readout's is split (`64 x 784 x 256`, 12.8 million; `64 x 256
/// x 256`, 4.2 million): measured on two cores, the step ran 7% faster than with 2^23, which
/// left the 4.2-million products on one thread, and no faster with 2^21.
pub(crate) const PARALLEL_MIN_WORK: usize = 1 << 22;

/// C as a raw pointer, shared by the threads that each write their own rectangle of it.
#[derive(Clone, Copy, Debug)]
struct Output {
    ptr: *mut f32,
    ld: usize,
    /// Whether the loop nest computes `Cᵀ` (see [`multiply`]): element `(row, col)` of the
    /// product is then `C[col][row]`.
    transposed: bool,
}

// SAFETY: tasks only write disjoint rectangles of C (see `Split`), and the `&mut [f32]` the
// pointer comes from outlives `for_each_task`, which returns only when every task has finished.
unsafe impl Send for Output {}
// SAFETY: as for `Send`: the tasks sharing an `Output` write disjoint rectangles of C.
unsafe impl Sync for Output {}

impl Output {
    /// Pointer to element `(row, col)`; dereferenced only for elements inside C.
    fn at(self, row: usize, col: usize) -> *mut f32 {
        if self.transposed {
            self.ptr.wrapping_add(col * self.ld + row)
        } else {
            self.ptr.wrapping_add(row * self.ld + col)
        }
    }
}

/// Computes the whole product with the packed loop nest, on up to `threads` threads.
///
/// When the tiles fit C's shape better the other way round (a thin C, e.g. `64 x 10` with
/// `NR = 32`), the loop nest computes `Cᵀ = op(B)ᵀ op(A)ᵀ` instead, so that fewer padded lanes
/// are computed. The choice depends only on the shape, never on the thread count.
///
/// `c` must have been validated to hold `m` rows of `n` elements, `ldc` apart, and `k > 0`.
pub(crate) fn multiply<K: Kernel>(
    kernel: K,
    threads: usize,
    blocking: Blocking,
    problem: &Problem<'_>,
    c: &mut [f32],
) {
    multiply_reading(kernel, threads, blocking, problem, c, None);
}

/// [`multiply`], with the choice of [`Reading`] forced for every rectangle (for tests).
fn multiply_reading<K: Kernel>(
    kernel: K,
    threads: usize,
    blocking: Blocking,
    problem: &Problem<'_>,
    c: &mut [f32],
    forced: Option<Reading>,
) {
    // Whole tiles per block, so that only the edges of C make edge tiles; the sum is cut into
    // equal depth blocks (784 = 4 x 157 + 156 rather than 4 x 192 + 16: a last block a few steps
    // deep pays a full pass of loading and storing C's tiles for little work).
    let blocking = Blocking {
        kc: balanced(blocking.kc.max(1), problem.k),
        mc: blocking.mc.next_multiple_of(K::MR).max(K::MR),
        nc: blocking.nc.next_multiple_of(K::NR).max(K::NR),
    };
    let (m, n) = (problem.m, problem.n);
    let transposed = computes_transposed::<K>(m, n);
    let problem = if transposed {
        problem.swapped()
    } else {
        *problem
    };
    let output = Output {
        ptr: c.as_mut_ptr(),
        ld: problem.ldc,
        transposed,
    };
    let split = Split::new::<K>(&problem, threads);
    let problem = &problem;
    crate::threads::for_each_task(split.parts, &|part| {
        let (rows, cols) = split.part(part);
        rectangle(kernel, blocking, problem, output, (rows, cols), forced);
    });
}

/// The longest block, at most `block`, that cuts `length` into as many blocks as `block`
/// would, of equal lengths (the last one at most one shorter).
fn balanced(block: usize, length: usize) -> usize {
    let blocks = length.div_ceil(block).max(1);
    length.div_ceil(blocks).max(1)
}

/// Whether the loop nest computes `Cᵀ` for an `m x n` C: only when that saves at least an
/// eighth of the padded lanes. Every tile of `Cᵀ` goes through a scratch tile and is written
/// to C one element at a time with a stride, which costs more than a few percent of padding
/// (the `256 x 784` weight gradient of an MNIST layer saves 2% of lanes transposed, and took
/// three times as long in the write as in the saving).
fn computes_transposed<K: Kernel>(m: usize, n: usize) -> bool {
    padded_area::<K>(n, m).saturating_mul(8) < padded_area::<K>(m, n).saturating_mul(7)
}

/// Elements the kernels compute for an `m x n` result, padding included.
fn padded_area<K: Kernel>(m: usize, n: usize) -> usize {
    m.next_multiple_of(K::MR)
        .saturating_mul(n.next_multiple_of(K::NR))
}

/// C cut into at most `threads` rectangles of whole tiles, along its longer side: computed once
/// per product, each part's rectangle derived on demand (no list to allocate).
#[derive(Clone, Copy, Debug)]
struct Split {
    /// How many rectangles.
    parts: usize,
    /// Tiles along the cut side.
    tiles: usize,
    /// Tile size along the cut side (`MR` for rows, `NR` for columns).
    unit: usize,
    m: usize,
    n: usize,
}

impl Split {
    fn new<K: Kernel>(problem: &Problem<'_>, threads: usize) -> Self {
        let (m, n) = (problem.m, problem.n);
        let work = m.saturating_mul(n).saturating_mul(problem.k);
        let threads = if work < PARALLEL_MIN_WORK {
            1
        } else {
            threads.max(1)
        };
        let (length, unit) = if m >= n { (m, K::MR) } else { (n, K::NR) };
        let tiles = length.div_ceil(unit);
        Split {
            parts: threads.min(tiles).max(1),
            tiles,
            unit,
            m,
            n,
        }
    }

    /// The rows and columns of C in rectangle `part` (`0..self.parts`).
    fn part(&self, part: usize) -> (Range<usize>, Range<usize>) {
        let (m, n) = (self.m, self.n);
        let length = m.max(n);
        let start = (self.tiles * part / self.parts * self.unit).min(length);
        let end = (self.tiles * (part + 1) / self.parts * self.unit).min(length);
        if m >= n {
            (start..end, 0..n)
        } else {
            (0..m, start..end)
        }
    }
}

/// Runs the loop nest over one rectangle of C, reading the operands as `forced` says or else
/// as [`Reading::for_rectangle`] chooses.
fn rectangle<K: Kernel>(
    kernel: K,
    blocking: Blocking,
    problem: &Problem<'_>,
    output: Output,
    (rows, cols): (Range<usize>, Range<usize>),
    forced: Option<Reading>,
) {
    let k = problem.k;
    let Blocking { kc, mc, nc } = blocking;
    let a_layout = layout(problem.a.transposed, problem.a.ld, true);
    let b_layout = layout(problem.b.transposed, problem.b.ld, false);
    let depth_block = kc.min(k);
    let reading = forced.unwrap_or_else(|| {
        let block_rows = mc.min(rows.len());
        Reading::for_rectangle::<K>((a_layout, b_layout), rows.len(), (block_rows, depth_block))
    });
    // The kernel loads B's lanes as vectors: a transposed B is packed even when forced.
    let b_in_place = reading.b_in_place && b_layout.outer_stride == 1;
    // An operand read in place needs room for its one edge sliver only.
    let a_len = match reading.a_in_place {
        true => K::MR * depth_block,
        false => mc.min(rows.len()).next_multiple_of(K::MR) * depth_block,
    };
    let b_len = match b_in_place {
        true => K::NR * depth_block,
        false => nc.min(cols.len()).next_multiple_of(K::NR) * depth_block,
    };
    with_buffers(a_len, b_len, |a_packed, b_packed| {
        for jc in cols.clone().step_by(nc) {
            let block_cols = jc..(jc + nc).min(cols.end);
            for pc in (0..k).step_by(kc) {
                let steps = pc..(pc + kc).min(k);
                // Later depth blocks add to what the earlier ones wrote.
                let beta = if pc == 0 { problem.beta } else { 1.0 };
                let b_source = Source::prepare(
                    kernel,
                    b_packed,
                    problem.b.data,
                    b_layout,
                    (block_cols.clone(), steps.clone()),
                    K::NR,
                    b_in_place,
                );
                for ic in rows.clone().step_by(mc) {
                    let block_rows = ic..(ic + mc).min(rows.end);
                    let a_source = Source::prepare(
                        kernel,
                        a_packed,
                        problem.a.data,
                        a_layout,
                        (block_rows.clone(), steps.clone()),
                        K::MR,
                        reading.a_in_place,
                    );
                    let block = Block {
                        rows: block_rows,
                        cols: block_cols.clone(),
                        depth: steps.len(),
                        alpha: problem.alpha,
                        beta,
                    };
                    block_product(kernel, &a_source, &b_source, &block, output);
                    if steps.end == k
                        && let Some(epilogue) = &problem.epilogue
                    {
                        finish_block(epilogue, output, &block);
                    }
                }
            }
        }
    });
}

/// Hands the finished block to the epilogue, row of C by row of C.
fn finish_block(epilogue: &super::Epilogue<'_>, output: Output, block: &Block) {
    // In the loop nest's coordinates the block is `rows x cols`; C's rows are its rows, or
    // its columns when the nest computes Cᵀ.
    let (c_rows, c_cols) = if output.transposed {
        (block.cols.clone(), block.rows.clone())
    } else {
        (block.rows.clone(), block.cols.clone())
    };
    for row in c_rows {
        let first = c_cols.start;
        // SAFETY: the block lies inside this thread's rectangle of the validated C (its rows
        // are contiguous in C, `ldc` apart, whether or not the nest computes Cᵀ), and no other
        // thread touches the rectangle, in C or in the side output.
        unsafe {
            let start = if output.transposed {
                output.at(first, row)
            } else {
                output.at(row, first)
            };
            let values = std::slice::from_raw_parts_mut(start, c_cols.len());
            epilogue.run(row, first, values);
        }
    }
}

/// Where element `(outer, step)` of an operand lives, for `op(A)` (`is_a`) or `op(B)`.
fn layout(transposed: bool, ld: usize, is_a: bool) -> Layout {
    // Rows of op(A) are rows of A unless transposed; columns of op(B) are columns of B unless
    // transposed.
    if transposed == is_a {
        Layout {
            outer_stride: 1,
            step_stride: ld,
        }
    } else {
        Layout {
            outer_stride: ld,
            step_stride: 1,
        }
    }
}

/// A B sliver read in place (not packed) serves at most this many row slivers of A.
///
/// Packing a `KC x NR` sliver of B costs about as much as one tile's worth of its reads; it
/// pays when the sliver then serves many tiles from L1. With few rows (the 64-row products of a
/// batch-64 training step, squares up to 128) packing B was 15-25% of the time and reading it
/// in place, strided, 3-12% faster (Zen 5, one thread); with hundreds of rows the strided reads
/// conflict in L1 and L2 (square 1024: 25% slower in place).
const B_IN_PLACE_MAX_SLIVERS: usize = 16;

/// The set period of the L2s we know (size over ways: 64 KiB on Zen 5 and Ice Lake, 128 KiB
/// on Zen 4): addresses this far apart compete for the same sets.
const L2_SET_PERIOD: usize = 64 << 10;

/// Whether an `outer x depth` block of an operand read in place, whose `outer` values of each
/// step are contiguous and whose steps are `step_stride` apart (B, or a stored `Aᵀ`), stays in
/// an L2 of `l2` bytes, so that it is fetched from L3 once and not once per reuse (a B sliver
/// by every row sliver of A, an A block by every B sliver).
///
/// Each step of the kernel then reads new cache lines, `step_stride` apart. A cache picks a
/// set from an address's low bits: lines whose stride has a large power-of-two factor `p` (up
/// to the set period) fall into a fraction of the sets, and the L2 then holds about `l2 / p`
/// of the steps, whatever its associativity (ways x period = size). Measured on Zen 5 (1 MiB
/// L2, `KC` 512, one thread), in place against packed: B with 64-row products, row stride 4
/// KiB (1024 columns) 12% slower (holds 256 of its 512 steps), 2 KiB or 4000 bytes 12% faster;
/// a stored `Aᵀ` with 1024 or 2048 columns (stride 4 or 8 KiB) 13% slower, 512 columns 2%
/// faster. A row-major A is not at risk: the kernel streams each of its rows, a cache line
/// serving 16 steps, and it ran faster in place even 8 KiB apart (`1024 x 2048 x 256`: 5%).
fn steps_fit_l2(step_stride: usize, (outer, depth): (usize, usize), l2: usize) -> bool {
    const ELEMENT: usize = std::mem::size_of::<f32>();
    let power_of_two = 1usize
        << (step_stride * ELEMENT)
            .trailing_zeros()
            .min(L2_SET_PERIOD.trailing_zeros());
    depth <= l2 / power_of_two.max(outer * ELEMENT)
}

/// Which operands the microkernel reads in place from the caller's matrices, not packed.
///
/// A is read in place unless it is a stored `Aᵀ` whose block would not stay in L2 (see
/// [`steps_fit_l2`]): its lanes may
/// be strided (8 rows of a row-major A, or 8 consecutive values of a stored `Aᵀ`), and the
/// kernel broadcasts them one by one, so packing (a transpose for a row-major A) buys nothing.
/// B's lanes are loaded as vectors and must be contiguous: in place only when `op(B)` is B
/// itself, only for a rectangle short enough (see [`B_IN_PLACE_MAX_SLIVERS`]), and only when
/// its sliver stays in L2. Which way an operand is read never changes a value: the kernel
/// performs the same FMAs on the same numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Reading {
    a_in_place: bool,
    b_in_place: bool,
}

impl Reading {
    /// The reading for a rectangle of `rows` rows, in blocks of `block_rows` rows and `depth`
    /// steps.
    fn for_rectangle<K: Kernel>(
        (a_layout, b_layout): (Layout, Layout),
        rows: usize,
        (block_rows, depth): (usize, usize),
    ) -> Reading {
        let l2 = CacheSizes::detected().l2;
        Reading {
            a_in_place: a_layout.outer_stride != 1
                || steps_fit_l2(a_layout.step_stride, (block_rows, depth), l2),
            b_in_place: b_layout.outer_stride == 1
                && rows.div_ceil(K::MR) <= B_IN_PLACE_MAX_SLIVERS
                && steps_fit_l2(b_layout.step_stride, (K::NR, depth), l2),
        }
    }
}

/// One operand of a block as the kernel reads it: slivers packed into a buffer, or the caller's
/// matrix in place (then only a last sliver cut by the block's edge is packed, padded).
///
/// Invariant, on which the kernels' reads rely: every element `(lane, step)` (`lane < width`,
/// `step < depth`) of every sliver [`Source::sliver`] hands out lies inside the buffer or the
/// caller's slice; [`Source::prepare`] checks it for the in-place slivers.
struct Source<'a> {
    packed: &'a [f32],
    /// Element `(first outer, first step)` of the block in the caller's matrix and its layout,
    /// when read in place.
    in_place: Option<(*const f32, Layout)>,
    /// Whole slivers in the block (the kernel reads these in place).
    whole: usize,
    width: usize,
    depth: usize,
}

impl<'a> Source<'a> {
    /// Packs what the kernel cannot read in place of the `outer x steps` block of `data`.
    fn prepare(
        transpose: impl Transpose8,
        buffer: &'a mut [f32],
        data: &'a [f32],
        layout: Layout,
        (outer, steps): (Range<usize>, Range<usize>),
        width: usize,
        in_place: bool,
    ) -> Source<'a> {
        let depth = steps.len();
        if !in_place {
            pack(transpose, buffer, data, layout, outer, steps, width);
            return Source {
                packed: buffer,
                in_place: None,
                whole: 0,
                width,
                depth,
            };
        }
        let whole = outer.len() / width;
        let edge = outer.start + whole * width..outer.end;
        if !edge.is_empty() {
            pack(
                transpose,
                buffer,
                data,
                layout,
                edge.clone(),
                steps.clone(),
                width,
            );
        }
        let first = outer.start * layout.outer_stride + steps.start * layout.step_stride;
        if whole > 0 {
            // The farthest element the kernel reads in place: last lane of the last whole
            // sliver, last step. Never fails for a validated operand (a few operations per
            // block).
            let last = (edge.start - 1)
                .checked_mul(layout.outer_stride)
                .zip((steps.end - 1).checked_mul(layout.step_stride))
                .and_then(|(lane, step)| lane.checked_add(step));
            assert!(last.is_some_and(|last| last < data.len()));
        }
        Source {
            packed: buffer,
            in_place: Some((data[first..].as_ptr(), layout)),
            whole,
            width,
            depth,
        }
    }

    /// Sliver `index` of the block; the kernel may read `depth` steps of `width` lanes of it.
    fn sliver(&self, index: usize) -> Sliver {
        match self.in_place {
            Some((start, layout)) if index < self.whole => Sliver {
                // Inside `data`, as `prepare` checked for every whole sliver.
                ptr: start.wrapping_add(index * self.width * layout.outer_stride),
                lane_stride: layout.outer_stride,
                step_stride: layout.step_stride,
            },
            Some(_) => Sliver::packed(self.packed, self.width),
            None => {
                let size = self.width * self.depth;
                Sliver::packed(&self.packed[index * size..(index + 1) * size], self.width)
            }
        }
    }
}

/// An `MC x KC` block of A times a `KC x NC` panel of B, and where the product goes.
#[derive(Debug)]
struct Block {
    rows: Range<usize>,
    cols: Range<usize>,
    depth: usize,
    alpha: f32,
    beta: f32,
}

/// The two innermost loops: every `MR x NR` tile of the block.
fn block_product<K: Kernel>(
    kernel: K,
    a_source: &Source<'_>,
    b_source: &Source<'_>,
    block: &Block,
    output: Output,
) {
    let kc = block.depth;
    for (b_index, jr) in block.cols.clone().step_by(K::NR).enumerate() {
        let width = K::NR.min(block.cols.end - jr);
        let b_sliver = b_source.sliver(b_index);
        for (a_index, ir) in block.rows.clone().step_by(K::MR).enumerate() {
            let height = K::MR.min(block.rows.end - ir);
            let a_sliver = a_source.sliver(a_index);
            if width == K::NR && height == K::MR && !output.transposed {
                // SAFETY: `Source::sliver` vouches for `kc` steps of `MR` (`NR`) lanes of its
                // slivers; the tile at (ir, jr) lies inside this thread's rectangle of the
                // validated C.
                unsafe {
                    kernel.tile(
                        kc,
                        block.alpha,
                        a_sliver,
                        b_sliver,
                        block.beta,
                        output.at(ir, jr),
                        output.ld,
                    );
                }
            } else {
                edge_tile(
                    kernel,
                    a_sliver,
                    b_sliver,
                    block,
                    output,
                    (ir, jr),
                    (height, width),
                );
            }
        }
    }
}

/// A tile cut by the edge of C, or of `Cᵀ`: the kernel works on a scratch tile, and only the
/// `height x width` part inside C is read and written.
fn edge_tile<K: Kernel>(
    kernel: K,
    a_sliver: Sliver,
    b_sliver: Sliver,
    block: &Block,
    output: Output,
    (row, col): (usize, usize),
    (height, width): (usize, usize),
) {
    let mut scratch = [0.0f32; MAX_TILE];
    if block.beta != 0.0 {
        for r in 0..height {
            for j in 0..width {
                // SAFETY: element `(row + r, col + j)` is inside this thread's rectangle of C.
                scratch[r * K::NR + j] = unsafe { *output.at(row + r, col + j) };
            }
        }
    }
    // SAFETY: `Source::sliver` vouches for the slivers' `kc` steps; `scratch` holds
    // `MAX_TILE >= MR * NR` values (checked at compile time per kernel), rows `NR` apart.
    unsafe {
        kernel.tile(
            block.depth,
            block.alpha,
            a_sliver,
            b_sliver,
            block.beta,
            scratch.as_mut_ptr(),
            K::NR,
        );
    }
    for r in 0..height {
        for j in 0..width {
            // SAFETY: as above, and no other thread accesses this rectangle.
            unsafe { *output.at(row + r, col + j) = scratch[r * K::NR + j] };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::kernel::Portable;
    use crate::linalg::{Operand, Problem};

    fn problem(data: &[f32], m: usize, n: usize, k: usize) -> Problem<'_> {
        let operand = Operand {
            data,
            ld: 1,
            transposed: false,
        };
        Problem {
            m,
            n,
            k,
            alpha: 1.0,
            a: operand,
            b: operand,
            beta: 0.0,
            ldc: n,
            epilogue: None,
        }
    }

    /// Parts cover C exactly once, start on tile boundaries, and cut the longer side.
    #[test]
    fn split_covers_c_on_tile_boundaries() {
        let data = [0.0f32];
        for (m, n, threads) in [(300, 200, 2), (37, 700, 3), (513, 257, 5), (5, 5, 4)] {
            // `k` large enough to pass the parallel threshold whatever m and n.
            let split = Split::new::<Portable>(&problem(&data, m, n, 1 << 20), threads);
            assert!(split.parts <= threads);
            let mut covered = vec![0u8; m * n];
            for (rows, cols) in (0..split.parts).map(|part| split.part(part)) {
                if m >= n {
                    assert_eq!(rows.start % Portable::MR, 0);
                } else {
                    assert_eq!(cols.start % Portable::NR, 0);
                }
                for i in rows.clone() {
                    for j in cols.clone() {
                        covered[i * n + j] += 1;
                    }
                }
            }
            assert!(
                covered.iter().all(|&count| count == 1),
                "{m} x {n} on {threads}"
            );
        }
    }

    #[test]
    fn small_work_stays_on_one_thread() {
        let data = [0.0f32];
        assert_eq!(
            Split::new::<Portable>(&problem(&data, 64, 64, 64), 8).parts,
            1
        );
        assert_eq!(
            Split::new::<Portable>(&problem(&data, 512, 512, 512), 2).parts,
            2
        );
    }

    #[test]
    fn thin_shapes_are_computed_transposed() {
        // 64 x 10 pads to 64 x 16 with 4 x 8 tiles, 10 x 64 to 12 x 64: transposing wins.
        assert!(padded_area::<Portable>(10, 64) < padded_area::<Portable>(64, 10));
        assert_eq!(padded_area::<Portable>(64, 64), 64 * 64);
        assert!(computes_transposed::<Portable>(64, 10));
    }

    /// `op(A) op(B)` with every operand read in place or packed, on `kernel`: the bits of C.
    fn products_by_reading<K: Kernel>(
        kernel: K,
        (m, n, k): (usize, usize, usize),
    ) -> Vec<Vec<u32>> {
        let value = |index: usize| ((index * 7919) % 1009) as f32 / 1009.0 - 0.5;
        let a: Vec<f32> = (0..(m + 3) * (k + 3)).map(value).collect();
        let b: Vec<f32> = (0..(k + 3) * (n + 3))
            .map(|index| value(index + 17))
            .collect();
        // Small blocks, so that every loop of the nest runs several (partial) blocks.
        let blocking = Blocking {
            kc: 24,
            mc: 3 * K::MR,
            nc: 2 * K::NR,
        };
        let mut results = Vec::new();
        for (a_transposed, b_transposed) in
            [(false, false), (false, true), (true, false), (true, true)]
        {
            // Leading dimensions 3 longer than the rows: strided in-place reads.
            let operand = |data, transposed, rows, cols| Operand {
                data,
                ld: if transposed { rows } else { cols } + 3,
                transposed,
            };
            let problem = Problem {
                m,
                n,
                k,
                alpha: 0.5,
                a: operand(&a[..], a_transposed, m, k),
                b: operand(&b[..], b_transposed, k, n),
                beta: 0.0,
                ldc: n,
                epilogue: None,
            };
            for (a_in_place, b_in_place) in
                [(false, false), (true, false), (false, true), (true, true)]
            {
                let reading = Reading {
                    a_in_place,
                    b_in_place,
                };
                let mut c = vec![f32::NAN; m * n];
                multiply_reading(kernel, 1, blocking, &problem, &mut c, Some(reading));
                results.push(c.iter().map(|x| x.to_bits()).collect());
            }
        }
        results
    }

    /// Reading an operand in place or from a packed copy gives the same bits, on every kernel
    /// this CPU has, for shapes with edge slivers in every direction.
    #[test]
    fn reading_in_place_or_packed_gives_the_same_bits() {
        let check = |results: Vec<Vec<u32>>| {
            assert_eq!(results.len(), 16);
            for transposes in results.chunks_exact(4) {
                for other in &transposes[1..] {
                    assert_eq!(&transposes[0], other);
                }
            }
        };
        // The last shape is computed as Cᵀ (its C is 64 x 10).
        for shape in [(37, 70, 53), (64, 64, 64), (9, 33, 100), (64, 10, 70)] {
            check(products_by_reading(Portable, shape));
            #[cfg(target_arch = "x86_64")]
            {
                use crate::dispatch::Token;
                if let Some(Token::Avx2(token)) = crate::dispatch::Isa::Avx2.token() {
                    check(products_by_reading(crate::linalg::avx2::Avx2(token), shape));
                }
                if let Some(Token::Avx512(token)) = crate::dispatch::Isa::Avx512.token() {
                    check(products_by_reading(
                        crate::linalg::avx512::Avx512(token),
                        shape,
                    ));
                }
            }
        }
    }

    /// Steps 4 KiB apart crowd a 1 MiB L2 (256 fit), 2 KiB apart still fit 512; a stride
    /// without a large power-of-two factor never crowds it.
    #[test]
    fn strides_with_large_powers_of_two_keep_an_operand_packed() {
        let l2 = 1 << 20;
        // A B sliver, 32 values a step.
        assert!(!steps_fit_l2(1024, (32, 512), l2));
        assert!(steps_fit_l2(1024, (32, 256), l2));
        assert!(steps_fit_l2(512, (32, 512), l2));
        assert!(!steps_fit_l2(2048, (32, 512), l2));
        assert!(steps_fit_l2(1000, (32, 512), l2));
        // Strides beyond the set period count as the period: 16 steps fit.
        assert!(!steps_fit_l2(1 << 18, (32, 512), l2));
        assert!(steps_fit_l2(1 << 18, (32, 16), l2));
        // A stored Aᵀ, a block of 256 values a step: 1024 columns crowd, 512 fit.
        assert!(!steps_fit_l2(1024, (256, 512), l2));
        assert!(steps_fit_l2(512, (256, 512), l2));
    }

    #[test]
    fn depth_blocks_are_even() {
        assert_eq!(balanced(192, 784), 157);
        assert_eq!(balanced(192, 192), 192);
        assert_eq!(balanced(192, 64), 64);
        assert_eq!(balanced(192, 193), 97);
        assert_eq!(balanced(256, 0), 1);
    }

    #[test]
    fn a_small_saving_in_padding_keeps_c_as_it_is() {
        // 256 x 784 with 8 x 32 tiles pads to 256 x 800; 784 x 256 needs no padding (2% fewer
        // lanes), not worth writing every tile through a scratch tile with a stride.
        #[cfg(target_arch = "x86_64")]
        {
            use crate::linalg::avx512::Avx512;
            assert!(!computes_transposed::<Avx512>(256, 784));
            assert!(computes_transposed::<Avx512>(64, 10));
        }
        assert!(!computes_transposed::<Portable>(64, 64));
    }
}
