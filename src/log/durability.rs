//! Getting appended bytes onto the disk: group commit, and the log's background thread.
//!
//! **Group commit.** `sync_to(target)` returns once everything before `target` is durable. One caller
//! at a time is the leader and syncs the whole published tail (`msync` of the range, which is an
//! fdatasync of it); callers arriving meanwhile wait, and most find their records covered by the
//! leader's sync. So N concurrent appenders in `Durability::Sync` pay for about two syncs per round,
//! not N.
//!
//! **Failure latch.** If a sync fails, the log latches: the failed range may or may not be on disk,
//! and retrying the fsync would falsely report success (Linux drops the dirty state after a failed
//! writeback). Every later append fails with `Latched` until the log is reopened and recovered.
//!
//! **Background thread.** One per log. It prepares the next segment (preallocate, map, pre-fault)
//! when the active one is half full, and in the `Interval` mode syncs the log every interval; in the
//! `Sync` mode it advances the checkpoint's durable point once a second. It holds the log's shared
//! state until `stop` joins it.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::Inner;
use super::checkpoint::LogPosition;
use super::options::Durability;
use super::segment::PreparedSegment;
use crate::error::{LogError, LogResult};

/// How far the log is known to be on disk, and whether a sync is running.
pub(crate) struct SyncProgress {
    state: Mutex<SyncState>,
    changed: Condvar,
}

struct SyncState {
    /// Invariant: only grows; every frame before it has been synced.
    durable: LogPosition,
    /// A leader is syncing right now.
    syncing: bool,
}

impl SyncProgress {
    pub(crate) fn new(durable: LogPosition) -> SyncProgress {
        SyncProgress {
            state: Mutex::new(SyncState {
                durable,
                syncing: false,
            }),
            changed: Condvar::new(),
        }
    }

    /// The durable point.
    pub(crate) fn durable(&self) -> LogPosition {
        self.state.lock().durable
    }

    /// Records that everything before `position` is durable (for syncs done outside `sync_to`).
    pub(crate) fn advance(&self, position: LogPosition) {
        let mut state = self.state.lock();
        state.durable = state.durable.max(position);
        self.changed.notify_all();
    }
}

impl Inner {
    /// Returns once every frame before `target` is on disk, sharing syncs with concurrent callers.
    pub(crate) fn sync_to(&self, target: LogPosition) -> LogResult<()> {
        loop {
            let from = {
                let mut state = self.sync.state.lock();
                loop {
                    if state.durable >= target {
                        return Ok(());
                    }
                    if self.latched.load(std::sync::atomic::Ordering::Acquire) {
                        return Err(LogError::Latched);
                    }
                    if !state.syncing {
                        state.syncing = true;
                        break state.durable;
                    }
                    self.sync.changed.wait(&mut state);
                }
            };
            let result = self.sync_from(from);
            let mut state = self.sync.state.lock();
            state.syncing = false;
            match result {
                Ok(reached) => state.durable = state.durable.max(reached),
                Err(error) => {
                    self.latch();
                    self.sync.changed.notify_all();
                    return Err(error);
                }
            }
            self.sync.changed.notify_all();
        }
    }

    /// Syncs every published byte at or after `from` and returns the position reached.
    fn sync_from(&self, from: LogPosition) -> LogResult<LogPosition> {
        #[cfg(test)]
        if self
            .fail_next_sync
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            let injected = std::io::Error::other("injected sync failure");
            return Err(LogError::io("syncing segment", &self.dir, injected));
        }
        let pending: Vec<_> = {
            let segments = self.segments.read();
            segments
                .iter()
                .filter(|segment| segment.base_counter() >= from.segment_base)
                .cloned()
                .collect()
        };
        let crosses_into_new_segment = pending
            .last()
            .is_some_and(|last| last.base_counter() > from.segment_base);
        if crosses_into_new_segment {
            // Segments created since the durable point must not vanish with their directory entry
            // (in the durable modes the roll already synced it; then this is one cheap extra fsync).
            super::segment::sync_directory(&self.dir)
                .map_err(|error| LogError::io("syncing shard directory", &self.dir, error))?;
        }
        let mut reached = from;
        for segment in pending {
            let end = segment.published_len();
            let start = if segment.base_counter() == from.segment_base {
                from.offset
            } else {
                0
            };
            segment
                .sync_range(start, end)
                .map_err(|error| LogError::io("syncing segment", segment.path(), error))?;
            reached = LogPosition {
                segment_base: segment.base_counter(),
                offset: end,
            };
        }
        Ok(reached)
    }
}

/// Wakes the background thread.
pub(crate) struct Signal {
    state: Mutex<SignalState>,
    wake: Condvar,
}

#[derive(Default)]
struct SignalState {
    segment_wanted: bool,
    stop: bool,
}

impl Signal {
    pub(crate) fn new() -> Signal {
        Signal {
            state: Mutex::new(SignalState::default()),
            wake: Condvar::new(),
        }
    }

    /// Asks the background thread to prepare the next segment.
    pub(crate) fn request_segment(&self) {
        self.state.lock().segment_wanted = true;
        self.wake.notify_one();
    }
}

/// The log's background thread.
pub(crate) struct Background {
    inner: Arc<Inner>,
    handle: Option<JoinHandle<()>>,
}

impl Background {
    /// Starts the thread. If the thread cannot be spawned, the log still works: segments are then
    /// prepared on the append path and `Interval` syncs do not happen until `sync` or close.
    pub(crate) fn start(inner: &Arc<Inner>) -> Background {
        // A thread stopped before (while the log was sealed) left the stop flag set.
        inner.signal.state.lock().stop = false;
        let thread_inner = Arc::clone(inner);
        let handle = std::thread::Builder::new()
            .name("shardlog-background".to_owned())
            .spawn(move || run(&thread_inner))
            .ok();
        Background {
            inner: Arc::clone(inner),
            handle,
        }
    }

    /// Stops the thread and waits for it.
    pub(crate) fn stop(mut self) {
        self.inner.signal.state.lock().stop = true;
        self.inner.signal.wake.notify_one();
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// How often the `Sync` mode writes its durable point to the checkpoint.
const SYNC_MODE_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);
/// How long the thread sleeps when it has no periodic work.
const IDLE_WAIT: Duration = Duration::from_secs(3600);

fn run(inner: &Inner) {
    let period = match inner.options.durability {
        Durability::PageCache => None,
        Durability::Interval(interval) => Some(interval),
        Durability::Sync => Some(SYNC_MODE_CHECKPOINT_INTERVAL),
    };
    let mut next_tick = period.map(|period| Instant::now() + period);
    loop {
        let segment_wanted = {
            let mut state = inner.signal.state.lock();
            while !state.stop && !state.segment_wanted {
                let deadline = next_tick.unwrap_or_else(|| Instant::now() + IDLE_WAIT);
                if inner
                    .signal
                    .wake
                    .wait_until(&mut state, deadline)
                    .timed_out()
                    && next_tick.is_some()
                {
                    break;
                }
            }
            if state.stop {
                return;
            }
            std::mem::take(&mut state.segment_wanted)
        };
        if segment_wanted && inner.options.prepare_segments_in_background {
            prepare_next_segment(inner);
        }
        if let (Some(period), Some(tick)) = (period, next_tick)
            && Instant::now() >= tick
        {
            periodic_sync(inner);
            next_tick = Some(Instant::now() + period);
        }
    }
}

fn prepare_next_segment(inner: &Inner) {
    {
        let mut slot = inner.prepared.lock();
        if slot.segment.is_some() {
            return;
        }
        slot.in_progress = true;
    }
    // Preparing takes milliseconds: do it without holding the lock. A failure here is not an
    // error yet: the writer will try again on the append path and report it there.
    let prepared = PreparedSegment::create(&inner.dir, inner.options.segment_bytes).ok();
    let mut slot = inner.prepared.lock();
    slot.in_progress = false;
    match prepared {
        Some(prepared) if slot.segment.is_none() => slot.segment = Some(prepared),
        Some(prepared) => prepared.discard(),
        None => {}
    }
    inner.prepared_ready.notify_all();
}

/// The next segment, as the background thread prepares it.
#[derive(Default)]
pub(crate) struct PreparedSlot {
    /// Ready to be put into service.
    pub segment: Option<PreparedSegment>,
    /// The background thread is preparing one right now.
    pub in_progress: bool,
}

impl Inner {
    /// The prepared segment: the one ready, or the one the background thread is preparing (waited
    /// for: preparing a second one at the same time would only slow both down), or a new one.
    pub(crate) fn take_prepared_segment(&self) -> std::io::Result<PreparedSegment> {
        let mut slot = self.prepared.lock();
        while slot.segment.is_none() && slot.in_progress {
            self.prepared_ready.wait(&mut slot);
        }
        match slot.segment.take() {
            Some(prepared) => Ok(prepared),
            None => {
                drop(slot);
                PreparedSegment::create(&self.dir, self.options.segment_bytes)
            }
        }
    }
}

fn periodic_sync(inner: &Inner) {
    if inner.latched.load(std::sync::atomic::Ordering::Acquire) {
        return; // nothing is retried after a failure; appends report it
    }
    if inner.options.durability != Durability::Sync {
        let end = inner.end_position();
        if inner.sync_to(end).is_err() {
            return; // latched; appends report it
        }
    }
    let _ = inner.write_durable_checkpoint();
}

/// Wakes readers blocked in `LogReader::wait_for_records` when records are published.
///
/// Appenders pay one fence and one atomic load per append call when nobody waits. The fence pairs
/// with the waiter's: either the appender sees the waiter registered and wakes it, or the waiter,
/// re-checking after registering, sees the new records (no lost wake-up).
pub(crate) struct AppendNotifier {
    waiters: std::sync::atomic::AtomicUsize,
    lock: Mutex<()>,
    appended: Condvar,
}

impl AppendNotifier {
    pub(crate) fn new() -> AppendNotifier {
        AppendNotifier {
            waiters: std::sync::atomic::AtomicUsize::new(0),
            lock: Mutex::new(()),
            appended: Condvar::new(),
        }
    }

    /// Called by the writer after publishing records.
    pub(crate) fn notify(&self) {
        use std::sync::atomic::{Ordering, fence};
        fence(Ordering::SeqCst);
        if self.waiters.load(Ordering::SeqCst) > 0 {
            let _guard = self.lock.lock();
            self.appended.notify_all();
        }
    }

    /// Blocks until `has_records()` is true or `deadline` passes; returns `has_records()`.
    pub(crate) fn wait_until(&self, deadline: Instant, has_records: impl Fn() -> bool) -> bool {
        use std::sync::atomic::{Ordering, fence};
        let mut guard = self.lock.lock();
        self.waiters.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let found = loop {
            if has_records() {
                break true;
            }
            if self.appended.wait_until(&mut guard, deadline).timed_out() {
                break has_records();
            }
        };
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        found
    }
}
