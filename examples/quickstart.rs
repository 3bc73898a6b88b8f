//! Quickstart: open a shard log, append records, read them back by position and by time, close
//! it cleanly and reopen it. Run with `cargo run --release --example quickstart`.

use std::time::Instant;

use shardlog::{Durability, LogOptions, RecordInput, SeekTo, ShardIdentity, ShardLog};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("shardlog-quickstart-{}", std::process::id()));
    let shard = ShardIdentity {
        index: 0,
        created_secs: 1_700_000_000,
    };
    let options = LogOptions::new(shard)
        .segment_bytes(16 << 20)
        .durability(Durability::PageCache);

    let (log, report) = ShardLog::open(&dir, options.clone())?;
    println!(
        "opened a new shard log in {} (created: {})",
        dir.display(),
        report.created
    );

    let first = log.append(RecordInput::new("test-partition", b"Hello, Kinesis!"))?;
    println!("appended one record: sequence number {first}");

    let records = 1_000_000u64;
    let started = Instant::now();
    let payload = [7u8; 100];
    let keys: Vec<String> = (0..16).map(|k| format!("user-{k}")).collect();
    for chunk_start in (0..records).step_by(500) {
        let batch: Vec<RecordInput<'_>> = (chunk_start..(chunk_start + 500).min(records))
            .map(|i| RecordInput::new(&keys[(i % 16) as usize], &payload))
            .collect();
        log.append_batch(&batch)?;
    }
    let elapsed = started.elapsed();
    println!(
        "appended {records} records of 100 bytes in {:.1} ms ({:.1} M records/s)",
        elapsed.as_secs_f64() * 1e3,
        records as f64 / elapsed.as_secs_f64() / 1e6
    );

    let mut reader = log.reader(SeekTo::Oldest)?;
    let head = reader.next_batch(3)?;
    for record in &head {
        println!(
            "  read {} key={} data={:?}",
            record.sequence_number(),
            record.partition_key(),
            String::from_utf8_lossy(&record.data()[..record.data().len().min(16)])
        );
    }
    let started = Instant::now();
    let mut total = head.len();
    let mut batch = Vec::with_capacity(10_000);
    loop {
        batch.clear();
        let read = reader.read_into(&mut batch, 10_000)?;
        if read == 0 {
            break;
        }
        total += read;
    }
    println!(
        "read back {total} records with checksums verified in {:.1} ms",
        started.elapsed().as_secs_f64() * 1e3
    );

    log.close()?;
    let (log, report) = ShardLog::open(&dir, options)?;
    println!(
        "reopened: clean shutdown = {}, {} segments, frames scanned = {}, next counter = {}",
        report.clean_shutdown, report.segments, report.frames_scanned, report.next_counter
    );
    let again = log.reader(SeekTo::AtSequence(first))?.next_batch(1)?;
    println!(
        "record {first} after reopen: {:?}",
        String::from_utf8_lossy(again[0].data())
    );
    drop(log);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
