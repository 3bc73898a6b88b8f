//! Helpers shared by the application tests (`application*`, `an_application_*`): a processor that
//! records what it is handed, and a stream with records in it.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use shardlog::application::{Batch, Checkpointer, ProcessorError, RecordProcessor};
use shardlog::{PutRecordInput, SequenceNumber, ShardId, Stream};

/// What a [`Recording`] processor was handed, in order, with the thread that handled it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// A record: its shard, sequence number and data (as text).
    Record {
        shard: u32,
        sequence_number: SequenceNumber,
        data: String,
        thread: std::thread::ThreadId,
    },
    /// A shard's end.
    Ended { shard: u32 },
}

/// The records and ends a set of [`Recording`] processors saw.
#[derive(Debug, Clone, Default)]
pub struct Log(pub Arc<Mutex<Vec<Seen>>>);

impl Log {
    /// A processor that records into this log.
    pub fn processor(&self) -> Recording {
        Recording { log: self.clone() }
    }

    /// The data of every record seen, in order.
    pub fn data(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter_map(|seen| match seen {
                Seen::Record { data, .. } => Some(data.clone()),
                Seen::Ended { .. } => None,
            })
            .collect()
    }

    /// Everything seen.
    pub fn seen(&self) -> Vec<Seen> {
        self.0.lock().unwrap().clone()
    }
}

/// Records every record and end; checkpoints as the application's policy says (it does nothing
/// itself).
pub struct Recording {
    log: Log,
}

impl RecordProcessor for Recording {
    fn process(
        &mut self,
        batch: Batch<'_>,
        _checkpointer: &mut Checkpointer<'_>,
    ) -> Result<(), ProcessorError> {
        let mut log = self.log.0.lock().unwrap();
        for record in batch.records {
            log.push(Seen::Record {
                shard: batch.shard_id.index(),
                sequence_number: record.sequence_number(),
                data: String::from_utf8(record.data().to_vec()).unwrap(),
                thread: std::thread::current().id(),
            });
        }
        Ok(())
    }

    fn shard_ended(
        &mut self,
        shard_id: ShardId,
        _checkpointer: &mut Checkpointer<'_>,
    ) -> Result<(), ProcessorError> {
        self.log.0.lock().unwrap().push(Seen::Ended {
            shard: shard_id.index(),
        });
        Ok(())
    }
}

/// Puts `count` records `<prefix>-<n>` under partition key `key-<n % keys>`.
pub fn put(stream: &Stream, prefix: &str, count: usize, keys: usize) {
    for n in 0..count {
        let data = format!("{prefix}-{n}");
        let key = format!("key-{}", n % keys);
        stream
            .put_record(PutRecordInput::new(&key, data.as_bytes()))
            .unwrap();
    }
}
