//! Checkpoints go with their stream: an application that read a stream to its end is still open
//! when the stream is deleted and created again under the same name. Its next read fails with
//! `StreamDeleted` (it writes nothing into the new stream's directory), and the same application
//! opened on the new stream reads the new stream's records from the oldest, with no checkpoint of
//! the old one.

use crate::support::application::{Log, put};
use crate::support::engine::{clock, open, options};
use shardlog::CreateStream;
use shardlog::application::{Application, ApplicationError, ApplicationOptions};

#[test]
fn a_stream_deleted_and_created_again_starts_its_applications_without_the_old_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let old = engine
        .create_stream(CreateStream::provisioned("reused", 1))
        .unwrap();
    put(&old, "old", 4, 2);
    let log = Log::default();
    let mut on_old = Application::open(&old, "reader", ApplicationOptions::default()).unwrap();
    assert_eq!(on_old.process_available(|_| log.processor()).unwrap(), 4);

    engine.delete_stream("reused").unwrap();
    clock.advance_ms(1000);
    let new = engine
        .create_stream(CreateStream::provisioned("reused", 1))
        .unwrap();
    put(&new, "new", 3, 2);
    match on_old.process_available(|_| log.processor()) {
        Err(ApplicationError::StreamDeleted { stream }) => assert_eq!(stream, "reused"),
        other => panic!("reading a deleted stream gave {other:?}"),
    }
    assert!(
        !new.dir().join("applications").exists(),
        "the old instance wrote into the new stream's directory"
    );
    drop(on_old);

    let fresh = Log::default();
    let mut on_new = Application::open(&new, "reader", ApplicationOptions::default()).unwrap();
    assert_eq!(on_new.process_available(|_| fresh.processor()).unwrap(), 3);
    assert_eq!(fresh.data(), ["new-0", "new-1", "new-2"]);
}
