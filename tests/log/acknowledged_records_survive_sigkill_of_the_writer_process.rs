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
//! The writer is this test binary itself, re-run with `--exact <the test> --nocapture` and an
//! environment variable naming the directory: each test function below starts by checking for
//! it and, when it is set, acts as the writer instead of as the test.
//!
//! The second test runs the writer as an engine runs its logs, in 60 rounds: with a counter epoch
//! that grows by one at every open (round *r* writes in epoch *r*, so neither creating nor opening
//! the log writes anything durably), and with segments that grow fourfold from 4 KiB to 32 KiB
//! while one record in seven (6 to 20 KiB) is too large for a young segment and gets one of its
//! own size. One round in ten seals the log (which trims its last segment) after 1 to 20 records
//! and is killed while sealed, so the next round appends to a log whose last segment is full.
//! Besides the checks above: the sealed round's last segment is trimmed to its data, every record
//! of round *r* has a counter in epoch *r* (at least *r*·2^40, below (*r*+1)·2^40), and the
//! counter each open announces is the next record's and lies above every counter before it.
//!
//! The third test runs retention in the writer (issue 11's reuse of space): its clock gives record
//! *n* the arrival time *n* ms, and after every 16th record it deletes the segments whose records
//! are all more than 40 ms old, so a busy log keeps recycling its newest expired segment's file
//! for its next segment, old frames and all. The log then holds the records of a contiguous range
//! of ids that only moves forward; every acknowledged record still in that range must be there,
//! and the writers must have recycled a file at least 20 times in all.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::killed_child::{KilledOnDrop, plan_draws};
use crate::support::scratch_dir;
use crate::support::shard_log::*;
use crate::support::test_name;
use shardlog::log::COUNTERS_PER_EPOCH_BITS;
use shardlog::{Durability, LogOptions, RecordInput, SequenceNumber, ShardLog};

const DIR_VAR: &str = "SHARDLOG_TEST_KILLED_WRITER_DIR";
const FIRST_ID_VAR: &str = "SHARDLOG_TEST_KILLED_WRITER_FIRST_ID";
const EPOCH_VAR: &str = "SHARDLOG_TEST_KILLED_WRITER_EPOCH";
const SEAL_AFTER_VAR: &str = "SHARDLOG_TEST_KILLED_WRITER_SEAL_AFTER";
const READY: &str = "shardlog-writer-ready";
const ACK: &str = "shardlog-writer-ack";
const SEALED: &str = "shardlog-writer-sealed";
const RECYCLED: &str = "shardlog-writer-recycled";
/// With retention: the writer's clock gives record `n` the arrival time `START_MS + n`, and every
/// this many records deletes the segments whose records are all older than [`RETAINED_MS`].
const RETENTION_EVERY: u64 = 16;
const RETAINED_MS: u64 = 40;
/// The writer stops by itself after this many records if it is never killed.
const WRITER_RECORDS_MAX: u64 = 2_000;

/// How a test sets the writer's log up.
#[derive(Clone, Copy, Debug)]
struct Setup {
    /// The test function, which the writer process runs as.
    test_name: &'static str,
    rounds: usize,
    /// Segments grow from 4 KiB to 32 KiB, and some records need a segment of their own size;
    /// otherwise every segment is 16 KiB and records are under 1.5 KiB.
    grown: bool,
    /// Round `r`'s writer opens the log at counter epoch `r`, as an engine opened for the `r`th
    /// time does; otherwise the log has no epoch.
    epochs: bool,
    /// One round in ten seals the log and is killed while sealed.
    seals: bool,
    /// The writer runs retention as it goes (see the module documentation).
    retention: bool,
    /// The fewest acknowledgements all rounds together must have checked.
    total_acks_min: usize,
}

const PLAIN: Setup = Setup {
    test_name: "acknowledged_records_survive_sigkill_of_the_writer_process",
    rounds: 100,
    grown: false,
    epochs: false,
    seals: false,
    retention: false,
    total_acks_min: 800,
};

const RECYCLING: Setup = Setup {
    test_name: "acknowledged_records_survive_sigkill_of_a_writer_whose_retention_recycles_segment_files",
    rounds: 100,
    grown: false,
    epochs: false,
    seals: false,
    retention: true,
    total_acks_min: 800,
};

const GROWN_WITH_EPOCHS: Setup = Setup {
    test_name: "acknowledged_records_survive_sigkill_of_a_writer_with_grown_segments_and_a_new_epoch_per_open",
    rounds: 60,
    grown: true,
    epochs: true,
    seals: true,
    retention: false,
    total_acks_min: 400,
};

fn writer_options(setup: Setup, epoch: Option<u64>) -> LogOptions {
    let options = LogOptions::new(SHARD)
        .durability(Durability::Sync)
        .counter_epoch(epoch);
    if setup.grown {
        options
            .initial_segment_bytes(4 * 1024)
            .segment_bytes(32 * 1024)
            .record_data_bytes_max(24 * 1024)
    } else {
        options.segment_bytes(16 * 1024).record_data_bytes_max(2048)
    }
}

fn data_len(setup: Setup, id: u64) -> usize {
    if setup.grown && id % 7 == 3 {
        6_000 + (id as usize * 4_099) % 14_000
    } else {
        (id as usize * 37) % 1500
    }
}

fn hash_key(id: u64) -> Option<u128> {
    id.is_multiple_of(5).then_some(u128::from(id) * 3)
}

/// The lowest counter of `epoch`.
fn epoch_floor(epoch: u64) -> u64 {
    epoch << COUNTERS_PER_EPOCH_BITS
}

/// The writer process: appends records `first_id..` and acknowledges each one on stdout; with
/// `seal_after`, only that many, then seals the log, says so and waits to be killed.
fn run_writer(
    setup: Setup,
    dir: &Path,
    first_id: u64,
    epoch: Option<u64>,
    seal_after: Option<u64>,
) {
    let clock = std::sync::Arc::new(shardlog::ManualClock::new(START_MS + first_id));
    let mut options = writer_options(setup, epoch);
    if setup.retention {
        options =
            options.clock(std::sync::Arc::clone(&clock) as std::sync::Arc<dyn shardlog::Clock>);
    }
    let (log, report) = ShardLog::open(dir, options).expect("writer: open");
    println!("{READY} {}", report.next_counter);
    for id in first_id..first_id + seal_after.unwrap_or(WRITER_RECORDS_MAX) {
        if setup.retention {
            clock.set_ms(START_MS + id);
            if id.is_multiple_of(RETENTION_EVERY) {
                let report = log
                    .delete_segments_older_than(START_MS + id - RETAINED_MS.min(id))
                    .expect("writer: retention");
                if report.segments_recycled > 0 {
                    println!("{RECYCLED}");
                }
            }
        }
        let key = key(id);
        let data = payload(id, data_len(setup, id));
        let sequence_number = log
            .append(RecordInput {
                partition_key: &key,
                explicit_hash_key: hash_key(id),
                data: &data,
            })
            .expect("writer: append");
        println!("{ACK} {id} {sequence_number}");
    }
    if seal_after.is_some() {
        log.seal().expect("writer: seal");
        println!("{SEALED}");
        // Killed long before this ends; a writer never killed ends the round as a failure.
        std::thread::sleep(Duration::from_secs(60));
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
    /// Once the writer has appended this many records and sealed the log.
    Sealed(usize),
}

/// What the writer printed so far.
struct WriterOutput {
    stdout: BufReader<std::process::ChildStdout>,
    /// The counter the writer's open announced for the next record, once it is ready.
    ready: Option<u64>,
    /// Record ids and sequence numbers acknowledged, in order.
    acks: Vec<(u64, String)>,
    sealed: bool,
    /// Retention passes that kept a segment's file for reuse.
    recycled: usize,
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
            let next_counter = line[at..].split(' ').nth(1).and_then(|n| n.parse().ok());
            assert!(next_counter.is_some(), "bad line {line:?}");
            self.ready = next_counter;
        } else if line.contains(SEALED) {
            self.sealed = true;
        } else if line.contains(RECYCLED) {
            self.recycled += 1;
        } else if let Some(at) = line.find(ACK) {
            let mut words = line[at..].split(' ').skip(1);
            let id: u64 = words.next().unwrap().parse().unwrap();
            let sequence_number = words.next().unwrap().to_owned();
            self.acks.push((id, sequence_number));
        }
        true
    }
}

/// Where each round kills the writer: one round in ten before it is ready, one in ten as soon as
/// it is, the rest after 1 to 60 acknowledgements (small counts more often: the first appends after
/// a recovery are where a counter could be reused); with seals, one round in ten of those with
/// small counts is sealed after 1 to 20 records instead.
fn kill_plan(setup: Setup) -> Vec<KillAt> {
    plan_draws(0x5eed_u64, setup.rounds)
        .map(|draw| match draw % 10 {
            0 => KillAt::Once,
            1 => KillAt::Ready,
            2 if setup.seals => KillAt::Sealed(1 + draw / 10 % 20),
            2..=5 => KillAt::Acks(1 + draw / 10 % 8),
            _ => KillAt::Acks(1 + draw / 10 % 60),
        })
        .collect()
}

#[test]
fn acknowledged_records_survive_sigkill_of_the_writer_process() {
    kill_writers(PLAIN);
}

#[test]
fn acknowledged_records_survive_sigkill_of_a_writer_with_grown_segments_and_a_new_epoch_per_open() {
    kill_writers(GROWN_WITH_EPOCHS);
}

#[test]
fn acknowledged_records_survive_sigkill_of_a_writer_whose_retention_recycles_segment_files() {
    kill_writers(RECYCLING);
}

/// Runs `setup`'s rounds; or, in a writer process, the writer.
fn kill_writers(setup: Setup) {
    if let Ok(dir) = std::env::var(DIR_VAR) {
        let number = |var: &str| std::env::var(var).ok().map(|n| n.parse().unwrap());
        let first_id = number(FIRST_ID_VAR).unwrap();
        run_writer(
            setup,
            Path::new(&dir),
            first_id,
            number(EPOCH_VAR),
            number(SEAL_AFTER_VAR),
        );
        return;
    }

    let dir = scratch_dir();
    let exe = std::env::current_exe().unwrap();
    let plan = kill_plan(setup);
    // Record ids first_in_log..records_in_log are in the log, in order (retention moves the first).
    let mut records_in_log = 0u64;
    let mut first_in_log = 0u64;
    let mut total_recycled = 0;
    let mut acknowledged: HashMap<u64, String> = HashMap::new();
    let mut total_acks = 0;
    let mut last_counter: Option<u64> = None;

    for (round, kill_at) in plan.into_iter().enumerate() {
        let context = format!("round {round} (kill at {kill_at:?})");
        // An engine opened for the `round`th time.
        let epoch = setup.epochs.then_some(round as u64);
        let mut command = Command::new(&exe);
        command
            .args(["--exact", &test_name(module_path!(), setup.test_name)])
            .args(["--nocapture", "--test-threads=1"])
            .env(DIR_VAR, dir.path())
            .env(FIRST_ID_VAR, records_in_log.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(epoch) = epoch {
            command.env(EPOCH_VAR, epoch.to_string());
        }
        if let KillAt::Sealed(records) = kill_at {
            command.env(SEAL_AFTER_VAR, records.to_string());
        }
        let child = command.spawn().unwrap();
        let mut writer = KilledOnDrop(child);
        let mut stderr_pipe = writer.0.stderr.take().unwrap();
        let mut stderr = Some(std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr_pipe, &mut text);
            text
        }));
        let ended_early = |writer: &mut KilledOnDrop,
                           stderr: &mut Option<std::thread::JoinHandle<String>>|
         -> ! {
            let status = writer.0.wait();
            let text = stderr.take().map(|t| t.join().unwrap()).unwrap_or_default();
            panic!("{context}: the writer ended early ({status:?}):\n{text}")
        };
        let mut output = WriterOutput {
            stdout: BufReader::new(writer.0.stdout.take().unwrap()),
            ready: None,
            acks: Vec::new(),
            sealed: false,
            recycled: 0,
        };
        match kill_at {
            KillAt::Once => {}
            KillAt::Ready => {
                while output.ready.is_none() {
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
            KillAt::Sealed(_) => {
                while !output.sealed {
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
        total_recycled += output.recycled;
        let stderr = stderr.take().unwrap().join().unwrap();
        assert!(
            !stderr.contains("panicked"),
            "{context}: the writer failed:\n{stderr}"
        );

        // Recover a copy; the original stays as the crash left it for the next round.
        let copy = scratch_dir();
        let image = Image::capture(dir.path());
        if let KillAt::Sealed(_) = kill_at {
            let last = image.segment_bases().last().copied().unwrap();
            let segment = image.file(&segment_name(last));
            let data_end = frames(segment).last().map_or(SEGMENT_HEADER, FrameAt::end);
            assert_eq!(
                segment.len(),
                data_end,
                "{context}: the sealed log's last segment is not trimmed to its data"
            );
        }
        image.restore(copy.path());
        // Opened as the next round's writer will open the original.
        let next_epoch = setup.epochs.then_some(round as u64 + 1);
        let options = writer_options(setup, next_epoch).durability(Durability::PageCache);
        let (log, report) = ShardLog::open(copy.path(), options).unwrap();
        assert!(!report.clean_shutdown, "{context}");
        let records = read_all(&log);
        log.close().unwrap();

        let first = records.first().map_or(first_in_log, |record| {
            let key = record.partition_key();
            key.strip_prefix("key-")
                .and_then(|id| id.parse().ok())
                .unwrap()
        });
        assert!(
            first >= first_in_log && (setup.retention || first == 0),
            "{context}: the log starts at record {first}, after {first_in_log} before"
        );
        let end = first + records.len() as u64;
        let added = end - records_in_log;
        let acks = round_acks.len() as u64;
        assert!(
            end >= records_in_log,
            "{context}: the log shrank from ending at record {records_in_log} to {end}"
        );
        assert!(
            added == acks || (added == acks + 1 && !matches!(kill_at, KillAt::Sealed(_))),
            "{context}: {acks} appends acknowledged, but the log grew by {added} records"
        );
        let highest = records.last().map(|r| r.sequence_number().counter());
        assert!(
            highest.is_none_or(|highest| report.next_counter > highest),
            "{context}: the next open would hand out counter {} again",
            report.next_counter
        );
        if let Some(next_epoch) = next_epoch {
            assert!(
                report.next_counter >= epoch_floor(next_epoch),
                "{context}: the next open resumes at {}, below epoch {next_epoch}'s floor",
                report.next_counter
            );
        }
        if let Some(next_counter) = output.ready {
            // What this round's open announced: above everything before, in its own epoch.
            assert!(
                last_counter.is_none_or(|last| next_counter > last),
                "{context}: the open announced counter {next_counter}, not above {last_counter:?}"
            );
            if let Some(epoch) = epoch {
                assert!(
                    next_counter >= epoch_floor(epoch),
                    "{context}: the open at epoch {epoch} announced {next_counter}"
                );
            }
            if let Some((_, first)) = round_acks.first() {
                let first: SequenceNumber = first.parse().unwrap();
                assert_eq!(
                    first.counter(),
                    next_counter,
                    "{context}: the first record did not get the announced counter"
                );
            }
        }
        for (i, record) in records.iter().enumerate() {
            let id = first + i as u64;
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
                record.data()[..] == payload(id, data_len(setup, id))[..],
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
                if let Some(epoch) = epoch {
                    assert!(
                        (epoch_floor(epoch)..epoch_floor(epoch + 1)).contains(&counter),
                        "{context}: record {i} has counter {counter}, outside epoch {epoch}"
                    );
                }
            }
        }
        for (expected_id, (id, sequence_number)) in (records_in_log..).zip(&round_acks) {
            assert_eq!(*id, expected_id, "{context}: acknowledgements out of order");
            acknowledged.insert(*id, sequence_number.clone());
        }
        // Retention may have deleted acknowledged records below the log's first; none other.
        acknowledged.retain(|id, _| *id >= first);
        for (id, sequence_number) in &acknowledged {
            let record = &records[(*id - first) as usize];
            assert_eq!(
                &record.sequence_number().to_string(),
                sequence_number,
                "{context}: record {id} has another sequence number than acknowledged"
            );
        }
        total_acks += round_acks.len();
        records_in_log = end;
        first_in_log = first;
        last_counter = records.last().map(|r| r.sequence_number().counter());
    }
    assert!(
        total_acks >= setup.total_acks_min,
        "only {total_acks} acknowledgements in all"
    );
    if setup.grown {
        // The segments did grow: the first one was small, a later one is larger.
        let image = Image::capture(dir.path());
        let sizes: Vec<usize> = image
            .segment_bases()
            .iter()
            .map(|&base| image.file(&segment_name(base)).len())
            .collect();
        assert!(
            sizes.first().is_some_and(|&first| first <= 4 * 1024)
                && sizes.iter().any(|&size| size > 16 * 1024),
            "segment sizes {sizes:?}"
        );
    }
    if setup.retention {
        assert!(
            total_recycled >= 20,
            "retention recycled a segment file only {total_recycled} times"
        );
    }
    println!(
        "{} rounds survived, {total_acks} acknowledged records verified after each kill, \
         {total_recycled} segment files recycled",
        setup.rounds
    );
    if !setup.retention {
        assert_eq!(acknowledged.len(), total_acks);
    }
}
