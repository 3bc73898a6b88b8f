//! Known answers from docs/KINESIS.md (§2.2, §3.1, §3.2): the hash-key ranges of new
//! provisioned streams with 1–4 shards, MD5 routing of fixed partition keys, explicit hash keys at
//! the shard boundaries, and starting sequence numbers that are 56 digits and encode their shard.

use crate::support::engine::{clock, open, options};
use shardlog::stream::{HashKeyRange, hash_key_of};
use shardlog::{CreateStream, PutRecordInput, SequenceNumber, ShardId, StartingPosition};

const MAX: u128 = u128::MAX; // 340282366920938463463374607431768211455

fn n(text: &str) -> u128 {
    text.parse().unwrap()
}

/// The StartingHashKeys of shards 1..N-1 (docs/KINESIS.md §3.2).
fn boundaries(shards: u32) -> Vec<u128> {
    match shards {
        1 => vec![],
        2 => vec![n("170141183460469231731687303715884105728")],
        3 => vec![
            n("113427455640312821154458202477256070485"),
            n("226854911280625642308916404954512140970"),
        ],
        4 => vec![
            n("85070591730234615865843651857942052864"),
            n("170141183460469231731687303715884105728"),
            n("255211775190703847597530955573826158592"),
        ],
        _ => unreachable!(),
    }
}

fn expected_ranges(shards: u32) -> Vec<HashKeyRange> {
    let mut starts = vec![0u128];
    starts.extend(boundaries(shards));
    let mut ends: Vec<u128> = starts.iter().skip(1).map(|start| start - 1).collect();
    ends.push(MAX);
    starts
        .into_iter()
        .zip(ends)
        .map(|(starting, ending)| HashKeyRange { starting, ending })
        .collect()
}

#[test]
fn new_streams_split_the_hash_key_space_as_kinesis_does() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    assert_eq!(MAX.to_string(), "340282366920938463463374607431768211455");
    for shards in 1..=4u32 {
        let stream = engine
            .create_stream(CreateStream::provisioned(
                &format!("split-{shards}"),
                shards,
            ))
            .unwrap();
        let description = stream.describe(None, None).unwrap();
        assert_eq!(description.open_shard_count, shards as usize);
        assert!(!description.has_more_shards);
        let ranges: Vec<HashKeyRange> = description
            .shards
            .iter()
            .map(|shard| shard.hash_key_range)
            .collect();
        assert_eq!(ranges, expected_ranges(shards), "{shards} shards");
        let ids: Vec<String> = description
            .shards
            .iter()
            .map(|shard| shard.shard_id.to_string())
            .collect();
        let expected_ids: Vec<String> = (0..shards)
            .map(|index| format!("shardId-{index:012}"))
            .collect();
        assert_eq!(ids, expected_ids);
        for shard in &description.shards {
            assert_eq!(shard.parent_shard_id, None);
            assert_eq!(shard.adjacent_parent_shard_id, None);
            assert_eq!(shard.ending_sequence_number, None, "new shards are open");
        }
    }
    // ON_DEMAND streams start with 4 shards split the same way.
    let on_demand = engine
        .create_stream(CreateStream::on_demand("on-demand"))
        .unwrap();
    let ranges: Vec<HashKeyRange> = on_demand
        .describe(None, None)
        .unwrap()
        .shards
        .iter()
        .map(|shard| shard.hash_key_range)
        .collect();
    assert_eq!(ranges, expected_ranges(4));
}

#[test]
fn partition_keys_route_by_their_md5_as_a_big_endian_number() {
    // MD5 values from RFC 1321's test suite and other well-known digests.
    let known = [
        ("a", 0x0cc175b9c0f1b6a831c399e269772661u128),
        ("hello", 0x5d41402abc4b2a76b9719d911017c592),
        ("abc", 0x900150983cd24fb0d6963f7d28e17f72),
        ("message digest", 0xf96b697d7cb7938d525a2f31aaf161d0),
    ];
    assert_eq!(
        hash_key_of("a"),
        n("16955237001963240173058271559858726497")
    );
    for (key, md5) in known {
        assert_eq!(hash_key_of(key), md5, "{key}");
    }

    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let four = engine
        .create_stream(CreateStream::provisioned("four", 4))
        .unwrap();
    let three = engine
        .create_stream(CreateStream::provisioned("three", 3))
        .unwrap();
    // (key, shard of 4, shard of 3), worked out by hand from the boundaries above.
    for (key, of_four, of_three) in [
        ("a", 0, 0),
        ("hello", 1, 1),
        ("abc", 2, 1),
        ("message digest", 3, 2),
    ] {
        let put = four
            .put_record(PutRecordInput::new(key, key.as_bytes()))
            .unwrap();
        assert_eq!(put.shard_id, ShardId::new(of_four), "{key} in 4 shards");
        assert_eq!(put.sequence_number.shard_index(), of_four);
        let put = three
            .put_record(PutRecordInput::new(key, key.as_bytes()))
            .unwrap();
        assert_eq!(put.shard_id, ShardId::new(of_three), "{key} in 3 shards");
    }
    // Each record is readable from exactly the shard it was routed to.
    for (shard, key) in ["a", "hello", "abc", "message digest"].iter().enumerate() {
        let records = crate::support::engine::read_typed(
            &four,
            ShardId::new(shard as u32),
            StartingPosition::TrimHorizon,
            10,
        );
        let keys: Vec<&str> = records
            .iter()
            .map(|record| record.partition_key())
            .collect();
        assert_eq!(keys, [*key]);
        assert_eq!(records[0].explicit_hash_key(), None);
    }
}

#[test]
fn explicit_hash_keys_at_the_boundaries_route_to_the_owning_shard() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    for shards in 1..=4u32 {
        let stream = engine
            .create_stream(CreateStream::provisioned(
                &format!("edges-{shards}"),
                shards,
            ))
            .unwrap();
        let mut probes = vec![(0u128, 0u32), (MAX, shards - 1)];
        for (index, boundary) in boundaries(shards).into_iter().enumerate() {
            probes.push((boundary - 1, index as u32));
            probes.push((boundary, index as u32 + 1));
        }
        for (hash_key, shard) in probes {
            // The partition key alone would route to shard 0 ("a"); the explicit key overrides it.
            let put = stream
                .put_record(PutRecordInput::new("a", b"edge").with_explicit_hash_key(hash_key))
                .unwrap();
            assert_eq!(
                put.shard_id,
                ShardId::new(shard),
                "{hash_key} in {shards} shards"
            );
            let mut reader = stream
                .reader(
                    put.shard_id,
                    StartingPosition::AtSequenceNumber(put.sequence_number),
                )
                .unwrap();
            let record = reader.next_batch(1).unwrap().records.remove(0);
            assert_eq!(record.explicit_hash_key(), Some(hash_key));
            assert_eq!(record.partition_key(), "a");
        }
    }
}

/// Converts a decimal string to upper-case-free hex digits (schoolbook base conversion), so the
/// layout can be checked without the crate's own decoder.
fn decimal_to_hex(decimal: &str) -> String {
    let mut digits: Vec<u32> = decimal.bytes().map(|b| u32::from(b - b'0')).collect();
    let mut hex = Vec::new();
    while digits.iter().any(|&d| d != 0) {
        let mut remainder = 0u32;
        let mut quotient = Vec::with_capacity(digits.len());
        for digit in digits {
            let value = remainder * 10 + digit;
            quotient.push(value / 16);
            remainder = value % 16;
        }
        hex.push(char::from_digit(remainder, 16).unwrap());
        digits = quotient;
    }
    hex.iter().rev().collect()
}

#[test]
fn sequence_numbers_are_56_digits_and_encode_their_shard() {
    // A real AWS StartingSequenceNumber of shard 1 (docs/KINESIS.md §2.2) decodes as such.
    let aws: SequenceNumber = "49549167410945534708633744510750617797212193316405248018"
        .parse()
        .unwrap();
    assert_eq!(aws.shard_index(), 1);
    assert_eq!(aws.counter(), 0);
    assert_eq!(aws.arrival_secs(), aws.shard_created_secs());

    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("numbers", 4))
        .unwrap();
    let meta = stream.meta();
    let description = stream.describe(None, None).unwrap();
    for (shard, described) in meta.shards.iter().zip(&description.shards) {
        let starting = described.starting_sequence_number;
        let text = starting.to_string();
        assert_eq!(text.len(), 56, "{text}");
        assert_eq!(text.parse::<SequenceNumber>().unwrap(), starting);
        assert_eq!(starting.shard_index(), shard.index);
        assert_eq!(starting.shard_created_secs(), shard.created_secs);
        assert_eq!(starting.counter(), 0);
        assert_eq!(starting.arrival_secs(), shard.created_secs);

        // The version 2 layout, read straight from the digits.
        let hex = decimal_to_hex(&text);
        assert_eq!(hex.len(), 47, "{hex}");
        assert_eq!(&hex[0..1], "2");
        assert_eq!(
            u64::from_str_radix(&hex[1..10], 16).unwrap(),
            shard.created_secs
        );
        assert_eq!(
            u32::from_str_radix(&hex[10..11], 16).unwrap(),
            shard.index & 0xF
        );
        assert_eq!(u64::from_str_radix(&hex[11..27], 16).unwrap(), 0);
        assert_eq!(&hex[27..29], "00");
        assert_eq!(
            u64::from_str_radix(&hex[29..38], 16).unwrap(),
            shard.created_secs
        );
        assert_eq!(u32::from_str_radix(&hex[38..46], 16).unwrap(), shard.index);
        assert_eq!(&hex[46..47], "2");
    }
    // The shards of one stream share a creation time, so only the index tells them apart.
    assert!(
        meta.shards
            .windows(2)
            .all(|pair| pair[0].created_secs == pair[1].created_secs)
    );

    // Records' numbers encode the shard they are in and exceed the shard's starting number.
    for key in ["a", "hello", "abc", "message digest"] {
        let put = stream.put_record(PutRecordInput::new(key, b"")).unwrap();
        let text = put.sequence_number.to_string();
        assert_eq!(text.len(), 56);
        let hex = decimal_to_hex(&text);
        assert_eq!(
            u32::from_str_radix(&hex[38..46], 16).unwrap(),
            put.shard_id.index()
        );
        let starting = description.shards[put.shard_id.index() as usize].starting_sequence_number;
        // At or after the start of the shard's range (equal is allowed: see the separate test of
        // AFTER_SEQUENCE_NUMBER with a StartingSequenceNumber).
        assert!(put.sequence_number >= starting);
        assert!(
            text >= starting.to_string(),
            "string order is numeric order"
        );
    }
}
