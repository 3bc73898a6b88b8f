//! The bodies of shardlog's fuzz targets.
//!
//! Each `fuzz_targets/<name>.rs` is one line that hands libFuzzer's input to the function of the
//! same name here. The root crate's `tests/fuzz_corpus_replay.rs` includes this very file with
//! `#[path]` and runs every file of `corpus/<name>/` through the same functions, so a plain
//! `cargo test` replays the corpora without libFuzzer. Hence this code may use only `shardlog`,
//! `std` and the root crate's dev-dependencies (`tempfile`).
//!
//! A target body panics (an assertion) when it finds a bug; libFuzzer reports the panic as a crash
//! and saves the input.

mod common;
mod frame;
mod operations;
mod recovery;
mod sequence;
mod streams;
mod token;

pub use self::frame::frame_decode;
pub use self::operations::log_operations;
pub use self::recovery::segment_recovery;
pub use self::sequence::sequence_number_parse;
pub use self::streams::stream_operations;
pub use self::token::iterator_token_decode;

/// A fuzz target: its name (which is also its corpus directory) and its body.
pub struct Target {
    /// The target's name, as `cargo fuzz run <name>` knows it.
    pub name: &'static str,
    /// Runs one input; panics if it finds a bug.
    pub run: fn(&[u8]),
    /// Hand-made valid inputs to start the corpus from.
    pub seeds: fn() -> Vec<Vec<u8>>,
}

/// Every fuzz target.
pub const TARGETS: [Target; 6] = [
    Target {
        name: "frame_decode",
        run: frame_decode,
        seeds: frame::seeds,
    },
    Target {
        name: "sequence_number_parse",
        run: sequence_number_parse,
        seeds: sequence::seeds,
    },
    Target {
        name: "segment_recovery",
        run: segment_recovery,
        seeds: recovery::seeds,
    },
    Target {
        name: "log_operations",
        run: log_operations,
        seeds: operations::seeds,
    },
    Target {
        name: "iterator_token_decode",
        run: iterator_token_decode,
        seeds: token::seeds,
    },
    Target {
        name: "stream_operations",
        run: stream_operations,
        seeds: streams::seeds,
    },
];
