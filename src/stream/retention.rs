//! Retention: records older than the stream's retention period are unreadable, and the maintenance
//! pass deletes what holds only such records.
//!
//! Two mechanisms, because segments are the unit of deletion but not of expiry:
//! - The **trim horizon** (now − retention) is applied on every read: TRIM_HORIZON starts at the
//!   first record that arrived at or after it, an older AT_TIMESTAMP is raised to it, and a reader
//!   positioned before it (by an old iterator or sequence number) jumps to it. So data is
//!   unreadable the moment it expires, and a lowered retention takes effect at once. The horizon
//!   never moves back: raising the retention period keeps what had expired expired (as Kinesis
//!   promises), even where its files are not deleted yet.
//! - **Deletion** ([`Stream::expire`]) removes whole segments whose newest record is older than the
//!   trim horizon, and closed shards all of whose records are (Kinesis' EXPIRED shards, which
//!   no listing shows). Files are really removed; readers holding records or positioned in a
//!   deleted segment keep working, because records keep their segment's mapping alive.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{Shard, ShardTable, Stream, StreamMeta, StreamResult, shard_dir};
use crate::error::LogError;
use crate::log::{LogReader, SeekTo};
use crate::record::Record;
use crate::stream::ShardId;

/// What one [`Stream::expire`] deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpiryReport {
    /// Segment files deleted because all their records expired.
    pub segments_deleted: usize,
    /// Bytes of those segments.
    pub bytes_deleted: u64,
    /// Closed shards whose data all expired, removed from the stream (Kinesis EXPIRED).
    pub shards_expired: usize,
}

/// Milliseconds in an hour.
const HOUR_MS: u64 = 3_600_000;

/// The trim horizon of a stream with metadata `meta` at `now_ms`: now − retention, but never
/// before a horizon passed under a shorter period (the horizon only moves forward, so a record
/// that expired stays expired when the retention period is raised).
pub(crate) fn trim_horizon_ms(meta: &StreamMeta, now_ms: u64) -> u64 {
    let retention_ms = u64::from(meta.retention_hours) * HOUR_MS;
    now_ms
        .saturating_sub(retention_ms)
        .max(meta.expired_before_ms)
}

impl Stream {
    /// The trim horizon now: records that arrived before it have expired.
    pub fn trim_horizon_ms(&self) -> u64 {
        let meta = self.meta.read();
        trim_horizon_ms(&meta, self.context.clock.now_ms())
    }

    /// Reads up to `limit` records (and `bytes_max` of data) that have not expired. If the reader
    /// stands before the trim horizon, it first jumps to the oldest record that has not expired.
    /// Returns the size of the records read (partition keys plus data), as metrics count it.
    pub(crate) fn read_unexpired(
        &self,
        shard: &Shard,
        reader: &mut LogReader,
        out: &mut Vec<Record>,
        limit: usize,
        bytes_max: usize,
    ) -> StreamResult<u64> {
        let read = self.read_unexpired_records(shard, reader, out, limit, bytes_max);
        match read {
            // The shard expired and was forgotten while the reader was in it: its files are being
            // removed (a segment the reader had not mapped yet cannot be mapped any more), and all
            // its records had expired anyway. It is gone, as for any later call.
            Err(error) if self.shard_by_identity(shard.meta.identity()).is_none() => Err(self
                .shard(ShardId::new(shard.meta.index))
                .err()
                .unwrap_or(error)),
            read => read,
        }
    }

    fn read_unexpired_records(
        &self,
        shard: &Shard,
        reader: &mut LogReader,
        out: &mut Vec<Record>,
        limit: usize,
        bytes_max: usize,
    ) -> StreamResult<u64> {
        let first = out.len();
        let (_, mut bytes) = reader.read_into_measured(out, limit, bytes_max)?;
        let trim_ms = self.trim_horizon_ms();
        let expired = out
            .get(first)
            .is_some_and(|record| record.arrival_ms() < trim_ms);
        if expired {
            // Arrivals never decrease in a shard, so the expired records are a prefix of the
            // shard and the first unexpired one lies ahead of the reader.
            out.truncate(first);
            *reader = shard.log.reader(SeekTo::AtTimestamp(trim_ms))?;
            (_, bytes) = reader.read_into_measured(out, limit, bytes_max)?;
        }
        Ok(bytes)
    }

    /// Deletes expired data: segments whose records have all expired, in every shard, and closed
    /// shards whose records have all expired (they leave the catalog first, then their files go).
    ///
    /// Invariant: a shard is forgotten only with or after its parents, so a listed shard's
    /// ancestors are all listed, and a consumer that treats a shard with no listed parent as a
    /// root (as Kinesis consumers do) cannot start a child while an ancestor still holds records.
    /// The rule is needed because a child can expire first: an empty child (born closed within
    /// UpdateShardCount, or closed again before any write) expires by its close time, and its
    /// parent's last append, in flight when the reshard began, may have arrived after that.
    pub fn expire(&self) -> StreamResult<ExpiryReport> {
        let trim_ms = self.trim_horizon_ms();
        let mut report = ExpiryReport::default();
        let shards = self.shards(); // by index, so parents come before their children
        let listed: BTreeSet<u32> = shards.iter().map(|shard| shard.meta.index).collect();
        let mut expired_shards = BTreeSet::new();
        for shard in shards {
            // A closed shard expires once its newest record has (an append in flight when the
            // reshard began may arrive after the close time), or, holding none, once its close has.
            let own_records_expired = match shard.closed_secs() {
                Some(closed_secs) => {
                    let newest_ms = shard
                        .log
                        .last_arrival_ms()?
                        .unwrap_or(closed_secs.saturating_mul(1000));
                    newest_ms < trim_ms
                }
                None => false,
            };
            let parents_gone = [shard.meta.parent, shard.meta.adjacent_parent]
                .into_iter()
                .flatten()
                .all(|parent| !listed.contains(&parent) || expired_shards.contains(&parent));
            if own_records_expired && parents_gone {
                expired_shards.insert(shard.meta.index);
            } else {
                let deleted = shard.log.delete_segments_older_than(trim_ms)?;
                report.segments_deleted += deleted.segments_deleted.len();
                report.bytes_deleted += deleted.bytes_deleted;
            }
        }
        if !expired_shards.is_empty() {
            let expired_shards: Vec<u32> = expired_shards.into_iter().collect();
            report.shards_expired = self.forget_shards(&expired_shards)?;
        }
        Ok(report)
    }

    /// Removes closed shards from the catalog and the shard table, then deletes their files.
    fn forget_shards(&self, indexes: &[u32]) -> StreamResult<usize> {
        let mut meta = self.meta.write();
        let mut changed = meta.clone();
        changed
            .shards
            .retain(|shard| !indexes.contains(&shard.index));
        changed
            .store_on(&self.context.file_system, &self.dir)
            .map_err(|error| LogError::io("writing stream metadata", &self.dir, error))?;
        *meta = changed;
        let forgotten: Vec<Arc<Shard>> = {
            let mut table = self.shards.change();
            let (forgotten, kept): (Vec<_>, Vec<_>) = table
                .all()
                .iter()
                .cloned()
                .partition(|shard| indexes.contains(&shard.meta.index));
            *table = ShardTable::new(kept);
            forgotten
        };
        drop(meta);
        let count = forgotten.len();
        for shard in forgotten {
            let dir = shard_dir(&self.dir, shard.meta.index);
            // Nothing may write into the directory while it is removed: not the log's close when a
            // reader drops the last handle later, nor its background thread. Readers still in the
            // shard keep the records they hold (their mappings stay valid after the files go), and
            // their next read answers ResourceNotFound (see `read_unexpired`).
            shard.log.abandon();
            drop(shard);
            match std::fs::remove_dir_all(&dir) {
                // A shard that never took a record may never have been created on disk.
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                    return Err(LogError::io("deleting expired shard", &dir, error).into());
                }
                _ => {}
            }
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::HOUR_MS;
    use crate::clock::{Clock, ManualClock};
    use crate::record::RecordInput;
    use crate::{CreateStream, Engine, EngineOptions, ShardId};

    const START_MS: u64 = 1_700_000_000_000;

    /// The race that can leave a parent holding records newer than its child, made
    /// deterministic: UpdateShardCount closes a parent and creates shards born closed below it,
    /// and the parent's last append, in flight when the reshard began, arrives an hour later. The
    /// child holds nothing and expires by its close time, yet it stays listed until its parent
    /// goes, and then they go together.
    #[test]
    fn a_shard_is_forgotten_only_with_or_after_its_parents() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(START_MS));
        let engine = Engine::open(
            dir.path(),
            EngineOptions {
                segment_bytes: 1 << 20,
                clock: Arc::clone(&clock) as Arc<dyn Clock>,
                maintenance_interval: None,
                ..EngineOptions::default()
            },
        )
        .unwrap();
        let stream = engine
            .create_stream(CreateStream::provisioned("lineage", 2))
            .unwrap();
        stream.update_shard_count(3).unwrap();
        let meta = stream.meta();
        let born_closed = meta
            .shards
            .iter()
            .find(|shard| shard.parent.is_some() && shard.closed_secs.is_some())
            .expect("2 -> 3 shards passes through shards born closed");
        let (child, parent) = (born_closed.index, born_closed.parent.unwrap());

        clock.advance_ms(HOUR_MS);
        let parent_log = &stream.shard(ShardId::new(parent)).unwrap().log;
        parent_log.set_sealed(false);
        parent_log
            .append(RecordInput {
                partition_key: "late",
                explicit_hash_key: None,
                data: b"in flight when the reshard began",
            })
            .unwrap();
        parent_log.set_sealed(true);

        let listed = |stream: &crate::Stream| -> Vec<u32> {
            stream
                .meta()
                .shards
                .iter()
                .map(|shard| shard.index)
                .collect()
        };
        clock.advance_ms(24 * HOUR_MS - HOUR_MS / 2);
        assert!(
            stream.trim_horizon_ms() > START_MS + 1000,
            "the child's close expired"
        );
        stream.expire().unwrap();
        let after_child_expired = listed(&stream);
        assert!(
            after_child_expired.contains(&child) && after_child_expired.contains(&parent),
            "shard {child} was forgotten before its parent {parent}: {after_child_expired:?}"
        );

        clock.advance_ms(HOUR_MS);
        let report = stream.expire().unwrap();
        let after_parent_expired = listed(&stream);
        assert!(
            !after_parent_expired.contains(&child) && !after_parent_expired.contains(&parent),
            "{after_parent_expired:?}"
        );
        assert_eq!(
            after_parent_expired,
            meta.shards
                .iter()
                .filter(|shard| shard.closed_secs.is_none())
                .map(|shard| shard.index)
                .collect::<Vec<_>>(),
            "every closed shard went, in one pass"
        );
        assert_eq!(
            report.shards_expired,
            after_child_expired.len() - after_parent_expired.len()
        );
    }
}
