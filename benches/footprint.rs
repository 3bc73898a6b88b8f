//! Footprint: what a shard costs — disk, memory, threads, mappings, file descriptors, and the time
//! to create, reopen, reshard and write to many of them — measured through the public API
//! (`Engine`, `CreateStream`, `Stream`), each beside a baseline taken in the same run so a ratio
//! can be read off. Not a criterion benchmark: each scenario runs once, at the size it is given,
//! and prints a plain-text table.
//!
//! ```text
//! cargo bench --bench footprint -- create     [STREAMS [SHARDS_PER_STREAM]]  default 10 10000
//! cargo bench --bench footprint -- reopen     [STREAMS [SHARDS_PER_STREAM]]  default 10 10000
//! cargo bench --bench footprint -- reshard    [CYCLES]                       default 1000
//! cargo bench --bench footprint -- put_spread [SHARDS [RECORDS]]             default 10000 2000000
//! cargo bench --bench footprint -- touched    [SHARDS]                       default 20000
//!
//! options:  --dir PATH         make the scratch data directories under PATH (default:
//!                              $SHARDLOG_BENCH_DIR, else the system temp dir); deleted afterwards
//!           --segment-mib N    EngineOptions::segment_bytes = N MiB (default: the engine default;
//!                              the engine raises it to what one largest record needs)
//! env vars: FOOTPRINT_STREAMS, FOOTPRINT_SHARDS_PER_STREAM, FOOTPRINT_CYCLES, FOOTPRINT_SHARDS,
//!           FOOTPRINT_RECORDS, FOOTPRINT_SEGMENT_MIB stand in for an argument not given.
//! ```
//!
//! The scenarios:
//!
//! - **create**: PROVISIONED streams in a fresh data directory. Wall time; disk actually used (the
//!   sum of `st_blocks × 512` over every file and directory, so preallocation counts and holes do
//!   not); process RSS, threads, mappings and open descriptors from `/proc/self`, before and after.
//!   Baseline: the same tree of directories made with `std::fs`, one 1 KiB file in each.
//! - **reopen**: a child process (this binary, re-executed) creates the streams and puts 100
//!   records into each, then either drops its engine and exits (clean shutdown) or prints `READY`
//!   and is killed with SIGKILL. Each data directory is then opened by a fresh child, which reports
//!   the open time and what the open added to its process. Every figure is taken in a process that
//!   has held no other engine, so RSS is not flattered by heap the allocator kept from an earlier
//!   one.
//! - **reshard**: one stream of one shard; each cycle splits the open shard at the middle of its
//!   range and merges the two children back (three shards closed per cycle), then puts 10 records.
//!   Disk, RSS, threads, mappings and descriptors grown per closed shard, beside the record bytes
//!   written, so the cost beyond the records can be read off.
//! - **put_spread**: PutRecords batches of 500 records of 100 bytes with keys `key-0`, `key-1`, …
//!   (MD5 routing spreads them) into a stream of SHARDS shards; baseline: the same records into a
//!   one-shard stream. Only the `put_records` calls are timed.
//! - **touched**: a child process creates one PROVISIONED stream of SHARDS shards and puts one
//!   record of 100 bytes into every shard (PutRecords batches of 500, each entry's
//!   `explicit_hash_key` the starting hash key of its shard), reporting the time of the
//!   `put_records` calls, what they added to its process, and the time to drop the engine. A
//!   fresh child then opens the data directory with no maintenance thread
//!   (`maintenance_interval: None`), and reports the open time and what the open added, then the
//!   time of a first `Engine::run_maintenance` (which opens every shard's log to check its
//!   retention) and what that added, the time of a second pass, and the close time.
//!
//! Linux only (`/proc/self`). Engine limits are lifted (the scenarios measure cost, not quota) and
//! streams are ACTIVE at once (`create_delay_ms` and `update_delay_ms` are 0). Before anything
//! big is created, a one-shard probe engine measures what a shard takes on disk; a run whose
//! projection exceeds 90 % of the free space is refused (with a log that preallocates 64 MiB
//! segments, the defaults project terabytes: pass small sizes and `--segment-mib 2`, which the
//! engine raises to the ~2 MiB one largest record needs). Without a scenario (as in a plain
//! `cargo bench`), or with a name that is not one (a filter meant for the criterion benches), the
//! binary prints its usage and does nothing.

mod common;

use std::collections::HashMap;
use std::error::Error;
use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use shardlog::engine::EngineLimits;
use shardlog::{CreateStream, Engine, EngineOptions, PutRecordInput, PutRecordsResult, Stream};
use tempfile::TempDir;

const USAGE: &str = "usage: cargo bench --bench footprint -- <scenario> [sizes] [--dir PATH] \
[--segment-mib N]
  create     [STREAMS [SHARDS_PER_STREAM]]   default 10 10000
  reopen     [STREAMS [SHARDS_PER_STREAM]]   default 10 10000
  reshard    [CYCLES]                        default 1000
  put_spread [SHARDS [RECORDS]]              default 10000 2000000
  touched    [SHARDS]                        default 20000
(see the module doc of benches/footprint.rs)";

/// Any failure ends the scenario with its message.
type Outcome<T> = Result<T, Box<dyn Error>>;

/// Data bytes of every record put.
const RECORD_BYTES: usize = 100;
/// Entries per PutRecords call: Kinesis' maximum.
const BATCH_RECORDS: u64 = 500;
/// Records the reopen scenario puts into each stream before shutting down.
const REOPEN_RECORDS_PER_STREAM: usize = 100;
/// Records the reshard scenario puts after each cycle.
const RESHARD_RECORDS_PER_CYCLE: usize = 10;
/// Share of the free disk space a run may be projected to use.
const DISK_SHARE_MAX_PERCENT: u64 = 90;

/// Hidden modes: the children the reopen and touched scenarios start by re-executing this binary.
const CHILD_POPULATE: &str = "__populate";
const CHILD_OPEN: &str = "__open";
const CHILD_TOUCH: &str = "__touch";
const CHILD_MAINTAIN: &str = "__maintain";
/// The one stream of the touched scenario.
const TOUCHED_STREAM: &str = "touched";

fn main() -> ExitCode {
    let outcome = Config::parse(std::env::args().skip(1)).and_then(|config| {
        match config.scenario.as_deref() {
            Some("create") => create(&config),
            Some("reopen") => reopen(&config),
            Some("reshard") => reshard(&config),
            Some("put_spread") => put_spread(&config),
            Some("touched") => touched(&config),
            Some(CHILD_POPULATE) => child_populate(&config),
            Some(CHILD_OPEN) => child_open(&config),
            Some(CHILD_TOUCH) => child_touch(&config),
            Some(CHILD_MAINTAIN) => child_maintain(&config),
            Some("help" | "--help" | "-h") | None => {
                println!("{USAGE}");
                Ok(())
            }
            // `cargo bench -- <filter>` hands its filter to every bench binary: not an error here.
            Some(other) => {
                println!("footprint: no scenario named {other:?}; nothing to do\n{USAGE}");
                Ok(())
            }
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("footprint: {error}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The command line.
// ---------------------------------------------------------------------------------------------

/// A scenario, its positional arguments, and the options every scenario takes.
struct Config {
    scenario: Option<String>,
    positional: Vec<String>,
    /// Parent of the scratch directories (`--dir`).
    dir: Option<PathBuf>,
    /// `EngineOptions::segment_bytes` in MiB (`--segment-mib`); `None`: the engine default.
    segment_mib: Option<u64>,
}

impl Config {
    fn parse(args: impl Iterator<Item = String>) -> Outcome<Config> {
        let mut config = Config {
            scenario: None,
            positional: Vec::new(),
            dir: None,
            segment_mib: env_number("FOOTPRINT_SEGMENT_MIB")?,
        };
        let mut args = args;
        while let Some(arg) = args.next() {
            match arg.as_str() {
                // cargo adds it to every harness = false bench.
                "--bench" => {}
                "--dir" => {
                    let path = args.next().ok_or("--dir needs a path")?;
                    config.dir = Some(PathBuf::from(path));
                }
                "--segment-mib" => {
                    let mib = args.next().ok_or("--segment-mib needs a number")?;
                    config.segment_mib = Some(parse_number("--segment-mib", &mib)?);
                }
                flag if flag.starts_with("--") => {
                    return Err(format!("unknown option {flag}").into());
                }
                _ if config.scenario.is_none() => config.scenario = Some(arg),
                _ => config.positional.push(arg),
            }
        }
        Ok(config)
    }

    /// Positional argument `position`, else the environment variable `env`, else `default`.
    fn size(&self, position: usize, env: &str, default: u64) -> Outcome<u64> {
        match self.positional.get(position) {
            Some(text) => parse_number(env.trim_start_matches("FOOTPRINT_"), text),
            None => Ok(env_number(env)?.unwrap_or(default)),
        }
    }

    /// Positional argument `position`, which a child mode requires.
    fn required(&self, position: usize) -> Outcome<&str> {
        self.positional
            .get(position)
            .map(String::as_str)
            .ok_or_else(|| format!("argument {} missing", position + 1).into())
    }

    /// Engine options for every scenario: the segment size asked for, limits lifted (the
    /// scenarios measure cost, not quota), and streams ACTIVE at once after a create or reshard.
    fn engine_options(&self) -> EngineOptions {
        let defaults = EngineOptions::default();
        EngineOptions {
            segment_bytes: self
                .segment_mib
                .map_or(defaults.segment_bytes, |mib| mib * common::MIB),
            create_delay_ms: 0,
            update_delay_ms: 0,
            limits: EngineLimits {
                max_streams: usize::MAX,
                max_shards_per_stream: u32::MAX,
                max_open_shards: u64::MAX,
                shard_count_updates_per_day: None,
                ..EngineLimits::default()
            },
            ..defaults
        }
    }

    /// What the first line of every report says about the segment size.
    fn segment_label(&self) -> String {
        let segment_bytes = self.engine_options().segment_bytes;
        let source = match self.segment_mib {
            Some(_) => "--segment-mib",
            None => "engine default",
        };
        format!(
            "segment_bytes {} ({source})",
            format_bytes(segment_bytes as f64)
        )
    }

    /// A fresh scratch directory, deleted when dropped.
    fn scratch(&self, label: &str) -> Outcome<TempDir> {
        let Some(parent) = &self.dir else {
            return Ok(common::scratch_dir(label));
        };
        fs::create_dir_all(parent)?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("shardlog-bench-{label}-"))
            .tempdir_in(parent)?;
        Ok(dir)
    }
}

fn parse_number(what: &str, text: &str) -> Outcome<u64> {
    text.parse()
        .map_err(|_| format!("{what}: {text:?} is not a whole number").into())
}

fn env_number(name: &str) -> Outcome<Option<u64>> {
    std::env::var(name)
        .ok()
        .map(|text| parse_number(name, &text))
        .transpose()
}

fn shard_count(shards: u64) -> Outcome<u32> {
    u32::try_from(shards).map_err(|_| format!("{shards} shards do not fit a stream").into())
}

// ---------------------------------------------------------------------------------------------
// The scenarios.
// ---------------------------------------------------------------------------------------------

/// Creates STREAMS streams of SHARDS_PER_STREAM shards, beside the same tree made with `std::fs`.
fn create(config: &Config) -> Outcome<()> {
    let streams = config.size(0, "FOOTPRINT_STREAMS", 10)?;
    let shards_per_stream = config.size(1, "FOOTPRINT_SHARDS_PER_STREAM", 10_000)?;
    let shards = streams * shards_per_stream;
    preflight(config, shards, 0)?;

    let dir = config.scratch("footprint-create")?;
    let before = Resources::sample();
    let started = Instant::now();
    let engine = Engine::open(dir.path(), config.engine_options())?;
    create_streams(&engine, streams, shards_per_stream)?;
    let create_time = started.elapsed();
    let after = Resources::sample();
    let disk = Disk::usage(dir.path());
    let started = Instant::now();
    drop(engine);
    let close_time = started.elapsed();

    let baseline_dir = config.scratch("footprint-create-baseline")?;
    let started = Instant::now();
    write_baseline_tree(baseline_dir.path(), streams, shards_per_stream)?;
    let baseline_time = started.elapsed();
    let baseline_disk = Disk::usage(baseline_dir.path());

    println!(
        "create: {streams} PROVISIONED streams × {shards_per_stream} shards = {shards} shards, {}",
        config.segment_label()
    );
    print_environment(config);
    let per = shards as f64;
    let time_row = |label: &str, shardlog: Duration, baseline: Option<Duration>| {
        let shardlog = shardlog.as_secs_f64();
        let baseline = baseline.map(|time| time.as_secs_f64());
        vec![
            label.to_owned(),
            format_time(shardlog),
            format_time(shardlog / per),
            baseline.map_or("—".to_owned(), format_time),
            baseline.map_or("—".to_owned(), |time| format_time(time / per)),
            baseline.map_or("—".to_owned(), |time| format_ratio(shardlog, time)),
        ]
    };
    let disk_row = |label: &str, shardlog: u64, baseline: u64| {
        let (shardlog, baseline) = (shardlog as f64, baseline as f64);
        vec![
            label.to_owned(),
            format_bytes(shardlog),
            format_bytes(shardlog / per),
            format_bytes(baseline),
            format_bytes(baseline / per),
            format_ratio(shardlog, baseline),
        ]
    };
    print_table(
        &[
            "figure",
            "shardlog",
            "per shard",
            "baseline: dir + 1 KiB file",
            "per dir",
            "ratio",
        ],
        &[
            time_row(
                "create (wall, incl. Engine::open)",
                create_time,
                Some(baseline_time),
            ),
            time_row("close (drop the engine)", close_time, None),
            disk_row(
                "disk used (st_blocks × 512)",
                disk.used_bytes,
                baseline_disk.used_bytes,
            ),
            disk_row(
                "apparent size of files (st_size)",
                disk.apparent_bytes,
                baseline_disk.apparent_bytes,
            ),
            vec![
                "files + directories".to_owned(),
                format!("{} + {}", disk.files, disk.dirs),
                format!("{:.2} entries", disk.entries() as f64 / per),
                format!("{} + {}", baseline_disk.files, baseline_disk.dirs),
                format!("{:.2} entries", baseline_disk.entries() as f64 / per),
                format_ratio(disk.entries() as f64, baseline_disk.entries() as f64),
            ],
        ],
    );
    println!();
    println!("process, before Engine::open and after the last create_stream:");
    print_table(
        &["figure", "before", "after", "growth", "per shard"],
        &before.rows(&after, per),
    );
    Ok(())
}

/// Opens the data directory after a clean shutdown and after a SIGKILL, each in a fresh process.
fn reopen(config: &Config) -> Outcome<()> {
    let streams = config.size(0, "FOOTPRINT_STREAMS", 10)?;
    let shards_per_stream = config.size(1, "FOOTPRINT_SHARDS_PER_STREAM", 10_000)?;
    let shards = streams * shards_per_stream;
    preflight(
        config,
        2 * shards,
        2 * streams * (REOPEN_RECORDS_PER_STREAM * RECORD_BYTES) as u64,
    )?;

    let clean_dir = config.scratch("footprint-reopen-clean")?;
    let killed_dir = config.scratch("footprint-reopen-killed")?;
    let sizes = [streams.to_string(), shards_per_stream.to_string()];
    let populate = |dir: &Path, shutdown: &str| -> Outcome<(Child, Reply)> {
        let dir = dir.to_string_lossy().into_owned();
        let mut child = spawn_self(
            config,
            &[CHILD_POPULATE, &dir, &sizes[0], &sizes[1], shutdown],
        )?;
        let reply = read_reply(&mut child, Some("READY"))?;
        Ok((child, reply))
    };

    let (mut child, clean) = populate(clean_dir.path(), "exit")?;
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("the populating child failed: {status}").into());
    }
    let (child, killed) = populate(killed_dir.path(), "wait")?;
    if !killed.contains_key("READY") {
        return Err("the populating child ended before READY".into());
    }
    let status = kill(child)?;
    if status.signal() != Some(libc::SIGKILL) {
        return Err(format!("the populating child was not killed by SIGKILL: {status}").into());
    }
    let clean_open = open_in_child(config, clean_dir.path())?;
    let killed_open = open_in_child(config, killed_dir.path())?;

    println!(
        "reopen: {streams} PROVISIONED streams × {shards_per_stream} shards = {shards} shards, \
         {REOPEN_RECORDS_PER_STREAM} records of {RECORD_BYTES} B put into each stream, {}",
        config.segment_label()
    );
    print_environment(config);
    let per = shards as f64;
    let time = |reply: &Reply, key: &str| -> Outcome<f64> {
        Ok(Duration::from_nanos(reply.value(key)?).as_secs_f64())
    };
    let both_times = |label: &str, key: &str, replies: [&Reply; 2], per: f64| -> Outcome<_> {
        let mut row = vec![label.to_owned()];
        for reply in replies {
            row.push(format_time(time(reply, key)? / per));
        }
        Ok(row)
    };
    let mut rows = vec![
        both_times(
            "create + put (child, incl. exec)",
            "populate_ns",
            [&clean, &killed],
            1.0,
        )?,
        vec![
            "shutdown".to_owned(),
            format!(
                "{} (drop the engine)",
                format_time(time(&clean, "close_ns")?)
            ),
            "SIGKILL".to_owned(),
        ],
        both_times(
            "open (Engine::open)",
            "open_ns",
            [&clean_open, &killed_open],
            1.0,
        )?,
        both_times("  per shard", "open_ns", [&clean_open, &killed_open], per)?,
        both_times(
            "close after the open",
            "close_ns",
            [&clean_open, &killed_open],
            1.0,
        )?,
    ];
    let mut disk_row = vec!["disk used after the open".to_owned()];
    for reply in [&clean_open, &killed_open] {
        disk_row.push(format_bytes(reply.value("disk_used_bytes")? as f64));
    }
    rows.push(disk_row);
    let (clean_rows, killed_rows) = (
        clean_open
            .resources("before")?
            .rows(&clean_open.resources("after")?, per),
        killed_open
            .resources("before")?
            .rows(&killed_open.resources("after")?, per),
    );
    print_table(&["figure", "clean shutdown", "after SIGKILL"], &rows);
    println!();
    println!("what Engine::open added to the opening process (a fresh one each time):");
    let rows: Vec<Vec<String>> = clean_rows
        .into_iter()
        .zip(killed_rows)
        .map(|(clean, killed)| {
            // Each is [figure, before, after, growth, per shard].
            let [figure, _, _, clean_growth, clean_per] = clean;
            let [_, _, _, killed_growth, killed_per] = killed;
            vec![figure, clean_growth, clean_per, killed_growth, killed_per]
        })
        .collect();
    print_table(
        &[
            "figure",
            "clean: growth",
            "per shard",
            "SIGKILL: growth",
            "per shard",
        ],
        &rows,
    );
    Ok(())
}

/// Splits and merges one shard CYCLES times and reports what each closed shard leaves behind.
fn reshard(config: &Config) -> Outcome<()> {
    let cycles = config.size(0, "FOOTPRINT_CYCLES", 1000)?;
    let record_bytes_estimate = cycles * (RESHARD_RECORDS_PER_CYCLE * RECORD_BYTES) as u64;
    preflight(config, 3 * cycles + 1, record_bytes_estimate)?;

    let dir = config.scratch("footprint-reshard")?;
    let engine = Engine::open(dir.path(), config.engine_options())?;
    let stream = engine.create_stream(CreateStream::provisioned("reshard", 1))?;
    let data = common::payload(RECORD_BYTES);
    let before = Resources::sample();
    let disk_before = Disk::usage(dir.path());
    let started = Instant::now();
    let mut record_bytes = 0;
    let mut next_key = 0;
    for cycle in 0..cycles {
        let open = open_shards(&stream);
        let [(parent, range)] = open.as_slice() else {
            return Err(format!("cycle {cycle}: {} open shards, expected 1", open.len()).into());
        };
        // SplitShard needs StartingHashKey + 1 < key < EndingHashKey.
        let middle = range.starting + (range.ending - range.starting) / 2 + 1;
        stream
            .split_shard(parent, &middle.to_string())
            .map_err(|error| format!("cycle {cycle}: split {parent}: {error}"))?;
        let open = open_shards(&stream);
        let [(low, _), (high, _)] = open.as_slice() else {
            return Err(format!("cycle {cycle}: {} open shards, expected 2", open.len()).into());
        };
        stream
            .merge_shards(low, high)
            .map_err(|error| format!("cycle {cycle}: merge {low} {high}: {error}"))?;
        let (_, bytes) = put_records(&stream, next_key, RESHARD_RECORDS_PER_CYCLE, &data)?;
        record_bytes += bytes;
        next_key += RESHARD_RECORDS_PER_CYCLE as u64;
    }
    let elapsed = started.elapsed();
    let after = Resources::sample();
    let disk_after = Disk::usage(dir.path());
    let closed = stream.shards().len() - stream.open_shard_count();

    println!(
        "reshard: {cycles} cycles of SplitShard + MergeShards on a one-shard stream, \
         {closed} shards closed, {RESHARD_RECORDS_PER_CYCLE} records of {RECORD_BYTES} B put \
         per cycle, {}",
        config.segment_label()
    );
    print_environment(config);
    let per = closed.max(1) as f64;
    let disk_growth = disk_after.used_bytes as f64 - disk_before.used_bytes as f64;
    let bytes_row = |label: &str, bytes: f64| {
        vec![
            label.to_owned(),
            format_growth_bytes(bytes),
            format_growth_bytes(bytes / per),
        ]
    };
    let entries_growth = disk_after.entries() as f64 - disk_before.entries() as f64;
    let mut rows = vec![
        vec![
            "wall time".to_owned(),
            format_time(elapsed.as_secs_f64()),
            format_time(elapsed.as_secs_f64() / per),
        ],
        vec![
            "record bytes written (data + keys)".to_owned(),
            format_bytes(record_bytes as f64),
            format_bytes(record_bytes as f64 / per),
        ],
        bytes_row("disk used growth (st_blocks × 512)", disk_growth),
        bytes_row(
            "  beyond the record bytes",
            disk_growth - record_bytes as f64,
        ),
        vec![
            "files + directories growth".to_owned(),
            format!("{:+} entries", entries_growth),
            format!("{:+.2} entries", entries_growth / per),
        ],
    ];
    for row in before.rows(&after, per) {
        // [figure, before, after, growth, per shard]
        rows.push(vec![
            format!("{} growth", row[0]),
            row[3].clone(),
            row[4].clone(),
        ]);
    }
    print_table(&["figure", "total", "per closed shard"], &rows);
    Ok(())
}

/// Puts RECORDS records with spread keys into a stream of SHARDS shards, and into a one-shard
/// stream as the baseline.
fn put_spread(config: &Config) -> Outcome<()> {
    let shards = config.size(0, "FOOTPRINT_SHARDS", 10_000)?;
    let records = config.size(1, "FOOTPRINT_RECORDS", 2_000_000)?;
    preflight(config, shards + 1, 2 * records * RECORD_BYTES as u64)?;

    let data = common::payload(RECORD_BYTES);
    let spread = put_run(config, shards, records, &data)?;
    let baseline = put_run(config, 1, records, &data)?;

    println!(
        "put_spread: {records} records of {RECORD_BYTES} B in PutRecords batches of \
         {BATCH_RECORDS}, keys key-0, key-1, …, {}",
        config.segment_label()
    );
    print_environment(config);
    let rate = |run: &PutRun| records as f64 / run.put_time.as_secs_f64();
    let bytes_rate = |run: &PutRun| run.record_bytes as f64 / run.put_time.as_secs_f64();
    let warm_rate = |run: &PutRun| run.warm_records as f64 / run.warm_put_time.as_secs_f64();
    let mut rows = vec![
        vec![
            "put_records time".to_owned(),
            format_time(spread.put_time.as_secs_f64()),
            format_time(baseline.put_time.as_secs_f64()),
            format_ratio(
                spread.put_time.as_secs_f64(),
                baseline.put_time.as_secs_f64(),
            ),
        ],
        vec![
            "records/s".to_owned(),
            format!("{:.0} records/s", rate(&spread)),
            format!("{:.0} records/s", rate(&baseline)),
            format_ratio(rate(&spread), rate(&baseline)),
        ],
        vec![
            "records/s, second half (every log exists)".to_owned(),
            format!("{:.0} records/s", warm_rate(&spread)),
            format!("{:.0} records/s", warm_rate(&baseline)),
            format_ratio(warm_rate(&spread), warm_rate(&baseline)),
        ],
        vec![
            "record bytes/s (data + keys)".to_owned(),
            format!("{}/s", format_bytes(bytes_rate(&spread))),
            format!("{}/s", format_bytes(bytes_rate(&baseline))),
            format_ratio(bytes_rate(&spread), bytes_rate(&baseline)),
        ],
        vec![
            "disk used after (st_blocks × 512)".to_owned(),
            format_bytes(spread.disk.used_bytes as f64),
            format_bytes(baseline.disk.used_bytes as f64),
            format_ratio(
                spread.disk.used_bytes as f64,
                baseline.disk.used_bytes as f64,
            ),
        ],
    ];
    let spread_rows = spread.before.rows(&spread.after, 1.0);
    let baseline_rows = baseline.before.rows(&baseline.after, 1.0);
    for (spread, baseline) in spread_rows.into_iter().zip(baseline_rows) {
        // [figure, before, after, growth, per]
        rows.push(vec![
            format!("{} growth while putting", spread[0]),
            spread[3].clone(),
            baseline[3].clone(),
            String::new(),
        ]);
    }
    print_table(
        &[
            "figure",
            &format!("{shards} shards"),
            "baseline: 1 shard",
            "ratio",
        ],
        &rows,
    );
    Ok(())
}

/// What one put_spread run measured.
struct PutRun {
    /// Time spent inside `put_records` calls only.
    put_time: Duration,
    /// The same, for the second half of the records only: by then every shard's log exists (the
    /// first half's puts created them), so this is the rate of a warm engine.
    warm_put_time: Duration,
    warm_records: u64,
    record_bytes: u64,
    /// After the stream was created, before the first put.
    before: Resources,
    after: Resources,
    disk: Disk,
}

fn put_run(config: &Config, shards: u64, records: u64, data: &[u8]) -> Outcome<PutRun> {
    let dir = config.scratch("footprint-put-spread")?;
    let engine = Engine::open(dir.path(), config.engine_options())?;
    let stream = engine.create_stream(CreateStream::provisioned(
        "put-spread",
        shard_count(shards)?,
    ))?;
    let before = Resources::sample();
    let (mut put_time, mut record_bytes) = (Duration::ZERO, 0);
    let (mut warm_put_time, mut warm_records) = (Duration::ZERO, 0);
    let mut next_key = 0;
    while next_key < records {
        let count = (records - next_key).min(BATCH_RECORDS);
        let (time, bytes) = put_records(&stream, next_key, count as usize, data)?;
        put_time += time;
        record_bytes += bytes;
        if next_key >= records / 2 {
            warm_put_time += time;
            warm_records += count;
        }
        next_key += count;
    }
    let after = Resources::sample();
    let disk = Disk::usage(dir.path());
    Ok(PutRun {
        put_time,
        warm_put_time,
        warm_records,
        record_bytes,
        before,
        after,
        disk,
    })
}

/// Puts one record into every shard of a stream of SHARDS shards in one child process, then opens
/// the data directory in another and runs maintenance over it twice.
fn touched(config: &Config) -> Outcome<()> {
    let shards = config.size(0, "FOOTPRINT_SHARDS", 20_000)?;
    // The probe measures a shard never written to; a touched one also holds its first segment,
    // counted here with the records.
    let first_segment_bytes = config.engine_options().initial_segment_bytes;
    preflight(
        config,
        shards,
        shards * (first_segment_bytes + RECORD_BYTES as u64),
    )?;

    let dir = config.scratch("footprint-touched")?;
    let dir_arg = dir.path().to_string_lossy().into_owned();
    let written = run_child(
        config,
        &[CHILD_TOUCH, &dir_arg, &shards.to_string()],
        "writing",
    )?;
    let disk = Disk::usage(dir.path());
    let reopened = run_child(config, &[CHILD_MAINTAIN, &dir_arg], "reopening")?;

    println!(
        "touched: one PROVISIONED stream of {shards} shards, one record of {RECORD_BYTES} B put \
         into every shard (PutRecords batches of {BATCH_RECORDS}, explicit hash keys), then \
         reopened with no maintenance thread and run_maintenance called twice, {}",
        config.segment_label()
    );
    print_environment(config);
    let per = shards as f64;
    let time_row = |label: &str, reply: &Reply, key: &str| -> Outcome<Vec<String>> {
        let secs = Duration::from_nanos(reply.value(key)?).as_secs_f64();
        Ok(vec![
            label.to_owned(),
            format_time(secs),
            format_time(secs / per),
        ])
    };
    let calls = shards.div_ceil(BATCH_RECORDS);
    let rows = vec![
        time_row(
            "writing child: Engine::open + create_stream",
            &written,
            "create_ns",
        )?,
        time_row(
            &format!("  put_records ({shards} records, {calls} calls)"),
            &written,
            "put_ns",
        )?,
        time_row("  close (drop the engine)", &written, "close_ns")?,
        vec![
            "disk used after the close (st_blocks × 512)".to_owned(),
            format_bytes(disk.used_bytes as f64),
            format_bytes(disk.used_bytes as f64 / per),
        ],
        vec![
            "  files + directories".to_owned(),
            format!("{} + {}", disk.files, disk.dirs),
            format!("{:.2} entries", disk.entries() as f64 / per),
        ],
        time_row(
            "reopening child: Engine::open (no maintenance thread)",
            &reopened,
            "open_ns",
        )?,
        time_row("  run_maintenance, first pass", &reopened, "first_pass_ns")?,
        time_row(
            "  run_maintenance, second pass",
            &reopened,
            "second_pass_ns",
        )?,
        time_row("  close (drop the engine)", &reopened, "close_ns")?,
        vec![
            "  segments deleted by the two passes".to_owned(),
            format!("{} segments", reopened.value("segments_deleted")?),
            String::new(),
        ],
    ];
    print_table(&["figure", "total", "per shard"], &rows);
    println!();
    println!("writing child, before the first put and after the last:");
    print_table(
        &["figure", "before", "after", "growth", "per shard"],
        &written
            .resources("before_puts")?
            .rows(&written.resources("after_puts")?, per),
    );
    println!();
    println!("reopening child, before Engine::open and after it:");
    let after_open = reopened.resources("after_open")?;
    print_table(
        &["figure", "before", "after", "growth", "per shard"],
        &reopened.resources("before_open")?.rows(&after_open, per),
    );
    println!();
    println!(
        "reopening child, after Engine::open and after the first run_maintenance (and the second):"
    );
    let after_first = reopened.resources("after_first_pass")?;
    let after_second = reopened.resources("after_second_pass")?;
    let rows: Vec<Vec<String>> = after_open
        .rows(&after_first, per)
        .into_iter()
        .zip(after_first.rows(&after_second, per))
        .map(|(first, second)| {
            // Each is [figure, before, after, growth, per shard].
            let [figure, open, first, growth, per_shard] = first;
            let [_, _, second, _, _] = second;
            vec![figure, open, first, growth, per_shard, second]
        })
        .collect();
    print_table(
        &[
            "figure",
            "after the open",
            "after pass 1",
            "growth",
            "per shard",
            "after pass 2",
        ],
        &rows,
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Child processes (the reopen and touched scenarios).
// ---------------------------------------------------------------------------------------------

/// `__populate DIR STREAMS SHARDS_PER_STREAM exit|wait`: creates the streams, puts
/// [`REOPEN_RECORDS_PER_STREAM`] records into each, then drops the engine and exits (`exit`), or
/// prints `READY` and sleeps until killed (`wait`).
fn child_populate(config: &Config) -> Outcome<()> {
    let dir = PathBuf::from(config.required(0)?);
    let streams = parse_number("STREAMS", config.required(1)?)?;
    let shards_per_stream = parse_number("SHARDS_PER_STREAM", config.required(2)?)?;
    let shutdown = config.required(3)?;
    let started = Instant::now();
    let engine = Engine::open(&dir, config.engine_options())?;
    create_streams(&engine, streams, shards_per_stream)?;
    let data = common::payload(RECORD_BYTES);
    for index in 0..streams {
        let stream = engine.stream(&stream_name(index))?;
        let first_key = index * REOPEN_RECORDS_PER_STREAM as u64;
        put_records(&stream, first_key, REOPEN_RECORDS_PER_STREAM, &data)?;
    }
    println!("populate_ns {}", started.elapsed().as_nanos());
    match shutdown {
        "exit" => {
            let started = Instant::now();
            drop(engine);
            println!("close_ns {}", started.elapsed().as_nanos());
            Ok(())
        }
        "wait" => {
            println!("READY");
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        other => Err(format!("shutdown {other:?} is neither exit nor wait").into()),
    }
}

/// `__open DIR`: opens the engine in DIR and reports the open time and what it added to this
/// process, then the time to close it.
fn child_open(config: &Config) -> Outcome<()> {
    let dir = PathBuf::from(config.required(0)?);
    let before = Resources::sample();
    let started = Instant::now();
    let engine = Engine::open(&dir, config.engine_options())?;
    let open_time = started.elapsed();
    let after = Resources::sample();
    println!("open_ns {}", open_time.as_nanos());
    println!("before {}", before.encode());
    println!("after {}", after.encode());
    println!("disk_used_bytes {}", Disk::usage(&dir).used_bytes);
    let started = Instant::now();
    drop(engine);
    println!("close_ns {}", started.elapsed().as_nanos());
    Ok(())
}

/// `__touch DIR SHARDS`: creates one stream of SHARDS shards in DIR and puts one record into each,
/// then reports the time of the puts, what they added to this process, and the time to close the
/// engine.
fn child_touch(config: &Config) -> Outcome<()> {
    let dir = PathBuf::from(config.required(0)?);
    let shards = parse_number("SHARDS", config.required(1)?)?;
    let started = Instant::now();
    let engine = Engine::open(&dir, config.engine_options())?;
    let stream = engine.create_stream(CreateStream::provisioned(
        TOUCHED_STREAM,
        shard_count(shards)?,
    ))?;
    println!("create_ns {}", started.elapsed().as_nanos());
    let data = common::payload(RECORD_BYTES);
    let before = Resources::sample();
    let put_time = put_one_per_shard(&stream, &data)?;
    let after = Resources::sample();
    println!("put_ns {}", put_time.as_nanos());
    println!("before_puts {}", before.encode());
    println!("after_puts {}", after.encode());
    // The stream handle keeps the stream open past the engine: drop it first, so the close below
    // is the whole of it.
    drop(stream);
    let started = Instant::now();
    drop(engine);
    println!("close_ns {}", started.elapsed().as_nanos());
    Ok(())
}

/// `__maintain DIR`: opens the engine in DIR with no maintenance thread and reports the open time
/// and what it added to this process, then runs maintenance twice by hand, reporting the time of
/// each pass and what each left behind, then the time to close the engine.
fn child_maintain(config: &Config) -> Outcome<()> {
    let dir = PathBuf::from(config.required(0)?);
    let options = EngineOptions {
        maintenance_interval: None,
        ..config.engine_options()
    };
    let before = Resources::sample();
    let started = Instant::now();
    let engine = Engine::open(&dir, options)?;
    let open_time = started.elapsed();
    let after_open = Resources::sample();
    let started = Instant::now();
    let first = engine.run_maintenance()?;
    let first_time = started.elapsed();
    let after_first = Resources::sample();
    let started = Instant::now();
    let second = engine.run_maintenance()?;
    let second_time = started.elapsed();
    let after_second = Resources::sample();
    println!("open_ns {}", open_time.as_nanos());
    println!("first_pass_ns {}", first_time.as_nanos());
    println!("second_pass_ns {}", second_time.as_nanos());
    println!("before_open {}", before.encode());
    println!("after_open {}", after_open.encode());
    println!("after_first_pass {}", after_first.encode());
    println!("after_second_pass {}", after_second.encode());
    println!(
        "segments_deleted {}",
        first.segments_deleted + second.segments_deleted
    );
    let started = Instant::now();
    drop(engine);
    println!("close_ns {}", started.elapsed().as_nanos());
    Ok(())
}

/// Opens `dir` in a fresh child process and returns what it reported.
fn open_in_child(config: &Config, dir: &Path) -> Outcome<Reply> {
    run_child(config, &[CHILD_OPEN, &dir.to_string_lossy()], "opening")
}

/// Runs this binary in a child mode to its end and returns what it reported; `role` names the
/// child in the error if it fails.
fn run_child(config: &Config, args: &[&str], role: &str) -> Outcome<Reply> {
    let mut child = spawn_self(config, args)?;
    let reply = read_reply(&mut child, None)?;
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("the {role} child failed: {status}").into());
    }
    Ok(reply)
}

/// Starts this binary again in a child mode, passing the segment size on, with its stdout piped.
fn spawn_self(config: &Config, args: &[&str]) -> Outcome<Child> {
    let mut command = Command::new(std::env::current_exe()?);
    command.args(args).stdout(Stdio::piped());
    if let Some(mib) = config.segment_mib {
        command.args(["--segment-mib", &mib.to_string()]);
    }
    Ok(command.spawn()?)
}

/// Kills a child with SIGKILL (what `Child::kill` sends) and reaps it.
fn kill(mut child: Child) -> Outcome<std::process::ExitStatus> {
    child.kill()?;
    Ok(child.wait()?)
}

/// A child's report: `key number…` lines.
struct Reply(HashMap<String, Vec<u64>>);

impl Reply {
    fn contains_key(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    fn value(&self, key: &str) -> Outcome<u64> {
        self.0
            .get(key)
            .and_then(|values| values.first().copied())
            .ok_or_else(|| format!("the child did not report {key}").into())
    }

    fn resources(&self, key: &str) -> Outcome<Resources> {
        self.0
            .get(key)
            .and_then(|values| Resources::decode(values))
            .ok_or_else(|| format!("the child did not report {key}").into())
    }
}

/// Reads the child's `key number…` lines until the line `until` (kept as a key) or the end of its
/// output. A child whose output cannot be read is killed, so no child outlives an error here.
fn read_reply(child: &mut Child, until: Option<&str>) -> Outcome<Reply> {
    let reply = read_lines(child, until);
    if reply.is_err() {
        let _ = child.kill();
        let _ = child.wait();
    }
    reply
}

fn read_lines(child: &mut Child, until: Option<&str>) -> Outcome<Reply> {
    let stdout = child.stdout.take().ok_or("the child has no stdout")?;
    let mut reply = HashMap::new();
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        let mut words = line.split_whitespace();
        let Some(key) = words.next() else { continue };
        let values = words
            .map(|word| parse_number(key, word))
            .collect::<Outcome<Vec<u64>>>()?;
        reply.insert(key.to_owned(), values);
        if Some(key) == until {
            break;
        }
    }
    Ok(Reply(reply))
}

// ---------------------------------------------------------------------------------------------
// Shared steps.
// ---------------------------------------------------------------------------------------------

fn stream_name(index: u64) -> String {
    format!("footprint-{index:06}")
}

fn create_streams(engine: &Engine, streams: u64, shards_per_stream: u64) -> Outcome<()> {
    let shards = shard_count(shards_per_stream)?;
    for index in 0..streams {
        let name = stream_name(index);
        engine
            .create_stream(CreateStream::provisioned(&name, shards))
            .map_err(|error| {
                format!(
                    "creating stream {name} ({} of {streams}): {error}",
                    index + 1
                )
            })?;
    }
    Ok(())
}

/// The baseline of the create scenario: the engine's tree of directories made with `std::fs`
/// (`streams/<stream>/shard-<index>/`), one 1 KiB file in each shard directory, nothing synced
/// (the engine's default durability syncs no shard file either).
fn write_baseline_tree(root: &Path, streams: u64, shards_per_stream: u64) -> Outcome<()> {
    let block = vec![0x5a_u8; 1024];
    for stream in 0..streams {
        let stream_dir = root.join("streams").join(stream_name(stream));
        fs::create_dir_all(&stream_dir)?;
        for shard in 0..shards_per_stream {
            let shard_dir = stream_dir.join(format!("shard-{shard:012}"));
            fs::create_dir(&shard_dir)?;
            fs::write(shard_dir.join("data"), &block)?;
        }
    }
    Ok(())
}

/// The open shards of a stream as (shard id, hash-key range), in hash-key order.
fn open_shards(stream: &Stream) -> Vec<(String, shardlog::stream::HashKeyRange)> {
    let mut open: Vec<_> = stream
        .shards()
        .into_iter()
        .filter(|shard| shard.closed_secs().is_none())
        .map(|shard| (shard.id().to_string(), shard.meta().hash_key_range))
        .collect();
    open.sort_by_key(|(_, range)| range.starting);
    open
}

/// Puts `count` (at most 500) records of `data` in one PutRecords call, with partition keys
/// `key-<first_key>`, `key-<first_key + 1>`, …, which MD5 routing spreads over the shards.
/// Returns the time the call took and the record bytes (data plus keys) it stored.
fn put_records(
    stream: &Stream,
    first_key: u64,
    count: usize,
    data: &[u8],
) -> Outcome<(Duration, u64)> {
    let keys: Vec<String> = (first_key..first_key + count as u64)
        .map(|key| format!("key-{key}"))
        .collect();
    let entries: Vec<PutRecordInput<'_>> = keys
        .iter()
        .map(|key| PutRecordInput::new(key, data))
        .collect();
    let started = Instant::now();
    let output = stream.put_records(&entries)?;
    let elapsed = started.elapsed();
    if output.failed_record_count > 0 {
        return Err(format!("{} of {count} records failed", output.failed_record_count).into());
    }
    let bytes = keys.iter().map(|key| (key.len() + data.len()) as u64).sum();
    Ok((elapsed, bytes))
}

/// Puts one record of `data` into every open shard of `stream`, in PutRecords calls of up to
/// [`BATCH_RECORDS`] entries, each entry's explicit hash key the starting hash key of its shard
/// (partition keys `key-0`, `key-1`, …, which the explicit key overrides). Checks that every
/// record landed in the shard it was meant for. Returns the time the calls took.
fn put_one_per_shard(stream: &Stream, data: &[u8]) -> Outcome<Duration> {
    let shards = open_shards(stream);
    let keys: Vec<String> = (0..shards.len()).map(|key| format!("key-{key}")).collect();
    let mut put_time = Duration::ZERO;
    for (batch, keys) in shards
        .chunks(BATCH_RECORDS as usize)
        .zip(keys.chunks(BATCH_RECORDS as usize))
    {
        let entries: Vec<PutRecordInput<'_>> = batch
            .iter()
            .zip(keys)
            .map(|((_, range), key)| {
                let mut entry = PutRecordInput::new(key, data);
                entry.record.explicit_hash_key = Some(range.starting);
                entry
            })
            .collect();
        let started = Instant::now();
        let output = stream.put_records(&entries)?;
        put_time += started.elapsed();
        for ((id, _), result) in batch.iter().zip(&output.records) {
            match result {
                PutRecordsResult::Success(stored) if stored.shard_id.to_string() == *id => {}
                PutRecordsResult::Success(stored) => {
                    return Err(
                        format!("a record meant for {id} went to {}", stored.shard_id).into(),
                    );
                }
                PutRecordsResult::Failure(error_message) => {
                    return Err(format!("the record for {id} failed: {error_message}").into());
                }
            }
        }
    }
    Ok(put_time)
}

/// Refuses a run whose projected disk use does not fit: a probe engine with one one-shard stream
/// measures what a shard takes on disk (with whatever the engine preallocates), and `shards` of
/// them plus `record_bytes` must fit within [`DISK_SHARE_MAX_PERCENT`] of the free space.
fn preflight(config: &Config, shards: u64, record_bytes: u64) -> Outcome<()> {
    let probe = config.scratch("footprint-probe")?;
    let engine = Engine::open(probe.path(), config.engine_options())?;
    engine.create_stream(CreateStream::provisioned("probe", 1))?;
    let shard_bytes = Disk::usage(probe.path()).used_bytes;
    drop(engine);
    let projected_bytes = shards
        .saturating_mul(shard_bytes)
        .saturating_add(record_bytes);
    let free_bytes = free_bytes(probe.path())?;
    let allowed_bytes = free_bytes / 100 * DISK_SHARE_MAX_PERCENT;
    println!(
        "preflight: a one-shard engine uses {} on disk; projected {} for {shards} shards and {} of \
         records; {} free",
        format_bytes(shard_bytes as f64),
        format_bytes(projected_bytes as f64),
        format_bytes(record_bytes as f64),
        format_bytes(free_bytes as f64),
    );
    if projected_bytes > allowed_bytes {
        return Err(format!(
            "refused: the projection exceeds {DISK_SHARE_MAX_PERCENT} % of the free space; pass \
             smaller sizes, a smaller --segment-mib, or a --dir with more room"
        )
        .into());
    }
    Ok(())
}

/// Bytes an unprivileged user may still write on the file system holding `path`.
fn free_bytes(path: &Path) -> Outcome<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(path.as_os_str().as_bytes())?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `path` is NUL-terminated and outlives the call; `stat` is a writable statvfs.
    let code = unsafe { libc::statvfs(path.as_ptr(), stat.as_mut_ptr()) };
    if code != 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    // SAFETY: statvfs returned 0, so it filled `stat` (which was zeroed anyway).
    let stat = unsafe { stat.assume_init() };
    #[allow(
        clippy::unnecessary_cast,
        reason = "u64 on 64-bit Linux, u32 on some 32-bit targets: the cast widens without loss"
    )]
    let (blocks, block_bytes) = (stat.f_bavail as u64, stat.f_frsize as u64);
    Ok(blocks.saturating_mul(block_bytes))
}

// ---------------------------------------------------------------------------------------------
// Measuring.
// ---------------------------------------------------------------------------------------------

/// What this process holds, from `/proc/self`.
#[derive(Debug, Clone, Copy)]
struct Resources {
    /// `VmRSS`: resident memory, anonymous plus file-backed (mapped segments count here).
    rss_bytes: u64,
    /// `RssFile`: the file-backed part of it.
    rss_file_bytes: u64,
    /// `Threads`.
    threads: u64,
    /// Lines of `/proc/self/maps`.
    mappings: u64,
    /// Entries of `/proc/self/fd`, less the one the listing itself opens.
    open_fds: u64,
}

impl Resources {
    fn sample() -> Resources {
        let status = fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
                .and_then(|value| value.split_whitespace().next()?.parse().ok())
                .unwrap_or_else(|| panic!("/proc/self/status has a numeric {name}"))
        };
        let maps = fs::read_to_string("/proc/self/maps").expect("read /proc/self/maps");
        let fds = fs::read_dir("/proc/self/fd")
            .expect("list /proc/self/fd")
            .count();
        Resources {
            rss_bytes: field("VmRSS") * 1024,
            rss_file_bytes: field("RssFile") * 1024,
            threads: field("Threads"),
            mappings: maps.lines().count() as u64,
            open_fds: fds.saturating_sub(1) as u64,
        }
    }

    fn encode(&self) -> String {
        format!(
            "{} {} {} {} {}",
            self.rss_bytes, self.rss_file_bytes, self.threads, self.mappings, self.open_fds
        )
    }

    fn decode(values: &[u64]) -> Option<Resources> {
        match *values {
            [rss_bytes, rss_file_bytes, threads, mappings, open_fds] => Some(Resources {
                rss_bytes,
                rss_file_bytes,
                threads,
                mappings,
                open_fds,
            }),
            _ => None,
        }
    }

    /// Table rows `[figure, before, after, growth, growth / per]`.
    fn rows(&self, after: &Resources, per: f64) -> Vec<[String; 5]> {
        let bytes = |label: &str, before: u64, after: u64| {
            let growth = after as f64 - before as f64;
            [
                label.to_owned(),
                format_bytes(before as f64),
                format_bytes(after as f64),
                format_growth_bytes(growth),
                format_growth_bytes(growth / per),
            ]
        };
        let count = |label: &str, unit: &str, before: u64, after: u64| {
            let growth = after as f64 - before as f64;
            [
                label.to_owned(),
                format!("{before} {unit}"),
                format!("{after} {unit}"),
                format!("{growth:+} {unit}"),
                format!("{:+.3} {unit}", growth / per),
            ]
        };
        vec![
            bytes("RSS (VmRSS)", self.rss_bytes, after.rss_bytes),
            bytes(
                "  file-backed (RssFile)",
                self.rss_file_bytes,
                after.rss_file_bytes,
            ),
            count("threads", "threads", self.threads, after.threads),
            count("mappings", "maps", self.mappings, after.mappings),
            count(
                "open file descriptors",
                "fds",
                self.open_fds,
                after.open_fds,
            ),
        ]
    }
}

/// What a directory tree takes on disk.
#[derive(Debug, Clone, Copy, Default)]
struct Disk {
    /// `st_blocks × 512` over every file and directory: what the file system allocated,
    /// preallocated space included and holes excluded.
    used_bytes: u64,
    /// `st_size` over the files.
    apparent_bytes: u64,
    files: u64,
    dirs: u64,
}

impl Disk {
    /// Files and directories.
    fn entries(&self) -> u64 {
        self.files + self.dirs
    }

    /// Walks the tree under `root`. An entry that disappears during the walk (a segment deleted by
    /// a background thread, say) is skipped.
    fn usage(root: &Path) -> Disk {
        let mut disk = Disk::default();
        let mut pending = vec![root.to_path_buf()];
        while let Some(path) = pending.pop() {
            let Ok(metadata) = fs::symlink_metadata(&path) else {
                continue;
            };
            disk.used_bytes += metadata.blocks() * 512;
            if metadata.is_dir() {
                disk.dirs += 1;
                if let Ok(entries) = fs::read_dir(&path) {
                    pending.extend(entries.flatten().map(|entry| entry.path()));
                }
            } else {
                disk.files += 1;
                disk.apparent_bytes += metadata.len();
            }
        }
        disk
    }
}

/// The ceilings the resource figures run into, so a failure at scale can be read against them.
fn print_environment(config: &Config) {
    let limits = fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let open_files = limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))
        .and_then(|rest| rest.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned());
    let max_map_count = fs::read_to_string("/proc/sys/vm/max_map_count")
        .map(|text| text.trim().to_owned())
        .unwrap_or_else(|_| "?".to_owned());
    let cpus = std::thread::available_parallelism().map_or(0, |cpus| cpus.get());
    let parent = match &config.dir {
        Some(dir) => dir.clone(),
        None => {
            std::env::var_os("SHARDLOG_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from)
        }
    };
    println!(
        "environment: {cpus} CPUs; open files limit {open_files} fds (soft); vm.max_map_count \
         {max_map_count} maps; scratch data under {}",
        parent.display()
    );
    println!();
}

// ---------------------------------------------------------------------------------------------
// Formatting: every figure carries its unit.
// ---------------------------------------------------------------------------------------------

fn format_bytes(bytes: f64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes.abs() < 1024.0 {
        return format!("{bytes:.0} B");
    }
    let mut value = bytes / 1024.0;
    let mut unit = UNITS[0];
    for next in &UNITS[1..] {
        if value.abs() < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

fn format_growth_bytes(bytes: f64) -> String {
    if bytes >= 0.0 {
        format!("+{}", format_bytes(bytes))
    } else {
        format_bytes(bytes)
    }
}

fn format_time(secs: f64) -> String {
    if secs >= 1.0 {
        format!("{secs:.2} s")
    } else if secs >= 1e-3 {
        format!("{:.2} ms", secs * 1e3)
    } else if secs >= 1e-6 {
        format!("{:.2} µs", secs * 1e6)
    } else {
        format!("{:.0} ns", secs * 1e9)
    }
}

fn format_ratio(value: f64, baseline: f64) -> String {
    if baseline == 0.0 {
        "—".to_owned()
    } else {
        format!("{:.2}×", value / baseline)
    }
}

/// Prints rows under a header: the first column left-aligned, the others right-aligned.
fn print_table<Row: AsRef<[String]>>(header: &[&str], rows: &[Row]) {
    let header: Vec<String> = header.iter().map(|cell| (*cell).to_owned()).collect();
    let all: Vec<&[String]> = std::iter::once(header.as_slice())
        .chain(rows.iter().map(AsRef::as_ref))
        .collect();
    let mut widths = vec![0; header.len()];
    for row in &all {
        for (width, cell) in widths.iter_mut().zip(*row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for (number, row) in all.iter().enumerate() {
        let mut line = String::new();
        for (column, (cell, width)) in row.iter().zip(&widths).enumerate() {
            if column == 0 {
                line.push_str(&format!("{cell:<width$}"));
            } else {
                line.push_str(&format!("   {cell:>width$}"));
            }
        }
        println!("{}", line.trim_end());
        if number == 0 {
            let total_width = widths.iter().sum::<usize>() + 3 * (widths.len() - 1);
            println!("{}", "-".repeat(total_width));
        }
    }
}
