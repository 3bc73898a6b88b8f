//! An application reading a whole stream the way KCL does, with its checkpoints in the data
//! directory: it counts records per partition key on two worker threads while the stream is split,
//! stops, and a second run resumes after the first one's checkpoints, so it sees only the records
//! put in between. Run with `cargo run --example application`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use shardlog::application::{
    Application, ApplicationOptions, Batch, Checkpointer, ProcessorError, RecordProcessor,
};
use shardlog::{CreateStream, Engine, EngineOptions, PutRecordInput};

/// Counts the records of each partition key. One processor per shard, all sharing the counts.
struct KeyCounter {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl RecordProcessor for KeyCounter {
    fn process(
        &mut self,
        batch: Batch<'_>,
        _checkpointer: &mut Checkpointer<'_>,
    ) -> Result<(), ProcessorError> {
        let mut counts = self.counts.lock().map_err(|_| "counts poisoned")?;
        for record in batch.records {
            *counts.entry(record.partition_key().to_owned()).or_default() += 1;
        }
        // Returning Ok lets the application checkpoint after this batch (the default policy).
        Ok(())
    }
}

fn put(stream: &shardlog::Stream, from: u64, to: u64) -> Result<(), Box<dyn std::error::Error>> {
    for n in from..to {
        let key = format!("user-{}", n % 4);
        stream.put_record(PutRecordInput::new(&key, format!("event {n}").as_bytes()))?;
    }
    Ok(())
}

/// Runs the application until it has delivered `expected` records, then stops it.
fn run_until(
    stream: &Arc<shardlog::Stream>,
    expected: u64,
) -> Result<BTreeMap<String, u64>, Box<dyn std::error::Error>> {
    let options = ApplicationOptions {
        workers: 2,
        ..ApplicationOptions::default()
    };
    let counts = Arc::new(Mutex::new(BTreeMap::new()));
    let shared = Arc::clone(&counts);
    let running =
        Application::open(stream, "key-counter", options)?.start(move |_shard| KeyCounter {
            counts: Arc::clone(&shared),
        })?;
    let total = || {
        counts
            .lock()
            .map_or(0, |counts| counts.values().sum::<u64>())
    };
    while total() < expected && !running.has_failed() {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let delivered = running.stop()?;
    println!("  delivered {delivered} records");
    let counts = counts.lock().map_err(|_| "counts poisoned")?.clone();
    Ok(counts)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("shardlog-application-{}", std::process::id()));
    let engine = Engine::open(&dir, EngineOptions::default())?;
    let stream = engine.create_stream(CreateStream::provisioned("events", 2))?;

    put(&stream, 0, 1000)?;
    // Split shard 0 at the middle of its range: its records stay in it, later ones go to its two
    // children, which the application starts only once shard 0 is read to its end.
    stream.split_shard("shardId-000000000000", &(u128::MAX / 4).to_string())?;
    put(&stream, 1000, 2000)?;
    println!("first run:");
    println!("  counts {:?}", run_until(&stream, 2000)?);

    put(&stream, 2000, 2100)?;
    println!("second run, after the first one's checkpoints:");
    println!("  counts {:?}", run_until(&stream, 100)?);

    drop(stream);
    drop(engine);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
