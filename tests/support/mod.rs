//! What the library's test binaries share. Each binary (`tests/log/`, `tests/stream/`,
//! `tests/engine/`, and the scenarios that must be alone in their process) includes this module
//! with `#[path]`; its scenarios are modules named as sentences, saying what must hold.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod application;
pub mod engine;
pub mod killed_child;
pub mod shard_log;
pub mod tiny_disk;

use std::path::Path;

/// The name the test harness gives `test_function` of the scenario module whose `module_path!()`
/// is `module_path` (`log::a_scenario` → `a_scenario::test_function`): what a scenario that runs
/// its own binary again as a child process passes to `--exact`.
pub fn test_name(module_path: &str, test_function: &str) -> String {
    let scenario = module_path
        .split_once("::")
        .map_or(module_path, |(_binary, scenario)| scenario);
    format!("{scenario}::{test_function}")
}

/// A fresh directory for a test's files. Crash images are built and damaged by the tests themselves, so
/// nothing here depends on the device: a RAM file system (where syncs cost nothing) is preferred,
/// which keeps the hundreds of open/sync/close rounds of these tests fast on a busy machine.
pub fn scratch_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::Builder::new()
            .prefix("shardlog-test-")
            .tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().expect("creating a temporary directory")
}

/// `len` bytes of the splitmix64 stream that starts from `state`: deterministic data that differs
/// with the state, for the helpers' `payload`s.
pub fn splitmix_bytes(mut state: u64, len: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        bytes.extend_from_slice(&z.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}
