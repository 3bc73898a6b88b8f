//! Which shards an application may read now: the rule that keeps a partition key's records in
//! order across splits and merges.
//!
//! A shard is *drained* for an application when its end is checkpointed
//! ([`ShardProgress::Ended`]) or when the stream no longer lists it: retention forgets a shard only
//! once all its records have expired, and only with or after its parents (see
//! `Stream::expire`), so nothing of it, or of its ancestors, is left to deliver. A shard is
//! *ready* when it is listed, not drained, and each of its parents is drained. Reading only ready
//! shards means a child's first record is handed over only after every record of its parents was
//! handled and checkpointed, which is the order the records of any one key were written in.

use std::collections::BTreeMap;

use super::checkpoints::ShardProgress;
use crate::stream::ShardMeta;

/// The shards of `listed` that are ready, given the application's `progress`, by index.
pub(crate) fn ready_shards<'a>(
    listed: &'a [ShardMeta],
    progress: &BTreeMap<u32, ShardProgress>,
) -> impl Iterator<Item = &'a ShardMeta> {
    let ended = |index: u32| progress.get(&index) == Some(&ShardProgress::Ended);
    let drained =
        move |index: u32| ended(index) || !listed.iter().any(|shard| shard.index == index);
    listed.iter().filter(move |shard| {
        !ended(shard.index)
            && shard
                .parent
                .into_iter()
                .chain(shard.adjacent_parent)
                .all(drained)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::HashKeyRange;

    fn shard(index: u32, parent: Option<u32>, adjacent_parent: Option<u32>) -> ShardMeta {
        ShardMeta {
            index,
            created_secs: u64::from(index),
            hash_key_range: HashKeyRange {
                starting: 0,
                ending: u128::MAX,
            },
            parent,
            adjacent_parent,
            closed_secs: None,
        }
    }

    fn ready(listed: &[ShardMeta], progress: &[(u32, ShardProgress)]) -> Vec<u32> {
        let progress = progress.iter().copied().collect();
        ready_shards(listed, &progress)
            .map(|shard| shard.index)
            .collect()
    }

    #[test]
    fn children_wait_for_every_parent_to_end() {
        // 0 and 1 are roots; 2 and 3 split 0; 4 merges 3 and 1.
        let listed = [
            shard(0, None, None),
            shard(1, None, None),
            shard(2, Some(0), None),
            shard(3, Some(0), None),
            shard(4, Some(3), Some(1)),
        ];
        assert_eq!(ready(&listed, &[]), [0, 1]);
        assert_eq!(ready(&listed, &[(0, ShardProgress::Ended)]), [1, 2, 3]);
        let both_parents_of_4_but_one = [(0, ShardProgress::Ended), (3, ShardProgress::Ended)];
        assert_eq!(ready(&listed, &both_parents_of_4_but_one), [1, 2]);
        let all_parents = [
            (0, ShardProgress::Ended),
            (1, ShardProgress::Ended),
            (3, ShardProgress::Ended),
        ];
        assert_eq!(ready(&listed, &all_parents), [2, 4]);
    }

    #[test]
    fn a_parent_forgotten_by_retention_counts_as_drained() {
        let listed = [shard(2, Some(0), None), shard(4, Some(3), Some(1))];
        assert_eq!(ready(&listed, &[]), [2, 4]);
    }
}
