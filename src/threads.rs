//! How many worker threads nninit uses (gemm, large seeded fills, training).
//!
//! The default is the number of available cores; the environment variable
//! `NNINIT_NUM_THREADS` (a positive integer) overrides it at first use, and [`set_num_threads`]
//! at any time. A value of the variable that is not a positive integer (`0`, `"four"`) is
//! ignored: the default stays the core count, since an environment variable read on first use
//! has no caller to return an error to. Results
//! never depend on the thread count: every parallel routine splits work so that each output is
//! computed by the same sequence of operations whatever the split.
//!
//! The parallel routines split their work into [`num_threads`] tasks and run them with
//! [`for_each_task`] or [`join`] on persistent workers: a rayon thread pool of nninit's own,
//! started at the first parallel call with one worker fewer than [`num_threads`] then (at most
//! one fewer than the cores). The calling thread takes part: it and the workers claim the tasks
//! one by one, so a call costs a hand-over to a waiting worker, not the start of an OS thread,
//! and a task no worker has started when the caller is free runs on the caller. How the work is
//! split, and therefore every result, depends only on [`num_threads`].
//! A thread only ever waits for tasks that are running, never for one still queued, so nested
//! use (a parallel routine inside a task, or inside a user's rayon job) cannot deadlock.

// One lifetime erasure, for tasks borrowed by the pool's helpers (see `run_on_pool`).
#![allow(unsafe_code)]

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crate::Result;

/// 0 means "not set by `set_num_threads`": fall back to the environment or the core count.
static OVERRIDE: AtomicUsize = AtomicUsize::new(0);
static DEFAULT: OnceLock<usize> = OnceLock::new();

/// Sets the number of worker threads for every parallel routine of nninit.
///
/// `0` restores the default (`NNINIT_NUM_THREADS`, else the available cores).
///
/// ```
/// nninit::set_num_threads(1);
/// assert_eq!(nninit::num_threads(), 1);
/// nninit::set_num_threads(0);
/// assert!(nninit::num_threads() >= 1);
/// ```
pub fn set_num_threads(n: usize) {
    OVERRIDE.store(n, Ordering::Relaxed);
}

/// The number of worker threads nninit currently uses (always at least 1).
///
/// ```
/// assert!(nninit::num_threads() >= 1);
/// ```
pub fn num_threads() -> usize {
    match OVERRIDE.load(Ordering::Relaxed) {
        0 => *DEFAULT.get_or_init(default_threads),
        n => n,
    }
}

fn default_threads() -> usize {
    std::env::var("NNINIT_NUM_THREADS")
        .ok()
        .and_then(|value| value.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
}

/// One call's tasks, shared by the calling thread and the pool's helpers: whoever is free
/// claims the next task, so a task no worker has started yet is run by the caller itself.
struct Batch {
    /// The call's task, its lifetime erased; dereferenced only for a claimed index below
    /// `count` (see [`Batch::run_claimed`]).
    task: *const (dyn Fn(usize) + Sync + 'static),
    count: usize,
    /// The next task to claim; values from `count` on mean "none left".
    next: AtomicUsize,
    /// How many tasks have finished (panicked ones included).
    finished: AtomicUsize,
    /// Woken when the last task finishes.
    caller: std::thread::Thread,
    /// The first panic of a task, resumed on the calling thread.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

// SAFETY: `task` points to a `Sync` closure, so it may be called from any thread; the other
// fields are `Send + Sync`. That the closure is still alive when called is `run_claimed`'s
// argument.
unsafe impl Send for Batch {}
// SAFETY: as for `Send`.
unsafe impl Sync for Batch {}

impl Batch {
    /// Claims and runs tasks until none is left.
    fn run_claimed(&self) {
        loop {
            let index = self.next.fetch_add(1, Ordering::Relaxed);
            if index >= self.count {
                return;
            }
            // SAFETY: `task` borrows from the frame of `run_on_pool`, which neither returns nor
            // unwinds before `finished` reaches `count` (its `WaitOnDrop` guard waits on every
            // exit), and this task counts as finished only once the call below has returned or
            // unwound (`CountOnDrop`): a claimed task (index below `count`) therefore runs
            // while the closure is alive. Helpers that start late claim an index from `count`
            // on and never get here.
            let task = unsafe { &*self.task };
            let _finished = CountOnDrop(self);
            if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| task(index))) {
                self.keep_first_panic(payload);
            }
        }
    }

    /// Keeps the first task's panic to resume on the caller. A later payload is leaked, not
    /// dropped: its destructor is the task's code, and a panic there would escape the pool.
    fn keep_first_panic(&self, payload: Box<dyn Any + Send>) {
        let mut first = self.panic.lock().unwrap_or_else(PoisonError::into_inner);
        if first.is_none() {
            *first = Some(payload);
        } else {
            std::mem::forget(payload);
        }
    }

    /// Waits until every task has finished: spinning for up to [`WAIT_SPIN`] (the other
    /// half of a split product is usually about to end, and waking a parked thread costs
    /// tens of microseconds), then parked until the thread of the last task wakes this one.
    fn wait(&self) {
        let start = Instant::now();
        while self.finished.load(Ordering::Acquire) < self.count {
            if start.elapsed() < WAIT_SPIN {
                for _ in 0..64 {
                    std::hint::spin_loop();
                }
            } else {
                std::thread::park();
            }
        }
    }
}

/// Counts a claimed task as finished when dropped, however the task ended, and wakes the
/// caller after the last one.
struct CountOnDrop<'a>(&'a Batch);

impl Drop for CountOnDrop<'_> {
    fn drop(&mut self) {
        if self.0.finished.fetch_add(1, Ordering::Release) + 1 == self.0.count {
            self.0.caller.unpark();
        }
    }
}

/// Claims the tasks left and waits for every task of the batch when dropped: `run_on_pool`
/// holds one from the moment helpers may run its tasks, so it cannot return or unwind while
/// a task still borrows from its caller's frame.
struct WaitOnDrop<'a>(&'a Batch);

impl Drop for WaitOnDrop<'_> {
    fn drop(&mut self) {
        self.0.run_claimed();
        self.0.wait();
    }
}

/// How long a caller whose tasks are all claimed spins before it parks.
const WAIT_SPIN: Duration = Duration::from_micros(20);

/// nninit's workers: one fewer than [`num_threads`] at the first parallel call, at most one
/// fewer than the cores, and at least one, since the calling thread computes too (a later,
/// larger [`set_num_threads`] splits the work into more tasks, which the same workers and the
/// caller share). A pool of its own rather than rayon's global one, which has a worker
/// per core: there, the worker that picks up a task wakes another to look for more, and on two
/// cores that third thread's search took CPU time from the two computing (a two-thread
/// 1024 x 1024 gemm ran at 250-375 GFLOP/s instead of 475). `None` if the threads cannot be
/// started: the caller then runs every task.
fn workers() -> Option<&'static rayon_core::ThreadPool> {
    static WORKERS: OnceLock<Option<rayon_core::ThreadPool>> = OnceLock::new();
    WORKERS
        .get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let threads = num_threads().min(cores);
            rayon_core::ThreadPoolBuilder::new()
                .num_threads((threads - 1).max(1))
                .thread_name(|index| format!("nninit-worker-{index}"))
                .build()
                .ok()
        })
        .as_ref()
}

/// Runs `local()` on the calling thread while up to `helpers` workers of the pool join in
/// claiming `task(0)`, ..., `task(count - 1)`; then the caller claims what is left, waits for
/// the tasks others have started, and resumes the first panic (its own first).
fn run_on_pool<R>(
    count: usize,
    task: &(dyn Fn(usize) + Sync),
    helpers: usize,
    local: impl FnOnce() -> R,
) -> R {
    // SAFETY: only the lifetime changes (same pointer, same vtable); see `Batch::run_claimed`
    // for why the closure outlives every call through this pointer.
    let task = unsafe {
        std::mem::transmute::<
            *const (dyn Fn(usize) + Sync + '_),
            *const (dyn Fn(usize) + Sync + 'static),
        >(task)
    };
    let batch = Arc::new(Batch {
        task,
        count,
        next: AtomicUsize::new(0),
        finished: AtomicUsize::new(0),
        caller: std::thread::current(),
        panic: Mutex::new(None),
    });
    let all_finished = WaitOnDrop(&batch);
    if let Some(pool) = workers() {
        for _ in 0..helpers.min(pool.current_num_threads()) {
            let batch = Arc::clone(&batch);
            pool.spawn(move || batch.run_claimed());
        }
    }
    let local = panic::catch_unwind(AssertUnwindSafe(local));
    drop(all_finished);
    let result = local.unwrap_or_else(|payload| panic::resume_unwind(payload));
    if let Some(payload) = batch
        .panic
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
    {
        panic::resume_unwind(payload);
    }
    result
}

/// Runs `task(0)`, ..., `task(count - 1)` and returns when all have finished. The calling
/// thread and up to `count - 1` workers of the pool claim the tasks in order, each taking the
/// next one when free: tasks that no worker has started by the time the caller is free run on
/// the caller, so a busy or sleeping pool costs little more than running everything here. A
/// panic in any task is resumed here once every started task has finished.
pub(crate) fn for_each_task(count: usize, task: &(dyn Fn(usize) + Sync)) {
    match count {
        0 => {}
        1 => task(0),
        _ => run_on_pool(count, task, count - 1, || ()),
    }
}

/// Runs `work` on every item of `items`, on `tasks` tasks that each take the next item from
/// the shared iterator until none is left (so a slow or busy core takes fewer items); a task
/// stops at its first error. Returns, after every task has stopped, the error of the earliest
/// item that failed: items are handed out in order and each one handed out is finished, so
/// that is the same item, and the same error, whatever the timing. Which task computes an item
/// depends on timing: `work` must not depend on it.
pub(crate) fn try_for_each_item<I>(
    tasks: usize,
    items: I,
    work: &(dyn Fn(I::Item) -> Result<()> + Sync),
) -> Result<()>
where
    I: Iterator + Send,
{
    let queue = Mutex::new(items.enumerate());
    let earliest_failure = Mutex::new(None);
    for_each_task(tasks, &|_| {
        loop {
            let next = queue.lock().unwrap_or_else(PoisonError::into_inner).next();
            let Some((index, item)) = next else {
                return;
            };
            if let Err(error) = work(item) {
                let mut failure = earliest_failure
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if failure.as_ref().is_none_or(|&(failed, _)| index < failed) {
                    *failure = Some((index, error));
                }
                return;
            }
        }
    });
    match earliest_failure
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
    {
        Some((_, error)) => Err(error),
        None => Ok(()),
    }
}

/// [`try_for_each_item`] for work that cannot fail.
pub(crate) fn for_each_item<I>(tasks: usize, items: I, work: &(dyn Fn(I::Item) + Sync))
where
    I: Iterator + Send,
{
    let result = try_for_each_item(tasks, items, &|item| {
        work(item);
        Ok(())
    });
    debug_assert!(result.is_ok());
}

/// Runs `first` on the calling thread while a worker of the pool runs `second` (or the caller
/// runs it afterwards, if no worker has started it by then), and returns both results. A
/// panic in either is resumed here once both have finished.
pub(crate) fn join<A, B: Send>(
    first: impl FnOnce() -> A,
    second: impl FnOnce() -> B + Send,
) -> (A, B) {
    let second = Mutex::new(Some(second));
    let second_result = Mutex::new(None);
    let run_second = |_| {
        let second = second.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(second) = second {
            let result = second();
            *second_result.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
        }
    };
    let first_result = run_on_pool(1, &run_second, 1, first);
    let second_result = second_result
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        // `run_on_pool` returns once the one task has run, or resumes its panic.
        .expect("the pool ran `second` before returning");
    (first_result, second_result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    /// Every task runs exactly once, whatever the count.
    #[test]
    fn runs_every_task_once() {
        for count in [0, 1, 2, 3, 17] {
            let runs: Vec<AtomicUsize> = (0..count).map(|_| AtomicUsize::new(0)).collect();
            for_each_task(count, &|index| {
                runs[index].fetch_add(1, Ordering::Relaxed);
            });
            assert!(runs.iter().all(|runs| runs.load(Ordering::Relaxed) == 1));
        }
    }

    /// A panic in a task on a worker reaches the caller, after the other tasks have finished
    /// (and not a hang).
    #[test]
    fn a_panic_in_a_task_propagates() {
        let finished = AtomicUsize::new(0);
        let outcome = std::panic::catch_unwind(|| {
            for_each_task(4, &|index| {
                if index == 3 {
                    panic!("task {index} failed");
                }
                finished.fetch_add(1, Ordering::Relaxed);
            });
        });
        let message = outcome.expect_err("the panic must propagate");
        assert_eq!(
            message.downcast_ref::<String>().map(String::as_str),
            Some("task 3 failed")
        );
        assert_eq!(finished.load(Ordering::Relaxed), 3);
        // The pool still works afterwards.
        let (here, there) = join(|| 1, || 2);
        assert_eq!((here, there), (1, 2));
    }

    /// Panic payloads whose destructor panics, from every task: the first reaches the caller,
    /// the others are never dropped inside the pool (where a panic would escape its
    /// bookkeeping while other tasks still run), and the pool keeps working.
    #[test]
    fn payloads_that_panic_when_dropped_stay_inside() {
        struct PanicsOnDrop;
        impl Drop for PanicsOnDrop {
            fn drop(&mut self) {
                panic!("dropped a payload");
            }
        }
        let outcome = std::panic::catch_unwind(|| {
            for_each_task(4, &|_| std::panic::panic_any(PanicsOnDrop));
        });
        let payload = outcome.expect_err("the panic must propagate");
        assert!(payload.is::<PanicsOnDrop>());
        std::mem::forget(payload);
        let (here, there) = join(|| 1, || 2);
        assert_eq!((here, there), (1, 2));
    }

    #[test]
    fn a_panic_in_either_half_of_join_propagates() {
        let on_worker = std::panic::catch_unwind(|| join(|| 1, || -> i32 { panic!("second") }));
        assert!(on_worker.is_err());
        let here = std::panic::catch_unwind(|| join(|| -> i32 { panic!("first") }, || 2));
        assert!(here.is_err());
    }

    /// The error of the earliest failing item wins, however the items fell to the threads
    /// (the error of a sharded fill names the same row on every run).
    #[test]
    fn the_earliest_item_error_wins() {
        for _ in 0..50 {
            let result = try_for_each_item(4, 0..200usize, &|item| {
                // Later failures finish first, to tempt a race.
                if item == 37 {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                if item == 37 || item >= 120 {
                    Err(crate::Error::InvalidArgument {
                        name: "item",
                        expected: "not 37, < 120".to_owned(),
                        value: item.to_string(),
                    })
                } else {
                    Ok(())
                }
            });
            let message = result.expect_err("items 37 and 120.. fail").to_string();
            assert_eq!(message, "item must be not 37, < 120, got 37");
        }
    }

    /// Tasks that start parallel work of their own (nested calls, every one waiting on its
    /// children) finish: a thread only waits for tasks that are running.
    #[test]
    fn nested_tasks_complete() {
        let sum = AtomicU64::new(0);
        for_each_task(3, &|outer| {
            for_each_task(3, &|inner| {
                let (a, b) = join(|| outer as u64, || inner as u64);
                sum.fetch_add(10 * a + b, Ordering::Relaxed);
            });
        });
        // Σ over outer, inner in 0..3 of 10 · outer + inner = 10 · 9 + 9.
        assert_eq!(sum.load(Ordering::Relaxed), 99);
    }

    fn product(threads: usize) -> Vec<f32> {
        use crate::dispatch::Isa;
        use crate::linalg::{Config, Path, Transpose, gemm_with};
        // 2^24 multiply-adds, above the 2^22 from which gemm splits C.
        let (m, n, k) = (256, 256, 256);
        let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 - 3.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.5).collect();
        let mut c = vec![f32::NAN; m * n];
        let config = Config {
            isa: Isa::active(),
            threads,
            path: Path::Auto,
            blocking: None,
        };
        let (no, a_ref, b_ref) = (Transpose::No, &a, &b);
        gemm_with(
            config, no, no, m, n, k, 1.0, a_ref, k, b_ref, n, 0.0, &mut c, n,
        )
        .expect("valid operands");
        c
    }

    /// gemm split over two tasks, called from every job of a user's rayon pool at once (all
    /// its workers busy with such calls) and from inside nninit's own tasks, completes with the
    /// bits of a one-thread product.
    #[test]
    fn gemm_inside_rayon_jobs_and_pool_tasks_completes() {
        let expected = product(1);
        let pool = rayon_core::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("a two-thread pool");
        let results: Vec<Mutex<Vec<f32>>> = (0..4).map(|_| Mutex::new(Vec::new())).collect();
        pool.scope(|scope| {
            for slot in &results {
                scope.spawn(move |_| *slot.lock().expect("not poisoned") = product(2));
            }
        });
        for_each_task(2, &|index| {
            *results[index].lock().expect("not poisoned") = product(2);
        });
        for result in results {
            assert!(result.into_inner().expect("not poisoned") == expected);
        }
    }

    /// A seeded fill large enough to be split (2^20 elements), inside pool tasks, completes
    /// with the bits of the same fill made outside.
    #[test]
    fn parallel_fill_inside_pool_tasks_completes() {
        use crate::Fans;
        use crate::init::{Initializer, Normal};
        let fill = || {
            let mut weights = vec![0.0f32; 1 << 20];
            Normal::new(0.0, 1.0)
                .fill_seeded(&mut weights, Fans::new(784, 256), 7)
                .expect("valid");
            weights
        };
        let expected = fill();
        let results: Vec<Mutex<Vec<f32>>> = (0..3).map(|_| Mutex::new(Vec::new())).collect();
        for_each_task(3, &|index| {
            *results[index].lock().expect("not poisoned") = fill();
        });
        for result in results {
            assert!(result.into_inner().expect("not poisoned") == expected);
        }
    }
}
