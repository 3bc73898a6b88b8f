//! Writes each target's hand-made seed inputs into `corpus/<target>/seed-<n>`.
//!
//! Run from the fuzz directory: `cargo run --example write_seeds`. Each seed is run through its
//! target first, so a seed that finds a bug is reported here rather than saved.

use std::fs;
use std::path::Path;

fn main() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for target in &shardlog_fuzz::TARGETS {
        let dir = corpus.join(target.name);
        fs::create_dir_all(&dir).expect("creating the corpus directory");
        let seeds = (target.seeds)();
        for (i, seed) in seeds.iter().enumerate() {
            (target.run)(seed);
            fs::write(dir.join(format!("seed-{i:02}")), seed).expect("writing a seed");
        }
        println!("{}: {} seeds", target.name, seeds.len());
    }
}
