//! `Checkpointer::checkpoint_at` takes only a record of its own shard that was delivered and is
//! not before the shard's last checkpoint; anything else is `InvalidCheckpoint` and changes
//! nothing. Under the `Manual` policy, the application checkpoints nothing by itself but a shard's
//! end, so a restart delivers again exactly what followed the processor's last checkpoint.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::support::application::Log;
use crate::support::engine::{clock, open, options};
use shardlog::application::{
    Application, ApplicationError, ApplicationOptions, Batch, CheckpointPolicy, Checkpointer,
    ProcessorError, RecordProcessor,
};
use shardlog::{CreateStream, PutRecordInput, SequenceNumber};

const RECORDS: usize = 40;

/// In its first batch: checkpoints at the second record, then tries every wrong checkpoint.
struct Picky {
    /// Every record put, by shard.
    put: Arc<BTreeMap<u32, Vec<SequenceNumber>>>,
    refusals: Arc<Mutex<Vec<(u32, &'static str)>>>,
}

impl RecordProcessor for Picky {
    fn process(
        &mut self,
        batch: Batch<'_>,
        checkpointer: &mut Checkpointer<'_>,
    ) -> Result<(), ProcessorError> {
        if checkpointer.last_checkpoint().is_some() {
            return Ok(());
        }
        let shard = batch.shard_id.index();
        let first = batch.records[0].sequence_number();
        let second = batch.records[1].sequence_number();
        checkpointer.checkpoint_at(second)?;
        let not_delivered = *self.put[&shard].last().unwrap();
        let of_another_shard = self.put[&(1 - shard)][0];
        for wrong in [first, not_delivered, of_another_shard] {
            match checkpointer.checkpoint_at(wrong) {
                Err(ApplicationError::InvalidCheckpoint { reason, .. }) => {
                    self.refusals.lock().unwrap().push((shard, reason))
                }
                other => panic!("checkpoint at {wrong} gave {other:?}"),
            }
        }
        assert_eq!(
            checkpointer.last_checkpoint(),
            Some(second),
            "a refusal changes nothing"
        );
        Ok(())
    }
}

#[test]
fn checkpoints_are_refused_outside_what_was_delivered_and_before_the_last_one() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("picky", 2))
        .unwrap();
    let mut put: BTreeMap<u32, Vec<SequenceNumber>> = BTreeMap::new();
    let mut data_by_shard: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for n in 0..RECORDS {
        let data = format!("r-{n}");
        let output = stream
            .put_record(PutRecordInput::new(&format!("key-{n}"), data.as_bytes()))
            .unwrap();
        put.entry(output.shard_id.index())
            .or_default()
            .push(output.sequence_number);
        data_by_shard
            .entry(output.shard_id.index())
            .or_default()
            .push(data);
    }
    assert!(
        put.values().all(|numbers| numbers.len() > 4),
        "both shards hold records"
    );
    let options = ApplicationOptions {
        checkpoint_policy: CheckpointPolicy::Manual,
        batch_records_max: 4,
        ..ApplicationOptions::default()
    };
    let put = Arc::new(put);
    let refusals = Arc::new(Mutex::new(Vec::new()));
    let mut application = Application::open(&stream, "picky", options.clone()).unwrap();
    let delivered = application
        .process_available(|_| Picky {
            put: Arc::clone(&put),
            refusals: Arc::clone(&refusals),
        })
        .unwrap();
    assert_eq!(delivered, RECORDS as u64);
    let mut refusals = refusals.lock().unwrap().clone();
    refusals.sort();
    let expected = |shard| {
        [
            (shard, "it is not a sequence number of this shard"),
            (shard, "no record up to it was delivered yet"),
            (shard, "the shard is checkpointed after it already"),
        ]
    };
    assert_eq!(refusals, [expected(0), expected(1)].concat());
    drop(application);

    // Restarted: everything after each shard's second record, and nothing before it, comes again.
    let log = Log::default();
    let mut application = Application::open(&stream, "picky", options).unwrap();
    application.process_available(|_| log.processor()).unwrap();
    let mut again = log.data();
    again.sort();
    let mut expected: Vec<String> = data_by_shard
        .values()
        .flat_map(|data| data[2..].to_vec())
        .collect();
    expected.sort();
    assert_eq!(again, expected);
}
