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
//! So a fresh buffer is filled front to back in windows of eight huge pages, and its pages are
//! chosen as it goes. The reference is the time per byte of the first touch of up to 256 KiB of
//! its head or tail (the longer), which do not fill an aligned 2 MiB page and are in base pages
//! anyway; a head or tail too short to time, or touched too fast to have been faulted in
//! (memory the allocator reused), gives none. Before a window is filled, the first whole huge
//! page in it that is not yet touched is touched and timed; while huge pages fault in no more
//! than twice as slow per byte, the buffer keeps them. Once one is slower, the rest of the
//! buffer gets base pages (`MADV_NOHUGEPAGE`), and a credit of [`BASE_PAGE_SPAN`] bytes of
//! base pages is set, shared by all fresh buffers of the process (this one's rest included):
//! while it lasts, windows get base pages without probing (the state of free memory changes
//! slowly); once it is spent, huge pages are probed again, in the middle of a buffer if need
//! be. The pages touched to time them are pages the fill writes right after: a probe costs
//! nothing where huge pages are fast and one slow huge page where they are not.
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
/// million `f32`), and the probe, touched on the calling thread, is an eighth of the faults
/// (with a probe per four huge pages, the model on two threads was about 5% slower, in one
/// interleaved comparison on the Zen 5 VM of BENCHMARKS.md); a change from fast to slow
/// memory within a window costs at most seven slow huge pages (34 ms at that VM's 4.8 ms each).
const WINDOW_BYTES: usize = 8 * HUGE_PAGE_BYTES;

/// The most bytes of base pages timed as the reference: 64 pages, a fraction of a
/// millisecond on one thread.
const MAX_REFERENCE_BYTES: usize = 256 << 10;

/// Less time than any page fault takes per base page (an exception, a page taken from the
/// free lists and 4 KiB zeroed: a few hundred nanoseconds): a reference touched faster was
/// already mapped, and says nothing about faults.
const MIN_FAULT_TIME: Duration = Duration::from_nanos(100);

/// How many times slower per byte than base pages a huge page must fault in before base pages
/// are chosen: far above the noise of timing one huge page, far below the sevenfold gap of
/// memory handed back to a host.
const SLOWER_MARGIN: f64 = 2.0;

/// Fills `buffer`, fresh from the allocator (zeroed, untouched), front to back, choosing its
/// pages as it goes (the module's documentation says how). `fill_window(window, start)` must
/// fill `window`, the elements `start .. start + window.len()` of `buffer`; every window but the
/// last is a whole number of `granule`s (one window, the whole buffer, for `buffer.len()`). The
/// first error of `fill_window` is returned.
pub(crate) fn fill_fresh<T: Element>(
    buffer: &mut [T],
    granule: usize,
    fill_window: &mut dyn FnMut(&mut [T], usize) -> Result<()>,
) -> Result<()> {
    #[cfg(test)]
    if let Some((pays, span)) = tests::FORCED.get() {
        let credit = AtomicUsize::new(0);
        let chooser = Chooser {
            credit: &credit,
            span,
            huge_pages_pay: if pays { |_, _| true } else { |_, _| false },
        };
        return fill_fresh_with(&chooser, buffer, granule, fill_window);
    }
    let chooser = Chooser {
        credit: &BASE_PAGE_CREDIT,
        span: BASE_PAGE_SPAN,
        huge_pages_pay,
    };
    fill_fresh_with(&chooser, buffer, granule, fill_window)
}

/// What chooses the pages: the credit of base pages, the span it is reset to after a slow
/// probe, and the verdict on a probe. The process's in [`fill_fresh`]; tests force their own.
struct Chooser<'a> {
    credit: &'a AtomicUsize,
    span: usize,
    huge_pages_pay: fn(Option<Touch>, Touch) -> bool,
}

/// [`fill_fresh`] with the pages chosen by `chooser`.
fn fill_fresh_with<T: Element>(
    chooser: &Chooser<'_>,
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
        let credit = take_credit(chooser.credit, bytes - start * element, WINDOW_BYTES);
        let wanted = if credit > 0 {
            Advice::BasePages
        } else {
            Advice::HugePages
        };
        if advised != Some(wanted) {
            advise(buffer, from..interior.end, wanted);
            advised = Some(wanted);
        }
        // A window of huge pages ends on a huge-page boundary, so that the threads' shares of
        // it (whole huge pages, for an elementwise fill) are each faulted in by the thread
        // that fills them, and zeroed into its own cache.
        let window_bytes = if credit > 0 {
            credit
        } else {
            from + WINDOW_BYTES - start * element
        };
        let end = window_end(start, window_bytes.div_ceil(element), granule, buffer.len());
        if wanted == Advice::HugePages
            && from + HUGE_PAGE_BYTES <= (end * element).min(interior.end)
        {
            let probe = Touch {
                bytes: HUGE_PAGE_BYTES,
                time: touch(buffer, from..from + HUGE_PAGE_BYTES),
            };
            if !(chooser.huge_pages_pay)(reference, probe) {
                chooser.credit.store(chooser.span, Ordering::Relaxed);
                let rest = from + HUGE_PAGE_BYTES..interior.end;
                advise(buffer, rest, Advice::BasePages);
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
/// head, else its tail) and times it; `None` if there are too few to time, or if they were
/// touched too fast to have been faulted in (memory the allocator reused, already mapped).
fn base_page_reference<T: Element>(buffer: &mut [T], interior: &Range<usize>) -> Option<Touch> {
    let bytes = size_of_val(buffer);
    let outside = if interior.start >= bytes - interior.end {
        0..interior.start
    } else {
        interior.end..bytes
    };
    let outside = outside.start..outside.end.min(outside.start + MAX_REFERENCE_BYTES);
    if outside.len() < MIN_REFERENCE_BYTES {
        return None;
    }
    let pages = outside.len().div_ceil(BASE_PAGE_BYTES) as u32;
    let reference = Touch {
        bytes: outside.len(),
        time: touch(buffer, outside),
    };
    (reference.time >= pages * MIN_FAULT_TIME).then_some(reference)
}

/// A timed first touch of `bytes` bytes.
#[derive(Clone, Copy, Debug)]
struct Touch {
    bytes: usize,
    time: Duration,
}

/// Whether huge pages pay: unless the huge page `probe` faulted in more than
/// [`SLOWER_MARGIN`] times slower per byte than the base pages of `reference`. Without a
/// reference there is no evidence against huge pages.
fn huge_pages_pay(reference: Option<Touch>, probe: Touch) -> bool {
    let Some(reference) = reference else {
        return true;
    };
    // probe.time / probe.bytes <= SLOWER_MARGIN * reference.time / reference.bytes, without
    // division.
    probe.time.as_secs_f64() * reference.bytes as f64
        <= SLOWER_MARGIN * reference.time.as_secs_f64() * probe.bytes as f64
}

/// Takes up to `wanted` bytes of `credit` and returns how many it got: nothing when less than
/// `least` (or than `wanted`, if smaller) is left, and then what is left is dropped, so that
/// huge pages are probed again rather than a few bytes given base pages.
fn take_credit(credit: &AtomicUsize, wanted: usize, least: usize) -> usize {
    let enough = |left: usize| left >= least.min(wanted);
    let left = credit
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
            Some(if enough(left) {
                left.saturating_sub(wanted)
            } else {
                0
            })
        })
        .unwrap_or(0);
    if enough(left) { left.min(wanted) } else { 0 }
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
/// 2 MiB boundaries of the address space (Linux; elsewhere there is nothing to advise).
#[cfg(target_os = "linux")]
fn advise<T>(buffer: &mut [T], range: Range<usize>, advice: Advice) {
    debug_assert!(range.end <= size_of_val(buffer));
    let start = buffer.as_mut_ptr().cast::<u8>().wrapping_add(range.start);
    debug_assert_eq!(start as usize % HUGE_PAGE_BYTES, 0);
    debug_assert_eq!((start as usize + range.len()) % HUGE_PAGE_BYTES, 0);
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
pub(crate) mod tests {
    use std::cell::Cell;

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
    fn huge_pages_are_dropped_only_when_they_fault_in_much_slower_per_byte() {
        let megabyte = 1 << 20;
        // The rates measured on the Zen 5 VM of BENCHMARKS.md: base pages 3 GB/s (2 MiB in
        // 0.7 ms); huge pages 22 GB/s kept by the guest, 0.44 GB/s handed back to the host.
        let base = Some(touched(2 * megabyte, 700));
        assert!(huge_pages_pay(base, touched(HUGE_PAGE_BYTES, 95)));
        assert!(!huge_pages_pay(base, touched(HUGE_PAGE_BYTES, 4800)));
        // Per byte, not per touch, and only beyond twice as slow: 1 MiB of base pages in
        // 0.35 ms is the same rate as 2 MiB in 0.7 ms.
        let half = Some(touched(megabyte, 350));
        assert!(huge_pages_pay(half, touched(HUGE_PAGE_BYTES, 1400)));
        assert!(!huge_pages_pay(half, touched(HUGE_PAGE_BYTES, 1401)));
        // No reference: no evidence against huge pages.
        assert!(huge_pages_pay(None, touched(HUGE_PAGE_BYTES, 1_000_000)));
    }

    #[test]
    fn credit_is_spent_in_windows_until_too_little_is_left() {
        let credit = AtomicUsize::new(0);
        assert_eq!(take_credit(&credit, 100, 10), 0, "no credit: probe");
        credit.store(25, Ordering::Relaxed);
        assert_eq!(take_credit(&credit, 100, 10), 25, "all that is left");
        assert_eq!(credit.load(Ordering::Relaxed), 0);
        credit.store(25, Ordering::Relaxed);
        assert_eq!(take_credit(&credit, 10, 10), 10);
        assert_eq!(take_credit(&credit, 10, 10), 10);
        assert_eq!(take_credit(&credit, 10, 10), 0, "5 left: dropped, probe");
        assert_eq!(credit.load(Ordering::Relaxed), 0);
        // A small rest of a buffer takes a small credit.
        credit.store(5, Ordering::Relaxed);
        assert_eq!(take_credit(&credit, 4, 10), 4);
    }

    #[test]
    fn a_reference_already_mapped_is_no_reference() {
        // Written before: touching it again takes no fault. Retried, so that a preemption
        // in the middle of the timed loop cannot fail the test.
        let mut buffer = vec![1.0f32; 3 * HUGE_PAGE_BYTES / 4];
        let interior = 512 << 10..size_of_val(&buffer[..]);
        let none = (0..5).any(|_| base_page_reference(&mut buffer, &interior).is_none());
        assert!(none);
        let too_small = 0..(MIN_REFERENCE_BYTES - 4);
        let interior = too_small.end..size_of_val(&buffer[..]);
        assert!(base_page_reference(&mut buffer, &interior).is_none());
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

    thread_local! {
        /// When set, this thread's fresh fills force the verdict on every probe (`true`:
        /// huge pages pay) and reset the credit to the given span after a slow one, starting
        /// from no credit: both paths are covered whatever this machine's pages do.
        pub(super) static FORCED: Cell<Option<(bool, usize)>> = const { Cell::new(None) };
    }

    /// The choices forced in tests: huge pages throughout, and slow huge pages with spans of
    /// base pages that end inside windows and elements, and one that covers everything.
    pub(crate) const FORCED_CHOICES: [(bool, usize); 3] =
        [(true, 0), (false, (3 << 20) + 4), (false, 1 << 30)];

    /// Runs `f` with this thread's fresh fills forced to `choice`.
    pub(crate) fn with_forced_pages<R>(choice: (bool, usize), f: impl FnOnce() -> R) -> R {
        FORCED.set(Some(choice));
        let result = f();
        FORCED.set(None);
        result
    }

    /// Each element's index, modulo 2^20 so that `f32` holds it exactly.
    fn index_value(index: usize) -> f64 {
        (index % (1 << 20)) as f64
    }

    /// Fills `len` zeros through `fill_fresh` with [`index_value`]s, recording the windows.
    fn filled_by_windows<T: Element>(len: usize, granule: usize) -> (Vec<T>, Vec<Range<usize>>) {
        let mut buffer = vec![T::default(); len];
        let mut windows = Vec::new();
        fill_fresh(&mut buffer, granule, &mut |window, start| {
            for (i, x) in window.iter_mut().enumerate() {
                *x = T::from_f64(index_value(start + i));
            }
            windows.push(start..start + window.len());
            Ok(())
        })
        .unwrap();
        (buffer, windows)
    }

    fn assert_covered<T: Element>(len: usize, granule: usize, choice: (bool, usize)) {
        let (buffer, windows) = with_forced_pages(choice, || filled_by_windows::<T>(len, granule));
        let case = format!("{len} elements, granule {granule}, {choice:?}: {windows:?}");
        assert!(
            buffer
                .iter()
                .enumerate()
                .all(|(i, &x)| x.into_f64() == index_value(i)),
            "{case}"
        );
        assert_eq!(windows.first().map(|w| w.start), Some(0), "{case}");
        assert!(windows.windows(2).all(|w| w[0].end == w[1].start), "{case}");
        assert_eq!(windows.last().map(|w| w.end), Some(len), "{case}");
        let last = windows.len() - 1;
        assert!(
            windows[..last].iter().all(|w| w.len() % granule == 0),
            "{case}"
        );
    }

    #[test]
    fn windows_cover_the_buffer_in_order_in_whole_granules() {
        for choice in FORCED_CHOICES {
            for (len, granule) in [
                (1, 1),
                (1 << 20, 1),
                ((12 << 20) + 5, 1000),
                ((40 << 20) + 12_345, 1),
                ((40 << 20) + 7, 3001),
            ] {
                assert_covered::<f32>(len, granule, choice);
            }
            assert_covered::<f64>((20 << 20) + 3, 1, choice);
        }
        // Huge pages throughout: windows of eight huge pages, as many as the buffer needs.
        let len = (40 << 20) + 12_345;
        let (_, windows) = with_forced_pages((true, 0), || filled_by_windows::<f32>(len, 1));
        assert!(windows.len() >= len * 4 / WINDOW_BYTES, "{windows:?}");
        // A fill that only works whole gets one window.
        let windows = filled_by_windows::<f32>(5 << 20, 5 << 20).1;
        assert_eq!((windows.len(), windows[0].clone()), (1, 0..5 << 20));
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
