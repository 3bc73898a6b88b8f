//! Hash keys: how a record finds its shard.
//!
//! Kinesis routes a record by the MD5 of its partition key (UTF-8), read as an unsigned 128-bit
//! big-endian integer, unless the producer gives an explicit hash key. Each open shard owns an
//! inclusive range of the 128-bit space; together the open shards cover 0 ..= 2^128 − 1 with no gap.

use md5::{Digest, Md5};

/// A position in the 128-bit hash-key space.
pub type HashKey = u128;

/// The hash key Kinesis computes for a partition key.
pub fn hash_key_of(partition_key: &str) -> HashKey {
    let digest: [u8; 16] = Md5::digest(partition_key.as_bytes()).into();
    u128::from_be_bytes(digest)
}

/// An inclusive range of hash keys owned by one shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HashKeyRange {
    /// First hash key of the range.
    pub starting: HashKey,
    /// Last hash key of the range (inclusive).
    pub ending: HashKey,
}

impl HashKeyRange {
    /// The whole space, 0 ..= 2^128 − 1.
    pub const ALL: HashKeyRange = HashKeyRange {
        starting: 0,
        ending: u128::MAX,
    };

    /// Whether `key` falls in this range.
    pub fn contains(&self, key: HashKey) -> bool {
        self.starting <= key && key <= self.ending
    }

    /// The ranges of a new stream with `shard_count` shards, as Kinesis splits them:
    /// `h = floor(2^128 / N)`, shard i = `[h·i, h·(i+1) − 1]`, and the last shard ends at 2^128 − 1.
    /// Empty for a count of 0.
    pub fn even_split(shard_count: u32) -> Vec<HashKeyRange> {
        match shard_count {
            0 => return Vec::new(),
            1 => return vec![HashKeyRange::ALL], // 2^128 / 1 does not fit in a u128
            _ => {}
        }
        let count = u128::from(shard_count);
        // floor(2^128 / N) without overflowing: 2^128 = (2^128 − 1) + 1.
        let width = u128::MAX / count + u128::from(u128::MAX % count == count - 1);
        (0..count)
            .map(|i| HashKeyRange {
                starting: width * i,
                ending: if i + 1 == count {
                    u128::MAX
                } else {
                    width * (i + 1) - 1
                },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_routing_matches_kinesis() {
        // MD5("a") = 0cc175b9c0f1b6a831c399e269772661, from the reference.
        assert_eq!(hash_key_of("a"), 16955237001963240173058271559858726497);
        assert_eq!(hash_key_of("a"), 0x0cc175b9c0f1b6a831c399e269772661);
        // MD5("") = d41d8cd98f00b204e9800998ecf8427e
        assert_eq!(hash_key_of(""), 0xd41d8cd98f00b204e9800998ecf8427e);
    }

    #[test]
    fn even_splits_match_kinesis_boundaries() {
        let starts = |n| {
            HashKeyRange::even_split(n)
                .iter()
                .skip(1)
                .map(|range| range.starting.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(HashKeyRange::even_split(1), vec![HashKeyRange::ALL]);
        assert_eq!(starts(2), ["170141183460469231731687303715884105728"]);
        assert_eq!(
            starts(3),
            [
                "113427455640312821154458202477256070485",
                "226854911280625642308916404954512140970"
            ]
        );
        assert_eq!(
            starts(4),
            [
                "85070591730234615865843651857942052864",
                "170141183460469231731687303715884105728",
                "255211775190703847597530955573826158592"
            ]
        );
        assert!(HashKeyRange::even_split(0).is_empty());
    }

    #[test]
    fn even_splits_cover_the_space_without_gaps() {
        for n in [1, 2, 3, 4, 5, 7, 16, 100, 1000, u32::MAX] {
            let ranges = HashKeyRange::even_split(n.min(5000));
            assert_eq!(ranges.first().map(|r| r.starting), Some(0));
            assert_eq!(ranges.last().map(|r| r.ending), Some(u128::MAX));
            for pair in ranges.windows(2) {
                assert_eq!(pair[0].ending + 1, pair[1].starting);
                assert!(pair[0].starting <= pair[0].ending);
            }
        }
    }
}
