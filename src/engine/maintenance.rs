//! The maintenance thread: one per engine, waking every `maintenance_interval` to delete expired
//! data (whole segments, and closed shards whose data has all expired), to split the hot shards
//! of ON_DEMAND streams, and to remove deleted streams' files a deletion could not remove.
//!
//! It holds the engine's shared state, not the engine: dropping the engine stops and joins it.
//! Each pass is [`run_once`], which [`super::Engine::run_maintenance`] also exposes, so tests drive
//! it deterministically with a manual clock.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::Shared;
use crate::error::LogError;
use crate::stream::{Stream, StreamResult};

/// What one maintenance pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaintenanceReport {
    /// Segment files deleted because all their records expired.
    pub segments_deleted: usize,
    /// Bytes of those segments.
    pub bytes_deleted: u64,
    /// Closed shards whose data all expired, removed from the stream (Kinesis EXPIRED).
    pub shards_expired: usize,
    /// Shards of ON_DEMAND streams split because they were hot.
    pub shards_split: usize,
}

impl MaintenanceReport {
    fn add(&mut self, other: MaintenanceReport) {
        self.segments_deleted += other.segments_deleted;
        self.bytes_deleted += other.bytes_deleted;
        self.shards_expired += other.shards_expired;
        self.shards_split += other.shards_split;
    }
}

/// One maintenance pass over every stream. Every stream is visited even if one fails; the first
/// error is returned after the pass.
pub(crate) fn run_once(shared: &Shared) -> StreamResult<MaintenanceReport> {
    let streams: Vec<Arc<Stream>> = shared.streams.read().values().cloned().collect();
    let mut report = MaintenanceReport::default();
    let mut first_error = None;
    {
        // Under the catalog lock: a deletion removes its own trash while holding it.
        let _catalog = shared.context.catalog.lock();
        if let Err(error) = shared.data_dir.empty_trash() {
            first_error = Some(LogError::io("removing deleted streams", &shared.dir, error).into());
        }
    }
    let mut scaling = shared.scaling.lock();
    scaling.forget_streams_other_than(&streams);
    for stream in streams {
        match stream.expire() {
            Ok(expired) => report.add(expired),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
        match scaling.scale(&stream, &shared.on_demand) {
            Ok(split) => report.shards_split += split,
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    match first_error {
        Some(error) => Err(error),
        None => Ok(report),
    }
}

/// The running thread and the means to stop it.
pub(crate) struct Maintenance {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: JoinHandle<()>,
}

impl Maintenance {
    pub(crate) fn start(shared: Arc<Shared>, interval: Duration) -> std::io::Result<Maintenance> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let signal = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("shardlog-maintenance".to_owned())
            .spawn(move || {
                let (stopped, wake) = &*signal;
                loop {
                    {
                        let mut stopped = stopped.lock();
                        if !*stopped {
                            wake.wait_for(&mut stopped, interval);
                        }
                        if *stopped {
                            return;
                        }
                    }
                    // A failed pass (a full disk, say) is retried on the next wake; the error is
                    // kept for `Engine::last_maintenance_error`.
                    let outcome = run_once(&shared);
                    *shared.last_maintenance_error.lock() =
                        outcome.err().map(|error| error.to_string());
                }
            })?;
        Ok(Maintenance { stop, thread })
    }

    /// Stops the thread and waits for it, finishing a pass in progress first.
    pub(crate) fn stop(self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock() = true;
        wake.notify_all();
        // A panicked maintenance thread has nothing left to clean up.
        let _ = self.thread.join();
    }
}
