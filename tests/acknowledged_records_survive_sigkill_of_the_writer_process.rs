//! Process kill: a writer process appends records in `Durability::Sync` and prints each
//! acknowledgement (record id and sequence number) as soon as `append` returns. The test kills it
//! with SIGKILL at a different point in each of 100 rounds (before it even opened the log, right
//! after recovery, after 1 to 60 acknowledgements: a fixed pseudo-random plan, so a failure
//! repeats), always in the same directory (on tmpfs when there is one), so every round
//! first recovers the previous round's crash. After each kill a copy of the directory is opened and
//! checked: every acknowledged record is there, intact, with the acknowledged sequence number; the
//! log holds exactly records 0..n in order (no hole, no duplicate), where this round added either
//! its acknowledged records or one more (an append the kill interrupted after its bytes were
//! written); sequence numbers strictly increase across all rounds.
//!
//! The writer is this test binary itself, re-run with `--exact <this test> --nocapture` and an
//! environment variable naming the directory: the single test function below starts by checking
//! for it and, when it is set, acts as the writer instead of as the test.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::*;
use shardlog::{Durability, LogOptions, RecordInput, ShardLog};

const TEST_NAME: &str = "acknowledged_records_survive_sigkill_of_the_writer_process";
const DIR_VAR: &str = "SHARDLOG_TEST_KILLED_WRITER_DIR";
const FIRST_ID_VAR: &str = "SHARDLOG_TEST_KILLED_WRITER_FIRST_ID";
const READY: &str = "shardlog-writer-ready";
const ACK: &str = "shardlog-writer-ack";
/// The writer stops by itself after this many records if it is never killed.
const WRITER_RECORDS_MAX: u64 = 2_000;

fn writer_options() -> LogOptions {
    LogOptions::new(SHARD)
        .segment_bytes(16 * 1024)
        .record_data_bytes_max(2048)
        .durability(Durability::Sync)
}

fn data_len(id: u64) -> usize {
    (id as usize * 37) % 1500
}

fn hash_key(id: u64) -> Option<u128> {
    id.is_multiple_of(5).then_some(u128::from(id) * 3)
}

/// The writer process: appends records `first_id..` and acknowledges each one on stdout.
fn run_writer(dir: &Path, first_id: u64) {
    let (log, report) = ShardLog::open(dir, writer_options()).expect("writer: open");
    println!("{READY} {}", report.next_counter);
    for id in first_id..first_id + WRITER_RECORDS_MAX {
        let key = key(id);
        let data = payload(id, data_len(id));
        let sequence_number = log
            .append(RecordInput {
                partition_key: &key,
                explicit_hash_key: hash_key(id),
                data: &data,
            })
            .expect("writer: append");
        println!("{ACK} {id} {sequence_number}");
    }
}

#[derive(Clone, Copy, Debug)]
enum KillAt {
    /// Right after spawning: before, during or after the writer's recovery.
    Once,
    /// As soon as the writer has opened the log.
    Ready,
    /// After this many acknowledgements.
    Acks(usize),
}

/// Kills the child if the test fails while it runs.
struct Writer(Child);

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What the writer printed so far.
struct WriterOutput {
    stdout: BufReader<std::process::ChildStdout>,
    ready: bool,
    /// Record ids and sequence numbers acknowledged, in order.
    acks: Vec<(u64, String)>,
}

impl WriterOutput {
    /// Reads one line; false at the end of the output.
    fn take_line(&mut self) -> bool {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        if !line.ends_with('\n') {
            // The end, or the unfinished last line of a killed writer: not an acknowledgement.
            return false;
        }
        let line = line.trim_end();
        // The test harness may print "test <name> ... " on the same line before the writer's output.
        if let Some(at) = line.find(READY) {
            assert!(line[at..].split(' ').nth(1).is_some(), "bad line {line:?}");
            self.ready = true;
        } else if let Some(at) = line.find(ACK) {
            let mut words = line[at..].split(' ').skip(1);
            let id: u64 = words.next().unwrap().parse().unwrap();
            let sequence_number = words.next().unwrap().to_owned();
            self.acks.push((id, sequence_number));
        }
        true
    }
}

/// Rounds of the test.
const ROUNDS: usize = 100;

/// Where each round kills the writer: one round in ten before it is ready, one in ten as soon as
/// it is, the rest after 1 to 60 acknowledgements (small counts more often: the first appends after
/// a recovery are where a counter could be reused).
fn kill_plan() -> Vec<KillAt> {
    let mut state = 0x5eed_u64;
    (0..ROUNDS)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let draw = (state >> 33) as usize;
            match draw % 10 {
                0 => KillAt::Once,
                1 => KillAt::Ready,
                2..=5 => KillAt::Acks(1 + draw / 10 % 8),
                _ => KillAt::Acks(1 + draw / 10 % 60),
            }
        })
        .collect()
}

#[test]
fn acknowledged_records_survive_sigkill_of_the_writer_process() {
    if let Ok(dir) = std::env::var(DIR_VAR) {
        let first_id = std::env::var(FIRST_ID_VAR).unwrap().parse().unwrap();
        run_writer(Path::new(&dir), first_id);
        return;
    }

    let dir = scratch_dir();
    let exe = std::env::current_exe().unwrap();
    let plan = kill_plan();
    // Record ids 0..records_in_log are in the log, in order.
    let mut records_in_log = 0u64;
    let mut acknowledged: HashMap<u64, String> = HashMap::new();
    let mut total_acks = 0;
    let mut last_counter: Option<u64> = None;

    for (round, kill_at) in plan.into_iter().enumerate() {
        let context = format!("round {round} (kill at {kill_at:?})");
        let child = Command::new(&exe)
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
            .env(DIR_VAR, dir.path())
            .env(FIRST_ID_VAR, records_in_log.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut writer = Writer(child);
        let mut stderr_pipe = writer.0.stderr.take().unwrap();
        let mut stderr = Some(std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr_pipe, &mut text);
            text
        }));
        let ended_early =
            |writer: &mut Writer, stderr: &mut Option<std::thread::JoinHandle<String>>| -> ! {
                let status = writer.0.wait();
                let text = stderr.take().map(|t| t.join().unwrap()).unwrap_or_default();
                panic!("{context}: the writer ended early ({status:?}):\n{text}")
            };
        let mut output = WriterOutput {
            stdout: BufReader::new(writer.0.stdout.take().unwrap()),
            ready: false,
            acks: Vec::new(),
        };
        match kill_at {
            KillAt::Once => {}
            KillAt::Ready => {
                while !output.ready {
                    if !output.take_line() {
                        ended_early(&mut writer, &mut stderr);
                    }
                }
            }
            KillAt::Acks(n) => {
                while output.acks.len() < n {
                    if !output.take_line() {
                        ended_early(&mut writer, &mut stderr);
                    }
                }
            }
        }
        writer.0.kill().unwrap();
        let status = writer.0.wait().unwrap();
        assert!(!status.success(), "{context}: the writer was not killed");
        // Acknowledgements already in the pipe count too: their appends had returned.
        while output.take_line() {}
        let round_acks = output.acks;
        let stderr = stderr.take().unwrap().join().unwrap();
        assert!(
            !stderr.contains("panicked"),
            "{context}: the writer failed:\n{stderr}"
        );

        // Recover a copy; the original stays as the crash left it for the next round.
        let copy = scratch_dir();
        Image::capture(dir.path()).restore(copy.path());
        let options = writer_options().durability(Durability::PageCache);
        let (log, report) = ShardLog::open(copy.path(), options).unwrap();
        assert!(!report.clean_shutdown, "{context}");
        let records = read_all(&log);
        log.close().unwrap();

        let added = records.len() as u64 - records_in_log;
        let acks = round_acks.len() as u64;
        assert!(
            records.len() as u64 >= records_in_log,
            "{context}: the log shrank from {records_in_log} to {} records",
            records.len()
        );
        assert!(
            added == acks || added == acks + 1,
            "{context}: {acks} appends acknowledged, but the log grew by {added} records"
        );
        for (i, record) in records.iter().enumerate() {
            let id = i as u64;
            let counter = record.sequence_number().counter();
            assert_eq!(
                record.partition_key(),
                key(id),
                "{context}: record {i} is not record id {id}"
            );
            assert_eq!(
                record.explicit_hash_key(),
                hash_key(id),
                "{context}: record {i}"
            );
            assert!(
                record.data()[..] == payload(id, data_len(id))[..],
                "{context}: the data of record {i} is damaged"
            );
            if i > 0 {
                assert!(
                    records[i - 1].sequence_number() < record.sequence_number(),
                    "{context}: sequence numbers do not increase at record {i}"
                );
            }
            if id >= records_in_log {
                assert!(
                    last_counter.is_none_or(|last| counter > last),
                    "{context}: counter {counter} does not exceed the previous rounds' {last_counter:?}"
                );
            }
        }
        for (expected_id, (id, sequence_number)) in (records_in_log..).zip(&round_acks) {
            assert_eq!(*id, expected_id, "{context}: acknowledgements out of order");
            acknowledged.insert(*id, sequence_number.clone());
        }
        for (id, sequence_number) in &acknowledged {
            let record = &records[*id as usize];
            assert_eq!(
                &record.sequence_number().to_string(),
                sequence_number,
                "{context}: record {id} has another sequence number than acknowledged"
            );
        }
        total_acks += round_acks.len();
        records_in_log = records.len() as u64;
        last_counter = records.last().map(|r| r.sequence_number().counter());
    }
    assert!(
        total_acks >= 800,
        "only {total_acks} acknowledgements in all"
    );
    println!(
        "{ROUNDS} rounds survived, {total_acks} acknowledged records verified after each kill"
    );
    assert_eq!(acknowledged.len(), total_acks);
}
