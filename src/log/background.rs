//! Work ahead of the writers, and periodic syncs, for every log in the process on one small pool.
//!
//! A log asks for work instead of owning a thread:
//! - the next segment, preallocated and its first window pre-faulted, when the active segment is
//!   half full;
//! - the next window of the active segment pre-faulted as the writer approaches it, so work ahead
//!   of a writer is bounded to about one window plus the next segment's first window;
//! - in the `Interval` and `Sync` modes, one sync (or, in `Sync`, one durable-point checkpoint) a
//!   period after the first append that no sync covers yet.
//!
//! An idle log asks for nothing and costs the pool nothing. The pool's threads, at most one per
//! core and started on first use, are shared by every engine and log in the process: 100,000
//! shards have as many background threads as one.
//!
//! Jobs hold a `Weak` reference to their log and run behind its gate ([`Inner::stop_background`]
//! closes it): a job running when the gate closes is waited for, and later ones do nothing. That
//! is what sealing, closing and abandoning a log need before its files may change.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::Inner;
use super::options::Durability;
use super::segment::{PreparedSegment, Segment, prepared_segments};

/// Bytes of a segment pre-faulted for writing at a time: the first window when a segment is
/// prepared, then each next one as the writer comes within half a window of it.
pub(crate) const PREFAULT_WINDOW_BYTES: u64 = 2 * 1024 * 1024;

/// How much of a new segment of `capacity` bytes to pre-fault, and whether the writer asks for
/// windows after it: a segment of at least [`PREPARE_AHEAD_MIN_BYTES`] gets a window, a smaller one
/// only its first page (its header), since its pages fault cheaply as records arrive and a quiet
/// shard then keeps resident only the pages it wrote.
pub(crate) fn prefault_bytes(capacity: u64) -> u64 {
    if capacity < PREPARE_AHEAD_MIN_BYTES {
        4096
    } else {
        PREFAULT_WINDOW_BYTES
    }
}

/// The smallest segment prepared ahead. A smaller one is made on the append path when the writer
/// rolls (tens of microseconds): cheaper than keeping one ready for every shard that fills a small
/// segment once.
pub(crate) const PREPARE_AHEAD_MIN_BYTES: u64 = 1 << 20;

/// Most prepared segments in the process at once; beyond it, writers make their next segment when
/// they roll. Each holds up to a pre-faulted window of memory and a mapping outside the cache.
pub(crate) const PREPARED_SEGMENTS_MAX: usize = 64;

/// How often the `Sync` mode writes its durable point to the checkpoint (its records are synced
/// on the append path; this only spares recovery a scan).
const SYNC_MODE_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// One piece of work for a log.
pub(crate) enum Job {
    /// Prepare the next segment.
    PrepareSegment(Weak<Inner>),
    /// Pre-fault `[from, from + len)` of the active segment.
    Prefault {
        log: Weak<Inner>,
        segment: Arc<Segment>,
        from: u64,
        len: u64,
    },
}

/// Asks the pool to run `job` soon.
pub(crate) fn submit(job: Job) {
    let mut state = POOL.state.lock();
    state.queue.push_back(job);
    start_worker_if_needed(&mut state);
    drop(state);
    POOL.work.notify_one();
}

/// Asks the pool to sync `log` once `delay` has passed.
pub(crate) fn sync_after(delay: Duration, log: Weak<Inner>) {
    let mut state = POOL.state.lock();
    let order = state.timers_scheduled;
    state.timers_scheduled += 1;
    state.timers.push(Reverse(Timer {
        due: Instant::now() + delay,
        order,
        log,
    }));
    start_worker_if_needed(&mut state);
    drop(state);
    // Wake a waiting thread, which recomputes its deadline (this timer may be the earliest).
    POOL.work.notify_one();
}

/// The period after which unsynced appends get a sync, for the modes that have one.
pub(crate) fn sync_period(durability: Durability) -> Option<Duration> {
    match durability {
        Durability::PageCache => None,
        Durability::Interval(interval) => Some(interval),
        Durability::Sync => Some(SYNC_MODE_CHECKPOINT_INTERVAL),
    }
}

/// How many background threads the process runs, at most.
pub fn background_threads_max() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// How many background threads the process runs now.
pub fn background_threads() -> usize {
    POOL.state.lock().threads
}

static POOL: Pool = Pool {
    state: Mutex::new(PoolState {
        queue: VecDeque::new(),
        timers: BinaryHeap::new(),
        timers_scheduled: 0,
        threads: 0,
        idle: 0,
    }),
    work: Condvar::new(),
};

struct Pool {
    state: Mutex<PoolState>,
    work: Condvar,
}

struct PoolState {
    queue: VecDeque<Job>,
    /// Pending syncs, earliest first.
    timers: BinaryHeap<Reverse<Timer>>,
    /// Timers scheduled so far: orders timers due at the same instant.
    timers_scheduled: u64,
    threads: usize,
    /// Threads waiting for work.
    idle: usize,
}

struct Timer {
    due: Instant,
    order: u64,
    log: Weak<Inner>,
}

impl PartialEq for Timer {
    fn eq(&self, other: &Timer) -> bool {
        (self.due, self.order) == (other.due, other.order)
    }
}

impl Eq for Timer {}

impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Timer) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timer {
    fn cmp(&self, other: &Timer) -> std::cmp::Ordering {
        (self.due, self.order).cmp(&(other.due, other.order))
    }
}

/// Starts one more thread when work waits, none is idle and the pool is below its size. If the
/// thread cannot be started, logs still work: segments are then prepared on the append path, and
/// unsynced appends wait for `sync` or close.
fn start_worker_if_needed(state: &mut PoolState) {
    if state.idle > 0 || state.threads >= background_threads_max() {
        return;
    }
    let started = std::thread::Builder::new()
        .name("shardlog-pool".to_owned())
        .spawn(work)
        .is_ok();
    if started {
        state.threads += 1;
    }
}

enum Work {
    Job(Job),
    Sync(Weak<Inner>),
}

fn work() {
    loop {
        match next_work() {
            Work::Job(Job::PrepareSegment(log)) => run_for(&log, prepare_next_segment),
            Work::Job(Job::Prefault {
                log,
                segment,
                from,
                len,
            }) => run_for(&log, |_| {
                if let Ok(mapping) = segment.mapping() {
                    // A failure only means the pages fault on first write instead.
                    mapping.populate_for_writing(from, len);
                }
            }),
            Work::Sync(log) => run_for(&log, |inner| {
                inner.sync_scheduled.store(false, Ordering::Release);
                inner.periodic_sync();
            }),
        }
    }
}

fn next_work() -> Work {
    let mut state = POOL.state.lock();
    loop {
        if let Some(job) = state.queue.pop_front() {
            return Work::Job(job);
        }
        let next_due = state.timers.peek().map(|Reverse(timer)| timer.due);
        if next_due.is_some_and(|due| due <= Instant::now())
            && let Some(Reverse(timer)) = state.timers.pop()
        {
            return Work::Sync(timer.log);
        }
        state.idle += 1;
        match next_due {
            Some(due) => {
                POOL.work.wait_until(&mut state, due);
            }
            None => POOL.work.wait(&mut state),
        }
        state.idle -= 1;
    }
}

/// Runs `work` for the log if it still exists and its gate is open.
fn run_for(log: &Weak<Inner>, work: impl FnOnce(&Inner)) {
    let Some(inner) = log.upgrade() else {
        return;
    };
    let gate = inner.background_gate.read();
    if *gate {
        work(&inner);
    }
}

fn prepare_next_segment(inner: &Inner) {
    let capacity = {
        let mut slot = inner.prepared.lock();
        // Nothing to do if a segment is ready, or if the writer no longer wants one: it rolled
        // before this job ran and made its segment itself.
        if slot.segment.is_some() || slot.wanted_bytes == 0 {
            return;
        }
        if prepared_segments() >= PREPARED_SEGMENTS_MAX {
            slot.wanted_bytes = 0; // the writer makes its segment when it rolls
            return;
        }
        slot.in_progress = true;
        slot.wanted_bytes
    };
    // Preparing takes milliseconds: do it without holding the lock. A failure here is not an
    // error yet: the writer will try again on the append path and report it there.
    let prepared = PreparedSegment::create(
        &inner.options.file_system,
        &inner.dir,
        capacity,
        prefault_bytes(capacity),
    )
    .ok();
    let mut slot = inner.prepared.lock();
    slot.in_progress = false;
    match prepared {
        Some(prepared) if slot.segment.is_none() => slot.segment = Some(prepared),
        Some(prepared) => prepared.discard(),
        None => {}
    }
    inner.prepared_ready.notify_all();
}

/// The next segment, as the pool prepares it.
#[derive(Default)]
pub(crate) struct PreparedSlot {
    /// Ready to be put into service.
    pub segment: Option<PreparedSegment>,
    /// A pool thread is preparing one right now.
    pub in_progress: bool,
    /// The capacity the writer asked for; 0 when it wants none (it took or made its segment).
    pub wanted_bytes: u64,
}

impl Inner {
    /// The prepared segment, if it has at least `capacity_bytes`: the one ready, or the one a pool
    /// thread is preparing (waited for: preparing a second one at the same time would only slow
    /// both down), or else a new one.
    pub(crate) fn take_prepared_segment(
        &self,
        capacity_bytes: u64,
    ) -> std::io::Result<PreparedSegment> {
        let mut slot = self.prepared.lock();
        while slot.segment.is_none() && slot.in_progress {
            self.prepared_ready.wait(&mut slot);
        }
        slot.wanted_bytes = 0;
        match slot.segment.take() {
            Some(prepared) if prepared.capacity_bytes() >= capacity_bytes => Ok(prepared),
            other => {
                drop(slot);
                if let Some(too_small) = other {
                    too_small.discard();
                }
                PreparedSegment::create(
                    &self.options.file_system,
                    &self.dir,
                    capacity_bytes,
                    prefault_bytes(capacity_bytes),
                )
            }
        }
    }

    /// Asks the pool for the next segment, of `capacity_bytes`, if it is large enough to be worth
    /// preparing and the process holds fewer than its most prepared segments.
    pub(crate) fn request_segment(&self, capacity_bytes: u64) {
        if capacity_bytes < PREPARE_AHEAD_MIN_BYTES || prepared_segments() >= PREPARED_SEGMENTS_MAX
        {
            return;
        }
        self.prepared.lock().wanted_bytes = capacity_bytes;
        submit(Job::PrepareSegment(Weak::clone(&self.me)));
    }

    /// Closes the gate: waits for a job of this log that is running, makes later ones do
    /// nothing, and deletes the segment prepared ahead, if any.
    pub(crate) fn stop_background(&self) {
        // Once the gate is closed no job of this log runs, so none is preparing a segment.
        *self.background_gate.write() = false;
        if let Some(prepared) = self.prepared.lock().segment.take() {
            prepared.discard();
        }
    }

    /// Opens the gate again (a log unsealed after a failed reshard).
    pub(crate) fn start_background(&self) {
        *self.background_gate.write() = true;
    }

    /// Syncs what no sync covers yet (`Interval`), and records the durable point in the checkpoint.
    fn periodic_sync(&self) {
        if self.latched.load(Ordering::Acquire) {
            return; // nothing is retried after a failure; appends report it
        }
        if self.options.durability != Durability::Sync {
            let end = self.end_position();
            if self.sync_to(end).is_err() {
                return; // latched; appends report it
            }
        }
        let _ = self.write_durable_checkpoint();
    }
}
