//! When the address to listen on is taken, `shardlog serve` exits with an error that names the
//! address and `--listen`, so a first-time user knows what to change.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Opening an empty data directory and failing to bind take well under a second.
const RUN_MAX: Duration = Duration::from_secs(60);

#[test]
fn a_taken_port_is_named_with_the_flag_that_moves_it() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let address = taken.local_addr().expect("bound address").to_string();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_shardlog"))
        .args(["serve", "--listen", &address, "--data-dir"])
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("shardlog starts");
    let deadline = Instant::now() + RUN_MAX;
    while child.try_wait().expect("wait works").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("shardlog kept running on a taken address");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{log}");
    assert!(
        log.contains(&format!("cannot listen on {address}")),
        "{log}"
    );
    assert!(log.contains("--listen"), "{log}");
}
