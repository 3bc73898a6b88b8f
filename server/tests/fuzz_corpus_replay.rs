//! Replays every file of the server's fuzz corpora (`fuzz/corpus/<target>/`) through the fuzz
//! targets' bodies, without libFuzzer: the bodies are `fuzz/src/lib.rs` and its
//! `fuzz/src/event_stream.rs`, included here as a module, so this runs exactly the code
//! `cargo fuzz run` runs. Inputs that once found a bug stay
//! in the corpus, so this is also the regression test for every finding.
//!
//! A missing or empty corpus directory fails the test (a replay of nothing would prove nothing).
//! Every file is run even after a failure; the test then fails naming each failing file.

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
// `server_request_decode` is the libFuzzer entry point; this test owns its fixture.
mod target;

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn corpus_files() -> Vec<PathBuf> {
    corpus_files_of("server_request_decode")
}

fn corpus_files_of(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let entries = fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("corpus directory {} is missing: {error}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("reading the corpus directory").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "corpus directory {} is empty",
        dir.display()
    );
    files
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[test]
fn server_request_decode_corpus() {
    let files = corpus_files();
    // One fixture for all files, as one fuzzing process has; dropped (and its directory
    // removed) at the end.
    let mut fixture = target::Fixture::new();
    let mut failures = Vec::new();
    for path in &files {
        let input = fs::read(path).expect("reading a corpus file");
        if panic::catch_unwind(AssertUnwindSafe(|| fixture.run(&input))).is_err() {
            let shown = if input.len() <= 256 {
                hex(&input)
            } else {
                format!("{}… ({} bytes)", hex(&input[..256]), input.len())
            };
            failures.push(format!("{}: {shown}", path.display()));
            // A panic may have left the engine half-changed: start the next input afresh.
            fixture = target::Fixture::new();
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus inputs failed (panic messages above):\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

/// The seeds reach the operations themselves: each is a request its operation accepts (or, for the
/// unknown operation, is refused as unknown), in JSON and in CBOR, and each is in the corpus.
#[test]
fn every_seed_is_an_accepted_request_and_in_the_corpus() {
    let mut fixture = target::Fixture::new();
    let seeds = target::seeds();
    for operation in target::OPERATIONS {
        for encoding in ["json", "cbor"] {
            let name = format!("seed-{operation}-{encoding}");
            assert!(
                seeds.iter().any(|(seed, _)| *seed == name),
                "no seed {name}"
            );
        }
    }
    let corpus = corpus_files();
    for (name, input) in &seeds {
        let expected = if name.contains("NoSuchOperation") {
            Err("UnknownOperationException")
        } else {
            Ok(())
        };
        assert_eq!(fixture.run(input), expected, "seed {name}");
        let file = corpus
            .iter()
            .find(|path| path.file_name().is_some_and(|file| file == name.as_str()))
            .unwrap_or_else(|| panic!("seed {name} is not in the corpus"));
        assert_eq!(&fs::read(file).unwrap(), input, "seed {name} is stale");
    }
}

/// The target's list of operations is the server's: every name is served, none twice.
#[test]
fn the_target_knows_every_operation() {
    for (index, name) in target::OPERATIONS.iter().enumerate() {
        let operation = shardlog_server::ops::Operation::from_name(name)
            .unwrap_or_else(|| panic!("{name} is not served"));
        assert_eq!(operation.name(), *name);
        assert!(!target::OPERATIONS[..index].contains(name), "{name} twice");
    }
}

/// Runs every corpus file of `target` through `body`; fails naming each file that panicked.
fn replay(target: &str, body: fn(&[u8])) {
    let files = corpus_files_of(target);
    let mut failures = Vec::new();
    for path in &files {
        let input = fs::read(path).expect("reading a corpus file");
        if panic::catch_unwind(|| body(&input)).is_err() {
            failures.push(format!("{}: {}", path.display(), hex(&input)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} {target} inputs failed (panic messages above):\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn event_stream_decode_corpus() {
    replay(
        "event_stream_decode",
        target::event_stream::event_stream_decode,
    );
}

#[test]
fn event_stream_round_trip_corpus() {
    replay(
        "event_stream_round_trip",
        target::event_stream::event_stream_round_trip,
    );
}

/// The event-stream seeds are in both corpora, unchanged.
#[test]
fn every_event_stream_seed_is_in_both_corpora() {
    for target in ["event_stream_decode", "event_stream_round_trip"] {
        let corpus = corpus_files_of(target);
        for (name, input) in target::event_stream::seeds() {
            let file = corpus
                .iter()
                .find(|path| path.file_name().is_some_and(|file| file == name.as_str()))
                .unwrap_or_else(|| panic!("seed {name} is not in the {target} corpus"));
            assert_eq!(fs::read(file).unwrap(), input, "seed {name} is stale");
        }
    }
}
