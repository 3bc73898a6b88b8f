//! With throughput limits enforced, a PROVISIONED shard refuses what exceeds Kinesis' budgets the
//! way Kinesis does: per entry in PutRecords, as `ProvisionedThroughputExceededException` for
//! PutRecord and GetRecords. `GET /metrics` then shows what was stored, read and refused.
//!
//! Each refusal is forced by asking for several times a second's budget in a burst, so it holds
//! on a slow machine too: the buckets would need seconds to refill what the burst takes in
//! milliseconds.

use crate::common::{TestServer, bounded, sdk_client, send_http1};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType};
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use shardlog::engine::EngineOptions;
use shardlog_server::ServerConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_metrics_show_through_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let options = EngineOptions {
        enforce_throughput_limits: true,
        ..EngineOptions::default()
    };
    let server = TestServer::start_with(dir.path(), ServerConfig::default(), options).await;
    let client = sdk_client(&server.endpoint(), "AKIDEXAMPLE", "secret");
    bounded(async {
        client
            .create_stream()
            .stream_name("limited")
            .shard_count(1)
            .send()
            .await
            .unwrap();

        // 500 entries of 8 KiB: four times the shard's 1 MiB/s write budget in one call.
        let entries: Vec<PutRecordsRequestEntry> = (0..500)
            .map(|i| {
                PutRecordsRequestEntry::builder()
                    .partition_key(format!("k{i}"))
                    .data(Blob::new(vec![7u8; 8192]))
                    .build()
                    .unwrap()
            })
            .collect();
        let output = client
            .put_records()
            .stream_name("limited")
            .set_records(Some(entries))
            .send()
            .await
            .unwrap();
        let failed = output.failed_record_count.unwrap();
        assert!(failed > 0 && failed < 500, "{failed} of 500 refused");
        let refused: Vec<_> = output
            .records
            .iter()
            .filter(|entry| entry.error_code.is_some())
            .collect();
        assert_eq!(refused.len(), failed as usize);
        for entry in refused {
            assert_eq!(
                entry.error_code.as_deref(),
                Some("ProvisionedThroughputExceededException")
            );
            assert!(entry.shard_id.is_none() && entry.sequence_number.is_none());
            assert!(
                entry
                    .error_message
                    .as_deref()
                    .unwrap()
                    .starts_with("Rate exceeded for shard shardId-000000000000 in stream limited"),
                "{entry:?}"
            );
        }
        let stored = 500 - u64::from(failed.unsigned_abs());

        // PutRecord of 512 KiB, twenty times in a row: at most a few fit the refilling budget.
        let mut put_refusals = 0;
        for _ in 0..20 {
            let result = client
                .put_record()
                .stream_name("limited")
                .partition_key("big")
                .data(Blob::new(vec![1u8; 512 * 1024]))
                .send()
                .await;
            if let Err(error) = result {
                let error = error.into_service_error();
                assert!(
                    error.is_provisioned_throughput_exceeded_exception(),
                    "{error:?}"
                );
                put_refusals += 1;
            }
        }
        assert!(put_refusals > 0);

        // Sixty GetRecords in a burst against five calls a second.
        let iterator = client
            .get_shard_iterator()
            .stream_name("limited")
            .shard_id("shardId-000000000000")
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator
            .unwrap();
        let mut read_refusals = 0;
        for _ in 0..60 {
            match client
                .get_records()
                .shard_iterator(&iterator)
                .limit(1)
                .send()
                .await
            {
                Ok(page) => assert_eq!(page.records.len(), 1),
                Err(error) => {
                    let error = error.into_service_error();
                    assert!(
                        error.is_provisioned_throughput_exceeded_exception(),
                        "{error:?}"
                    );
                    read_refusals += 1;
                }
            }
        }
        assert!(read_refusals > 0);

        // The metrics count what happened.
        let request = Request::get("/metrics")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let answer = send_http1(server.addr, request).await;
        assert_eq!(answer.status, StatusCode::OK);
        let text = String::from_utf8(answer.body.to_vec()).unwrap();
        let value = |line_start: &str| -> u64 {
            text.lines()
                .find_map(|line| line.strip_prefix(line_start))
                .unwrap_or_else(|| panic!("no {line_start} in\n{text}"))
                .trim()
                .parse()
                .unwrap()
        };
        assert!(text.contains("# TYPE shardlog_stream_incoming_records_total counter"));
        let put_stored = 20 - put_refusals;
        assert_eq!(
            value("shardlog_stream_incoming_records_total{stream=\"limited\"}"),
            stored + put_stored
        );
        assert_eq!(
            value("shardlog_stream_put_records_throttled_records_total{stream=\"limited\"}"),
            u64::from(failed.unsigned_abs())
        );
        assert_eq!(
            value("shardlog_stream_read_provisioned_throughput_exceeded_total{stream=\"limited\"}"),
            read_refusals
        );
        assert_eq!(
            value(
                "shardlog_shard_incoming_records_total{stream=\"limited\",shard=\"shardId-000000000000\"}"
            ),
            stored + put_stored
        );
    })
    .await;
    server.stop().await;
}
