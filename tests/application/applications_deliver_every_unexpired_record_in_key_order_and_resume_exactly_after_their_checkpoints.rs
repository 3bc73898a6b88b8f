//! Model test of applications (`shardlog::application`): random puts, splits, merges, clock
//! advances with retention expiry, reads with `Application::process_available`, and restarts of
//! the application (and sometimes of the engine), against a model that knows every acknowledged
//! record, its shard, sequence number and arrival time.
//!
//! The processor records every event (a delivery, a checkpoint it made or the application made
//! after the batch, a shard's end) in order, and, under the `Manual` policy, checkpoints at random:
//! at the last record, at a random record of the batch, or not at all, also when told to stop. A
//! restart therefore drops whatever was delivered after the last checkpoint, exactly as a crash
//! between processing and checkpointing would. After each read the model checks:
//!
//! - within a shard, each record delivered comes after the position the application stands at:
//!   the last record it delivered since the restart, or else the shard's last checkpoint (so
//!   nothing up to a checkpoint is delivered again after a restart);
//! - every record between that position and the one delivered had expired at the read (so nothing
//!   after a checkpoint is lost), and so had every record after the position when the shard's end
//!   is reported;
//! - a shard is read only once every parent it has is ended (its end reported) or forgotten by
//!   retention, and never after its own end; and within one run of the application the records of
//!   each partition key come in the order they were put (so across splits and merges too);
//! - checkpoints only move forward and never past what was delivered;
//! - after the read, every shard the application may read (listed, not ended, all parents ended or
//!   forgotten) holds no unexpired record after the application's position: everything unexpired
//!   was delivered.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use crate::support::engine::open_shards_by_start;
use crate::support::engine::{HOUR_MS, clock, open, options, payload};
use proptest::prelude::*;
use shardlog::application::{
    Application, ApplicationOptions, Batch, CheckpointPolicy, Checkpointer, ProcessorError,
    RecordProcessor,
};
use shardlog::stream::{ShardMeta, StreamMeta};
use shardlog::{
    Clock, CreateStream, Engine, EngineOptions, ManualClock, PutRecordInput, SequenceNumber,
    ShardId, Stream,
};

const STREAM: &str = "model";
const APPLICATION: &str = "model-app";
const KEYS: u8 = 6;
const OPEN_SHARDS_MAX: usize = 6;
const RETENTION_MS: u64 = 24 * HOUR_MS;

#[derive(Debug, Clone)]
enum Op {
    Put {
        key: u8,
        count: u8,
    },
    Split {
        pick: u8,
    },
    Merge {
        pick: u8,
    },
    /// Advance the clock by this many hours, then run maintenance (retention forgets shards).
    Advance {
        hours: u8,
    },
    Read,
    Restart {
        reopen_engine: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..KEYS, 1u8..10).prop_map(|(key, count)| Op::Put { key, count }),
        2 => any::<u8>().prop_map(|pick| Op::Split { pick }),
        2 => any::<u8>().prop_map(|pick| Op::Merge { pick }),
        2 => (1u8..20).prop_map(|hours| Op::Advance { hours }),
        4 => Just(Op::Read),
        2 => any::<bool>().prop_map(|reopen_engine| Op::Restart { reopen_engine }),
    ]
}

/// An acknowledged record.
#[derive(Debug, Clone)]
struct Acked {
    key: u8,
    sequence_number: SequenceNumber,
    arrival_ms: u64,
}

/// What the processors saw and did, in order.
#[derive(Debug, Clone)]
enum Event {
    Delivered {
        shard: u32,
        id: u64,
        sequence_number: SequenceNumber,
    },
    Checkpointed {
        shard: u32,
        sequence_number: SequenceNumber,
    },
    Ended {
        shard: u32,
    },
}

/// Deterministic choices for the processors (splitmix64).
struct Choices(u64);

impl Choices {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % bound
    }
}

struct Recorder {
    events: Vec<Event>,
    choices: Choices,
}

struct ModelProcessor {
    recorder: Arc<Mutex<Recorder>>,
    policy: CheckpointPolicy,
}

impl ModelProcessor {
    /// Under `Manual`, checkpoints at the last record, at a random one of `batch`, or not at all.
    fn maybe_checkpoint(
        &self,
        recorder: &mut Recorder,
        batch: &[SequenceNumber],
        checkpointer: &mut Checkpointer<'_>,
    ) -> Result<(), ProcessorError> {
        if self.policy != CheckpointPolicy::Manual {
            return Ok(());
        }
        let shard = checkpointer.shard_id().index();
        let at = match recorder.choices.next(3) {
            0 => {
                checkpointer.checkpoint()?;
                checkpointer.last_checkpoint()
            }
            1 if !batch.is_empty() => {
                let number = batch[recorder.choices.next(batch.len() as u64) as usize];
                // Not before the last checkpoint: that is refused (tested elsewhere).
                if checkpointer
                    .last_checkpoint()
                    .is_some_and(|last| number < last)
                {
                    return Ok(());
                }
                checkpointer.checkpoint_at(number)?;
                Some(number)
            }
            _ => None,
        };
        if let Some(sequence_number) = at {
            recorder.events.push(Event::Checkpointed {
                shard,
                sequence_number,
            });
        }
        Ok(())
    }
}

impl RecordProcessor for ModelProcessor {
    fn process(
        &mut self,
        batch: Batch<'_>,
        checkpointer: &mut Checkpointer<'_>,
    ) -> Result<(), ProcessorError> {
        let mut recorder = self.recorder.lock().unwrap();
        let shard = batch.shard_id.index();
        for record in batch.records {
            let id = u64::from_be_bytes(record.data()[..8].try_into().unwrap());
            assert_eq!(record.data(), &data(id)[..], "record {id} is intact");
            recorder.events.push(Event::Delivered {
                shard,
                id,
                sequence_number: record.sequence_number(),
            });
        }
        let numbers: Vec<SequenceNumber> = batch
            .records
            .iter()
            .map(|record| record.sequence_number())
            .collect();
        self.maybe_checkpoint(&mut recorder, &numbers, checkpointer)?;
        if self.policy == CheckpointPolicy::AfterEachBatch {
            // The application checkpoints at the batch's last record once this returns Ok.
            let sequence_number = *numbers.last().expect("a batch is never empty");
            recorder.events.push(Event::Checkpointed {
                shard,
                sequence_number,
            });
        }
        Ok(())
    }

    fn shard_ended(
        &mut self,
        shard_id: ShardId,
        _checkpointer: &mut Checkpointer<'_>,
    ) -> Result<(), ProcessorError> {
        let mut recorder = self.recorder.lock().unwrap();
        recorder.events.push(Event::Ended {
            shard: shard_id.index(),
        });
        Ok(())
    }

    fn stopping(
        &mut self,
        _shard_id: ShardId,
        checkpointer: &mut Checkpointer<'_>,
    ) -> Result<(), ProcessorError> {
        let mut recorder = self.recorder.lock().unwrap();
        self.maybe_checkpoint(&mut recorder, &[], checkpointer)
    }
}

fn key(key: u8) -> String {
    format!("key-{key}")
}

/// The record's id, then bytes derived from it.
fn data(id: u64) -> Vec<u8> {
    let mut data = id.to_be_bytes().to_vec();
    data.extend(payload(id, (id as usize * 37) % 90));
    data
}

/// The model: everything acknowledged, and where the application stands.
#[derive(Default)]
struct Model {
    acked: Vec<Acked>,
    /// Durable checkpoints, by shard.
    checkpoints: BTreeMap<u32, SequenceNumber>,
    /// Shards whose end was reported (and so checkpointed).
    ended: BTreeSet<u32>,
    /// Where the application stands in each shard in this run: its last delivery since the
    /// restart, else the checkpoint.
    position: BTreeMap<u32, SequenceNumber>,
    /// The last id delivered per key in this run.
    last_id_per_key: HashMap<u8, u64>,
}

impl Model {
    fn restart(&mut self) {
        self.position = self.checkpoints.clone();
        self.last_id_per_key.clear();
    }

    /// Records of `shard` after the application's position there, with their ids.
    fn after_position(&self, shard: u32) -> impl Iterator<Item = (u64, &Acked)> {
        let position = self.position.get(&shard).copied();
        self.acked
            .iter()
            .enumerate()
            .filter_map(move |(id, acked)| {
                let ahead = acked.sequence_number.shard_index() == shard
                    && position.is_none_or(|position| acked.sequence_number > position);
                ahead.then_some((id as u64, acked))
            })
    }

    fn may_read(&self, meta: &StreamMeta, shard: &ShardMeta) -> bool {
        let listed = |index: u32| meta.shards.iter().any(|listed| listed.index == index);
        !self.ended.contains(&shard.index)
            && shard
                .parent
                .into_iter()
                .chain(shard.adjacent_parent)
                .all(|parent| self.ended.contains(&parent) || !listed(parent))
    }

    /// Checks the events of one read, made with the stream listing `meta` and trim horizon
    /// `horizon_ms`.
    fn check_read(&mut self, events: &[Event], meta: &StreamMeta, horizon_ms: u64) {
        for event in events {
            match *event {
                Event::Delivered {
                    shard,
                    id,
                    sequence_number,
                } => {
                    let meta_of = meta.shards.iter().find(|listed| listed.index == shard);
                    let meta_of = meta_of.expect("a delivered record's shard is listed");
                    assert!(
                        self.may_read(meta, meta_of),
                        "shard {shard} read before its parents ended"
                    );
                    let acked = &self.acked[id as usize];
                    assert_eq!(
                        acked.sequence_number, sequence_number,
                        "record {id}'s number"
                    );
                    for (skipped, earlier) in self.after_position(shard) {
                        if earlier.sequence_number >= sequence_number {
                            break;
                        }
                        assert!(
                            earlier.arrival_ms < horizon_ms,
                            "record {skipped} of shard {shard} was skipped unexpired"
                        );
                    }
                    if let Some(position) = self.position.get(&shard) {
                        assert!(
                            sequence_number > *position,
                            "record {id} of shard {shard} was delivered again, or out of order"
                        );
                    }
                    self.position.insert(shard, sequence_number);
                    if let Some(previous) = self.last_id_per_key.insert(acked.key, id) {
                        assert!(
                            previous < id,
                            "key {} went back from record {previous} to {id}",
                            acked.key
                        );
                    }
                }
                Event::Checkpointed {
                    shard,
                    sequence_number,
                } => {
                    let position = self.position.get(&shard).copied();
                    assert!(
                        position.is_some_and(|position| sequence_number <= position),
                        "checkpoint past what was delivered in shard {shard}"
                    );
                    if let Some(previous) = self.checkpoints.insert(shard, sequence_number) {
                        assert!(
                            previous <= sequence_number,
                            "checkpoint of shard {shard} went back"
                        );
                    }
                }
                Event::Ended { shard } => {
                    for (id, acked) in self.after_position(shard) {
                        assert!(
                            acked.arrival_ms < horizon_ms,
                            "shard {shard} ended without record {id}"
                        );
                    }
                    assert!(self.ended.insert(shard), "shard {shard} ended twice");
                }
            }
        }
        for shard in &meta.shards {
            if self.may_read(meta, shard) {
                for (id, acked) in self.after_position(shard.index) {
                    assert!(
                        acked.arrival_ms < horizon_ms,
                        "record {id} of shard {} was not delivered",
                        shard.index
                    );
                }
            }
        }
    }
}

/// The engine, the stream and the application, reopened together on a restart.
struct Opened {
    engine: Engine,
    stream: Arc<Stream>,
    application: Application,
}

struct Run {
    dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    options: EngineOptions,
    recorder: Arc<Mutex<Recorder>>,
    application_options: ApplicationOptions,
}

impl Run {
    fn open_application(&self, stream: &Arc<Stream>) -> Application {
        Application::open(stream, APPLICATION, self.application_options.clone()).unwrap()
    }

    /// Restarts the application (dropping it without a read loses whatever it delivered after
    /// its last checkpoints, as a crash would) and, with `reopen_engine`, the engine.
    fn restart(&self, opened: Opened, reopen_engine: bool) -> Opened {
        let Opened {
            mut engine,
            mut stream,
            application,
        } = opened;
        drop(application);
        if reopen_engine {
            // The data directory stays locked while any stream handle lives.
            drop(stream);
            drop(engine);
            engine = open(self.dir.path(), &self.options);
            stream = engine.stream(STREAM).unwrap();
        }
        let application = self.open_application(&stream);
        Opened {
            engine,
            stream,
            application,
        }
    }

    fn read(&self, opened: &mut Opened, model: &mut Model) {
        let meta = opened.stream.meta();
        let horizon_ms = self.clock.now_ms().saturating_sub(RETENTION_MS);
        let recorder = Arc::clone(&self.recorder);
        let policy = self.application_options.checkpoint_policy;
        opened
            .application
            .process_available(move |_shard| ModelProcessor {
                recorder: Arc::clone(&recorder),
                policy,
            })
            .unwrap();
        let events = std::mem::take(&mut self.recorder.lock().unwrap().events);
        model.check_read(&events, &meta, horizon_ms);
    }
}

fn run(ops: &[Op], manual: bool, batch_records_max: usize, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let options = options(&clock);
    let engine = open(dir.path(), &options);
    let stream = engine
        .create_stream(CreateStream::provisioned(STREAM, 2))
        .unwrap();
    let run = Run {
        dir,
        clock,
        options,
        recorder: Arc::new(Mutex::new(Recorder {
            events: Vec::new(),
            choices: Choices(seed),
        })),
        application_options: ApplicationOptions {
            checkpoint_policy: if manual {
                CheckpointPolicy::Manual
            } else {
                CheckpointPolicy::AfterEachBatch
            },
            batch_records_max,
            ..ApplicationOptions::default()
        },
    };
    let application = run.open_application(&stream);
    let mut opened = Opened {
        engine,
        stream,
        application,
    };
    let mut model = Model::default();
    for op in ops.iter().chain([&Op::Read]) {
        match *op {
            Op::Put { key: k, count } => {
                for _ in 0..count {
                    let id = model.acked.len() as u64;
                    let output = opened
                        .stream
                        .put_record(PutRecordInput::new(&key(k), &data(id)))
                        .unwrap();
                    model.acked.push(Acked {
                        key: k,
                        sequence_number: output.sequence_number,
                        // The clock never goes back here, so a record arrives at the clock's time.
                        arrival_ms: run.clock.now_ms(),
                    });
                }
            }
            Op::Split { pick } => {
                let open = open_shards_by_start(&opened.stream);
                let shard = &open[pick as usize % open.len()];
                let range = shard.hash_key_range;
                if open.len() < OPEN_SHARDS_MAX && range.ending - range.starting > 4 {
                    let middle = range.starting + (range.ending - range.starting) / 2;
                    opened
                        .stream
                        .split_shard(&shard.id().to_string(), &middle.to_string())
                        .unwrap();
                }
            }
            Op::Merge { pick } => {
                let open = open_shards_by_start(&opened.stream);
                if open.len() > 1 {
                    let first = pick as usize % (open.len() - 1);
                    opened
                        .stream
                        .merge_shards(
                            &open[first].id().to_string(),
                            &open[first + 1].id().to_string(),
                        )
                        .unwrap();
                }
            }
            Op::Advance { hours } => {
                run.clock.advance_ms(u64::from(hours) * HOUR_MS);
                opened.engine.run_maintenance().unwrap();
            }
            Op::Read => run.read(&mut opened, &mut model),
            Op::Restart { reopen_engine } => {
                opened = run.restart(opened, reopen_engine);
                model.restart();
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn applications_deliver_every_unexpired_record_in_order_and_resume_after_checkpoints(
        ops in prop::collection::vec(op(), 1..36),
        manual in any::<bool>(),
        batch_records_max in 1usize..6,
        seed in any::<u64>(),
    ) {
        run(&ops, manual, batch_records_max, seed);
    }
}
