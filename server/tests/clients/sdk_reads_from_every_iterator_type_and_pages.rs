//! Through the SDK: every shard iterator type starts where Kinesis says, GetRecords pages with
//! Limit and NextShardIterator, DescribeStream and ListStreams page, StreamARN works in place of
//! StreamName, and errors arrive as the SDK's typed exceptions.

use crate::common::{TestServer, bounded, sdk_client};
use aws_sdk_kinesis::primitives::{Blob, DateTime};
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType};
use shardlog_server::ServerConfig;

const STREAM: &str = "iterators";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_reads_from_every_iterator_type_and_pages() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), ServerConfig::default()).await;
    let client = sdk_client(&server.endpoint(), "AKIDEXAMPLE", "secret");
    bounded(async {
        client
            .create_stream()
            .stream_name(STREAM)
            .shard_count(3)
            .send()
            .await
            .unwrap();

        // Ten records to one shard, through PutRecords with an explicit hash key.
        let entries: Vec<PutRecordsRequestEntry> = (0..10)
            .map(|i| {
                PutRecordsRequestEntry::builder()
                    .partition_key(format!("key-{i}"))
                    .explicit_hash_key("0")
                    .data(Blob::new(format!("record {i}")))
                    .build()
                    .unwrap()
            })
            .collect();
        let put = client
            .put_records()
            .stream_name(STREAM)
            .set_records(Some(entries))
            .send()
            .await
            .unwrap();
        assert_eq!(put.failed_record_count, Some(0));
        assert_eq!(put.records.len(), 10);
        let sequence_numbers: Vec<String> = put
            .records
            .iter()
            .map(|entry| {
                assert_eq!(entry.shard_id.as_deref(), Some("shardId-000000000000"));
                entry.sequence_number.clone().unwrap()
            })
            .collect();

        let iterator = |kind: ShardIteratorType, sequence: Option<&str>, at: Option<DateTime>| {
            let client = client.clone();
            let sequence = sequence.map(str::to_owned);
            async move {
                client
                    .get_shard_iterator()
                    .stream_name(STREAM)
                    .shard_id("shardId-000000000000")
                    .shard_iterator_type(kind)
                    .set_starting_sequence_number(sequence)
                    .set_timestamp(at)
                    .send()
                    .await
                    .unwrap()
                    .shard_iterator
                    .unwrap()
            }
        };
        let read_all = |iterator: String| {
            let client = client.clone();
            async move {
                let records = client
                    .get_records()
                    .shard_iterator(iterator)
                    .send()
                    .await
                    .unwrap()
                    .records;
                records
                    .into_iter()
                    .map(|record| String::from_utf8(record.data.into_inner()).unwrap())
                    .collect::<Vec<_>>()
            }
        };
        let all: Vec<String> = (0..10).map(|i| format!("record {i}")).collect();

        let trim_horizon = iterator(ShardIteratorType::TrimHorizon, None, None).await;
        assert_eq!(read_all(trim_horizon).await, all);
        let at = iterator(
            ShardIteratorType::AtSequenceNumber,
            Some(&sequence_numbers[4]),
            None,
        )
        .await;
        assert_eq!(read_all(at).await, all[4..]);
        let after = iterator(
            ShardIteratorType::AfterSequenceNumber,
            Some(&sequence_numbers[4]),
            None,
        )
        .await;
        assert_eq!(read_all(after).await, all[5..]);
        let at_past = iterator(
            ShardIteratorType::AtTimestamp,
            None,
            Some(DateTime::from_secs(1_000_000_000)),
        )
        .await;
        assert_eq!(read_all(at_past).await, all);
        let latest = iterator(ShardIteratorType::Latest, None, None).await;
        assert!(read_all(latest.clone()).await.is_empty());
        client
            .put_record()
            .stream_name(STREAM)
            .partition_key("late")
            .explicit_hash_key("0")
            .data(Blob::new("record 10"))
            .send()
            .await
            .unwrap();
        assert_eq!(read_all(latest).await, vec!["record 10"]);

        // Paging through a shard with Limit: three calls of four, following NextShardIterator.
        let mut next = Some(iterator(ShardIteratorType::TrimHorizon, None, None).await);
        let mut seen = Vec::new();
        for _ in 0..3 {
            let page = client
                .get_records()
                .shard_iterator(next.take().unwrap())
                .limit(4)
                .send()
                .await
                .unwrap();
            assert!(page.records.len() <= 4);
            seen.extend(page.records.into_iter().map(|r| r.sequence_number));
            next = page.next_shard_iterator;
        }
        assert_eq!(seen.len(), 11);
        assert_eq!(seen[..10], sequence_numbers[..]);

        // DescribeStream pages through shards with ExclusiveStartShardId.
        let first = client
            .describe_stream()
            .stream_name(STREAM)
            .limit(2)
            .send()
            .await
            .unwrap()
            .stream_description
            .unwrap();
        assert_eq!(first.shards.len(), 2);
        assert!(first.has_more_shards);
        let rest = client
            .describe_stream()
            .stream_name(STREAM)
            .exclusive_start_shard_id(&first.shards[1].shard_id)
            .send()
            .await
            .unwrap()
            .stream_description
            .unwrap();
        assert_eq!(rest.shards.len(), 1);
        assert_eq!(rest.shards[0].shard_id, "shardId-000000000002");
        assert!(!rest.has_more_shards);
        assert_eq!(
            rest.shards[0]
                .hash_key_range
                .as_ref()
                .unwrap()
                .ending_hash_key,
            u128::MAX.to_string()
        );

        // ListStreams pages with Limit and NextToken.
        for name in ["a-stream", "b-stream"] {
            client
                .create_stream()
                .stream_name(name)
                .shard_count(1)
                .send()
                .await
                .unwrap();
        }
        let page = client.list_streams().limit(2).send().await.unwrap();
        assert_eq!(page.stream_names, vec!["a-stream", "b-stream"]);
        assert!(page.has_more_streams);
        assert_eq!(page.stream_summaries.as_ref().map(Vec::len), Some(2));
        let page = client
            .list_streams()
            .next_token(page.next_token.unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(page.stream_names, vec![STREAM]);
        assert!(!page.has_more_streams);

        // The ARN names the stream as well as its name does.
        let arn = format!("arn:aws:kinesis:us-east-1:000000000000:stream/{STREAM}");
        let summary = client
            .describe_stream_summary()
            .stream_arn(&arn)
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert_eq!(summary.stream_name, STREAM);
        assert_eq!(summary.open_shard_count, 3);

        // Errors come back typed.
        let error = client
            .create_stream()
            .stream_name(STREAM)
            .shard_count(1)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(error.is_resource_in_use_exception(), "{error:?}");
        let error = client
            .get_shard_iterator()
            .stream_name(STREAM)
            .shard_id("shardId-000000000001")
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .starting_sequence_number(&sequence_numbers[0])
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(error.is_invalid_argument_exception(), "{error:?}");
        assert_eq!(
            error.meta().message(),
            Some(
                "Invalid StartingSequenceNumber. It encodes shardId-000000000000, while it was \
                 used in a call to a shard with shardId-000000000001"
            )
        );
        let error = client
            .get_records()
            .shard_iterator("0123")
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(error.is_invalid_argument_exception(), "{error:?}");
        let error = client
            .put_record()
            .stream_name("missing")
            .partition_key("k")
            .data(Blob::new("x"))
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(error.is_resource_not_found_exception(), "{error:?}");
    })
    .await;
    server.stop().await;
}
