//! Measures the heap a process needs while writing a lot of data through a stream: the records
//! live in memory-mapped segments (page cache), so the heap should stay small and flat.
//!
//! `cargo run --release --example heap_while_writing -- [GiB, default 4] [data dir]`
//!
//! Prints the peak and final heap in use (counted by a wrapping global allocator) next to the bytes
//! written.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use shardlog::{CreateStream, Engine, EngineOptions, PutRecordInput};

/// The system allocator, counting bytes in use and their peak.
struct CountingAllocator;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only counters are added.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(pointer, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let gib: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(4);
    let dir = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::env::temp_dir().join(format!("shardlog-heap-{}", std::process::id()))
        });

    let engine = Engine::open(&dir, EngineOptions::default())?;
    let stream = engine.create_stream(CreateStream::on_demand("heap-check"))?;
    let heap_after_open = IN_USE.load(Ordering::Relaxed);

    let data = vec![0x5Au8; 1000];
    let keys: Vec<String> = (0..1000).map(|k| format!("partition-{k}")).collect();
    let entries: Vec<PutRecordInput<'_>> = keys
        .iter()
        .take(500)
        .map(|key| PutRecordInput::new(key, &data))
        .collect();
    let target_bytes = gib * 1024 * 1024 * 1024;
    let mut written = 0u64;
    let started = Instant::now();
    while written < target_bytes {
        let output = stream.put_records(&entries)?;
        assert_eq!(output.failed_record_count, 0);
        written += (entries.len() * data.len()) as u64;
    }
    let elapsed = started.elapsed();
    println!(
        "wrote {:.2} GiB of record data in {:.1} s ({:.0} MiB/s) through {} shards",
        written as f64 / (1u64 << 30) as f64,
        elapsed.as_secs_f64(),
        mib(written as usize) / elapsed.as_secs_f64(),
        stream.meta().shards.len()
    );
    println!(
        "heap in use: {:.1} MiB after opening, {:.1} MiB at the end, peak {:.1} MiB",
        mib(heap_after_open),
        mib(IN_USE.load(Ordering::Relaxed)),
        mib(PEAK.load(Ordering::Relaxed))
    );
    drop(stream);
    drop(engine);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
