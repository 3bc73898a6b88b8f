//! Writes the seed corpus (`corpus/server_request_decode/seed-*`) and runs every seed through
//! the target, checking that each is a request its operation accepts; then the event-stream
//! seeds (`corpus/event_stream_decode/seed-*` and `corpus/event_stream_round_trip/seed-*`), each
//! run through both of those targets.
//!
//! `cargo run --example write_seeds` in `server/fuzz/`.

use std::fs;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/server_request_decode");
    fs::create_dir_all(&dir).expect("creating the corpus directory");
    let mut fixture = shardlog_server_fuzz::Fixture::new();
    for (name, input) in shardlog_server_fuzz::seeds() {
        let answer = fixture.run(&input);
        let expected = if name.contains("NoSuchOperation") {
            Err("UnknownOperationException")
        } else {
            Ok(())
        };
        assert_eq!(answer, expected, "seed {name}");
        fs::write(dir.join(&name), &input).expect("writing a seed");
        println!("{name}: {} bytes", input.len());
    }
    for target in ["event_stream_decode", "event_stream_round_trip"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target);
        fs::create_dir_all(&dir).expect("creating the corpus directory");
        for (name, input) in shardlog_server_fuzz::event_stream::seeds() {
            shardlog_server_fuzz::event_stream::event_stream_decode(&input);
            shardlog_server_fuzz::event_stream::event_stream_round_trip(&input);
            fs::write(dir.join(&name), &input).expect("writing a seed");
            println!("{target}/{name}: {} bytes", input.len());
        }
    }
}
