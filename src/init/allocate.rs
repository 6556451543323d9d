//! Fresh, initialized weight buffers at memory speed.
//!
//! The first write to freshly allocated memory costs the operating system a page fault per
//! page, and the kernel zeroes each page before handing it over. With 4 KiB pages that is the
//! bottleneck of initializing a large model: on the 2-core AMD EPYC (Zen 5) VM of
//! `BENCHMARKS.md`, touching fresh 4 KiB pages runs at about 2 GB/s, slower than the seeded
//! fills themselves (8 GB/s per core). Transparent huge pages (2 MiB) cut the faults 512-fold:
//! the same first touch runs at about 14 GB/s there. So a buffer made here is
//!
//! 1. allocated zeroed by the global allocator, which for large sizes maps fresh zero pages
//!    without writing them (`calloc`), so nothing is touched yet and no `MaybeUninit` is needed:
//!    all-zero bytes are `0.0` in `f32` and `f64`;
//! 2. on Linux, advised with `madvise(MADV_HUGEPAGE)` on the 2 MiB-aligned interior of the
//!    allocation, before the first touch (where the kernel's THP mode is `always` the advice
//!    changes nothing; where it is `madvise`, as on many distributions, it is what enables huge
//!    pages; where it is `never`, or on other platforms, the call is a no-op and every 4 KiB page
//!    is faulted in as usual);
//! 3. filled by [`Initializer::fill_seeded`] or [`Initializer::fill_shard`], which split large
//!    buffers across all configured threads: each thread first touches the pages it writes, so
//!    the page faults, too, are taken in parallel.
//!
//! In a virtual machine whose guest reports free memory to the host (virtio-balloon free page
//! reporting, as on the VM above), a 2 MiB block that has been free for a few seconds has been
//! handed back, and its first touch also pays the host's page faults: there the first model
//! initialized in a process runs several times slower than later ones (BENCHMARKS.md).
//!
//! The memory used is the result: no scratch copy, no over-allocation. The head and tail of a
//! buffer that do not fill a whole aligned 2 MiB page (at most 2 MiB each) stay in 4 KiB pages,
//! because the buffer is a plain `Vec<T>` from the global allocator, which chooses its address.
#![allow(unsafe_code)]

use std::alloc::Layout;

use super::Initializer;
use super::element::Element;
use crate::error::{Error, Result};
use crate::fans::Fans;

/// The size (and alignment) of a transparent huge page on x86-64 and on 4 KiB-page arm64. A
/// multiple of every base page size, so ranges aligned to it are valid `madvise` ranges.
pub(crate) const HUGE_PAGE_BYTES: usize = 2 << 20;

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
    initializer.fill_seeded(&mut weights, fans, seed)?;
    Ok(weights)
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

/// `len` zeros whose pages have not been touched yet (for large `len`), the interior advised
/// for huge pages. `what` names the buffer in the error if the allocation fails.
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
    advise_huge_pages(start.cast::<u8>(), layout.size());
    // SAFETY: `start` was allocated by the global allocator with `Layout::array::<T>(len)`,
    // exactly the layout a `Vec<T>` of capacity `len` deallocates with; it is non-null and
    // aligned for `T`, and all `len` elements are initialized: the allocation is zeroed, and
    // all-zero bytes are `0.0` for `f32` and `f64`, the only `Element` types (sealed).
    Ok(unsafe { Vec::from_raw_parts(start, len, len) })
}

/// Advises the kernel to back the 2 MiB-aligned pages inside `[start, start + bytes)` with
/// transparent huge pages (Linux); the head and tail outside them keep the default.
#[cfg(target_os = "linux")]
fn advise_huge_pages(start: *mut u8, bytes: usize) {
    let Some((head, interior)) = aligned_interior(start as usize, bytes) else {
        return;
    };
    let interior_start = start.wrapping_add(head);
    // SAFETY: `[interior_start, interior_start + interior)` lies inside the allocation of
    // `bytes` bytes at `start` (rounded inwards to 2 MiB boundaries, which are page
    // boundaries), which the caller has just made and nothing else references. MADV_HUGEPAGE
    // changes only how later page faults in the range are served, never the contents, so no
    // memory safety depends on it. A failure (EINVAL where the kernel has no THP support)
    // leaves the default 4 KiB pages, which is why the result is ignored: it is advice.
    unsafe {
        libc::madvise(
            interior_start.cast::<libc::c_void>(),
            interior,
            libc::MADV_HUGEPAGE,
        );
    }
}

/// Huge-page advice is Linux's; elsewhere buffers keep the platform's default pages.
#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_start: *mut u8, _bytes: usize) {}

/// For a buffer at address `start` of `bytes` bytes: the offset of its first 2 MiB boundary and
/// the length of the whole 2 MiB pages from there, if there is at least one.
fn aligned_interior(start: usize, bytes: usize) -> Option<(usize, usize)> {
    let first = start.checked_next_multiple_of(HUGE_PAGE_BYTES)?;
    let end = start.checked_add(bytes)? / HUGE_PAGE_BYTES * HUGE_PAGE_BYTES;
    (end > first).then(|| (first - start, end - first))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::{Normal, Orthogonal, Uniform, Zeros};

    const MIB: usize = 1 << 20;

    #[test]
    fn aligned_interior_rounds_inwards() {
        let page = HUGE_PAGE_BYTES;
        assert_eq!(aligned_interior(page, 2 * page), Some((0, 2 * page)));
        assert_eq!(
            aligned_interior(page + 16, 3 * page),
            Some((page - 16, 2 * page))
        );
        assert_eq!(aligned_interior(page + 16, page), None);
        assert_eq!(aligned_interior(16, 2 * page - 32), None);
        assert_eq!(aligned_interior(usize::MAX - 8, 4), None);
    }

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
