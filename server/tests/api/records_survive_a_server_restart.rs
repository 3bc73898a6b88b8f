//! Records put before the server is stopped with SIGTERM are all readable after it starts again
//! on the same data directory, at the same sequence numbers.

use crate::common::{ServeProcess, bounded, sdk_client};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType};

const RECORDS: usize = 1200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_survive_a_server_restart() {
    let dir = tempfile::tempdir().unwrap();
    let first = ServeProcess::start(dir.path(), &[]);
    let client = sdk_client(&first.endpoint(), "AKIDEXAMPLE", "secret");
    let mut written: Vec<(String, String, Vec<u8>)> = Vec::new();
    bounded(async {
        client
            .create_stream()
            .stream_name("durable")
            .shard_count(2)
            .send()
            .await
            .unwrap();
        for batch in 0..RECORDS / 400 {
            let entries: Vec<PutRecordsRequestEntry> = (0..400)
                .map(|i| {
                    PutRecordsRequestEntry::builder()
                        .partition_key(format!("key-{batch}-{i}"))
                        .data(Blob::new(format!("payload {batch}/{i}").into_bytes()))
                        .build()
                        .unwrap()
                })
                .collect();
            let output = client
                .put_records()
                .stream_name("durable")
                .set_records(Some(entries.clone()))
                .send()
                .await
                .unwrap();
            assert_eq!(output.failed_record_count, Some(0));
            for (entry, result) in entries.iter().zip(&output.records) {
                written.push((
                    result.shard_id.clone().unwrap(),
                    result.sequence_number.clone().unwrap(),
                    entry.data.as_ref().to_vec(),
                ));
            }
        }
    })
    .await;
    let first_log = first.log_head.clone();
    first.terminate();

    let second = ServeProcess::start(dir.path(), &[]);
    let client = sdk_client(&second.endpoint(), "AKIDEXAMPLE", "secret");
    let mut read: Vec<(String, String, Vec<u8>)> = Vec::new();
    bounded(async {
        for shard in ["shardId-000000000000", "shardId-000000000001"] {
            let mut iterator = client
                .get_shard_iterator()
                .stream_name("durable")
                .shard_id(shard)
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await
                .unwrap()
                .shard_iterator;
            loop {
                let page = client
                    .get_records()
                    .shard_iterator(iterator.take().unwrap())
                    .limit(500)
                    .send()
                    .await
                    .unwrap();
                let empty = page.records.is_empty();
                read.extend(page.records.into_iter().map(|record| {
                    (
                        shard.to_owned(),
                        record.sequence_number,
                        record.data.into_inner(),
                    )
                }));
                iterator = page.next_shard_iterator;
                if empty {
                    break;
                }
            }
        }
    })
    .await;
    second.terminate();
    written.sort();
    read.sort();
    assert_eq!(read.len(), RECORDS, "first run's log:\n{first_log}");
    assert_eq!(read, written);
}
