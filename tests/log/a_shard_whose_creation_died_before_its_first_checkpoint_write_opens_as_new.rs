//! Crash images of an interrupted shard creation. Creating a shard prepares its checkpoint as
//! `checkpoint.tmp` (create, size it to 1024 bytes, write and sync the first slot), renames it to
//! `checkpoint`, and then creates its first segment. A process killed before the rename leaves a
//! `checkpoint.tmp` that is empty or all zeros, and no segment. Nothing can have been appended to
//! such a shard, so opening it must simply create it, not refuse forever with "both checkpoint
//! slots are damaged".

use crate::support::scratch_dir;
use crate::support::shard_log::*;
use shardlog::{Durability, ShardLog};

fn check(checkpoint: &[u8], context: &str) {
    let dir = scratch_dir();
    std::fs::write(dir.path().join("checkpoint.tmp"), checkpoint).unwrap();
    let clock = clock();
    let options = options(&clock, 8 * 1024, Durability::PageCache);
    let (log, _) = match ShardLog::open(dir.path(), options.clone()) {
        Ok(opened) => opened,
        Err(error) => {
            panic!("{context}: a shard that never held a record cannot be opened: {error}")
        }
    };
    assert!(read_all(&log).is_empty(), "{context}");
    assert!(
        !dir.path().join("checkpoint.tmp").exists(),
        "{context}: leftover removed"
    );
    let appended = append_many(&log, &clock, 0..3, |_| 10);
    log.close().unwrap();
    let (log, report) = open(dir.path(), &options);
    assert!(report.clean_shutdown, "{context}");
    assert_records(&read_all(&log), &appended, context);
}

#[test]
fn an_empty_checkpoint_file_without_segments_opens_as_a_new_shard() {
    check(&[], "checkpoint file created, nothing written");
}

#[test]
fn a_zeroed_checkpoint_file_without_segments_opens_as_a_new_shard() {
    check(
        &[0; 1024],
        "checkpoint file sized, its first slot not written",
    );
}
