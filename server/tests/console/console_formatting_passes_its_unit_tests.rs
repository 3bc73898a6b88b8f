//! The console's formatting, parsing and SigV4 signing (server/console/*.mjs) pass their unit
//! tests under Node.js's built-in runner. CI installs Node.js; without it this test fails.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The unit tests take well under a second; this only bounds a hung runner.
const RUN_MAX: Duration = Duration::from_secs(120);

#[test]
fn console_formatting_passes_its_unit_tests() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("console/format.test.mjs");
    let node = std::env::var_os("SHARDLOG_NODE").unwrap_or_else(|| "node".into());
    let mut child = Command::new(&node)
        .arg("--test")
        .arg(&tests)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| {
            panic!("cannot run {node:?} ({error}); install Node.js (`apt-get install -y nodejs`)")
        });
    let deadline = Instant::now() + RUN_MAX;
    while child.try_wait().expect("wait works").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("node --test ran longer than {RUN_MAX:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("output");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The runner found and ran the tests (an empty file would pass too).
    assert!(report.contains("# pass 19"), "{report}");
    assert!(report.contains("# fail 0"), "{report}");
}
