//! The engine's catalog is durable (docs/KINESIS.md §6.1–§6.3): streams, their settings, shards and tags
//! come back identical after a reopen; ListStreams pages through every name in order with a
//! correct `has_more`; DeleteStream removes the stream's directory at once and for good, a stream
//! created again under the same name starts empty and shares nothing with the old one, and a
//! deletion interrupted after the stream was marked DELETING is finished on the next open.

use std::collections::BTreeMap;

use crate::support::engine::{
    ACCOUNT, START_MS, assert_error, clock, open, options, read_typed, shard_ids,
};
use shardlog::stream::{StreamMeta, StreamStatus};
use shardlog::{CreateStream, Engine, PutRecordInput, ShardId, StartingPosition};

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect()
}

fn requests() -> Vec<CreateStream> {
    vec![
        CreateStream {
            tags: tags(&[("env", "prod"), ("team", "données ü 日本"), ("empty", "")]),
            ..CreateStream::on_demand("alpha")
        },
        CreateStream::provisioned("beta", 3),
        CreateStream {
            tags: tags(&[("cost-center", "42 = forty two"), ("k e y", "v\ta\nl")]),
            max_record_size_kib: Some(2048),
            ..CreateStream::provisioned("gamma.1_x-Y", 1)
        },
        CreateStream::provisioned("Zulu", 2),
        CreateStream::provisioned("b", 1),
    ]
}

fn names(engine: &Engine) -> Vec<String> {
    engine
        .list_streams(None, 100)
        .names
        .iter()
        .map(|name| name.as_str().to_owned())
        .collect()
}

#[test]
fn metadata_and_listing_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let mut metas = BTreeMap::new();
    for request in requests() {
        clock.advance_ms(1500);
        let expected_tags = request.tags.clone();
        let stream = engine.create_stream(request).unwrap();
        assert_eq!(stream.meta().tags, expected_tags);
        stream
            .put_record(PutRecordInput::new("a", stream.name().as_str().as_bytes()))
            .unwrap();
        metas.insert(stream.name().as_str().to_owned(), stream.meta());
    }
    let mut expected_names: Vec<String> = metas.keys().cloned().collect();
    expected_names.sort();
    assert_eq!(
        expected_names,
        ["Zulu", "alpha", "b", "beta", "gamma.1_x-Y"]
    );
    assert_eq!(names(&engine), expected_names);

    drop(engine);
    let engine = open(dir.path(), &options(&clock));
    assert_eq!(names(&engine), expected_names);
    for (name, meta) in &metas {
        let stream = engine.stream(name).unwrap();
        assert_eq!(&stream.meta(), meta, "{name}");
        assert_eq!(stream.status(), StreamStatus::Active);
        let records: Vec<Vec<u8>> = shard_ids(&stream)
            .into_iter()
            .flat_map(|shard| read_typed(&stream, shard, StartingPosition::TrimHorizon, 10))
            .map(|record| record.data().to_vec())
            .collect();
        assert_eq!(records, [name.as_bytes().to_vec()], "{name}");
    }
    let gamma = engine.stream("gamma.1_x-Y").unwrap().meta();
    assert_eq!(gamma.max_record_size_kib, 2048);
    assert_eq!(gamma.tags["k e y"], "v\ta\nl");
    assert_eq!(
        engine.stream("alpha").unwrap().meta().tags["team"],
        "données ü 日本"
    );

    // Paging by one: every name once, in order; has_more until the last.
    let mut paged = Vec::new();
    let mut start: Option<String> = None;
    loop {
        let page = engine.list_streams(start.as_deref(), 1);
        assert_eq!(page.names.len(), 1, "after {start:?}");
        let name = page.names[0].as_str().to_owned();
        paged.push(name.clone());
        assert_eq!(
            page.has_more,
            paged.len() < expected_names.len(),
            "after {start:?}"
        );
        if !page.has_more {
            break;
        }
        start = Some(name);
    }
    assert_eq!(paged, expected_names);

    // Other page sizes and starting points.
    let page = engine.list_streams(None, 2);
    assert_eq!(
        page.names.iter().map(|n| n.as_str()).collect::<Vec<_>>(),
        ["Zulu", "alpha"]
    );
    assert!(page.has_more);
    let page = engine.list_streams(Some("alpha"), 3);
    assert_eq!(
        page.names.iter().map(|n| n.as_str()).collect::<Vec<_>>(),
        ["b", "beta", "gamma.1_x-Y"]
    );
    assert!(!page.has_more);
    let page = engine.list_streams(Some("b"), 100);
    assert_eq!(
        page.names.iter().map(|n| n.as_str()).collect::<Vec<_>>(),
        ["beta", "gamma.1_x-Y"]
    );
    assert!(!page.has_more);
    let page = engine.list_streams(Some("az"), 1);
    assert_eq!(
        page.names.iter().map(|n| n.as_str()).collect::<Vec<_>>(),
        ["b"]
    );
    assert!(page.has_more);
    let page = engine.list_streams(Some("gamma.1_x-Y"), 100);
    assert!(page.names.is_empty());
    assert!(!page.has_more);
}

#[test]
fn a_deleted_stream_is_gone_at_once_and_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    for request in requests() {
        engine.create_stream(request).unwrap();
    }
    let beta = engine.stream("beta").unwrap();
    let old = beta
        .put_record(PutRecordInput::new("a", b"old beta"))
        .unwrap();
    let old_token = beta
        .shard_iterator(old.shard_id, StartingPosition::TrimHorizon)
        .unwrap();
    let beta_dir = dir.path().join("streams").join("beta");
    assert_eq!(beta.dir(), beta_dir);
    assert!(beta_dir.join("stream.meta").is_file());
    drop(beta);

    engine.delete_stream("beta").unwrap();
    assert!(
        !beta_dir.exists(),
        "the directory is removed when DeleteStream returns"
    );
    let leftovers: Vec<String> = std::fs::read_dir(dir.path().join("streams"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !["alpha", "gamma.1_x-Y", "Zulu", "b"].contains(&name.as_str()))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let not_found = format!("Stream beta under account {ACCOUNT} not found.");
    assert_error(
        engine.stream("beta"),
        "ResourceNotFoundException",
        &not_found,
    );
    assert_error(
        engine.delete_stream("beta"),
        "ResourceNotFoundException",
        &not_found,
    );
    // An iterator of the deleted stream names its shard, as Kinesis does.
    assert_error(
        engine.get_records(&old_token, 10),
        "ResourceNotFoundException",
        &format!(
            "Shard {} in stream beta under account {ACCOUNT} does not exist",
            old.shard_id
        ),
    );
    assert_eq!(names(&engine), ["Zulu", "alpha", "b", "gamma.1_x-Y"]);

    // Reopen with the clock set an hour back: a stream created now must still not share a
    // shard identity (and so sequence numbers) with the deleted one.
    drop(engine);
    clock.set_ms(START_MS - 3_600_000);
    let engine = open(dir.path(), &options(&clock));
    assert_error(
        engine.stream("beta"),
        "ResourceNotFoundException",
        &not_found,
    );
    assert_eq!(names(&engine), ["Zulu", "alpha", "b", "gamma.1_x-Y"]);
    assert!(!beta_dir.exists());

    // Created again, it is a new, empty stream: the old records, numbers and tokens are not its.
    let beta = engine
        .create_stream(CreateStream::provisioned("beta", 3))
        .unwrap();
    for shard in shard_ids(&beta) {
        assert!(read_typed(&beta, shard, StartingPosition::TrimHorizon, 10).is_empty());
    }
    assert!(
        beta.shard_iterator(
            old.shard_id,
            StartingPosition::AtSequenceNumber(old.sequence_number)
        )
        .is_err()
    );
    let new = beta
        .put_record(PutRecordInput::new("a", b"new beta"))
        .unwrap();
    assert_eq!(new.shard_id, old.shard_id);
    assert_ne!(new.sequence_number.shard(), old.sequence_number.shard());
    assert!(
        new.sequence_number.shard_created_secs() > old.sequence_number.shard_created_secs(),
        "shard creation times handed out by an engine only grow"
    );
    assert_error(
        engine.get_records(&old_token, 10),
        "InvalidArgumentException",
        "Invalid ShardIterator.",
    );
    let records = read_typed(&beta, new.shard_id, StartingPosition::TrimHorizon, 10);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].data(), b"new beta");
}

#[test]
fn a_deletion_interrupted_after_marking_the_stream_is_finished_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let doomed = engine
        .create_stream(CreateStream::provisioned("doomed", 2))
        .unwrap();
    doomed.put_record(PutRecordInput::new("a", b"bye")).unwrap();
    let kept = engine
        .create_stream(CreateStream::provisioned("kept", 1))
        .unwrap();
    kept.put_record(PutRecordInput::new("a", b"stay")).unwrap();
    let doomed_dir = doomed.dir().to_owned();
    let mut meta: StreamMeta = doomed.meta();
    drop(doomed);
    drop(kept);
    drop(engine);

    // As if the process died inside DeleteStream right after writing the DELETING mark.
    meta.status = StreamStatus::Deleting;
    meta.store(&doomed_dir).unwrap();
    assert_eq!(
        StreamMeta::load(&doomed_dir).unwrap().status,
        StreamStatus::Deleting
    );

    let engine = open(dir.path(), &options(&clock));
    assert!(
        !doomed_dir.exists(),
        "the marked stream's directory is removed on open"
    );
    assert_error(
        engine.stream("doomed"),
        "ResourceNotFoundException",
        &format!("Stream doomed under account {ACCOUNT} not found."),
    );
    assert_eq!(names(&engine), ["kept"]);
    let kept = engine.stream("kept").unwrap();
    let records = read_typed(&kept, ShardId::new(0), StartingPosition::TrimHorizon, 10);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].data(), b"stay");
    // The name is free again.
    let again = engine
        .create_stream(CreateStream::provisioned("doomed", 1))
        .unwrap();
    assert!(read_typed(&again, ShardId::new(0), StartingPosition::TrimHorizon, 10).is_empty());
}
