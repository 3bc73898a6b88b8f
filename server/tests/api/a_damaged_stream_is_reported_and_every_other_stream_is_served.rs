//! A server whose data directory holds a damaged stream starts anyway (issue 12, item 1: it used
//! to exit 1, leaving every other stream unreachable). It logs the damaged stream at startup,
//! serves the others, and answers for the damaged one as Kinesis answers for a stream it cannot
//! serve: ListStreams lists its name (without a summary, as it has no status to show), its name
//! stays taken (CreateStream: ResourceInUseException), every operation on it gets InternalFailure
//! (HTTP 500) with a message naming the damage, and DeleteStream removes it. A stream whose shard
//! has a damaged segment is served too; that shard's calls get InternalFailure saying where the
//! damage is.

use crate::common::{ServeProcess, bounded, call_json};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::StatusCode;
use serde_json::{Value, json};

const DAMAGED_MESSAGE: &str = "Stream broken under account 000000000000 is damaged and cannot \
                               be served: its catalog entry (stream.meta) is unreadable: checksum \
                               mismatch. Delete it, or repair its files and reopen the engine.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_stream_is_reported_and_every_other_stream_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let first = ServeProcess::start(dir.path(), &[]);
    let addr = first.addr;
    bounded(async {
        for name in ["ok1", "broken", "torn"] {
            let body = json!({"StreamName": name, "ShardCount": 1}).to_string();
            assert_eq!(
                call_json(addr, "CreateStream", &body).await.status,
                StatusCode::OK
            );
            let body =
                json!({"StreamName": name, "PartitionKey": "k", "Data": BASE64.encode(name)});
            let put = call_json(addr, "PutRecord", &body.to_string()).await;
            assert_eq!(put.status, StatusCode::OK);
        }
    })
    .await;
    first.terminate();

    let meta = dir
        .path()
        .join("streams")
        .join("broken")
        .join("stream.meta");
    let text = std::fs::read_to_string(&meta).unwrap();
    std::fs::write(
        &meta,
        text.replace("retention_hours 24", "retention_hours 48"),
    )
    .unwrap();
    let segment = dir
        .path()
        .join("streams/torn/shard-000000000000/00000000000000000000.seg");
    let mut bytes = std::fs::read(&segment).unwrap();
    bytes[2] ^= 0x10; // the segment header's magic
    std::fs::write(&segment, bytes).unwrap();

    let second = ServeProcess::start(dir.path(), &[]);
    assert!(
        second.log_head.contains("stream cannot be served")
            && second.log_head.contains("broken")
            && second.log_head.contains("checksum mismatch"),
        "the startup log names the damaged stream:\n{}",
        second.log_head
    );
    let addr = second.addr;
    bounded(async {
        let list = call_json(addr, "ListStreams", "{}").await.json();
        assert_eq!(list["StreamNames"], json!(["broken", "ok1", "torn"]));
        let summaries: Vec<&Value> = list["StreamSummaries"].as_array().unwrap().iter().collect();
        assert_eq!(summaries.len(), 2);
        assert_eq!(summaries[0]["StreamName"], "ok1");

        for (operation, body) in [
            ("DescribeStream", json!({"StreamName": "broken"})),
            ("DescribeStreamSummary", json!({"StreamName": "broken"})),
            (
                "PutRecord",
                json!({"StreamName": "broken", "PartitionKey": "k", "Data": "AA=="}),
            ),
            ("ListShards", json!({"StreamName": "broken"})),
        ] {
            let answer = call_json(addr, operation, &body.to_string()).await;
            assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR, "{operation}");
            assert_eq!(
                answer.json(),
                json!({"__type": "InternalFailure", "message": DAMAGED_MESSAGE}),
                "{operation}"
            );
        }
        let create = call_json(addr, "CreateStream", r#"{"StreamName":"broken","ShardCount":1}"#).await;
        assert_eq!(create.status, StatusCode::BAD_REQUEST);
        assert_eq!(create.json()["__type"], "ResourceInUseException");

        // The other stream serves its record and takes more.
        let iterator = call_json(
            addr,
            "GetShardIterator",
            r#"{"StreamName":"ok1","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}"#,
        )
        .await
        .json();
        let body = json!({"ShardIterator": iterator["ShardIterator"]}).to_string();
        let records = call_json(addr, "GetRecords", &body).await.json();
        assert_eq!(records["Records"][0]["Data"], BASE64.encode("ok1"));
        let body = json!({"StreamName": "ok1", "PartitionKey": "k", "Data": "AA=="}).to_string();
        assert_eq!(call_json(addr, "PutRecord", &body).await.status, StatusCode::OK);

        // The torn stream's shard says where its damage is.
        let body = json!({"StreamName": "torn", "PartitionKey": "k", "Data": "AA=="}).to_string();
        let answer = call_json(addr, "PutRecord", &body).await;
        assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
        let answer = answer.json();
        assert_eq!(answer["__type"], "InternalFailure");
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.starts_with("Stored data is damaged and cannot be served: ")
                && message.ends_with(
                    "(in torn/shard-000000000000/00000000000000000000.seg, at byte 0)."
                ),
            "{message}"
        );

        // Deleting the damaged stream frees its name.
        let delete = call_json(addr, "DeleteStream", r#"{"StreamName":"broken"}"#).await;
        assert_eq!(delete.status, StatusCode::OK, "{:?}", delete.body);
        let list = call_json(addr, "ListStreams", "{}").await.json();
        assert_eq!(list["StreamNames"], json!(["ok1", "torn"]));
        let create = call_json(addr, "CreateStream", r#"{"StreamName":"broken","ShardCount":1}"#).await;
        assert_eq!(create.status, StatusCode::OK);
    })
    .await;
    second.terminate();
}
