//! Runs input files through a target's body without libFuzzer, for triage:
//! `cargo run --example run_inputs -- <target> <file>...`. Prints each file's outcome (a panic
//! prints its message and, with `RUST_BACKTRACE=1`, its backtrace) and exits non-zero if any
//! input failed.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(name) = args.next() else {
        eprintln!("usage: run_inputs <target> <file>...");
        return ExitCode::FAILURE;
    };
    let Some(target) = shardlog_fuzz::TARGETS.iter().find(|t| t.name == name) else {
        eprintln!("no target {name}");
        return ExitCode::FAILURE;
    };
    let mut failed = 0;
    for path in args {
        let input = std::fs::read(&path).expect("reading an input");
        let outcome = std::panic::catch_unwind(|| (target.run)(&input));
        println!("{path}: {}", if outcome.is_ok() { "ok" } else { "FAILED" });
        failed += usize::from(outcome.is_err());
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
