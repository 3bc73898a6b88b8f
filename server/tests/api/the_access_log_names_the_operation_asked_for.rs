//! The access log (one line per request at `info`) names the operation a client asked for, served
//! or not, so that a typo in a target shows in the log as it does in the error the client gets.

use crate::common::{ServeProcess, call_json};
use http::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_log_names_the_operation_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(dir.path(), &[]);

    let answer = call_json(server.addr, "ListStreamz", "{}").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json()["__type"], "UnknownOperationException");
    let line = server.wait_for_log_line(|line| line.contains("status=400"));
    assert!(line.contains("operation=\"ListStreamz\""), "{line}");

    let answer = call_json(server.addr, "ListStreams", "{}").await;
    assert_eq!(answer.status, StatusCode::OK);
    let line = server.wait_for_log_line(|line| line.contains("status=200"));
    assert!(line.contains("operation=\"ListStreams\""), "{line}");

    server.terminate();
}
