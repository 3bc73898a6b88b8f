//! Getting appended bytes onto the disk: group commit and the failure latch.
//!
//! **Group commit.** `sync_to(target)` returns once everything before `target` is durable. One caller
//! at a time is the leader and syncs the whole published tail (`msync` of the range, which is an
//! fdatasync of it); callers arriving meanwhile wait, and most find their records covered by the
//! leader's sync. So N concurrent appenders in `Durability::Sync` pay for about two syncs per round,
//! not N.
//!
//! **Failure latch.** If a sync fails, the log latches: the failed range may or may not be on disk,
//! and retrying the fsync would falsely report success (Linux drops the dirty state after a failed
//! writeback). Every later append fails with `Latched` until the log is reopened and recovered
//! (`ShardLog::recover_if_latched` does it in place).
//!
//! Periodic syncs (the `Interval` mode) run on the process-wide pool; see `background.rs`.

use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use super::Inner;
use super::checkpoint::LogPosition;
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

    /// Starts over from `durable`, what a reopen found on disk: the one exception to "only
    /// grows", for a log reopened in place after a failed sync (see `Inner::reopen`), whose
    /// in-memory durable point can no longer be trusted. Waits for a sync in progress to end.
    pub(crate) fn restart_from(&self, durable: LogPosition) {
        let mut state = self.state.lock();
        while state.syncing {
            self.changed.wait(&mut state);
        }
        state.durable = durable;
        self.changed.notify_all();
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

    /// Makes a creation that was never synced durable (see `LogOptions::counter_epoch`): the
    /// checkpoint, and the directory entries of the shard's files and of its directory. Whatever
    /// first moves the durable point off "nothing" does this first.
    pub(crate) fn sync_creation(&self) -> LogResult<()> {
        let created = || -> std::io::Result<()> {
            self.checkpoint.lock().sync_file()?;
            let file_system = &self.options.file_system;
            file_system.sync_directory(&self.dir)?;
            match self.dir.parent() {
                Some(parent) => file_system.sync_directory(parent),
                None => Ok(()),
            }
        };
        created().map_err(|error| LogError::io("syncing a new shard", &self.dir, error))
    }

    /// Syncs every published byte at or after `from` and returns the position reached.
    fn sync_from(&self, from: LogPosition) -> LogResult<LogPosition> {
        let pending: Vec<_> = {
            let segments = self.segments.read();
            segments
                .iter()
                .filter(|segment| segment.base_counter() >= from.segment_base)
                .cloned()
                .collect()
        };
        if from == super::recovery::NOTHING_DURABLE {
            self.sync_creation()?;
        }
        let crosses_into_new_segment = pending
            .last()
            .is_some_and(|last| last.base_counter() > from.segment_base);
        if crosses_into_new_segment {
            // Segments created since the durable point must not vanish with their directory entry
            // (in the durable modes the roll already synced it; then this is one cheap extra fsync).
            self.options
                .file_system
                .sync_directory(&self.dir)
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
