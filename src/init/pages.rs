//! Which pages back a fresh buffer: transparent huge pages where they fault in faster than
//! base pages, base pages where they do not.
//!
//! Huge pages (2 MiB) cut the page faults of a first touch 512-fold, and on most machines that
//! makes first touch several times faster (BENCHMARKS.md: 22 GB/s against 3 GB/s for 4 KiB
//! pages on a Zen 5 VM). They can also be much slower: a huge page needs a whole free 2 MiB
//! block, and in a virtual machine with free page reporting (virtio-balloon) exactly those
//! blocks are handed back to the host a few seconds after they are freed, so every first touch
//! of them also pays the host's faults (0.44 GB/s on the same VM, while base pages, taken from
//! partly used blocks the guest kept, still fault in at 3 GB/s); direct compaction on a
//! fragmented host stalls huge-page faults too. No static setting tells which case holds, and
//! it changes while a process runs (memory a process frees is kept by the guest for a while).
//!
//! So a fresh buffer is filled front to back in windows of a few huge pages, and its pages
//! are chosen as it goes. Its head and tail, which do not fill an aligned 2 MiB page and are in
//! base pages anyway, give the reference: the time per byte of their first touch. Before each
//! window is filled, its first huge page is touched and timed; while huge pages fault in at
//! least as fast per byte, the buffer keeps them. Once one is slower, the rest of the buffer
//! gets base pages (`MADV_NOHUGEPAGE`), and so do the next [`BASE_PAGE_SPAN`] bytes of fresh
//! buffers without probing (the state of free memory changes slowly), after which huge pages
//! are probed again. Every page touched is one the fill writes anyway: a probe costs nothing
//! where huge pages are fast and one slow huge page where they are not.
//!
//! Only speed depends on the outcome: the values written are the same either way.
#![allow(unsafe_code)]

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::element::Element;
use crate::error::Result;

/// The size (and alignment) of a transparent huge page on x86-64 and on 4 KiB-page arm64. A
/// multiple of every base page size, so ranges aligned to it are valid `madvise` ranges.
pub(crate) const HUGE_PAGE_BYTES: usize = 2 << 20;

/// The smallest base page; touching every this many bytes touches every page of any size.
const BASE_PAGE_BYTES: usize = 4 << 10;

/// The fewest bytes of base pages whose first touch is timed as the reference: 16 pages, tens
/// of microseconds, well above the timer's resolution.
const MIN_REFERENCE_BYTES: usize = 64 << 10;

/// Bytes of fresh buffers given base pages without a probe after a probe found huge pages
/// slower. At the slow rate measured, a probe costs about 4 ms more than base pages would;
/// a GiB of base pages takes about 0.35 s to fault in there, so probing once per GiB costs about
/// 1%, and memory that becomes fast again is found within a GiB.
const BASE_PAGE_SPAN: usize = 1 << 30;

/// Bytes still to be given base pages without probing (shared by all threads).
static BASE_PAGE_CREDIT: AtomicUsize = AtomicUsize::new(0);

/// Bytes per window: eight huge pages. Enough work for the threads of a fill to share (four
/// million `f32`), and the probe, touched on the calling thread, is an eighth of the faults (on
/// two threads, four probes per window made the model 7% slower); a change from fast to slow
/// memory within a window costs at most seven slow huge pages (34 ms at the rate above).
const WINDOW_BYTES: usize = 8 * HUGE_PAGE_BYTES;

/// The most bytes of base pages timed as the reference: 64 pages, a fraction of a
/// millisecond on one thread.
const MAX_REFERENCE_BYTES: usize = 256 << 10;

/// Fills `buffer`, fresh from the allocator (zeroed, untouched), front to back, choosing its
/// pages as it goes (the module's documentation says how). `fill_window(window, start)` must
/// fill `window`, the elements `start .. start + window.len()` of `buffer`; windows are whole
/// multiples of `granule` elements (`buffer.len()` for a fill that only works whole). The first
/// error of `fill_window` is returned.
pub(crate) fn fill_fresh<T: Element>(
    buffer: &mut [T],
    granule: usize,
    fill_window: &mut dyn FnMut(&mut [T], usize) -> Result<()>,
) -> Result<()> {
    let bytes = size_of_val(buffer);
    let interior = aligned_interior(buffer.as_ptr() as usize, bytes);
    // Only Linux takes advice on pages; elsewhere there is nothing to choose.
    let Some((head, interior)) = interior.filter(|_| cfg!(target_os = "linux")) else {
        return fill_window(buffer, 0);
    };
    let interior = head..head + interior;
    let reference = base_page_reference(buffer, &interior);
    let element = size_of::<T>();
    let granule = granule.clamp(1, buffer.len());
    let mut advised = None;
    let mut start = 0;
    while start < buffer.len() {
        // The first huge page not yet touched: advice from there on is still free to change.
        let past = (start * element).saturating_sub(interior.start);
        let from = (interior.start + past.next_multiple_of(HUGE_PAGE_BYTES)).min(interior.end);
        let credit = take_credit(&BASE_PAGE_CREDIT, bytes - start * element);
        let wanted = if credit > 0 {
            Advice::BasePages
        } else {
            Advice::HugePages
        };
        if advised != Some(wanted) {
            advise(buffer, from..interior.end, wanted);
            advised = Some(wanted);
        }
        let window_bytes = if credit > 0 { credit } else { WINDOW_BYTES };
        let end = window_end(start, window_bytes / element, granule, buffer.len());
        if wanted == Advice::HugePages
            && from + HUGE_PAGE_BYTES <= (end * element).min(interior.end)
        {
            let probe = Touch {
                bytes: HUGE_PAGE_BYTES,
                time: touch(buffer, from..from + HUGE_PAGE_BYTES),
            };
            if !huge_pages_pay(reference, probe) {
                BASE_PAGE_CREDIT.store(BASE_PAGE_SPAN, Ordering::Relaxed);
                advise(
                    buffer,
                    from + HUGE_PAGE_BYTES..interior.end,
                    Advice::BasePages,
                );
                advised = Some(Advice::BasePages);
            }
        }
        fill_window(&mut buffer[start..end], start)?;
        start = end;
    }
    Ok(())
}

/// The end of the window from element `start` of a buffer of `len`: about `elements` on, in
/// whole granules (at least one), or the end of the buffer.
fn window_end(start: usize, elements: usize, granule: usize, len: usize) -> usize {
    let whole_granules = (elements / granule).max(1);
    start
        .saturating_add(whole_granules.saturating_mul(granule))
        .min(len)
}

/// Touches up to [`MAX_REFERENCE_BYTES`] of the base pages of `buffer` outside `interior` (its
/// head, else its tail) and times it; `None` if there are too few to time.
fn base_page_reference<T: Element>(buffer: &mut [T], interior: &Range<usize>) -> Option<Touch> {
    let bytes = size_of_val(buffer);
    let outside = if interior.start >= bytes - interior.end {
        0..interior.start
    } else {
        interior.end..bytes
    };
    let outside = outside.start..outside.end.min(outside.start + MAX_REFERENCE_BYTES);
    (outside.len() >= MIN_REFERENCE_BYTES).then(|| Touch {
        bytes: outside.len(),
        time: touch(buffer, outside),
    })
}

/// A timed first touch of `bytes` bytes.
#[derive(Clone, Copy, Debug)]
struct Touch {
    bytes: usize,
    time: Duration,
}

/// Whether the huge page `probe` faulted in at least as fast per byte as the base pages of
/// `reference`; without a reference there is no evidence against huge pages.
fn huge_pages_pay(reference: Option<Touch>, probe: Touch) -> bool {
    let Some(reference) = reference else {
        return true;
    };
    // probe.time / probe.bytes <= reference.time / reference.bytes, without division.
    probe.time.as_secs_f64() * reference.bytes as f64
        <= reference.time.as_secs_f64() * probe.bytes as f64
}

/// Takes up to `wanted` bytes of `credit` and returns how many it got (0 when none is left:
/// then huge pages are probed).
fn take_credit(credit: &AtomicUsize, wanted: usize) -> usize {
    let left = credit
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
            Some(left.saturating_sub(wanted))
        })
        .unwrap_or(0);
    left.min(wanted)
}

/// Writes zero to every base page of the bytes `range` of `buffer` and returns how long it
/// took: the time of the page faults, since the buffer is untouched and already zero.
fn touch<T: Element>(buffer: &mut [T], range: Range<usize>) -> Duration {
    let started = Instant::now();
    let step = BASE_PAGE_BYTES / size_of::<T>();
    let elements = range.start.div_ceil(size_of::<T>())..range.end / size_of::<T>();
    for index in elements.step_by(step) {
        let element = &mut buffer[index];
        // SAFETY: `element` is a valid, aligned, exclusive reference. Volatile because the
        // compiler may know the allocation is zeroed and drop a plain store of zero, and the
        // store is here for its page fault.
        unsafe { std::ptr::write_volatile(element, T::default()) };
    }
    started.elapsed()
}

/// The kind of pages to ask the kernel for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Advice {
    HugePages,
    BasePages,
}

/// Advises the kernel how to back the bytes `range` of `buffer`, which must start and end on
/// 2 MiB boundaries (Linux; elsewhere there is nothing to advise).
#[cfg(target_os = "linux")]
fn advise<T>(buffer: &mut [T], range: Range<usize>, advice: Advice) {
    debug_assert!(range.end <= size_of_val(buffer));
    let start = buffer.as_mut_ptr().cast::<u8>().wrapping_add(range.start);
    debug_assert_eq!(start as usize % HUGE_PAGE_BYTES, 0);
    let advice = match advice {
        Advice::HugePages => libc::MADV_HUGEPAGE,
        Advice::BasePages => libc::MADV_NOHUGEPAGE,
    };
    // SAFETY: `[start, start + range.len())` lies inside `buffer` (its callers pass ranges
    // from `aligned_interior`), starts on a huge-page boundary, which is a page boundary, and
    // `buffer` is borrowed exclusively. Both advices change only how later page faults in the
    // range are served, never the contents, so no memory safety depends on them. A failure
    // (EINVAL where the kernel has no THP support) leaves the default pages, which is why the
    // result is ignored: it is advice.
    unsafe {
        libc::madvise(start.cast::<libc::c_void>(), range.len(), advice);
    }
}

/// Huge-page advice is Linux's; elsewhere buffers keep the platform's default pages.
#[cfg(not(target_os = "linux"))]
fn advise<T>(_buffer: &mut [T], _range: Range<usize>, _advice: Advice) {}

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

    fn touched(bytes: usize, micros: u64) -> Touch {
        Touch {
            bytes,
            time: Duration::from_micros(micros),
        }
    }

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
    fn huge_pages_are_kept_only_when_they_fault_in_as_fast_per_byte() {
        let megabyte = 1 << 20;
        // The rates measured on the Zen 5 VM of BENCHMARKS.md: base pages 3 GB/s (2 MiB in
        // 0.7 ms); huge pages 22 GB/s kept by the guest, 0.44 GB/s handed back to the host.
        let base = Some(touched(2 * megabyte, 700));
        assert!(huge_pages_pay(base, touched(HUGE_PAGE_BYTES, 95)));
        assert!(!huge_pages_pay(base, touched(HUGE_PAGE_BYTES, 4800)));
        // Per byte, not per touch: 1 MiB of base pages in 0.35 ms is the same rate.
        let half = Some(touched(megabyte, 350));
        assert!(huge_pages_pay(half, touched(HUGE_PAGE_BYTES, 700)));
        assert!(!huge_pages_pay(half, touched(HUGE_PAGE_BYTES, 701)));
        // No reference: no evidence against huge pages.
        assert!(huge_pages_pay(None, touched(HUGE_PAGE_BYTES, 1_000_000)));
    }

    #[test]
    fn credit_is_spent_until_it_runs_out() {
        let credit = AtomicUsize::new(0);
        assert_eq!(take_credit(&credit, 10), 0, "no credit: probe");
        credit.store(25, Ordering::Relaxed);
        assert_eq!(take_credit(&credit, 10), 10);
        assert_eq!(take_credit(&credit, 10), 10);
        assert_eq!(take_credit(&credit, 10), 5, "what is left");
        assert_eq!(credit.load(Ordering::Relaxed), 0);
        assert_eq!(take_credit(&credit, 10), 0, "spent: probe again");
    }

    #[test]
    fn windows_are_whole_granules() {
        assert_eq!(window_end(0, 1000, 1, 5000), 1000);
        assert_eq!(window_end(0, 1000, 300, 5000), 900);
        assert_eq!(
            window_end(100, 1000, 3000, 5000),
            3100,
            "at least one granule"
        );
        assert_eq!(window_end(4500, 1000, 1, 5000), 5000);
        assert_eq!(window_end(0, 1000, 5000, 5000), 5000, "only whole");
    }

    #[test]
    fn touching_writes_one_zero_per_base_page_inside_the_range() {
        // Ones, so that the touched elements show.
        let mut buffer = vec![1.0f64; 3 * BASE_PAGE_BYTES / 8];
        let bytes = size_of_val(&buffer[..]);
        // From byte 100 (inside element 12, so the first whole element is 13) to the end.
        touch(&mut buffer, 100..bytes);
        let zeros: Vec<usize> = (0..buffer.len()).filter(|&i| buffer[i] == 0.0).collect();
        assert_eq!(zeros, [13, 13 + 512, 13 + 1024]);
        // An empty range, or one inside a single element, touches nothing.
        touch(&mut buffer, 8..8);
        touch(&mut buffer, 9..15);
        assert_eq!(buffer.iter().filter(|&&x| x == 0.0).count(), 3);
    }

    /// Fills `len` zeros through `fill_fresh` with each element's index, recording the windows.
    fn filled_by_windows(len: usize, granule: usize) -> (Vec<f32>, Vec<Range<usize>>) {
        let mut buffer = vec![0.0f32; len];
        let mut windows = Vec::new();
        fill_fresh(&mut buffer, granule, &mut |window, start| {
            for (i, x) in window.iter_mut().enumerate() {
                *x = (start + i) as f32;
            }
            windows.push(start..start + window.len());
            Ok(())
        })
        .unwrap();
        (buffer, windows)
    }

    #[test]
    fn windows_cover_the_buffer_in_order_in_whole_granules() {
        for (len, granule) in [
            (1, 1),
            (1 << 20, 1),
            (3 << 20, 1000),
            ((5 << 20) + 12_345, 1),
        ] {
            // Probes and credit are shared with other tests: whatever they decide, every
            // element is written once, in order, by windows of whole granules.
            let (buffer, windows) = filled_by_windows(len, granule);
            assert!(
                buffer.iter().enumerate().all(|(i, &x)| x == i as f32),
                "{len}"
            );
            assert_eq!(windows.first().map(|w| w.start), Some(0));
            assert!(windows.windows(2).all(|w| w[0].end == w[1].start));
            assert_eq!(windows.last().map(|w| w.end), Some(len));
            let last = windows.len() - 1;
            assert!(
                windows[..last].iter().all(|w| w.len() % granule == 0),
                "{len} {granule}: {windows:?}"
            );
        }
        // A fill that only works whole gets one window.
        let len = 5 << 20;
        let windows = filled_by_windows(len, len).1;
        assert_eq!((windows.len(), windows[0].clone()), (1, 0..len));
    }

    #[test]
    fn the_first_error_stops_the_fill() {
        let mut buffer = vec![0.0f32; 6 << 20];
        let mut calls = 0;
        let result = fill_fresh(&mut buffer, 1, &mut |_, _| {
            calls += 1;
            Err(crate::Error::invalid("window", "a test", "an error"))
        });
        assert!(result.is_err());
        assert_eq!(calls, 1);
    }
}
