//! What the fan-out benchmarks share: a one-shard stream with registered consumers, the records
//! they put, and a record processor that counts what an application delivers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use shardlog::application::{Batch, Checkpointer, ProcessorError, RecordProcessor};
use shardlog::stream::ShardId;
use shardlog::{CreateStream, Engine, EngineOptions, PutRecordInput, Stream};
use tempfile::TempDir;

/// Record data size, as in the goals.
pub const RECORD_BYTES: usize = 100;
/// Records per PutRecords call (Kinesis' maximum).
pub const PUT_BATCH: usize = 500;
/// The shard every fan-out benchmark reads.
pub const SHARD: ShardId = ShardId::new(0);

/// A scratch engine with a one-shard PROVISIONED stream and `consumers` registered, ACTIVE
/// consumers named by [`consumer_name`].
pub struct FanOutStream {
    pub stream: Arc<Stream>,
    pub engine: Engine,
    pub _dir: TempDir,
}

pub fn fan_out_stream(label: &str, consumers: usize) -> FanOutStream {
    let dir = super::scratch_dir(label);
    let options = EngineOptions {
        segment_bytes: 256 * super::MIB,
        consumer_delay_ms: Some(0),
        ..EngineOptions::default()
    };
    let engine = Engine::open(dir.path(), options).expect("open engine");
    let stream = engine
        .create_stream(CreateStream::provisioned("fan-out", 1))
        .expect("create stream");
    for consumer in 0..consumers {
        stream
            .register_consumer(&consumer_name(consumer), Default::default())
            .expect("register consumer");
    }
    FanOutStream {
        stream,
        engine,
        _dir: dir,
    }
}

pub fn consumer_name(consumer: usize) -> String {
    format!("consumer-{consumer}")
}

/// Puts `count` records of `data` (cycling through the shared keys), `PUT_BATCH` per call.
pub fn put(stream: &Stream, data: &[u8], count: u64) {
    let mut left = count;
    while left > 0 {
        let batch = left.min(PUT_BATCH as u64) as usize;
        let inputs: Vec<PutRecordInput<'_>> = (0..batch)
            .map(|i| PutRecordInput::new(super::KEYS[i % super::KEYS.len()], data))
            .collect();
        stream.put_records(&inputs).expect("put records");
        left -= batch as u64;
    }
}

/// Counts the records an application delivers, and checkpoints when told to stop (so that,
/// under the `Manual` policy, each run resumes after the last one's records).
pub struct Counting(pub Arc<AtomicU64>);

impl RecordProcessor for Counting {
    fn process(
        &mut self,
        batch: Batch<'_>,
        _checkpointer: &mut Checkpointer<'_>,
    ) -> Result<(), ProcessorError> {
        self.0
            .fetch_add(batch.records.len() as u64, Ordering::Release);
        Ok(())
    }

    fn stopping(
        &mut self,
        _shard_id: ShardId,
        checkpointer: &mut Checkpointer<'_>,
    ) -> Result<(), ProcessorError> {
        checkpointer.checkpoint()?;
        Ok(())
    }
}
