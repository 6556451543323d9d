//! Fresh, initialized weight buffers at memory speed.
//!
//! The first write to freshly allocated memory costs the operating system a page fault per
//! page, and the kernel zeroes each page before handing it over. With 4 KiB pages that is the
//! bottleneck of initializing a large model: on the 2-core AMD EPYC (Zen 5) VM of
//! `BENCHMARKS.md`, touching fresh 4 KiB pages runs at about 3 GB/s, slower than the seeded
//! fills themselves (19 GB/s per core). Transparent huge pages (2 MiB) cut the faults 512-fold:
//! the same first touch runs at about 22 GB/s there. So a buffer made here is
//!
//! 1. allocated zeroed by the global allocator, which for large sizes maps fresh zero pages
//!    without writing them (`calloc`), so nothing is touched yet and no `MaybeUninit` is needed:
//!    all-zero bytes are `0.0` in `f32` and `f64`;
//! 2. on Linux, backed by transparent huge pages (`madvise(MADV_HUGEPAGE)` on its 2 MiB-aligned
//!    interior, before the first touch) where a timed first touch shows that they fault in
//!    faster than base pages, and by base pages where they do not (in a VM that hands free
//!    memory back to its host, huge pages can be seven times slower): `pages.rs` says how. Where
//!    the kernel's THP mode is `never`, or on other platforms, every page is a base page;
//! 3. filled by [`Initializer::fill_seeded`] or [`Initializer::fill_shard`], which split large
//!    buffers across all configured threads: each thread first touches the pages it writes, so
//!    the page faults, too, are taken in parallel.
//!
//! The memory used is the result: no scratch copy, no over-allocation. The head and tail of a
//! buffer that do not fill a whole aligned 2 MiB page (at most 2 MiB each) stay in base pages,
//! because the buffer is a plain `Vec<T>` from the global allocator, which chooses its address.
#![allow(unsafe_code)]

use std::alloc::Layout;

use super::Initializer;
use super::element::Element;
use super::pages::fill_fresh;
use crate::error::{Error, Result};
use crate::fans::Fans;

/// A fresh `Vec<T>` holding the tensor of `shape` initialized by `initializer` from `seed`:
/// exactly what [`Initializer::fill_seeded`] writes into a zeroed buffer, allocated and
/// first touched as this module's documentation describes.
///
/// The fans come from the shape with PyTorch's convention (see [`Fans::from_shape`]); a shape
/// with a zero dimension gives an empty vector. Allocation failure is an error, not an abort.
///
/// ```
/// use nninit::{HeUniform, Initializer, Fans};
/// use nninit::init::allocate_initialized;
///
/// let weights: Vec<f32> = allocate_initialized(&[256, 784], &HeUniform::default(), 7)?;
/// let mut expected = vec![0.0f32; 256 * 784];
/// HeUniform::default().fill_seeded(&mut expected, Fans::new(784, 256), 7)?;
/// assert_eq!(weights, expected);
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn allocate_initialized<T, I>(shape: &[usize], initializer: &I, seed: u64) -> Result<Vec<T>>
where
    T: Element,
    I: Initializer<T> + ?Sized,
{
    let len = element_count(shape)?;
    if len == 0 {
        return Ok(Vec::new());
    }
    let fans = Fans::from_shape(shape)?;
    let mut weights = zeroed(len, || format!("a tensor of shape {shape:?}"))?;
    fill_fresh_seeded(&mut weights, initializer, fans, seed)?;
    Ok(weights)
}

/// Writes into `weights`, fresh from [`zeroed`], what `initializer.fill_seeded` writes, with
/// the pages chosen as they are first touched (`pages.rs`). Elementwise families go window by
/// window through `fill_shard`, which for them writes the same bits (their `fill_seeded` is
/// `fill_shard` from offset 0); every other initializer (`Orthogonal`, `Identity`, `Sparse`,
/// `Pretrained`, a user's) fills the whole buffer with `fill_seeded` in one window.
pub(crate) fn fill_fresh_seeded<T, I>(
    weights: &mut [T],
    initializer: &I,
    fans: Fans,
    seed: u64,
) -> Result<()>
where
    T: Element,
    I: Initializer<T> + ?Sized,
{
    if initializer.family().is_elementwise() {
        fill_fresh(weights, 1, &mut |window, start| {
            initializer.fill_shard(window, fans, seed, start)
        })
    } else {
        let whole = weights.len();
        fill_fresh(weights, whole, &mut |window, _| {
            initializer.fill_seeded(window, fans, seed)
        })
    }
}

/// The number of elements of a tensor of `shape` (1 for `[]`), or an error if it overflows.
pub(crate) fn element_count(shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |count, &dim| count.checked_mul(dim))
        .ok_or_else(|| {
            Error::invalid(
                "shape",
                "a product of dimensions that fits in usize",
                format!("{shape:?}"),
            )
        })
}

/// `len` zeros whose pages have not been touched yet (for large `len`), to be filled by
/// [`fill_fresh`] or [`fill_fresh_seeded`], which choose the pages as they touch them. `what`
/// names the buffer in the error if the allocation fails.
pub(crate) fn zeroed<T: Element>(len: usize, what: impl Fn() -> String) -> Result<Vec<T>> {
    let layout = Layout::array::<T>(len).map_err(|_| Error::OutOfMemory {
        what: what(),
        bytes: (len as u64).saturating_mul(size_of::<T>() as u64),
    })?;
    if layout.size() == 0 {
        return Ok(Vec::new());
    }
    // SAFETY: the layout has a non-zero size (checked above).
    let start = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<T>();
    if start.is_null() {
        return Err(Error::OutOfMemory {
            what: what(),
            bytes: layout.size() as u64,
        });
    }
    // SAFETY: `start` was allocated by the global allocator with `Layout::array::<T>(len)`,
    // exactly the layout a `Vec<T>` of capacity `len` deallocates with; it is non-null and
    // aligned for `T`, and all `len` elements are initialized: the allocation is zeroed, and
    // all-zero bytes are `0.0` for `f32` and `f64`, the only `Element` types (sealed).
    Ok(unsafe { Vec::from_raw_parts(start, len, len) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::{Identity, Normal, Orthogonal, Sparse, Uniform, Zeros};

    const MIB: usize = 1 << 20;

    #[test]
    fn allocated_equals_filled() {
        for shape in [vec![3, 5], vec![64, 3, 3, 3], vec![1024, 1031]] {
            let init = Normal::new(0.5, 2.0);
            let got: Vec<f64> = allocate_initialized(&shape, &init, 11).unwrap();
            let mut expected = vec![0.0f64; shape.iter().product()];
            let fans = Fans::from_shape(&shape).unwrap();
            init.fill_seeded(&mut expected, fans, 11).unwrap();
            assert_eq!(got.len(), expected.len());
            assert!(
                got.iter()
                    .zip(&expected)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            );
        }
    }

    #[test]
    fn large_buffer_is_whole_and_identical_for_any_thread_count() {
        // 12 MiB of f32: several huge pages and a partial head and tail.
        let shape = [3 * 1024, 1024];
        let init = Uniform::new(-1.0, 1.0);
        let reference: Vec<f32> = {
            let mut w = vec![f32::NAN; 3 * MIB];
            init.fill_shard(&mut w[..MIB], Fans::new(1024, 3072), 5, 0)
                .unwrap();
            init.fill_shard(&mut w[MIB..], Fans::new(1024, 3072), 5, MIB)
                .unwrap();
            w
        };
        for threads in [1, 2, 3] {
            crate::set_num_threads(threads);
            let got: Vec<f32> = allocate_initialized(&shape, &init, 5).unwrap();
            crate::set_num_threads(0);
            assert_eq!(got.capacity(), got.len(), "no over-allocation");
            assert!(
                got.iter()
                    .zip(&reference)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            );
        }
    }

    #[test]
    fn structured_initializers_fill_fresh_buffers_as_fill_seeded() {
        // Dirac on a conv kernel: its shards are matrices, so only `fill_seeded` is right.
        let shape = [4, 4, 3, 3];
        let fans = Fans::from_shape(&shape).unwrap();
        let mut expected = vec![0.0f32; 144];
        Identity.fill_seeded(&mut expected, fans, 0).unwrap();
        let got: Vec<f32> = allocate_initialized(&shape, &Identity, 0).unwrap();
        assert_eq!(got, expected);
        let spec =
            crate::init::TensorSpec::<f32>::new("conv", shape, std::sync::Arc::new(Identity));
        assert_eq!(spec.initialize(0).unwrap(), expected);
        // Sparse takes 2-d weights only, through every path.
        let sparse = Sparse::with_sparsity(0.5);
        assert!(sparse.fill_seeded(&mut expected, fans, 0).is_err());
        assert!(allocate_initialized::<f32, _>(&shape, &sparse, 0).is_err());
    }

    /// `Uniform`, but refusing shards, as initializers that fill only whole tensors do.
    #[derive(Debug)]
    struct WholeOnly(Uniform);

    impl Initializer<f32> for WholeOnly {
        fn fill(&self, weights: &mut [f32], fans: Fans, rng: &mut dyn rand::Rng) -> Result<()> {
            self.0.fill(weights, fans, rng)
        }
        fn fill_seeded(&self, weights: &mut [f32], fans: Fans, seed: u64) -> Result<()> {
            self.0.fill_seeded(weights, fans, seed)
        }
        fn fill_shard(&self, _: &mut [f32], _: Fans, _: u64, _: usize) -> Result<()> {
            Err(Error::NotShardable {
                initializer: "WholeOnly",
            })
        }
    }

    #[test]
    fn initializers_that_fill_only_whole_tensors_fill_fresh_buffers_whole() {
        // 24 MiB: whole huge pages and more than one window, were it elementwise.
        let shape = [3072, 2048];
        let got: Vec<f32> =
            allocate_initialized(&shape, &WholeOnly(Uniform::new(-1.0, 1.0)), 4).unwrap();
        let mut expected = vec![0.0f32; 3072 * 2048];
        Uniform::new(-1.0, 1.0)
            .fill_seeded(&mut expected, Fans::new(2048, 3072), 4)
            .unwrap();
        assert!(got == expected);
    }

    #[test]
    fn empty_and_bad_shapes() {
        let empty: Vec<f32> = allocate_initialized(&[0, 5], &Zeros, 0).unwrap();
        assert!(empty.is_empty());
        let error = allocate_initialized::<f32, _>(&[usize::MAX, 3], &Zeros, 0).unwrap_err();
        assert!(error.to_string().contains("shape"), "{error}");
        let error = allocate_initialized::<f32, _>(&[8], &Zeros, 0).unwrap_err();
        assert!(
            error.to_string().contains("at least 2-dimensional"),
            "{error}"
        );
        // Orthogonal fills whole tensors: allowed here.
        let q: Vec<f64> = allocate_initialized(&[4, 4], &Orthogonal::default(), 3).unwrap();
        let column_norm: f64 = (0..4).map(|r| q[r * 4] * q[r * 4]).sum();
        assert!((column_norm - 1.0).abs() < 1e-12);
    }

    #[test]
    fn allocation_failure_is_an_error() {
        // Half the address space: a valid layout no allocator can serve.
        let len = (isize::MAX as usize) / size_of::<f32>() / 2;
        let error = zeroed::<f32>(len, || "a huge tensor".into()).unwrap_err();
        assert!(error.to_string().starts_with("cannot allocate"), "{error}");
        let error = zeroed::<f64>(usize::MAX / 4, || "an impossible tensor".into()).unwrap_err();
        assert!(
            error.to_string().contains("an impossible tensor"),
            "{error}"
        );
    }
}
