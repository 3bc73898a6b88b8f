//! The maintenance thread: one per engine, waking every `maintenance_interval` to delete expired
//! data (whole segments, and closed shards whose data has all expired), to split the hot shards
//! of ON_DEMAND streams, to reopen shard logs that a failed write or sync latched, and to remove
//! deleted streams' files a deletion could not remove.
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
use crate::stream::{ExpiryReport, Stream, StreamResult};

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
    /// Shards whose log a failed write or sync had latched, reopened from disk: they take
    /// writes again.
    pub shards_reopened: usize,
}

impl MaintenanceReport {
    fn add_expiry(&mut self, expiry: ExpiryReport) {
        self.segments_deleted += expiry.segments_deleted;
        self.bytes_deleted += expiry.bytes_deleted;
        self.shards_expired += expiry.shards_expired;
    }
}

/// One maintenance pass over every stream. Every stream is visited even if one fails; the first
/// error is returned after the pass.
pub(crate) fn run_once(shared: &Shared) -> StreamResult<MaintenanceReport> {
    let streams: Vec<Arc<Stream>> = shared.streams.read().values().cloned().collect();
    let mut report = MaintenanceReport::default();
    let mut first_error = None;
    {
        // Under the ledger's lock: a deletion removes its own trash while holding it.
        let _ledger = shared.context.ledger.lock();
        if let Err(error) = shared.data_dir.empty_trash() {
            first_error = Some(LogError::io("removing deleted streams", &shared.dir, error).into());
        }
    }
    let mut scaling = shared.scaling.lock();
    scaling.forget_streams_other_than(&streams);
    for stream in streams {
        // A shard latched by a failed write (a full or failing disk) takes writes again once its
        // log reopens; on a disk still failing, the next pass tries again.
        match stream.recover_latched_shards() {
            Ok(reopened) => report.shards_reopened += reopened,
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
        match stream.expire() {
            Ok(expired) => report.add_expiry(expired),
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::clock::{Clock, ManualClock};
    use crate::log::Durability;
    use crate::stream::{PutRecordInput, StartingPosition};
    use crate::{CreateStream, Engine, EngineOptions, FaultyFileSystem, FileSystem};

    /// A shard whose sync failed refuses writes (its log latched), and the next maintenance pass
    /// reopens it: it takes writes again without a restart, and every acknowledged record reads
    /// back, once, in order (issue 12, item 8).
    #[test]
    fn a_maintenance_pass_reopens_a_latched_shard_and_it_takes_writes_again() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        let disk = Arc::new(FaultyFileSystem::new());
        let engine = Engine::open(
            dir.path(),
            EngineOptions {
                durability: Durability::Sync,
                file_system: Arc::clone(&disk) as Arc<dyn FileSystem>,
                clock: Arc::clone(&clock) as Arc<dyn Clock>,
                maintenance_interval: None,
                ..EngineOptions::default()
            },
        )
        .unwrap();
        let stream = engine
            .create_stream(CreateStream::provisioned("s", 1))
            .unwrap();
        let put = |data: &str| {
            clock.advance_ms(1);
            stream.put_record(PutRecordInput::new("key", data.as_bytes()))
        };
        let mut acknowledged = vec![put("before").unwrap().sequence_number];

        let shard = stream.shards().remove(0);
        disk.fail_next_sync();
        let failed = put("its sync fails").unwrap_err();
        assert_eq!(failed.kinesis_error_code(), "InternalFailure");
        let refused = put("refused while latched").unwrap_err();
        assert_eq!(refused.kinesis_error_code(), "InternalFailure");

        let report = engine.run_maintenance().unwrap();
        assert_eq!(report.shards_reopened, 1);
        for i in 0..3 {
            acknowledged.push(put(&format!("after {i}")).unwrap().sequence_number);
        }
        assert_eq!(engine.run_maintenance().unwrap().shards_reopened, 0);

        let mut reader = stream
            .reader(shard.id(), StartingPosition::TrimHorizon)
            .unwrap();
        let read: Vec<_> = reader
            .next_batch(100)
            .unwrap()
            .records
            .iter()
            .filter(|record| record.data() != b"its sync fails")
            .map(|record| record.sequence_number())
            .collect();
        assert_eq!(read, acknowledged);
    }
}
