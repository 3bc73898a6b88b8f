//! A checkpoint file damaged after it was written (another record's number under the old checksum line,
//! cut in half as a torn write would leave it, zero-filled, emptied) makes `Application::open`
//! fail with `CorruptCheckpoint` naming the file: the application never resumes from a guess.
//! With the good file back it resumes exactly after it; with the file removed, the shard is read
//! again from its oldest record. A second instance of the application is refused while one is
//! open.

use crate::support::application::{Log, put};
use crate::support::engine::{clock, open, options, read_typed};
use shardlog::application::{Application, ApplicationError, ApplicationOptions};
use shardlog::{CreateStream, ShardId, StartingPosition};

#[test]
fn an_application_refuses_a_damaged_checkpoint_instead_of_guessing_where_to_resume() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("damaged", 1))
        .unwrap();
    put(&stream, "first", 5, 3);
    let log = Log::default();
    let mut application =
        Application::open(&stream, "reader", ApplicationOptions::default()).unwrap();
    assert_eq!(
        application.process_available(|_| log.processor()).unwrap(),
        5
    );
    assert!(matches!(
        Application::open(&stream, "reader", ApplicationOptions::default()),
        Err(ApplicationError::InUse { .. })
    ));
    drop(application);

    let path = stream
        .dir()
        .join("applications/reader/shard-000000000000.checkpoint");
    let good = std::fs::read_to_string(&path).unwrap();
    // Another record's number in place of the checkpointed one, under the old checksum line: a
    // well-formed checkpoint, but not the one written.
    let records = read_typed(&stream, ShardId::new(0), StartingPosition::TrimHorizon, 100);
    let checkpointed = records[4].sequence_number().to_string();
    assert!(
        good.contains(&checkpointed),
        "the checkpoint is at the last record"
    );
    let number_changed = good
        .replace(&checkpointed, &records[2].sequence_number().to_string())
        .into_bytes();
    let damaged: [Vec<u8>; 4] = [
        number_changed,
        good.as_bytes()[..good.len() / 2].to_vec(),
        vec![0; good.len()],
        Vec::new(),
    ];
    for bytes in damaged {
        std::fs::write(&path, &bytes).unwrap();
        match Application::open(&stream, "reader", ApplicationOptions::default()) {
            Err(ApplicationError::CorruptCheckpoint { path: named, .. }) => assert_eq!(named, path),
            Err(other) => panic!("{bytes:?}: wrong error {other}"),
            Ok(_) => panic!("{bytes:?} was used as a checkpoint"),
        }
    }

    std::fs::write(&path, &good).unwrap();
    put(&stream, "second", 2, 3);
    let resumed = Log::default();
    let mut application =
        Application::open(&stream, "reader", ApplicationOptions::default()).unwrap();
    assert_eq!(
        application
            .process_available(|_| resumed.processor())
            .unwrap(),
        2
    );
    assert_eq!(resumed.data(), ["second-0", "second-1"]);
    drop(application);

    std::fs::remove_file(&path).unwrap();
    let again = Log::default();
    let mut application =
        Application::open(&stream, "reader", ApplicationOptions::default()).unwrap();
    assert_eq!(
        application
            .process_available(|_| again.processor())
            .unwrap(),
        7
    );
    assert_eq!(again.data()[..5], log.data()[..]);
}
