//! Latching: when `sync()` fails for real, the log refuses appends until it is reopened, keeps
//! serving what it holds, does not attempt the failed write again on a later `sync()` (after a
//! failed fsync a retry can falsely succeed) but reports `Latched`, and a reopen recovers it.
//!
//! How the sync is made to fail from outside: `sync()` ends by writing the checkpoint, one 512-byte
//! slot at offset 0 or 512 of the checkpoint file, alternately. A writer process runs with a
//! file-size limit of 512 bytes (`ulimit -f 1`, POSIX blocks of 512 bytes, with SIGXFSZ ignored),
//! under which the kernel refuses any write at or beyond offset 512 with EFBIG, while segment
//! appends (stores into a shared mapping) are unaffected. The test arranges the checkpoint's
//! generations so that the writer's open writes slot 0 and its first `sync()` writes slot 1: that
//! `sync()` fails with a genuine I/O error from the kernel, not an injected one. (The segment
//! `msync` itself cannot be made to fail without a faulty device; this part of `sync()` can.)
//!
//! The writer is this test binary itself, re-run through `sh` with `--exact <this test>` and an
//! environment variable naming the shard directory; the test function starts by checking for it.

use std::path::Path;
use std::process::Command;

use crate::support::scratch_dir;
use crate::support::shard_log::*;
use crate::support::test_name;
use shardlog::{Durability, LogError, RecordInput, ShardLog};

/// The test function, which the writer process runs as.
const TEST_FUNCTION: &str = "a_failed_sync_latches_the_log_until_reopen";
const DIR_VAR: &str = "SHARDLOG_TEST_FAILING_SYNC_DIR";
const DONE: &str = "shardlog-failing-sync-writer-done";
const SECOND_SYNC: &str = "shardlog-failing-sync-second-sync:";
const SLOT: usize = 512;
const EFBIG: i32 = 27;

/// The generation of the current (newest valid-looking) checkpoint slot, and that slot's index,
/// from the layout in docs/FORMAT.md §5.
fn current_slot(checkpoint: &[u8]) -> (u64, usize) {
    (0..2)
        .filter_map(|slot| {
            let bytes = checkpoint.get(slot * SLOT..(slot + 1) * SLOT)?;
            (bytes[..8] == *b"SHLGCKP1")
                .then(|| (u64::from_le_bytes(bytes[8..16].try_into().unwrap()), slot))
        })
        .max()
        .expect("a valid checkpoint slot")
}

fn append_one(log: &ShardLog, id: u64) -> Result<shardlog::SequenceNumber, LogError> {
    let key = key(id);
    let data = payload(id, 40);
    log.append(RecordInput::new(&key, &data))
}

/// The writer process, under a file-size limit of 512 bytes.
fn run_writer(dir: &Path) {
    // The limit is in force and SIGXFSZ is ignored: a write below 512 bytes works, one beyond fails.
    let probe = dir.join("probe");
    std::fs::write(&probe, [1u8; SLOT]).expect("writing 512 bytes under the limit");
    let error = std::os::unix::fs::FileExt::write_at(
        &std::fs::OpenOptions::new()
            .write(true)
            .open(&probe)
            .unwrap(),
        b"x",
        SLOT as u64,
    )
    .expect_err(
        "the file-size limit of 512 bytes is not in force (is sh's ulimit -f in 512-byte blocks?)",
    );
    assert_eq!(
        error.raw_os_error(),
        Some(EFBIG),
        "expected EFBIG, got {error}"
    );
    std::fs::remove_file(&probe).unwrap();

    let clock = clock();
    clock.set_ms(START_MS + 60_000);
    let options = options(&clock, 64 * 1024, Durability::PageCache);
    let (log, report) =
        ShardLog::open(dir, options).expect("writer: open (writes checkpoint slot 0)");
    assert!(report.clean_shutdown);
    assert_eq!(
        current_slot(&std::fs::read(dir.join("checkpoint")).unwrap()).1,
        0
    );

    append_one(&log, 5).expect("writer: an append does not write the checkpoint");
    match log.sync() {
        Err(LogError::Io { source, .. }) => {
            assert_eq!(
                source.raw_os_error(),
                Some(EFBIG),
                "expected EFBIG, got {source}"
            )
        }
        other => panic!("writer: sync should have failed with an I/O error: {other:?}"),
    }
    assert!(
        matches!(append_one(&log, 6), Err(LogError::Latched)),
        "writer: an append after a failed sync must be refused"
    );
    let batch = [RecordInput::new("batch", b"data")];
    assert!(matches!(log.append_batch(&batch), Err(LogError::Latched)));
    // A later sync must not retry the failed write (after a failed fsync a retry can falsely
    // succeed): reported to the parent, which checks it last.
    let second_sync = match log.sync() {
        Err(LogError::Latched) => "latched".to_owned(),
        Err(error) => format!("error: {error}"),
        Ok(()) => "ok".to_owned(),
    };
    println!("{SECOND_SYNC} {second_sync}");

    // Everything appended before the failure is still readable.
    let keys: Vec<String> = read_all(&log)
        .iter()
        .map(|r| r.partition_key().to_owned())
        .collect();
    assert_eq!(keys.last().map(String::as_str), Some("key-5"));
    assert!(keys.len() >= 5 && keys[..4] == (0..4).map(key).collect::<Vec<_>>()[..]);
    assert!(!keys.iter().any(|k| k == "key-6" || k == "batch"));
    assert!(
        matches!(log.close(), Err(LogError::Latched)),
        "writer: a latched log cannot close cleanly"
    );
    println!("{DONE}");
}

#[test]
fn a_failed_sync_latches_the_log_until_reopen() {
    if let Ok(dir) = std::env::var(DIR_VAR) {
        run_writer(Path::new(&dir));
        return;
    }

    let dir = scratch_dir();
    let clock = clock();
    let options = options(&clock, 64 * 1024, Durability::PageCache);
    let (log, _) = open(dir.path(), &options);
    for id in 0..4 {
        append_one(&log, id).unwrap();
    }
    log.close().unwrap();
    // The writer's open writes the next generation; it must land in slot 0. Each round of open,
    // append, sync and close writes three generations, flipping the parity.
    let mut id = 4;
    while current_slot(&std::fs::read(dir.path().join("checkpoint")).unwrap())
        .0
        .is_multiple_of(2)
    {
        let (log, _) = open(dir.path(), &options);
        append_one(&log, id).unwrap();
        id += 1;
        log.sync().unwrap();
        log.close().unwrap();
    }
    assert!(id <= 5, "one round flips the parity");
    let records_before = id;

    let exe = std::env::current_exe().unwrap();
    let output = Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 1 && exec \"$0\" \"$@\"")
        .arg(&exe)
        .args(["--exact", &test_name(module_path!(), TEST_FUNCTION)])
        .args(["--nocapture", "--test-threads=1"])
        .env(DIR_VAR, dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains(DONE),
        "the writer failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );

    // Reopened without the limit, the log recovers and takes appends again.
    clock.set_ms(START_MS + 120_000);
    let (log, report) = open(dir.path(), &options);
    assert!(
        !report.clean_shutdown,
        "the latched log cannot have closed cleanly"
    );
    let records = read_all(&log);
    let keys: Vec<&str> = records.iter().map(|r| r.partition_key()).collect();
    let expected: Vec<String> = (0..records_before).chain([5]).map(key).collect();
    assert_eq!(keys, expected, "records after recovery");
    assert_strictly_increasing(&records, "after recovery");
    let last = records.last().unwrap().sequence_number();
    let next = append_one(&log, 9).expect("a reopened log takes appends again");
    assert!(next > last);
    log.close().unwrap();
    let (log, _) = open(dir.path(), &options);
    assert_eq!(read_all(&log).last().unwrap().partition_key(), "key-9");

    // Once latched, `sync()` reports the latch instead of trying the failed write again.
    let second_sync = stdout
        .lines()
        .find_map(|line| Some(line[line.find(SECOND_SYNC)? + SECOND_SYNC.len()..].trim()))
        .expect("the writer reports its second sync");
    assert_eq!(
        second_sync, "latched",
        "a sync after the failed one tried the checkpoint write again instead of reporting Latched"
    );
}
