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

/// An application opened on a handle of a stream deleted before: `StreamDeleted`, and the stream's
/// directory is not made again (it used to be, holding only `applications/`, so that creating a
/// stream of that name failed until a restart).
#[test]
fn an_application_opened_on_a_deleted_streams_handle_is_refused_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let gone = engine
        .create_stream(CreateStream::provisioned("gone", 1))
        .unwrap();
    let stream_dir = gone.dir().to_owned();
    engine.delete_stream("gone").unwrap();
    match Application::open(&gone, "reader", ApplicationOptions::default()) {
        Err(ApplicationError::StreamDeleted { stream }) => assert_eq!(stream, "gone"),
        Err(other) => panic!("opening on a deleted stream gave {other:?}"),
        Ok(_) => panic!("an application opened on a deleted stream"),
    }
    assert!(
        !stream_dir.exists(),
        "the deleted stream's directory came back"
    );
    let again = engine
        .create_stream(CreateStream::provisioned("gone", 1))
        .unwrap();
    put(&again, "new", 2, 1);
    let log = Log::default();
    let mut reader = Application::open(&again, "reader", ApplicationOptions::default()).unwrap();
    assert_eq!(reader.process_available(|_| log.processor()).unwrap(), 2);
}
