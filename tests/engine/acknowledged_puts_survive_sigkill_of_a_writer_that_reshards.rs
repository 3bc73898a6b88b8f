//! Process kill at the stream layer: a writer process opens an engine (`Durability::Sync`), puts
//! records to a PROVISIONED stream from one thread and prints each acknowledgement (record id,
//! shard, sequence number) as soon as `put_record` returns, while a second thread reshards the
//! stream (splits the widest open shard, or merges two adjacent ones once four are open; one
//! reshard per 25 acknowledgements) and prints when each reshard starts and ends. The test kills it with SIGKILL in each of 30 rounds,
//! at a point from a fixed pseudo-random plan: before it is ready, as soon as it is, after 1 to 80
//! acknowledgements, or right after it announced its first, second or third reshard (so the kill
//! lands while the catalog, the children's directories and the parents' seals are being written).
//! Every round reopens the previous round's crash.
//!
//! After each kill a copy of the data directory is opened, which must succeed, and checked: the
//! open shards tile the hash-key space; every acknowledged record is in the shard that
//! acknowledged it, with its sequence number, intact; the records are exactly ids `0..n` (no
//! hole, no duplicate), where this round added its acknowledged puts or one more (the put the kill
//! interrupted); in every shard ids and sequence numbers increase together (so numbers handed out
//! after a restart are above all before it); and every record of a child shard came after every
//! record of its parents (one thread puts, so that is the order of acknowledgement).
//!
//! The writer is this test binary itself, re-run with `--exact <this test>` and environment
//! variables naming the directory and the first id, as in
//! `acknowledged_records_survive_sigkill_of_the_writer_process.rs`.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::support::engine::open_shards_by_start;
use crate::support::engine::{payload, read_typed};
use crate::support::killed_child::{KilledOnDrop, plan_draws};
use crate::support::{scratch_dir, test_name};
use shardlog::stream::ShardMeta;
use shardlog::{
    CreateStream, Durability, Engine, EngineOptions, PutRecordInput, StartingPosition, Stream,
};

/// The test function, which the writer process runs as.
const TEST_FUNCTION: &str = "acknowledged_puts_survive_sigkill_of_a_writer_that_reshards";
const DIR_VAR: &str = "SHARDLOG_TEST_KILLED_STREAM_WRITER_DIR";
const FIRST_ID_VAR: &str = "SHARDLOG_TEST_KILLED_STREAM_WRITER_FIRST_ID";
const READY: &str = "shardlog-stream-writer-ready";
const ACK: &str = "shardlog-stream-writer-ack";
const RESHARD_START: &str = "shardlog-stream-writer-reshard-start";
const RESHARD_DONE: &str = "shardlog-stream-writer-reshard-done";
const RESHARDS_OVER: &str = "shardlog-stream-writer-reshards-over";
const STREAM: &str = "killed";
const ROUNDS: usize = 30;
/// The writer stops by itself after this many records if it is never killed.
const WRITER_RECORDS_MAX: u64 = 2_000;
/// Reshards one writer process makes at most (it is killed long before, mostly).
const RESHARDS_PER_RUN_MAX: usize = 4;
/// A writer starts its n-th reshard once it has acknowledged n times this many puts, so that
/// rounds killed after a number of acknowledgements do not use up the reshards (see SHARDS_MAX).
const ACKS_PER_RESHARD: u64 = 25;
/// No more reshards once the stream has this many shards (open and closed): keeps every round's
/// open and copy small.
const SHARDS_MAX: usize = 16;
/// Partition keys: records of one key must stay in order.
const KEYS: u64 = 13;

fn engine_options(durability: Durability) -> EngineOptions {
    EngineOptions {
        durability,
        segment_bytes: 1 << 20,
        maintenance_interval: None,
        ..EngineOptions::default()
    }
}

fn key(id: u64) -> String {
    format!("key-{}", id % KEYS)
}

/// The record's id, then bytes derived from it: the data proves which record it is.
fn data(id: u64) -> Vec<u8> {
    let mut data = id.to_be_bytes().to_vec();
    data.extend(payload(id, (id as usize * 53) % 700));
    data
}

/// One reshard: split the widest open shard in the middle while fewer than four are open, else
/// merge the two adjacent open shards with the smallest union.
fn reshard(stream: &Stream) {
    let open = open_shards_by_start(stream);
    let width = |shard: &ShardMeta| shard.hash_key_range.ending - shard.hash_key_range.starting;
    if open.len() < 4 {
        let widest = open.iter().max_by_key(|shard| width(shard)).unwrap();
        let range = widest.hash_key_range;
        let middle = range.starting + (range.ending - range.starting) / 2;
        stream
            .split_shard(&widest.id().to_string(), &middle.to_string())
            .expect("writer: split");
    } else {
        let pair = open
            .windows(2)
            .min_by_key(|pair| width(&pair[0]) / 2 + width(&pair[1]) / 2)
            .unwrap();
        stream
            .merge_shards(&pair[0].id().to_string(), &pair[1].id().to_string())
            .expect("writer: merge");
    }
}

/// The writer process: puts records `first_id..` from this thread and reshards from another.
fn run_writer(dir: &Path, first_id: u64) {
    let engine = Engine::open(dir, engine_options(Durability::Sync)).expect("writer: open");
    let stream = match engine.stream(STREAM) {
        Ok(stream) => stream,
        Err(_) => engine
            .create_stream(CreateStream::provisioned(STREAM, 2))
            .expect("writer: create the stream"),
    };
    println!("{READY}");
    let done = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(AtomicU64::new(0));
    let resharder = {
        let stream = Arc::clone(&stream);
        let done = Arc::clone(&done);
        let acknowledged = Arc::clone(&acknowledged);
        std::thread::spawn(move || {
            for reshard_number in 1..=RESHARDS_PER_RUN_MAX as u64 {
                // Paced by the puts, whatever their speed relative to a reshard's.
                while acknowledged.load(Ordering::Relaxed) < reshard_number * ACKS_PER_RESHARD
                    && !done.load(Ordering::Relaxed)
                {
                    std::thread::sleep(Duration::from_micros(100));
                }
                if done.load(Ordering::Relaxed) || stream.meta().shards.len() >= SHARDS_MAX {
                    break;
                }
                println!("{RESHARD_START}");
                reshard(&stream);
                println!("{RESHARD_DONE}");
            }
            println!("{RESHARDS_OVER}");
        })
    };
    for id in first_id..first_id + WRITER_RECORDS_MAX {
        let key = key(id);
        let data = data(id);
        let output = stream
            .put_record(PutRecordInput::new(&key, &data))
            .expect("writer: put");
        println!(
            "{ACK} {id} {} {}",
            output.shard_id.index(),
            output.sequence_number
        );
        acknowledged.fetch_add(1, Ordering::Relaxed);
    }
    done.store(true, Ordering::Relaxed);
    resharder.join().expect("writer: the resharding thread");
}

#[derive(Clone, Copy, Debug)]
enum KillAt {
    /// Right after spawning: before, during or after the writer's recovery.
    Once,
    /// As soon as the writer has opened the engine and the stream.
    Ready,
    /// After this many acknowledgements.
    Acks(usize),
    /// Right after the writer announced its n-th reshard.
    ReshardStarted(usize),
}

fn kill_plan() -> Vec<KillAt> {
    plan_draws(0x0005_eed5_u64, ROUNDS)
        .map(|draw| match draw % 10 {
            0 => KillAt::Once,
            1 => KillAt::Ready,
            2..=5 => KillAt::ReshardStarted(1 + draw / 10 % 3),
            _ => KillAt::Acks(1 + draw / 10 % 80),
        })
        .collect()
}

/// An acknowledged put.
#[derive(Debug)]
struct Ack {
    shard_index: u32,
    sequence_number: String,
}

/// What the writer printed so far.
struct WriterOutput {
    stdout: BufReader<std::process::ChildStdout>,
    ready: bool,
    reshards_started: usize,
    reshards_done: usize,
    /// The writer makes no more reshards.
    reshards_over: bool,
    /// Record ids and where they were stored, in order.
    acks: Vec<(u64, Ack)>,
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
        // The test harness may print "test <name> ... " on the same line before the writer's output.
        if line.contains(READY) {
            self.ready = true;
        } else if line.contains(RESHARD_START) {
            self.reshards_started += 1;
        } else if line.contains(RESHARD_DONE) {
            self.reshards_done += 1;
        } else if line.contains(RESHARDS_OVER) {
            self.reshards_over = true;
        } else if let Some(at) = line.find(ACK) {
            let mut words = line[at..].split_whitespace().skip(1);
            let id: u64 = words.next().unwrap().parse().unwrap();
            let shard_index = words.next().unwrap().parse().unwrap();
            let sequence_number = words.next().unwrap().to_owned();
            self.acks.push((
                id,
                Ack {
                    shard_index,
                    sequence_number,
                },
            ));
        }
        true
    }

    /// Whether the kill point has been reached.
    fn reached(&self, kill_at: KillAt) -> bool {
        match kill_at {
            KillAt::Once => true,
            KillAt::Ready => self.ready,
            KillAt::Acks(n) => self.acks.len() >= n,
            // A writer that makes no more reshards is killed at once.
            KillAt::ReshardStarted(n) => self.reshards_started >= n || self.reshards_over,
        }
    }
}

/// Copies directory `from` (recursively) to `to`.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The record id a record's data names, after checking that the data is intact.
fn id_of(data: &[u8], context: &str) -> u64 {
    let id = u64::from_be_bytes(data[..8].try_into().unwrap());
    assert!(
        data[..] == self::data(id)[..],
        "{context}: the data of record {id} is damaged"
    );
    id
}

#[test]
fn acknowledged_puts_survive_sigkill_of_a_writer_that_reshards() {
    if let Ok(dir) = std::env::var(DIR_VAR) {
        let first_id = std::env::var(FIRST_ID_VAR).unwrap().parse().unwrap();
        run_writer(Path::new(&dir), first_id);
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    // Record ids 0..records_in_stream are in the stream.
    let mut records_in_stream = 0u64;
    let mut acknowledged: HashMap<u64, Ack> = HashMap::new();
    let mut reshards_started = 0;
    let mut reshards_done = 0;
    let mut kills_during_reshard = 0;

    for (round, kill_at) in kill_plan().into_iter().enumerate() {
        let context = format!("round {round} (kill at {kill_at:?})");
        let child = Command::new(&exe)
            .args(["--exact", &test_name(module_path!(), TEST_FUNCTION)])
            .args(["--nocapture", "--test-threads=1"])
            .env(DIR_VAR, dir.path())
            .env(FIRST_ID_VAR, records_in_stream.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut writer = KilledOnDrop(child);
        let mut stderr_pipe = writer.0.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr_pipe.read_to_string(&mut text);
            text
        });
        let mut output = WriterOutput {
            stdout: BufReader::new(writer.0.stdout.take().unwrap()),
            ready: false,
            reshards_started: 0,
            reshards_done: 0,
            reshards_over: false,
            acks: Vec::new(),
        };
        let mut ended_early = false;
        while !output.reached(kill_at) {
            if !output.take_line() {
                ended_early = true;
                break;
            }
        }
        writer.0.kill().unwrap();
        let status = writer.0.wait().unwrap();
        let stderr = stderr.join().unwrap();
        assert!(
            !ended_early && !status.success(),
            "{context}: the writer ended before the kill ({status:?}):\n{stderr}"
        );
        // Acknowledgements already in the pipe count too: their puts had returned.
        while output.take_line() {}
        assert!(
            !stderr.contains("panicked"),
            "{context}: the writer failed:\n{stderr}"
        );
        reshards_started += output.reshards_started;
        reshards_done += output.reshards_done;
        kills_during_reshard += usize::from(output.reshards_started > output.reshards_done);

        // Recover a copy; the original stays as the crash left it for the next round.
        let copy = scratch_dir();
        copy_dir(dir.path(), copy.path());
        let engine = Engine::open(copy.path(), engine_options(Durability::PageCache))
            .unwrap_or_else(|error| panic!("{context}: reopening failed: {error}"));
        let Ok(stream) = engine.stream(STREAM) else {
            assert!(
                acknowledged.is_empty() && output.acks.is_empty(),
                "{context}: the stream is gone after acknowledged puts"
            );
            continue;
        };
        let mut expected_start = Some(0u128);
        for shard in open_shards_by_start(&stream) {
            assert_eq!(
                Some(shard.hash_key_range.starting),
                expected_start,
                "{context}: the open shards do not tile the hash keys"
            );
            expected_start = shard.hash_key_range.ending.checked_add(1);
        }
        assert_eq!(
            expected_start, None,
            "{context}: the open shards stop short"
        );

        // Every shard's records, checked for order and integrity.
        let shards = stream.meta().shards;
        let mut where_stored: BTreeMap<u64, (u32, String)> = BTreeMap::new();
        let mut ids_by_shard: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
        for shard in &shards {
            let records = read_typed(&stream, shard.id(), StartingPosition::TrimHorizon, 1000);
            let ids: Vec<u64> = records
                .iter()
                .map(|record| id_of(record.data(), &context))
                .collect();
            for (pair, numbers) in ids.windows(2).zip(records.windows(2)) {
                assert!(
                    pair[0] < pair[1]
                        && numbers[0].sequence_number() < numbers[1].sequence_number(),
                    "{context}: shard {} holds record {} then {}",
                    shard.index,
                    pair[0],
                    pair[1]
                );
            }
            for (record, &id) in records.iter().zip(&ids) {
                assert_eq!(record.partition_key(), key(id), "{context}: record {id}");
                let previous =
                    where_stored.insert(id, (shard.index, record.sequence_number().to_string()));
                assert!(previous.is_none(), "{context}: record {id} is stored twice");
            }
            ids_by_shard.insert(shard.index, ids);
        }
        let count = where_stored.len() as u64;
        assert_eq!(
            where_stored.keys().next_back().map_or(0, |last| last + 1),
            count,
            "{context}: the stored ids have a hole"
        );
        let acks = output.acks.len() as u64;
        assert!(
            count == records_in_stream + acks || count == records_in_stream + acks + 1,
            "{context}: {acks} puts acknowledged, but the stream went from {records_in_stream} to \
             {count} records"
        );
        for shard in &shards {
            let first_in_child = ids_by_shard[&shard.index].first();
            for parent in [shard.parent, shard.adjacent_parent].into_iter().flatten() {
                let last_in_parent = ids_by_shard.get(&parent).and_then(|ids| ids.last());
                if let (Some(first), Some(last)) = (first_in_child, last_in_parent) {
                    assert!(
                        last < first,
                        "{context}: child shard {} starts with record {first}, before parent \
                         {parent} ends with {last}",
                        shard.index
                    );
                }
            }
        }
        for (expected_id, (id, ack)) in (records_in_stream..).zip(output.acks) {
            assert_eq!(id, expected_id, "{context}: acknowledgements out of order");
            acknowledged.insert(id, ack);
        }
        for (id, ack) in &acknowledged {
            assert_eq!(
                where_stored.get(id),
                Some(&(ack.shard_index, ack.sequence_number.clone())),
                "{context}: acknowledged record {id} is missing or elsewhere"
            );
        }
        records_in_stream = count;
    }
    assert!(
        acknowledged.len() >= 400,
        "only {} acknowledgements in all",
        acknowledged.len()
    );
    assert!(
        reshards_done >= 8 && kills_during_reshard >= 5,
        "only {reshards_done} reshards finished and {kills_during_reshard} interrupted"
    );
    println!(
        "{ROUNDS} rounds survived: {} acknowledged records verified after each kill, \
         {reshards_started} reshards started, {reshards_done} finished, {kills_during_reshard} \
         kills during a reshard",
        acknowledged.len()
    );
}
