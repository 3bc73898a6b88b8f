//! The official Rust SDK runs the Kinesis getting-started tutorial against the server unchanged:
//! create an ON_DEMAND stream, describe it, put "Hello, Kinesis!", and read it back.

use crate::common::{TestServer, bounded, sdk_client};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{ShardIteratorType, StreamMode, StreamModeDetails, StreamStatus};
use shardlog_server::ServerConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_runs_the_kinesis_tutorial() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), ServerConfig::default()).await;
    let client = sdk_client(&server.endpoint(), "AKIDEXAMPLE", "secret");
    bounded(async {
        client
            .create_stream()
            .stream_name("data-analysis-stream")
            .stream_mode_details(
                StreamModeDetails::builder()
                    .stream_mode(StreamMode::OnDemand)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("create-stream");

        let summary = client
            .describe_stream_summary()
            .stream_name("data-analysis-stream")
            .send()
            .await
            .expect("describe-stream-summary")
            .stream_description_summary
            .unwrap();
        assert_eq!(summary.stream_name, "data-analysis-stream");
        assert_eq!(
            summary.stream_arn,
            "arn:aws:kinesis:us-east-1:000000000000:stream/data-analysis-stream"
        );
        assert_eq!(summary.stream_status, StreamStatus::Active);
        assert_eq!(
            summary.stream_mode_details.unwrap().stream_mode,
            StreamMode::OnDemand
        );
        assert_eq!(summary.open_shard_count, 4);
        assert_eq!(summary.retention_period_hours, 24);
        assert_eq!(summary.max_record_size_in_kib, Some(1024));
        assert_eq!(summary.consumer_count, Some(0));

        let put = client
            .put_record()
            .stream_name("data-analysis-stream")
            .partition_key("test-partition")
            .data(Blob::new("Hello, Kinesis!"))
            .send()
            .await
            .expect("put-record");
        assert_eq!(put.sequence_number.len(), 56);

        let iterator = client
            .get_shard_iterator()
            .stream_name("data-analysis-stream")
            .shard_id(&put.shard_id)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect("get-shard-iterator")
            .shard_iterator
            .unwrap();
        let records = client
            .get_records()
            .shard_iterator(iterator)
            .send()
            .await
            .expect("get-records");
        assert_eq!(records.records.len(), 1);
        let record = &records.records[0];
        assert_eq!(record.data.as_ref(), b"Hello, Kinesis!");
        assert_eq!(record.partition_key.as_deref(), Some("test-partition"));
        assert_eq!(record.sequence_number, put.sequence_number);
        let arrival = record.approximate_arrival_timestamp.unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!((arrival.secs() - now).abs() < 600, "arrival {arrival:?}");
        assert_eq!(records.millis_behind_latest, Some(0));
        assert!(records.next_shard_iterator.is_some());

        let streams = client.list_streams().send().await.expect("list-streams");
        assert_eq!(streams.stream_names, vec!["data-analysis-stream"]);
        assert!(!streams.has_more_streams);

        client
            .delete_stream()
            .stream_name("data-analysis-stream")
            .send()
            .await
            .expect("delete-stream");
        let error = client
            .describe_stream_summary()
            .stream_name("data-analysis-stream")
            .send()
            .await
            .expect_err("the stream is gone")
            .into_service_error();
        assert!(error.is_resource_not_found_exception(), "{error:?}");
        assert_eq!(
            error.meta().message(),
            Some("Stream data-analysis-stream under account 000000000000 not found.")
        );
    })
    .await;
    server.stop().await;
}
