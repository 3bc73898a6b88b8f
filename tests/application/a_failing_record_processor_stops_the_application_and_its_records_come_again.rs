//! A record processor that fails (returns an error, or panics) stops the application: the error
//! comes back from `process_available` or from `stop` (the threaded application stops all its
//! workers and `has_failed` says so), and the records after the shard's last checkpoint, the
//! failed batch's among them, are delivered again by the next read, of the same instance too.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::engine::{clock, open, options};
use shardlog::CreateStream;
use shardlog::application::{
    Application, ApplicationError, ApplicationOptions, Batch, Checkpointer, ProcessorError,
    RecordProcessor,
};

/// A hang guard only.
const DEADLINE: Duration = Duration::from_secs(30);

/// How a [`Flaky`] processor fails, once, on the batch holding a given record.
#[derive(Clone, Copy)]
enum Failure {
    Error,
    Panic,
}

#[derive(Clone)]
struct Flaky {
    fail_on: &'static str,
    how: Failure,
    failed: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<String>>>,
}

impl RecordProcessor for Flaky {
    fn process(
        &mut self,
        batch: Batch<'_>,
        _checkpointer: &mut Checkpointer<'_>,
    ) -> Result<(), ProcessorError> {
        let data: Vec<String> = batch
            .records
            .iter()
            .map(|record| String::from_utf8(record.data().to_vec()).unwrap())
            .collect();
        if data.iter().any(|data| data == self.fail_on) && !self.failed.swap(true, Ordering::SeqCst)
        {
            match self.how {
                Failure::Error => return Err(format!("cannot handle {}", self.fail_on).into()),
                Failure::Panic => panic!("cannot handle {}", self.fail_on),
            }
        }
        self.seen.lock().unwrap().extend(data);
        Ok(())
    }
}

fn flaky(fail_on: &'static str, how: Failure) -> Flaky {
    Flaky {
        fail_on,
        how,
        failed: Arc::new(AtomicBool::new(false)),
        seen: Arc::new(Mutex::new(Vec::new())),
    }
}

fn data(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|n| format!("r-{n}")).collect()
}

#[test]
fn a_failing_record_processor_stops_the_application_and_its_records_come_again() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("flaky", 1))
        .unwrap();
    crate::support::application::put(&stream, "r", 8, 1);
    let options = ApplicationOptions {
        batch_records_max: 2,
        ..ApplicationOptions::default()
    };

    // An error: batches [r-0, r-1] then [r-2, r-3], which fails; the next read starts again at r-2.
    let processor = flaky("r-3", Failure::Error);
    let mut application = Application::open(&stream, "reader", options.clone()).unwrap();
    match application.process_available(|_| processor.clone()) {
        Err(ApplicationError::Processor { shard, source }) => {
            assert_eq!(shard.index(), 0);
            assert_eq!(source.to_string(), "cannot handle r-3");
        }
        other => panic!("a failing processor gave {other:?}"),
    }
    assert_eq!(*processor.seen.lock().unwrap(), data(0..2));
    assert_eq!(
        application
            .process_available(|_| processor.clone())
            .unwrap(),
        6
    );
    assert_eq!(*processor.seen.lock().unwrap(), data(0..8));
    drop(application);

    // A panic: the shard is not left leased to nobody; the next read starts at the failed batch.
    crate::support::application::put(&stream, "s", 4, 1);
    let processor = flaky("s-1", Failure::Panic);
    let mut application = Application::open(&stream, "reader", options.clone()).unwrap();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        application.process_available(|_| processor.clone())
    }));
    assert!(panicked.is_err(), "the processor's panic goes on");
    assert!(processor.seen.lock().unwrap().is_empty());
    assert_eq!(
        application
            .process_available(|_| processor.clone())
            .unwrap(),
        4
    );
    let expected: Vec<String> = (0..4).map(|n| format!("s-{n}")).collect();
    assert_eq!(*processor.seen.lock().unwrap(), expected);
    drop(application);

    // On worker threads: the application stops, and `stop` says why.
    crate::support::application::put(&stream, "t", 4, 1);
    let processor = flaky("t-2", Failure::Error);
    let threaded = ApplicationOptions {
        workers: 2,
        ..options
    };
    let running = Application::open(&stream, "reader", threaded)
        .unwrap()
        .start({
            let processor = processor.clone();
            move |_| processor.clone()
        })
        .unwrap();
    let started = Instant::now();
    while !running.has_failed() && started.elapsed() < DEADLINE {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(running.has_failed());
    assert!(matches!(
        running.stop(),
        Err(ApplicationError::Processor { .. })
    ));
}
