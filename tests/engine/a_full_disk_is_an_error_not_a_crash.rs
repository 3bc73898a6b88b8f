//! A full disk must surface as a typed I/O error when a segment is preallocated, never as a SIGBUS
//! on a page fault of the mapping. Failing to preallocate changes nothing, so the log does not
//! latch: everything appended before stays readable, each later append tries again (and fails the
//! same way while the disk is full), and once there is room appends succeed without a reopen,
//! with sequence numbers above every one handed out before.
//!
//! The disk is a real 512 KiB tmpfs mounted for the test, which needs root (CI runs as root).

use crate::support::tiny_disk::TinyDisk;
use shardlog::{LogError, LogOptions, RecordInput, SeekTo, ShardIdentity, ShardLog};

fn is_enospc(error: &LogError) -> bool {
    matches!(error, LogError::Io { source, .. } if source.raw_os_error() == Some(28))
}

#[test]
fn a_full_disk_is_an_error_not_a_crash() {
    let disk = match TinyDisk::mount(512 * 1024) {
        Ok(disk) => disk,
        Err(reason) => {
            eprintln!(
                "SKIPPED: mounting a tmpfs is not permitted here ({reason}); CI runs as root"
            );
            return;
        }
    };
    let shard = ShardIdentity {
        index: 0,
        created_secs: 1_700_000_000,
    };
    let options = LogOptions::new(shard)
        .segment_bytes(192 * 1024)
        .record_data_bytes_max(4096)
        .prepare_segments_in_background(false);
    let (log, _) = ShardLog::open(disk.path().join("shard"), options).unwrap();

    let data = vec![0xAB; 1024];
    let mut appended = Vec::new();
    let failure = loop {
        match log.append(RecordInput::new("key", &data)) {
            Ok(sequence_number) => appended.push(sequence_number),
            Err(error) => break error,
        }
        assert!(appended.len() < 10_000, "a 512 KiB disk cannot take 10 MB");
    };
    assert!(is_enospc(&failure), "ENOSPC expected, got {failure}");
    // Two segments of 192 KiB fit; the third cannot be reserved.
    assert!(appended.len() > 300, "only {} records fit", appended.len());
    let again = log.append(RecordInput::new("key", &data)).unwrap_err();
    assert!(
        is_enospc(&again),
        "a full disk fails each attempt, got {again}"
    );
    let before_room = appended.len();

    // Room again: the same log takes appends, above every sequence number handed out.
    disk.free();
    for _ in 0..300 {
        let sequence_number = log.append(RecordInput::new("key", &data)).unwrap();
        assert!(Some(&sequence_number) > appended.last());
        appended.push(sequence_number);
    }
    assert!(appended.len() == before_room + 300);

    let mut reader = log.reader(SeekTo::Oldest).unwrap();
    let mut records = Vec::new();
    while reader.read_into(&mut records, 1000).unwrap() > 0 {}
    assert_eq!(records.len(), appended.len());
    assert!(records.iter().zip(&appended).all(
        |(record, sequence_number)| record.sequence_number() == *sequence_number
            && record.data() == data.as_slice()
    ));
    drop(reader);
    drop(records);
    drop(log);
    eprintln!(
        "{before_room} records before the disk was full, 300 more once it had room, all read back"
    );
}
