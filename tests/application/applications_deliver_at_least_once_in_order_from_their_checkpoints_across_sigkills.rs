//! Process kill of an application: a child process opens the engine, starts an application with
//! two worker threads on a PROVISIONED stream, and then, from its main thread, puts records (and
//! reshards: a split or a merge after every 40 acknowledgements). It prints, as soon as each
//! happens: each acknowledged put (id, shard, sequence number), each record its processors are
//! handed (shard, sequence number, id), each checkpoint once `Checkpointer::checkpoint` returned
//! (the processors checkpoint every second batch, under the `Manual` policy), each shard's end,
//! and each reshard's start and end. The test kills it with SIGKILL in each of 16 rounds, at a
//! point from a fixed pseudo-random plan: at once, as soon as it is ready, after 1 to 400 lines of
//! output, or right after it announced its first or second reshard. Each round reopens the last
//! one's crash; after the last, the test drains the stream itself with
//! `Application::process_available`.
//!
//! Checked against what was printed, over every round:
//! - checkpoints of a shard never go back, across rounds too, and never pass what was delivered;
//! - within a round, a shard's records come in sequence-number order with none skipped (no
//!   acknowledged record of the shard lies between two consecutive deliveries), and none after its
//!   end; the records of each partition key come in the order they were put (across reshards);
//! - a round's first record of a shard comes after the shard's last printed checkpoint (nothing
//!   up to a checkpoint is delivered again), and every acknowledged record of the shard before it
//!   was delivered in an earlier round (nothing after the checkpoint is lost);
//! - at the end every acknowledged record was delivered at least once.
//!
//! The child is this test binary itself, re-run with `--exact <this test>` and environment
//! variables naming the directory and the round, as in
//! `acknowledged_puts_survive_sigkill_of_a_writer_that_reshards.rs`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use crate::support::engine::open_shards_by_start;
use crate::support::engine::payload;
use crate::support::killed_child::{KilledOnDrop, plan_draws};
use crate::support::test_name;
use shardlog::application::{
    Application, ApplicationOptions, Batch, CheckpointPolicy, Checkpointer, ProcessorError,
    RecordProcessor,
};
use shardlog::{
    CreateStream, Engine, EngineOptions, PutRecordInput, SequenceNumber, ShardId, Stream,
};

const TEST_FUNCTION: &str =
    "applications_deliver_at_least_once_in_order_from_their_checkpoints_across_sigkills";
const DIR_VAR: &str = "SHARDLOG_TEST_KILLED_APPLICATION_DIR";
const ROUND_VAR: &str = "SHARDLOG_TEST_KILLED_APPLICATION_ROUND";
const READY: &str = "shardlog-app-ready";
const ACK: &str = "shardlog-app-ack";
const DELIVER: &str = "shardlog-app-deliver";
const CHECKPOINT: &str = "shardlog-app-checkpoint";
const END: &str = "shardlog-app-end";
const RESHARD_START: &str = "shardlog-app-reshard-start";
const RESHARD_DONE: &str = "shardlog-app-reshard-done";
const WRITES_DONE: &str = "shardlog-app-writes-done";
const STREAM: &str = "killed";
const APPLICATION: &str = "killed-app";
const ROUNDS: usize = 16;
/// Records one child puts at most (it is killed long before, mostly).
const RECORDS_PER_ROUND_MAX: u64 = 300;
/// Ids of round r are r * ID_ROUND_STRIDE + n, so that they grow with the order of the puts
/// and a put the kill interrupted (stored, never acknowledged) never shares an id.
const ID_ROUND_STRIDE: u64 = 1_000_000;
const ACKS_PER_RESHARD: u64 = 40;
const PUT_EVERY: std::time::Duration = std::time::Duration::from_micros(300);
/// No more reshards once the stream has this many shards (open and closed).
const SHARDS_MAX: usize = 12;
const KEYS: u64 = 7;
const BATCH_RECORDS_MAX: usize = 7;

fn engine_options() -> EngineOptions {
    EngineOptions {
        segment_bytes: 1 << 20,
        maintenance_interval: None,
        ..EngineOptions::default()
    }
}

fn key(id: u64) -> String {
    format!("key-{}", id % KEYS)
}

fn data(id: u64) -> Vec<u8> {
    let mut data = id.to_be_bytes().to_vec();
    data.extend(payload(id, (id as usize * 29) % 200));
    data
}

/// The id a record's data names, after checking the record is intact.
fn id_of(record: &shardlog::Record) -> u64 {
    let id = u64::from_be_bytes(record.data()[..8].try_into().unwrap());
    assert_eq!(record.data(), &data(id)[..], "record {id} is damaged");
    assert_eq!(record.partition_key(), key(id), "record {id}'s key");
    id
}

/// The child's processor: prints what it is handed and checkpoints every second batch.
struct PrintingProcessor {
    batches: u64,
}

impl RecordProcessor for PrintingProcessor {
    fn process(
        &mut self,
        batch: Batch<'_>,
        checkpointer: &mut Checkpointer<'_>,
    ) -> Result<(), ProcessorError> {
        let shard = batch.shard_id.index();
        let mut lines = String::new();
        for record in batch.records {
            let id = id_of(record);
            lines += &format!("{DELIVER} {shard} {} {id}\n", record.sequence_number());
        }
        std::io::stdout().lock().write_all(lines.as_bytes())?;
        self.batches += 1;
        if self.batches.is_multiple_of(2) {
            checkpointer.checkpoint()?;
            let at = checkpointer.last_checkpoint().expect("just checkpointed");
            println!("{CHECKPOINT} {shard} {at}");
        }
        Ok(())
    }

    fn shard_ended(
        &mut self,
        shard_id: ShardId,
        _checkpointer: &mut Checkpointer<'_>,
    ) -> Result<(), ProcessorError> {
        println!("{END} {}", shard_id.index());
        Ok(())
    }
}

/// Splits the widest open shard, or merges the first two once four are open.
fn reshard(stream: &Stream) {
    let open = open_shards_by_start(stream);
    if open.len() >= 4 {
        stream
            .merge_shards(&open[0].id().to_string(), &open[1].id().to_string())
            .unwrap();
    } else {
        let widest = open
            .iter()
            .max_by_key(|shard| shard.hash_key_range.ending - shard.hash_key_range.starting)
            .unwrap();
        let range = widest.hash_key_range;
        let middle = range.starting + (range.ending - range.starting) / 2;
        stream
            .split_shard(&widest.id().to_string(), &middle.to_string())
            .unwrap();
    }
}

/// The child: consume with two workers while putting and resharding, until killed.
fn run_child(dir: &Path, round: u64) {
    let engine = Engine::open(dir, engine_options()).unwrap();
    let stream = match engine.stream(STREAM) {
        Ok(stream) => stream,
        Err(_) => engine
            .create_stream(CreateStream::provisioned(STREAM, 2))
            .unwrap(),
    };
    let options = ApplicationOptions {
        workers: 2,
        checkpoint_policy: CheckpointPolicy::Manual,
        batch_records_max: BATCH_RECORDS_MAX,
        ..ApplicationOptions::default()
    };
    let application = Application::open(&stream, APPLICATION, options).unwrap();
    let running = application
        .start(|_shard| PrintingProcessor { batches: 0 })
        .unwrap();
    println!("{READY}");
    for n in 0..RECORDS_PER_ROUND_MAX {
        let id = round * ID_ROUND_STRIDE + n;
        let output = stream
            .put_record(PutRecordInput::new(&key(id), &data(id)))
            .unwrap();
        println!(
            "{ACK} {id} {} {}",
            output.shard_id.index(),
            output.sequence_number
        );
        // Paced, so that the workers keep up and most records are delivered (and checkpointed)
        // by the children that get killed, not only by the last drain.
        std::thread::sleep(PUT_EVERY);
        if (n + 1).is_multiple_of(ACKS_PER_RESHARD) && stream.meta().shards.len() < SHARDS_MAX {
            println!("{RESHARD_START}");
            reshard(&stream);
            println!("{RESHARD_DONE}");
        }
    }
    println!("{WRITES_DONE}");
    // Killed from here on at the latest; the workers keep delivering meanwhile.
    std::thread::sleep(std::time::Duration::from_secs(60));
    assert!(!running.has_failed(), "the application failed");
}

#[derive(Debug, Clone, Copy)]
enum KillAt {
    Once,
    Ready,
    Lines(usize),
    ReshardStarted(usize),
}

fn kill_plan() -> Vec<KillAt> {
    plan_draws(0x0a99_11ca_u64, ROUNDS)
        .map(|draw| match draw % 10 {
            0 => KillAt::Once,
            1 => KillAt::Ready,
            2..=4 => KillAt::ReshardStarted(1 + draw / 10 % 2),
            _ => KillAt::Lines(1 + draw / 10 % 400),
        })
        .collect()
}

/// Everything printed, and the checks that need all of it.
#[derive(Default)]
struct Ledger {
    /// Acknowledged puts: id → (shard, sequence number).
    acked: HashMap<u64, (u32, SequenceNumber)>,
    /// The last printed checkpoint per shard.
    checkpoints: BTreeMap<u32, SequenceNumber>,
    /// The furthest record delivered per shard, in any round.
    furthest: BTreeMap<u32, SequenceNumber>,
    delivered: BTreeSet<u64>,
    /// This round: the last record delivered per shard, the last id per key, the shards ended.
    round_last: BTreeMap<u32, SequenceNumber>,
    round_last_id_per_key: HashMap<u64, u64>,
    round_ended: BTreeSet<u32>,
    lines: usize,
    /// Totals over every round, for the summary.
    deliveries: usize,
    checkpoints_printed: usize,
    ends: usize,
    ready: bool,
    reshards_started: usize,
    writes_done: bool,
}

impl Ledger {
    fn start_round(&mut self) {
        self.round_last.clear();
        self.round_last_id_per_key.clear();
        self.round_ended.clear();
        self.lines = 0;
        self.ready = false;
        self.reshards_started = 0;
        self.writes_done = false;
    }

    fn acked_in(&self, shard: u32) -> impl Iterator<Item = SequenceNumber> + '_ {
        self.acked
            .values()
            .filter(move |(acked_shard, _)| *acked_shard == shard)
            .map(|(_, number)| *number)
    }

    fn deliver(&mut self, context: &str, shard: u32, number: SequenceNumber, id: u64) {
        assert!(
            !self.round_ended.contains(&shard),
            "{context}: shard {shard} delivered record {id} after its end"
        );
        match self.round_last.get(&shard) {
            Some(&last) => {
                assert!(number > last, "{context}: shard {shard} went back to {id}");
                let skipped = self.acked_in(shard).find(|n| *n > last && *n < number);
                assert!(
                    skipped.is_none(),
                    "{context}: shard {shard} skipped {skipped:?} before record {id}"
                );
            }
            None => {
                if let Some(&checkpoint) = self.checkpoints.get(&shard) {
                    assert!(
                        number > checkpoint,
                        "{context}: shard {shard} delivered record {id} again, at or before its \
                         checkpoint"
                    );
                }
                let furthest = self.furthest.get(&shard).copied();
                let lost = self
                    .acked_in(shard)
                    .find(|n| *n < number && furthest.is_none_or(|furthest| *n > furthest));
                assert!(
                    lost.is_none(),
                    "{context}: shard {shard} resumed at record {id}, losing {lost:?}"
                );
            }
        }
        if let Some(previous) = self.round_last_id_per_key.insert(id % KEYS, id) {
            assert!(
                previous < id,
                "{context}: key {} went back from record {previous} to {id}",
                id % KEYS
            );
        }
        self.deliveries += 1;
        self.round_last.insert(shard, number);
        let furthest = self.furthest.entry(shard).or_insert(number);
        *furthest = (*furthest).max(number);
        self.delivered.insert(id);
    }

    fn checkpoint(&mut self, context: &str, shard: u32, number: SequenceNumber) {
        assert!(
            self.round_last
                .get(&shard)
                .is_some_and(|last| number <= *last),
            "{context}: shard {shard} checkpointed past what it delivered"
        );
        self.checkpoints_printed += 1;
        if let Some(previous) = self.checkpoints.insert(shard, number) {
            assert!(
                previous <= number,
                "{context}: the checkpoint of shard {shard} went back"
            );
        }
    }

    fn end(&mut self, context: &str, shard: u32) {
        let last = self.round_last.get(&shard).copied();
        let furthest = self.furthest.get(&shard).copied();
        let missing = self.acked_in(shard).find(|n| {
            last.is_none_or(|last| *n > last) && furthest.is_none_or(|furthest| *n > furthest)
        });
        assert!(
            missing.is_none(),
            "{context}: shard {shard} ended without {missing:?}"
        );
        self.round_ended.insert(shard);
        self.ends += 1;
    }

    /// Takes one line of the child's output; false at its end.
    fn take_line(&mut self, context: &str, stdout: &mut impl BufRead) -> bool {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        if !line.ends_with('\n') {
            return false; // the end, or the unfinished last line of a killed child
        }
        self.lines += 1;
        // The test harness may print "test <name> ... " before the child's first line.
        let marker_at = line.find("shardlog-app-").unwrap_or(0);
        let mut words = line[marker_at..].split_whitespace();
        let marker = words.next().unwrap_or("");
        let mut next = || words.next().unwrap().to_owned();
        match marker {
            READY => self.ready = true,
            RESHARD_START => self.reshards_started += 1,
            WRITES_DONE => self.writes_done = true,
            ACK => {
                let id = next().parse().unwrap();
                let shard = next().parse().unwrap();
                let number = next().parse().unwrap();
                self.acked.insert(id, (shard, number));
            }
            DELIVER => {
                let shard = next().parse().unwrap();
                let number = next().parse().unwrap();
                let id = next().parse().unwrap();
                self.deliver(context, shard, number, id);
            }
            CHECKPOINT => {
                let shard = next().parse().unwrap();
                let number = next().parse().unwrap();
                self.checkpoint(context, shard, number);
            }
            END => {
                let shard = next().parse().unwrap();
                self.end(context, shard);
            }
            _ => {}
        }
        true
    }

    fn reached(&self, kill_at: KillAt) -> bool {
        self.writes_done
            || match kill_at {
                KillAt::Once => true,
                KillAt::Ready => self.ready,
                KillAt::Lines(n) => self.lines >= n,
                KillAt::ReshardStarted(n) => self.reshards_started >= n,
            }
    }
}

/// What the last drain's processors saw.
enum Seen {
    Delivered(u32, SequenceNumber, u64),
    Ended(u32),
}

/// The last drain, in this process: the same checks, through a processor that records.
struct RecordingProcessor {
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl RecordProcessor for RecordingProcessor {
    fn process(
        &mut self,
        batch: Batch<'_>,
        _checkpointer: &mut Checkpointer<'_>,
    ) -> Result<(), ProcessorError> {
        let mut seen = self.seen.lock().unwrap();
        for record in batch.records {
            let id = id_of(record);
            seen.push(Seen::Delivered(
                batch.shard_id.index(),
                record.sequence_number(),
                id,
            ));
        }
        Ok(())
    }

    fn shard_ended(
        &mut self,
        shard_id: ShardId,
        _checkpointer: &mut Checkpointer<'_>,
    ) -> Result<(), ProcessorError> {
        self.seen
            .lock()
            .unwrap()
            .push(Seen::Ended(shard_id.index()));
        Ok(())
    }
}

#[test]
fn applications_deliver_at_least_once_in_order_from_their_checkpoints_across_sigkills() {
    if let Ok(dir) = std::env::var(DIR_VAR) {
        let round = std::env::var(ROUND_VAR).unwrap().parse().unwrap();
        run_child(Path::new(&dir), round);
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut ledger = Ledger::default();
    let mut kills_during_reshard = 0;
    for (round, kill_at) in (0..ROUNDS).zip(kill_plan()) {
        let context = format!("round {round} (kill at {kill_at:?})");
        let child = Command::new(&exe)
            .args(["--exact", &test_name(module_path!(), TEST_FUNCTION)])
            .args(["--nocapture", "--test-threads=1"])
            .env(DIR_VAR, dir.path())
            .env(ROUND_VAR, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut child = KilledOnDrop(child);
        let mut stderr_pipe = child.0.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr_pipe.read_to_string(&mut text);
            text
        });
        let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
        ledger.start_round();
        let mut ended_early = false;
        while !ledger.reached(kill_at) {
            if !ledger.take_line(&context, &mut stdout) {
                ended_early = true;
                break;
            }
        }
        child.0.kill().unwrap();
        let status = child.0.wait().unwrap();
        // Lines already in the pipe were printed before the kill: they count.
        while ledger.take_line(&context, &mut stdout) {}
        let stderr = stderr.join().unwrap();
        assert!(
            !ended_early && !status.success() && !stderr.contains("panicked"),
            "{context}: the child ended before the kill ({status:?}):\n{stderr}"
        );
        kills_during_reshard += usize::from(matches!(kill_at, KillAt::ReshardStarted(_)));
    }
    assert!(kills_during_reshard > 0, "the plan kills during reshards");

    // The last run: drain everything, here.
    let engine = Engine::open(dir.path(), engine_options()).unwrap();
    let stream = engine.stream(STREAM).unwrap();
    let options = ApplicationOptions {
        checkpoint_policy: CheckpointPolicy::Manual,
        ..ApplicationOptions::default()
    };
    let mut application = Application::open(&stream, APPLICATION, options).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorder = Arc::clone(&seen);
    application
        .process_available(move |_shard| RecordingProcessor {
            seen: Arc::clone(&recorder),
        })
        .unwrap();
    ledger.start_round();
    let context = "the last drain";
    for seen in seen.lock().unwrap().iter() {
        match *seen {
            Seen::Delivered(shard, number, id) => ledger.deliver(context, shard, number, id),
            Seen::Ended(shard) => ledger.end(context, shard),
        }
    }
    let undelivered: Vec<u64> = ledger
        .acked
        .keys()
        .filter(|id| !ledger.delivered.contains(id))
        .copied()
        .collect();
    assert!(
        undelivered.is_empty(),
        "acknowledged records never delivered: {undelivered:?}"
    );
    println!(
        "{ROUNDS} rounds, {kills_during_reshard} killed right after a reshard began; {} records \
         acknowledged, {} delivered ({} deliveries: {} again after a kill), {} checkpoints and {} \
         shard ends printed",
        ledger.acked.len(),
        ledger.delivered.len(),
        ledger.deliveries,
        ledger.deliveries - ledger.delivered.len(),
        ledger.checkpoints_printed,
        ledger.ends
    );
    assert!(
        ledger.acked.len() > 500,
        "the rounds put {} records",
        ledger.acked.len()
    );
}
