//! Replays every file of the fuzz corpora (`fuzz/corpus/<target>/`) through its fuzz target's body,
//! without libFuzzer: the bodies are `fuzz/src/lib.rs`, included here as a module, so this runs
//! exactly the code `cargo fuzz run` runs. Inputs that once found a bug stay in the corpus, so
//! this is also the regression test for every fuzzing finding.
//!
//! A missing or empty corpus directory fails the test (a replay of nothing would prove nothing).
//! Every file is run even after a failure; the test then fails naming each failing file.

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)] // `Target::seeds` is for the fuzz crate's seed writer.
mod targets;

use std::fs;
use std::panic;
use std::path::{Path, PathBuf};

fn corpus_files(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join("corpus")
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

fn replay(name: &str) {
    let target = targets::TARGETS
        .iter()
        .find(|target| target.name == name)
        .unwrap_or_else(|| panic!("no fuzz target {name}"));
    let files = corpus_files(name);
    let mut failures = Vec::new();
    for path in &files {
        let input = fs::read(path).expect("reading a corpus file");
        if panic::catch_unwind(|| (target.run)(&input)).is_err() {
            let shown = if input.len() <= 256 {
                hex(&input)
            } else {
                format!("{}… ({} bytes)", hex(&input[..256]), input.len())
            };
            failures.push(format!("{}: {shown}", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} {name} corpus inputs failed (panic messages above):\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn frame_decode_corpus() {
    replay("frame_decode");
}

#[test]
fn sequence_number_parse_corpus() {
    replay("sequence_number_parse");
}

#[test]
fn segment_recovery_corpus() {
    replay("segment_recovery");
}

#[test]
fn log_operations_corpus() {
    replay("log_operations");
}

#[test]
fn iterator_token_decode_corpus() {
    replay("iterator_token_decode");
}

#[test]
fn stream_operations_corpus() {
    replay("stream_operations");
}

#[test]
fn every_target_has_a_replay_test() {
    let names: Vec<&str> = targets::TARGETS.iter().map(|target| target.name).collect();
    assert_eq!(
        names,
        [
            "frame_decode",
            "sequence_number_parse",
            "segment_recovery",
            "log_operations",
            "iterator_token_decode",
            "stream_operations"
        ]
    );
}
