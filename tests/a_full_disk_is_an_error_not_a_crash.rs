//! A full disk must surface as a typed I/O error when a segment is preallocated, never as a SIGBUS
//! on a page fault of the mapping, and the log must then refuse appends (latch) while keeping
//! everything appended before readable.
//!
//! The disk is a real 512 KiB tmpfs mounted for the test, which needs root (CI runs as root).

use std::path::{Path, PathBuf};
use std::process::Command;

use shardlog::{LogError, LogOptions, RecordInput, SeekTo, ShardIdentity, ShardLog};

/// A small tmpfs, unmounted when dropped.
struct TinyDisk {
    path: PathBuf,
    _parent: tempfile::TempDir,
}

impl TinyDisk {
    fn mount(bytes: u64) -> TinyDisk {
        let parent = tempfile::tempdir().unwrap();
        let path = parent.path().join("disk");
        std::fs::create_dir(&path).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(&path)
            .status()
            .expect("running mount");
        assert!(
            status.success(),
            "mounting a tmpfs failed (this test needs root)"
        );
        TinyDisk {
            path,
            _parent: parent,
        }
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
        .unwrap_or(false)
}

#[test]
fn a_full_disk_is_an_error_not_a_crash() {
    if !running_as_root() {
        eprintln!("SKIPPED: mounting a tmpfs needs root; CI runs this test as root");
        return;
    }
    let disk = TinyDisk::mount(512 * 1024);
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
    match &failure {
        LogError::Io { source, .. } => {
            assert_eq!(
                source.raw_os_error(),
                Some(28),
                "ENOSPC expected, got {source}"
            )
        }
        other => panic!("expected an I/O error, got {other}"),
    }
    // Two segments of 192 KiB fit; the third cannot be reserved.
    assert!(appended.len() > 300, "only {} records fit", appended.len());
    assert!(matches!(
        log.append(RecordInput::new("key", b"x")),
        Err(LogError::Latched)
    ));

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
}
