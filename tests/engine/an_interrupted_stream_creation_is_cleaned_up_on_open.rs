//! A crash between creating a stream's directory and writing its catalog entry leaves a directory
//! without `stream.meta`; the next open removes it instead of refusing to start.

use shardlog::{CreateStream, Engine, EngineOptions};

#[test]
fn an_interrupted_stream_creation_is_cleaned_up_on_open() {
    let dir = tempfile::tempdir().unwrap();
    drop(Engine::open(dir.path(), EngineOptions::default()).unwrap());
    // As if the process died after creating the directory, before writing stream.meta.
    std::fs::create_dir_all(dir.path().join("streams").join("half-made")).unwrap();
    let engine = Engine::open(dir.path(), EngineOptions::default()).unwrap();
    assert!(engine.list_streams(None, 100).names.is_empty());
    assert!(!dir.path().join("streams").join("half-made").exists());
    engine
        .create_stream(CreateStream::provisioned("half-made", 1))
        .unwrap();
}
