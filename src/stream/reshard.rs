//! Resharding: SplitShard, MergeShards and UpdateShardCount, and the splits the ON_DEMAND scaler
//! makes.
//!
//! Every reshard is worked out first as a [`Plan`]: a copy of the catalog with parents closed and
//! children added, checked against Kinesis' rules and the engine's limits before any file is
//! touched. Applying it keeps three promises:
//!
//! 1. **No acknowledged record is lost.** Children take writes only after the catalog that lists
//!    them is durable; if the process dies before that, the children's directories are unlisted
//!    and removed on the next open, and they never held a record.
//! 2. **A parent's contents are final before its children take writes.** Its log is sealed (appends
//!    in flight finish, later ones fail with `Sealed` and are routed again) and synced, under the
//!    shard-table write lock, which also holds off routing until the new table is in place.
//! 3. **A reader that drains a parent sees all of it.** The shard is marked closed only after the
//!    seal and the catalog update, and readers check "closed" before "no more records".
//! 4. **A failed reshard leaves no trace.** The new catalog is written and synced beside the old
//!    one before any parent is sealed, so a full disk fails the reshard before anything changed;
//!    the rename that commits it needs no space. Children's logs open lazily, so they have no
//!    files before the commit. After a later failure (a seal's sync), the parents are unsealed.
//!
//! UpdateShardCount with UNIFORM_SCALING is built from the same two steps as Kinesis builds it: split
//! every open shard at each target boundary inside it, then merge the pieces inside each target
//! range. Pieces made and merged within the one operation are short-lived closed shards, as in
//! Kinesis. All shards created by one operation share one creation second, unique in the engine.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::daily_limits;
use super::error::{Constraint, InUse, InvalidArgument, Limit, MemberValue, NotFound, Validation};
use super::hash_key::{HashKey, HashKeyRange};
use super::meta::{ShardMeta, StreamMeta, StreamMode, StreamStatus};
use super::names::ShardId;
use super::{Shard, ShardTable, Stream, StreamError, StreamResult, open_shard, shard_dir};
use crate::error::LogError;

/// The answer to UpdateShardCount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdateShardCountOutput {
    /// Open shards before the call.
    pub current_shard_count: u32,
    /// Open shards after it.
    pub target_shard_count: u32,
}

/// Who asked for a reshard: users may not reshard ON_DEMAND streams, the scaler does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Requester {
    User,
    OnDemandScaler,
}

/// A reshard worked out on a copy of the catalog.
struct Plan {
    meta: StreamMeta,
    /// Indexes of the shards this plan creates.
    created: BTreeSet<u32>,
}

/// Creation and close seconds are filled in once the plan has passed every check.
const UNSET_SECS: u64 = 0;

impl Plan {
    fn shard(&self, index: u32) -> Option<&ShardMeta> {
        self.meta.shards.iter().find(|shard| shard.index == index)
    }

    fn close(&mut self, index: u32) {
        if let Some(shard) = self.meta.shards.iter_mut().find(|s| s.index == index) {
            shard.closed_secs = Some(UNSET_SECS);
        }
    }

    fn add(&mut self, range: HashKeyRange, parent: u32, adjacent_parent: Option<u32>) -> u32 {
        let index = self.meta.next_shard_index;
        self.meta.next_shard_index += 1;
        self.meta.shards.push(ShardMeta {
            index,
            created_secs: UNSET_SECS,
            hash_key_range: range,
            parent: Some(parent),
            adjacent_parent,
            closed_secs: None,
        });
        self.created.insert(index);
        index
    }

    /// Closes open shard `parent` and opens two children split at `at` (which must lie in
    /// `starting + 1 ..= ending`): `[starting, at − 1]` and `[at, ending]`.
    fn split(&mut self, parent: u32, at: HashKey) -> (u32, u32) {
        let range = self
            .shard(parent)
            .map_or(HashKeyRange::ALL, |shard| shard.hash_key_range);
        self.close(parent);
        let low = self.add(
            HashKeyRange {
                starting: range.starting,
                ending: at - 1,
            },
            parent,
            None,
        );
        let high = self.add(
            HashKeyRange {
                starting: at,
                ending: range.ending,
            },
            parent,
            None,
        );
        (low, high)
    }

    /// Closes open shards `shard` and `adjacent` (whose ranges touch) and opens their union.
    fn merge(&mut self, shard: u32, adjacent: u32) -> u32 {
        let ranges: Vec<HashKeyRange> = [shard, adjacent]
            .iter()
            .filter_map(|&index| self.shard(index).map(|s| s.hash_key_range))
            .collect();
        let range = HashKeyRange {
            starting: ranges.iter().map(|r| r.starting).min().unwrap_or(0),
            ending: ranges.iter().map(|r| r.ending).max().unwrap_or(u128::MAX),
        };
        self.close(shard);
        self.close(adjacent);
        self.add(range, shard, Some(adjacent))
    }

    /// Open shards sorted by starting hash key.
    fn open_shards(&self) -> Vec<ShardMeta> {
        let mut open: Vec<ShardMeta> = self
            .meta
            .shards
            .iter()
            .filter(|shard| shard.closed_secs.is_none())
            .cloned()
            .collect();
        open.sort_by_key(|shard| shard.hash_key_range.starting);
        open
    }

    /// Splits and merges until the open shards are exactly the `target` even ranges.
    fn uniform(&mut self, target: u32) {
        let targets = HashKeyRange::even_split(target);
        // Split every open shard at each target boundary strictly inside it.
        for boundary in targets.iter().skip(1).map(|range| range.starting) {
            let owner = self.open_shards().into_iter().find(|shard| {
                shard.hash_key_range.starting < boundary && boundary <= shard.hash_key_range.ending
            });
            if let Some(owner) = owner {
                self.split(owner.index, boundary);
            }
        }
        // Merge the pieces inside each target range, left to right.
        for range in targets {
            loop {
                let inside: Vec<ShardMeta> = self
                    .open_shards()
                    .into_iter()
                    .filter(|shard| {
                        range.starting <= shard.hash_key_range.starting
                            && shard.hash_key_range.ending <= range.ending
                    })
                    .collect();
                match inside.as_slice() {
                    [first, second, ..] => {
                        self.merge(first.index, second.index);
                    }
                    _ => break,
                }
            }
        }
    }
}

fn open_count(meta: &StreamMeta) -> u32 {
    let open = meta
        .shards
        .iter()
        .filter(|shard| shard.closed_secs.is_none())
        .count();
    u32::try_from(open).unwrap_or(u32::MAX)
}

impl Stream {
    /// Splits an open shard in two at `new_starting_hash_key` (Kinesis SplitShard; PROVISIONED
    /// streams only). The key must satisfy `StartingHashKey + 1 < key < EndingHashKey`.
    pub fn split_shard(
        &self,
        shard_to_split: &str,
        new_starting_hash_key: &str,
    ) -> StreamResult<()> {
        self.reshard(Requester::User, |stream, plan| {
            let parent = stream.open_shard_for_reshard(plan, shard_to_split)?;
            let range = parent.hash_key_range;
            let bad_key = || -> StreamError {
                InvalidArgument::SplitKeyOutsideShard {
                    key: new_starting_hash_key.to_owned(),
                    shard: shard_to_split.to_owned(),
                    stream: plan.meta.name.clone(),
                    account: stream.context.account_id.clone(),
                    range: Box::new(range),
                }
                .into()
            };
            let key: HashKey = new_starting_hash_key.parse().map_err(|_| bad_key())?;
            if key <= range.starting.saturating_add(1) || key >= range.ending {
                return Err(bad_key());
            }
            plan.split(parent.index, key);
            Ok(())
        })
    }

    /// Merges two open shards with adjacent hash-key ranges into one (Kinesis MergeShards;
    /// PROVISIONED streams only). As in Kinesis, the adjacent shard's range must follow the
    /// shard's: the pair in the other order is refused (recorded in kinesalite's
    /// test/mergeShards.js, "adjacency is inverted").
    pub fn merge_shards(
        &self,
        shard_to_merge: &str,
        adjacent_shard_to_merge: &str,
    ) -> StreamResult<()> {
        self.reshard(Requester::User, |stream, plan| {
            let shard = stream.open_shard_for_reshard(plan, shard_to_merge)?;
            let adjacent = stream.open_shard_for_reshard(plan, adjacent_shard_to_merge)?;
            let (a, b) = (shard.hash_key_range, adjacent.hash_key_range);
            if a.ending.checked_add(1) != Some(b.starting) {
                return Err(InvalidArgument::NotAdjacent {
                    shard: shard_to_merge.to_owned(),
                    adjacent: adjacent_shard_to_merge.to_owned(),
                    stream: plan.meta.name.clone(),
                    account: stream.context.account_id.clone(),
                }
                .into());
            }
            plan.merge(shard.index, adjacent.index);
            Ok(())
        })
    }

    /// Re-tiles the open shards into `target_shard_count` even ranges (Kinesis UpdateShardCount
    /// with UNIFORM_SCALING; PROVISIONED streams only). The target must lie between half and
    /// double the open shard count.
    pub fn update_shard_count(
        &self,
        target_shard_count: u32,
    ) -> StreamResult<UpdateShardCountOutput> {
        let mut current = 0;
        self.reshard(Requester::User, |_, plan| {
            current = open_count(&plan.meta);
            let target = target_shard_count;
            if target == 0 {
                return Err(StreamError::member(
                    MemberValue::Number(0),
                    "targetShardCount",
                    Constraint::ValueAtLeast(1),
                ));
            }
            if u64::from(target) > 2 * u64::from(current) {
                return Err(InvalidArgument::ScaleUpOverDouble { current, target }.into());
            }
            if 2 * u64::from(target) < u64::from(current) {
                return Err(InvalidArgument::ScaleDownBelowHalf { current, target }.into());
            }
            let now_ms = self.context.clock.now_ms();
            let limit = self.context.shard_count_updates_per_day;
            daily_limits::record_use(
                &mut plan.meta.shard_count_updates_ms,
                now_ms,
                limit,
                |max| {
                    Limit::ShardCountUpdatesPerDay {
                        max,
                        stream: plan.meta.name.clone(),
                        account: self.context.account_id.clone(),
                    }
                    .into()
                },
            )?;
            plan.uniform(target);
            Ok(())
        })?;
        Ok(UpdateShardCountOutput {
            current_shard_count: current,
            target_shard_count,
        })
    }

    /// Splits open shard `index` at the middle of its range, as Kinesis' on-demand mode splits a
    /// hot shard: the low child ends at `floor((start + end) / 2)`.
    pub(crate) fn split_in_half(&self, index: u32) -> StreamResult<()> {
        self.reshard(Requester::OnDemandScaler, |_, plan| {
            let Some(shard) = plan.shard(index).filter(|s| s.closed_secs.is_none()) else {
                return Err(InvalidArgument::ShardNotOpen { index }.into());
            };
            let range = shard.hash_key_range;
            if range.ending - range.starting < 2 {
                return Err(InvalidArgument::ShardTooNarrow { index }.into());
            }
            let middle = range.starting + (range.ending - range.starting) / 2;
            plan.split(index, middle + 1);
            Ok(())
        })
    }

    /// The open shard named `id` in `plan`, or Kinesis' error for a missing or closed one.
    fn open_shard_for_reshard(&self, plan: &Plan, id: &str) -> StreamResult<ShardMeta> {
        let not_found = || -> StreamError {
            NotFound::UnknownShard {
                shard: id.to_owned(),
                stream: plan.meta.name.to_string(),
                account: self.context.account_id.clone(),
            }
            .into()
        };
        let index = id.parse::<ShardId>().map_err(|_| not_found())?.index();
        let shard = plan.shard(index).ok_or_else(not_found)?;
        if shard.closed_secs.is_some() {
            return Err(InvalidArgument::ShardClosed {
                shard: id.to_owned(),
                stream: plan.meta.name.clone(),
                account: self.context.account_id.clone(),
            }
            .into());
        }
        Ok(shard.clone())
    }

    /// Checks, plans and applies one reshard; see the module documentation for the promises.
    fn reshard(
        &self,
        requester: Requester,
        build: impl FnOnce(&Stream, &mut Plan) -> StreamResult<()>,
    ) -> StreamResult<()> {
        let mut ledger = self.context.ledger.lock();
        let mut meta = self.meta.write();
        let now_ms = self.context.clock.now_ms();
        if requester == Requester::User && meta.mode == StreamMode::OnDemand {
            return Err(Validation::ReshardOfOnDemand {
                stream: meta.name.clone(),
                account: self.context.account_id.clone(),
            }
            .into());
        }
        let status = meta.status_at(now_ms);
        if status != StreamStatus::Active {
            return Err(InUse::StreamNotActive {
                stream: meta.name.clone(),
                account: self.context.account_id.clone(),
                status,
            }
            .into());
        }
        let mut plan = Plan {
            meta: meta.clone(),
            created: BTreeSet::new(),
        };
        build(self, &mut plan)?;

        let open_before = open_count(&meta);
        let open_after = open_count(&plan.meta);
        if open_after > self.context.max_shards_per_stream {
            return Err(Limit::ShardsPerStream {
                max: self.context.max_shards_per_stream,
            }
            .into());
        }
        let added = u64::from(open_after.saturating_sub(open_before));
        self.context.check_shard_quota(&ledger, added)?;

        // Every check passed: stamp the times, then touch files.
        let created_secs = ledger.allocate_shard_created_secs(now_ms / 1000)?;
        let now_secs = now_ms / 1000;
        for shard in &mut plan.meta.shards {
            if plan.created.contains(&shard.index) {
                shard.created_secs = created_secs;
            }
            if shard.closed_secs == Some(UNSET_SECS) {
                shard.closed_secs = Some(now_secs.max(shard.created_secs));
            }
        }
        plan.meta.updating_until_ms = now_ms.saturating_add(self.context.update_delay_ms);
        self.apply(&mut meta, plan)?;
        ledger.replace_open_shards(u64::from(open_before), u64::from(open_after));
        Ok(())
    }

    /// Makes `plan` real: see the module documentation for the order and why.
    fn apply(&self, meta: &mut StreamMeta, plan: Plan) -> StreamResult<()> {
        let mut children = Vec::new();
        for shard_meta in plan
            .meta
            .shards
            .iter()
            .filter(|s| plan.created.contains(&s.index))
        {
            let dir = shard_dir(&self.dir, shard_meta.index);
            let opened = remove_stale_dir(&dir).and_then(|()| {
                open_shard(
                    &self.context,
                    &self.dir,
                    &plan.meta,
                    shard_meta.clone(),
                    self.shards.metrics(),
                )
            });
            match opened {
                Ok(shard) => children.push(Arc::new(shard)),
                Err(error) => {
                    self.discard(children);
                    return Err(error);
                }
            }
        }

        // Everything that needs free space happens before anything changes: a reshard that fails
        // on a full disk leaves the parents as they were, taking writes in their segments.
        let staged = match plan.meta.stage(&self.context.file_system, &self.dir) {
            Ok(staged) => staged,
            Err(error) => {
                self.discard(children);
                return Err(LogError::io("writing stream metadata", &self.dir, error).into());
            }
        };
        let mut table = self.shards.change();
        let closing: Vec<(Arc<Shard>, u64)> = plan
            .meta
            .shards
            .iter()
            .filter(|shard| !plan.created.contains(&shard.index))
            .filter_map(|shard| Some((table.by_id(shard.id())?, shard.closed_secs?)))
            .filter(|(shard, _)| shard.closed_secs().is_none())
            .map(|(shard, closed_secs)| (Arc::clone(shard), closed_secs))
            .collect();
        let mut sealed = Vec::new();
        let mut outcome: StreamResult<()> = Ok(());
        for (shard, _) in &closing {
            // Counted before it is sealed: a seal whose sync fails has refused appends already,
            // and must be undone with the others.
            sealed.push(Arc::clone(shard));
            outcome = shard.log.seal().map_err(StreamError::from);
            if outcome.is_err() {
                break;
            }
        }
        if outcome.is_ok() {
            outcome = staged
                .commit()
                .map_err(|error| LogError::io("writing stream metadata", &self.dir, error).into());
        } else {
            drop(staged);
        }
        if let Err(error) = outcome {
            for shard in sealed {
                shard.log.set_sealed(false);
            }
            drop(table);
            self.discard(children);
            return Err(error);
        }

        // The catalog is durable: the reshard has happened.
        for child in &children {
            if child.closed_secs().is_some() {
                child.log.set_sealed(true); // a short-lived piece of UpdateShardCount
            }
        }
        for (shard, closed_secs) in &closing {
            shard.mark_closed(*closed_secs);
        }
        let mut all = table.all().to_vec();
        all.extend(children);
        *table = ShardTable::new(all);
        *meta = plan.meta;
        Ok(())
    }

    /// Closes and deletes the logs of children whose reshard failed.
    fn discard(&self, children: Vec<Arc<Shard>>) {
        for child in children {
            let dir = shard_dir(&self.dir, child.meta.index);
            drop(child);
            // The catalog never listed them; the next open removes what is left.
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A directory for a new shard index can exist only from a reshard that died before its catalog
/// update: nothing in it was ever acknowledged.
fn remove_stale_dir(dir: &std::path::Path) -> StreamResult<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(LogError::io("removing a stale shard directory", dir, error).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::names::StreamName;
    use std::collections::BTreeMap;

    fn plan_with(count: u32) -> Plan {
        let shards = HashKeyRange::even_split(count)
            .into_iter()
            .zip(0u32..)
            .map(|(hash_key_range, index)| ShardMeta {
                index,
                created_secs: 1,
                hash_key_range,
                parent: None,
                adjacent_parent: None,
                closed_secs: None,
            })
            .collect();
        Plan {
            meta: StreamMeta {
                name: StreamName::new("s").unwrap(),
                created_ms: 0,
                active_from_ms: 0,
                updating_until_ms: 0,
                status: StreamStatus::Active,
                mode: StreamMode::Provisioned,
                retention_hours: 24,
                expired_before_ms: 0,
                max_record_size_kib: 1024,
                next_shard_index: count,
                shards,
                tags: BTreeMap::new(),
                shard_level_metrics: BTreeSet::new(),
                shard_count_updates_ms: Vec::new(),
                mode_switches_ms: Vec::new(),
                recorded: Default::default(),
                consumers: Default::default(),
            },
            created: BTreeSet::new(),
        }
    }

    #[test]
    fn uniform_scaling_reaches_exactly_the_even_ranges_through_splits_and_merges() {
        for from in 1..=9u32 {
            for to in from.div_ceil(2)..=from * 2 {
                let mut plan = plan_with(from);
                plan.uniform(to);
                let open: Vec<HashKeyRange> = plan
                    .open_shards()
                    .iter()
                    .map(|shard| shard.hash_key_range)
                    .collect();
                assert_eq!(open, HashKeyRange::even_split(to), "{from} -> {to}");
                for shard in &plan.meta.shards {
                    // Lineage is only ever one parent (split) or two (merge).
                    if shard.adjacent_parent.is_some() {
                        assert!(shard.parent.is_some());
                    }
                }
            }
        }
    }

    /// The race the seal closes, made deterministic: a writer routed to the parent before a split
    /// but appending after it is refused by the parent and routed again, to a child; so a reader
    /// that saw the parent closed and drained can never miss a record.
    #[test]
    fn a_writer_routed_before_a_split_is_refused_by_the_parent_and_lands_in_a_child() {
        let dir = tempfile::tempdir().unwrap();
        let engine = crate::Engine::open(
            dir.path(),
            crate::EngineOptions {
                segment_bytes: 1 << 20,
                maintenance_interval: None,
                ..crate::EngineOptions::default()
            },
        )
        .unwrap();
        let stream = engine
            .create_stream(crate::CreateStream::provisioned("racy", 1))
            .unwrap();
        let input = crate::PutRecordInput::new("late", b"record");
        let routed_before = stream.route(&input).unwrap();
        stream
            .split_shard("shardId-000000000000", &(1u128 << 127).to_string())
            .unwrap();
        let late = routed_before.log.append(crate::RecordInput {
            partition_key: "late",
            explicit_hash_key: None,
            data: b"record",
        });
        assert!(matches!(late, Err(LogError::Sealed)), "{late:?}");
        let (child, _) = stream.append_routed(&input).unwrap();
        assert_ne!(child.id(), routed_before.id());
        assert_eq!(
            routed_before.log.last_counter().unwrap(),
            None,
            "the parent holds nothing"
        );
    }

    #[test]
    fn a_split_and_a_merge_have_kinesis_lineage() {
        let mut plan = plan_with(2);
        let (low, high) = plan.split(0, 1 << 100);
        assert_eq!((low, high), (2, 3));
        let low_meta = plan.shard(low).unwrap();
        assert_eq!(low_meta.parent, Some(0));
        assert_eq!(low_meta.adjacent_parent, None);
        assert_eq!(low_meta.hash_key_range.ending, (1 << 100) - 1);
        let merged = plan.merge(high, 1);
        let merged_meta = plan.shard(merged).unwrap();
        assert_eq!(
            (merged_meta.parent, merged_meta.adjacent_parent),
            (Some(3), Some(1))
        );
        assert_eq!(merged_meta.hash_key_range.starting, 1 << 100);
        assert_eq!(merged_meta.hash_key_range.ending, u128::MAX);
        assert!(plan.shard(0).unwrap().closed_secs.is_some());
    }
}
