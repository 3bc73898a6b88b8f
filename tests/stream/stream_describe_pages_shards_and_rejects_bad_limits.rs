//! DescribeStream pages shards by `ExclusiveStartShardId` and `Limit` (1–100, default 100;
//! docs/KINESIS.md §6.2), reports the stream's settings, and rejects a limit of 0 or 101 as a
//! `ValidationException` in the AWS format (§7.4).

use crate::support::engine::{START_MS, assert_error, clock, open, options, validation_message};
use shardlog::{CreateStream, ShardId, StreamMode, StreamStatus};

fn indexes(description: &shardlog::StreamDescription) -> Vec<u32> {
    description
        .shards
        .iter()
        .map(|shard| shard.shard_id.index())
        .collect()
}

#[test]
fn shards_page_after_the_exclusive_start_shard() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("paged", 5))
        .unwrap();

    let all = stream.describe(None, None).unwrap();
    assert_eq!(indexes(&all), [0, 1, 2, 3, 4]);
    assert!(!all.has_more_shards);
    assert_eq!(all.name.as_str(), "paged");
    assert_eq!(
        all.arn,
        "arn:aws:kinesis:us-east-1:000000000000:stream/paged"
    );
    assert_eq!(all.status, StreamStatus::Active);
    assert_eq!(all.mode, StreamMode::Provisioned);
    assert_eq!(all.retention_hours, 24);
    assert_eq!(all.max_record_size_kib, 1024);
    assert_eq!(all.created_ms, START_MS);
    assert_eq!(all.open_shard_count, 5);

    let page = |start: Option<u32>, limit: usize| {
        stream
            .describe(start.map(ShardId::new), Some(limit))
            .unwrap()
    };
    let first = page(None, 2);
    assert_eq!((indexes(&first), first.has_more_shards), (vec![0, 1], true));
    let second = page(Some(1), 2);
    assert_eq!(
        (indexes(&second), second.has_more_shards),
        (vec![2, 3], true)
    );
    let third = page(Some(3), 2);
    assert_eq!((indexes(&third), third.has_more_shards), (vec![4], false));
    let exact = page(Some(2), 2);
    assert_eq!(
        (indexes(&exact), exact.has_more_shards),
        (vec![3, 4], false)
    );
    let past = page(Some(4), 2);
    assert_eq!((indexes(&past), past.has_more_shards), (vec![], false));
    let beyond = page(Some(70), 100);
    assert_eq!((indexes(&beyond), beyond.has_more_shards), (vec![], false));
    let one = page(None, 1);
    assert_eq!((indexes(&one), one.has_more_shards), (vec![0], true));
    let hundred = page(None, 100);
    assert_eq!(
        (indexes(&hundred), hundred.has_more_shards),
        (vec![0, 1, 2, 3, 4], false)
    );

    // Paging one by one visits every shard once, with the same descriptions as the full page.
    let mut seen = Vec::new();
    let mut start = None;
    loop {
        let page = stream.describe(start, Some(1)).unwrap();
        seen.extend(page.shards.iter().cloned());
        start = page.shards.last().map(|shard| shard.shard_id);
        if !page.has_more_shards {
            break;
        }
    }
    assert_eq!(seen, all.shards);
}

#[test]
fn a_limit_of_0_or_more_than_100_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("limited", 2))
        .unwrap();
    assert_error(
        stream.describe(None, Some(0)),
        "ValidationException",
        &validation_message("0", "limit", "have value greater than or equal to 1"),
    );
    for limit in [101, 1000] {
        assert_error(
            stream.describe(Some(ShardId::new(0)), Some(limit)),
            "ValidationException",
            &validation_message(
                &limit.to_string(),
                "limit",
                "have value less than or equal to 100",
            ),
        );
    }
}
