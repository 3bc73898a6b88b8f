//! Model test: random sequences of operations on a shard log, checked after every step against a
//! `Vec` of the records it must hold (counter, arrival time, partition key, explicit hash key,
//! data).
//!
//! Operations: single and batch appends (keys with multi-byte characters, explicit hash keys, empty
//! to multi-KiB data), clock moves (none, a few ms, seconds, so arrival times repeat and grow), reads
//! from `Oldest` in random batch sizes, `AtSequence` / `AfterSequence` / `AtTimestamp` at, just
//! before and just after stored values, `Latest`, `sync`, clean close and reopen, process crash and
//! reopen (nothing may be lost: the mapping outlives the process), and retention at random cutoffs.
//! Segments are small, so rolls and retention happen often.
//!
//! Checked: every read returns exactly the model's expected suffix; sequence numbers strictly
//! increase and never repeat across reopens (counters continue contiguously after a clean close and
//! jump past the lease after a crash); retention deletes exactly the oldest whole segments whose
//! newest record is older than the cutoff (computed from the segment files and the model) and
//! what remains still holds every record at or after the cutoff.

use std::sync::Arc;

use crate::support::scratch_dir;
use crate::support::shard_log::*;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError};
use shardlog::{
    Clock, Durability, LogOptions, ManualClock, RecordInput, SeekTo, SequenceNumber, ShardLog,
};

const DATA_BYTES_MAX: usize = 2048;

#[derive(Clone, Debug)]
struct NewRecord {
    key: String,
    hash_key: Option<u128>,
    data_len: usize,
    seed: u64,
}

#[derive(Clone, Debug)]
enum Op {
    Append(NewRecord),
    AppendBatch(Vec<NewRecord>),
    AdvanceClock(u64),
    ReadOldest {
        batch: usize,
    },
    /// Seek to a stored record's counter (picked by index), plus an offset of -1, 0 or +1.
    ReadAtSequence(Index, i64),
    ReadAfterSequence(Index, i64),
    /// Seek to a stored record's arrival time, plus an offset of -1, 0 or +1.
    ReadAtTimestamp(Index, i64),
    ReadLatest,
    Sync,
    CleanReopen,
    CrashReopen,
    /// Retention with a cutoff at a stored record's arrival time plus an offset, or past everything.
    Retention(Index, i64, bool),
}

fn new_record() -> impl Strategy<Value = NewRecord> {
    (
        "[a-z0-9é]{1,12}",
        proptest::option::weighted(0.3, any::<u128>()),
        prop_oneof![3 => 0..64usize, 3 => 64..700usize, 1 => 1000..=DATA_BYTES_MAX],
        any::<u64>(),
    )
        .prop_map(|(key, hash_key, data_len, seed)| NewRecord {
            key,
            hash_key,
            data_len,
            seed,
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => new_record().prop_map(Op::Append),
        3 => proptest::collection::vec(new_record(), 1..16).prop_map(Op::AppendBatch),
        4 => prop_oneof![Just(0u64), 1..4u64, 900..2500u64].prop_map(Op::AdvanceClock),
        1 => (1..40usize).prop_map(|batch| Op::ReadOldest { batch }),
        2 => (any::<Index>(), -1..=1i64).prop_map(|(i, d)| Op::ReadAtSequence(i, d)),
        1 => (any::<Index>(), -1..=1i64).prop_map(|(i, d)| Op::ReadAfterSequence(i, d)),
        2 => (any::<Index>(), -1..=1i64).prop_map(|(i, d)| Op::ReadAtTimestamp(i, d)),
        1 => Just(Op::ReadLatest),
        1 => Just(Op::Sync),
        1 => Just(Op::CleanReopen),
        1 => Just(Op::CrashReopen),
        1 => (any::<Index>(), -1..=1i64, proptest::bool::weighted(0.15))
            .prop_map(|(i, d, all)| Op::Retention(i, d, all)),
    ]
}

// Fields drop in order: the live log, then the crashed ones, then the directory.
struct Harness {
    log: Option<ShardLog>,
    /// Logs that "crashed": never closed or touched again while the case runs (like
    /// `std::mem::forget`), but dropped when it ends, so that thousands of cases do not run out of
    /// file descriptors. Their clean close then writes into a directory about to be deleted.
    crashed: Vec<ShardLog>,
    dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    options: LogOptions,
    /// What the log must hold, oldest first.
    model: Vec<Expected>,
    /// The largest counter ever handed out.
    highest_counter: Option<u64>,
    /// The counter the next record must get: counters are contiguous while the log is open, and
    /// continue from the recovery report's `next_counter` after a reopen.
    next_counter: u64,
}

macro_rules! check {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            return Err(TestCaseError::fail(format!($($message)+)));
        }
    };
}

impl Harness {
    fn new(segment_bytes: u64, prepare_in_background: bool) -> Harness {
        let dir = scratch_dir();
        let clock = clock();
        let options = LogOptions::new(SHARD)
            .segment_bytes(segment_bytes)
            .record_data_bytes_max(DATA_BYTES_MAX)
            .durability(Durability::PageCache)
            .prepare_segments_in_background(prepare_in_background)
            .clock(Arc::clone(&clock) as Arc<dyn Clock>);
        let (log, report) = ShardLog::open(dir.path(), options.clone()).unwrap();
        assert!(report.created);
        Harness {
            dir,
            clock,
            options,
            log: Some(log),
            crashed: Vec::new(),
            model: Vec::new(),
            highest_counter: None,
            next_counter: report.next_counter,
        }
    }

    fn log(&self) -> &ShardLog {
        self.log.as_ref().unwrap()
    }

    /// Accepts freshly assigned sequence numbers: each above everything handed out before.
    fn accept(
        &mut self,
        records: &[NewRecord],
        assigned: &[SequenceNumber],
    ) -> Result<(), TestCaseError> {
        check!(
            assigned.len() == records.len(),
            "{} numbers for {} records",
            assigned.len(),
            records.len()
        );
        let arrival_ms = self.clock.now_ms();
        for (record, &sequence_number) in records.iter().zip(assigned) {
            let counter = sequence_number.counter();
            check!(
                self.highest_counter.is_none_or(|highest| counter > highest),
                "counter {counter} handed out after {:?}",
                self.highest_counter
            );
            check!(
                sequence_number.shard() == SHARD,
                "wrong shard in {sequence_number}"
            );
            check!(
                sequence_number.arrival_secs() == arrival_ms / 1000,
                "sequence number {sequence_number} has arrival second {}, the clock says {arrival_ms} ms",
                sequence_number.arrival_secs()
            );
            check!(
                counter == self.next_counter,
                "counter {counter} handed out where {} was next",
                self.next_counter
            );
            self.highest_counter = Some(counter);
            self.next_counter = counter + 1;
            self.model.push(Expected {
                sequence_number,
                arrival_ms,
                key: record.key.clone(),
                hash_key: record.hash_key,
                data: payload(record.seed, record.data_len),
            });
        }
        Ok(())
    }

    fn append(&mut self, records: &[NewRecord], batch: bool) -> Result<(), TestCaseError> {
        let data: Vec<Vec<u8>> = records
            .iter()
            .map(|r| payload(r.seed, r.data_len))
            .collect();
        let inputs: Vec<RecordInput<'_>> = records
            .iter()
            .zip(&data)
            .map(|(record, data)| RecordInput {
                partition_key: &record.key,
                explicit_hash_key: record.hash_key,
                data,
            })
            .collect();
        let assigned = if batch {
            self.log()
                .append_batch(&inputs)
                .map_err(|e| TestCaseError::fail(format!("append_batch: {e}")))?
        } else {
            vec![
                self.log()
                    .append(inputs[0])
                    .map_err(|e| TestCaseError::fail(format!("append: {e}")))?,
            ]
        };
        self.accept(records, &assigned)
    }

    /// Reads from `seek` in batches of `batch` and compares with the model from index `from`.
    fn read(&self, seek: SeekTo, batch: usize, from: usize) -> Result<(), TestCaseError> {
        let mut reader = self
            .log()
            .reader(seek)
            .map_err(|e| TestCaseError::fail(format!("reader at {seek:?}: {e}")))?;
        let mut records = Vec::new();
        loop {
            match reader.read_into(&mut records, batch) {
                Ok(0) => break,
                Ok(read) => check!(read <= batch, "read {read} records with a batch of {batch}"),
                Err(error) => {
                    return Err(TestCaseError::fail(format!(
                        "reading from {seek:?}: {error}"
                    )));
                }
            }
            check!(
                records.len() <= self.model.len(),
                "more records than appended"
            );
        }
        let expected = &self.model[from..];
        let counters: Vec<u64> = records
            .iter()
            .map(|r| r.sequence_number().counter())
            .collect();
        let expected_counters: Vec<u64> = expected.iter().map(Expected::counter).collect();
        check!(
            counters == expected_counters,
            "reading from {seek:?}: counters {counters:?}, expected {expected_counters:?}"
        );
        for (record, expected) in records.iter().zip(expected) {
            check!(
                same_record(record, expected),
                "reading from {seek:?}: record {} differs from what was appended",
                expected.counter()
            );
        }
        Ok(())
    }

    fn counter_target(&self, pick: Index, offset: i64) -> u64 {
        match self.model.is_empty() {
            true => self.highest_counter.map_or(0, |h| h + 1),
            false => self.model[pick.index(self.model.len())]
                .counter()
                .saturating_add_signed(offset),
        }
    }

    fn arrival_target(&self, pick: Index, offset: i64) -> u64 {
        match self.model.is_empty() {
            true => self.clock.now_ms(),
            false => self.model[pick.index(self.model.len())]
                .arrival_ms
                .saturating_add_signed(offset),
        }
    }

    fn reopen(&mut self, crash: bool) -> Result<(), TestCaseError> {
        let log = self.log.take().unwrap();
        if crash {
            self.crashed.push(log);
        } else {
            log.close()
                .map_err(|e| TestCaseError::fail(format!("close: {e}")))?;
        }
        let (log, report) = ShardLog::open(self.dir.path(), self.options.clone())
            .map_err(|e| TestCaseError::fail(format!("reopen (crash: {crash}): {e}")))?;
        self.log = Some(log);
        check!(
            report.clean_shutdown != crash,
            "clean_shutdown wrong: {report:?}"
        );
        check!(
            report.truncation.is_none(),
            "a process crash loses nothing, yet: {report:?}"
        );
        check!(
            report.segments_removed.is_empty(),
            "segments removed: {report:?}"
        );
        if crash {
            check!(
                self.highest_counter
                    .is_none_or(|highest| report.next_counter > highest),
                "after a crash the next counter {} does not exceed {:?}",
                report.next_counter,
                self.highest_counter
            );
        } else {
            check!(
                report.frames_scanned == 0,
                "a clean reopen scanned frames: {report:?}"
            );
            check!(
                report.next_counter == self.next_counter,
                "after a clean close the next counter is {}, expected {} (last handed out: {:?})",
                report.next_counter,
                self.next_counter,
                self.highest_counter
            );
        }
        self.next_counter = report.next_counter;
        self.read(SeekTo::Oldest, 1000, 0)
    }

    fn retention(&mut self, cutoff_ms: u64) -> Result<(), TestCaseError> {
        // Which records each segment holds, from the segment files and the model's counters.
        let bases = segment_bases(self.dir.path());
        let newest_in = |i: usize| -> u64 {
            let upper = bases.get(i + 1).copied().unwrap_or(u64::MAX);
            self.model
                .iter()
                .filter(|e| (bases[i]..upper).contains(&e.counter()))
                .map(|e| e.arrival_ms)
                .max()
                .unwrap_or(0)
        };
        let active = bases.len() - 1;
        let active_has_records = self
            .model
            .last()
            .is_some_and(|e| e.counter() >= bases[active]);
        let active_expired = active_has_records && newest_in(active) < cutoff_ms;
        let candidates = if active_expired { bases.len() } else { active };
        let expected_deleted: Vec<u64> = (0..candidates)
            .take_while(|&i| newest_in(i) < cutoff_ms)
            .map(|i| bases[i])
            .collect();

        let report = self
            .log()
            .delete_segments_older_than(cutoff_ms)
            .map_err(|e| TestCaseError::fail(format!("retention: {e}")))?;
        check!(
            report.segments_deleted == expected_deleted,
            "retention at {cutoff_ms} deleted {:?}, expected {expected_deleted:?} (segments {bases:?})",
            report.segments_deleted
        );
        if let Some(&last_deleted) = expected_deleted.last() {
            let kept_from = bases.get(bases.iter().position(|&b| b == last_deleted).unwrap() + 1);
            let before = self.model.clone();
            self.model
                .retain(|e| kept_from.is_some_and(|&from| e.counter() >= from));
            check!(
                before.ends_with(&self.model)
                    && before
                        .iter()
                        .filter(|e| e.arrival_ms >= cutoff_ms)
                        .all(|e| self.model.contains(e)),
                "retention removed a record at or after the cutoff"
            );
        }
        for base in &report.segments_deleted {
            check!(
                !self.dir.path().join(segment_name(*base)).exists(),
                "segment {base} reported deleted but still there"
            );
        }
        self.read(SeekTo::Oldest, 1000, 0)
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match op {
            Op::Append(record) => self.append(std::slice::from_ref(record), false),
            Op::AppendBatch(records) => self.append(records, true),
            Op::AdvanceClock(ms) => {
                self.clock.advance_ms(*ms);
                Ok(())
            }
            Op::ReadOldest { batch } => self.read(SeekTo::Oldest, *batch, 0),
            Op::ReadAtSequence(pick, offset) => {
                let target = self.counter_target(*pick, *offset);
                let from = self.model.partition_point(|e| e.counter() < target);
                let sequence_number = SequenceNumber::new(SHARD, target, 0).unwrap();
                self.read(SeekTo::AtSequence(sequence_number), 1000, from)
            }
            Op::ReadAfterSequence(pick, offset) => {
                let target = self.counter_target(*pick, *offset);
                let from = self.model.partition_point(|e| e.counter() <= target);
                let sequence_number = SequenceNumber::new(SHARD, target, 12_345).unwrap();
                self.read(SeekTo::AfterSequence(sequence_number), 7, from)
            }
            Op::ReadAtTimestamp(pick, offset) => {
                let target = self.arrival_target(*pick, *offset);
                let from = self.model.partition_point(|e| e.arrival_ms < target);
                self.read(SeekTo::AtTimestamp(target), 1000, from)
            }
            Op::ReadLatest => {
                let mut reader = self.log().reader(SeekTo::Latest).unwrap();
                check!(
                    reader.next_batch(10).unwrap().is_empty(),
                    "Latest read an old record"
                );
                let record = NewRecord {
                    key: "latest".to_owned(),
                    hash_key: None,
                    data_len: 5,
                    seed: 99,
                };
                self.append(std::slice::from_ref(&record), false)?;
                let read = reader.next_batch(10).unwrap();
                check!(
                    read.len() == 1 && same_record(&read[0], self.model.last().unwrap()),
                    "Latest did not read exactly the record appended after it"
                );
                Ok(())
            }
            Op::Sync => self
                .log()
                .sync()
                .map_err(|e| TestCaseError::fail(format!("sync: {e}"))),
            Op::CleanReopen => self.reopen(false),
            Op::CrashReopen => self.reopen(true),
            Op::Retention(pick, offset, all) => {
                let cutoff = if *all {
                    self.clock.now_ms() + 1
                } else {
                    self.arrival_target(*pick, *offset)
                };
                self.retention(cutoff)
            }
        }?;
        check!(
            self.log().last_counter().ok().flatten() == self.model.last().map(Expected::counter),
            "last_counter {:?}, model's {:?}",
            self.log().last_counter(),
            self.model.last().map(Expected::counter)
        );
        Ok(())
    }
}

fn config() -> Config {
    Config {
        // 64 by default; set PROPTEST_CASES for a longer search.
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|cases| cases.parse().ok())
            .unwrap_or(64),
        max_shrink_iters: 300,
        // Persisted regressions would be written outside tests/; failures print the minimal case.
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_log_behaves_like_a_vector_under_random_operations(
        segment_bytes in prop_oneof![Just(4u64 * 1024), Just(8 * 1024), Just(32 * 1024)],
        prepare_in_background in any::<bool>(),
        ops in proptest::collection::vec(op(), 1..100),
    ) {
        let mut harness = Harness::new(segment_bytes, prepare_in_background);
        for (step, op) in ops.iter().enumerate() {
            harness
                .apply(op)
                .map_err(|error| TestCaseError::fail(format!("step {step} ({op:?}): {error}")))?;
        }
        // Whatever happened, a final clean reopen and a crash reopen still hold the model.
        harness.reopen(false)?;
        harness.reopen(true)?;
    }
}
