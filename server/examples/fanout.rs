//! Enhanced fan-out over loopback, measured with the Rust `aws-sdk-kinesis` as a client would see
//! it, each figure beside a polling baseline taken in the same run:
//!
//! 1. **Append-to-delivery latency**: one client puts 100-byte records one at a time (paced by
//!    `--interval-us`), each carrying the time it was sent; a SubscribeToShard subscription (from
//!    LATEST) and, as the baseline, a GetRecords poller (every `--poll-interval-ms`, 200 ms being
//!    the fastest Kinesis' 5 reads a second allow) receive them on clients of their own. Reported:
//!    p50/p99/max of receive time minus send time for each, and PutRecord's own round trip (the
//!    least any delivery over the wire could take).
//! 2. **Delivery throughput**: a second stream is filled with `--records` 100-byte records
//!    (PutRecords), then read from TRIM_HORIZON by one subscription, then by five subscriptions
//!    (five consumers of the one shard) at once, and as the baseline by GetRecords (10,000 a call)
//!    back to back. Reported: records/s delivered, from the subscribe call to the last record.
//!
//! ```text
//! cargo build --release -p shardlog-server --example fanout --bin shardlog
//! target/release/shardlog serve --log-level warn --data-dir /tmp/fanout &
//! target/release/examples/fanout --endpoint http://127.0.0.1:4567
//! ```
//!
//! Options (all `--name value`): `--endpoint`, `--latency-records` (2000), `--interval-us` (1000),
//! `--poll-interval-ms` (200), `--records` (200000), `--stream` (a fresh name; the bulk stream is
//! its name with `-bulk`). The clients sign with fixed keys: run the server without
//! `--credentials`. Every wait is bounded.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::primitives::event_stream::EventReceiver;
use aws_sdk_kinesis::types::error::SubscribeToShardEventStreamError;
use aws_sdk_kinesis::types::{
    ConsumerStatus, PutRecordsRequestEntry, ShardIteratorType, StartingPosition, StreamStatus,
    SubscribeToShardEventStream,
};

const SHARD: &str = "shardId-000000000000";
const RECORD_BYTES: usize = 100;
/// Consumers of the bulk stream: one for the single subscription, five for the five at once.
const FAN_OUT: usize = 5;
/// The longest any phase may take.
const PHASE_MAX: Duration = Duration::from_secs(600);

type Events = EventReceiver<SubscribeToShardEventStream, SubscribeToShardEventStreamError>;

struct Options {
    endpoint: String,
    latency_records: usize,
    interval: Duration,
    poll_interval: Duration,
    records: usize,
    stream: String,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut map = HashMap::new();
    for pair in args.chunks(2) {
        if let [name, value] = pair {
            map.insert(name.trim_start_matches("--").to_owned(), value.clone());
        }
    }
    let get = |name: &str, default: &str| map.get(name).cloned().unwrap_or(default.to_owned());
    let number = |name: &str, default: &str| -> u64 {
        get(name, default)
            .parse()
            .unwrap_or_else(|_| panic!("--{name} takes a number"))
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    Options {
        endpoint: get("endpoint", "http://127.0.0.1:4567"),
        latency_records: number("latency-records", "2000") as usize,
        interval: Duration::from_micros(number("interval-us", "1000")),
        poll_interval: Duration::from_millis(number("poll-interval-ms", "200")),
        records: number("records", "200000") as usize,
        stream: get("stream", &format!("fanout-{}", nanos % 1_000_000_000)),
    }
}

/// A client with connections of its own (each SDK client has its own pool).
fn client(endpoint: &str) -> Client {
    let config = aws_sdk_kinesis::Config::builder()
        .behavior_version(aws_sdk_kinesis::config::BehaviorVersion::latest())
        .region(aws_sdk_kinesis::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_kinesis::config::Credentials::new(
            "AKIDFANOUT",
            "fanout",
            None,
            None,
            "fanout",
        ))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(aws_sdk_kinesis::config::retry::RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

/// The instant all timestamps in record data count from (the clients share the process).
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// A 100-byte record whose first 16 bytes are the time it is sent.
fn stamped_record() -> Vec<u8> {
    let mut data = vec![b'.'; RECORD_BYTES];
    let sent_nanos = epoch().elapsed().as_nanos();
    data[..16].copy_from_slice(&sent_nanos.to_be_bytes());
    data
}

/// How long ago the stamped record `data` was sent.
fn age(data: &[u8]) -> Duration {
    let stamp: [u8; 16] = data
        .get(..16)
        .and_then(|bytes| bytes.try_into().ok())
        .expect("a stamped record");
    let sent = Duration::from_nanos(u64::try_from(u128::from_be_bytes(stamp)).unwrap_or(u64::MAX));
    epoch().elapsed().saturating_sub(sent)
}

fn summary(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |percent: usize| samples[(samples.len() * percent / 100).min(samples.len() - 1)];
    let ms = |duration: Duration| duration.as_secs_f64() * 1000.0;
    format!(
        "p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms ({} records)",
        ms(at(50)),
        ms(at(99)),
        ms(samples[samples.len() - 1]),
        samples.len()
    )
}

async fn wait_for(what: &str, mut ready: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready().await {
        assert!(Instant::now() < deadline, "{what} took over a minute");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Creates a one-shard stream with `consumers` registered consumers, all ACTIVE; their ARNs.
async fn stream_with_consumers(client: &Client, stream: &str, consumers: &[String]) -> Vec<String> {
    client
        .create_stream()
        .stream_name(stream)
        .shard_count(1)
        .send()
        .await
        .expect("CreateStream");
    wait_for("the stream to become ACTIVE", async || {
        let summary = client
            .describe_stream_summary()
            .stream_name(stream)
            .send()
            .await
            .expect("DescribeStreamSummary");
        summary
            .stream_description_summary
            .is_some_and(|summary| summary.stream_status == StreamStatus::Active)
    })
    .await;
    let stream_arn = format!("arn:aws:kinesis:us-east-1:000000000000:stream/{stream}");
    let mut arns = Vec::new();
    for name in consumers {
        let consumer = client
            .register_stream_consumer()
            .stream_arn(&stream_arn)
            .consumer_name(name)
            .send()
            .await
            .expect("RegisterStreamConsumer")
            .consumer
            .expect("a consumer");
        wait_for("a consumer to become ACTIVE", async || {
            client
                .describe_stream_consumer()
                .consumer_arn(&consumer.consumer_arn)
                .send()
                .await
                .expect("DescribeStreamConsumer")
                .consumer_description
                .is_some_and(|description| description.consumer_status == ConsumerStatus::Active)
        })
        .await;
        arns.push(consumer.consumer_arn);
    }
    arns
}

async fn subscribe(client: &Client, consumer_arn: &str, kind: ShardIteratorType) -> Events {
    client
        .subscribe_to_shard()
        .consumer_arn(consumer_arn)
        .shard_id(SHARD)
        .starting_position(
            StartingPosition::builder()
                .r#type(kind)
                .build()
                .expect("a starting position"),
        )
        .send()
        .await
        .expect("SubscribeToShard")
        .event_stream
}

/// Receives events until `count` records came, calling `each` with every record's data.
async fn receive(events: &mut Events, count: usize, mut each: impl FnMut(&[u8])) {
    let mut received = 0;
    while received < count {
        match events.recv().await.expect("an event") {
            Some(SubscribeToShardEventStream::SubscribeToShardEvent(event)) => {
                for record in event.records() {
                    each(record.data().as_ref());
                }
                received += event.records().len();
            }
            Some(other) => panic!("an unexpected event: {other:?}"),
            None => panic!("the subscription ended after {received} of {count} records"),
        }
    }
}

async fn iterator(client: &Client, stream: &str, kind: ShardIteratorType) -> String {
    client
        .get_shard_iterator()
        .stream_name(stream)
        .shard_id(SHARD)
        .shard_iterator_type(kind)
        .send()
        .await
        .expect("GetShardIterator")
        .shard_iterator
        .expect("an iterator")
}

/// GetRecords from `iterator` until `count` records came, pausing `pause` after every call (as a
/// polling consumer does); calls `each` with every record's data.
async fn poll(
    client: &Client,
    mut iterator: String,
    count: usize,
    pause: Duration,
    mut each: impl FnMut(&[u8]),
) {
    let mut received = 0;
    while received < count {
        let page = client
            .get_records()
            .shard_iterator(&iterator)
            .limit(10_000)
            .send()
            .await
            .expect("GetRecords");
        for record in &page.records {
            each(record.data().as_ref());
        }
        received += page.records.len();
        iterator = page.next_shard_iterator.expect("an open shard");
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
}

async fn latency(options: &Options) {
    let setup = client(&options.endpoint);
    let arns = stream_with_consumers(&setup, &options.stream, &["latency".to_owned()]).await;
    let count = options.latency_records;

    let subscriber = client(&options.endpoint);
    let mut events = subscribe(&subscriber, &arns[0], ShardIteratorType::Latest).await;
    let subscribed = tokio::spawn(async move {
        let mut ages = Vec::with_capacity(count);
        receive(&mut events, count, |data| ages.push(age(data))).await;
        ages
    });
    let poller = client(&options.endpoint);
    let start = iterator(&poller, &options.stream, ShardIteratorType::Latest).await;
    let pause = options.poll_interval;
    let polled = tokio::spawn(async move {
        let mut ages = Vec::with_capacity(count);
        poll(&poller, start, count, pause, |data| ages.push(age(data))).await;
        ages
    });

    let producer = client(&options.endpoint);
    let mut round_trips = Vec::with_capacity(count);
    let mut next = Instant::now();
    for _ in 0..count {
        let sent = Instant::now();
        producer
            .put_record()
            .stream_name(&options.stream)
            .partition_key("k")
            .data(Blob::new(stamped_record()))
            .send()
            .await
            .expect("PutRecord");
        round_trips.push(sent.elapsed());
        next += options.interval;
        tokio::time::sleep_until(next.into()).await;
    }
    let subscribed = subscribed.await.expect("the subscriber");
    let polled = polled.await.expect("the poller");
    println!("latency, one record every {:?}, 100 B:", options.interval);
    println!(
        "  SubscribeToShard append-to-delivery: {}",
        summary(subscribed)
    );
    println!(
        "  GetRecords every {:?} (baseline): {}",
        options.poll_interval,
        summary(polled)
    );
    println!(
        "  PutRecord round trip (baseline): {}",
        summary(round_trips)
    );
}

async fn fill(options: &Options, stream: &str) {
    const BATCH: usize = 500;
    const WRITERS: usize = 4;
    let batches = options.records.div_ceil(BATCH);
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let client = client(&options.endpoint);
        let stream = stream.to_owned();
        let total = options.records;
        writers.push(tokio::spawn(async move {
            for batch in (writer..batches).step_by(WRITERS) {
                let records = (batch * BATCH..((batch + 1) * BATCH).min(total))
                    .map(|_| {
                        PutRecordsRequestEntry::builder()
                            .partition_key("k")
                            .data(Blob::new(vec![b'.'; RECORD_BYTES]))
                            .build()
                            .expect("an entry")
                    })
                    .collect();
                let answer = client
                    .put_records()
                    .stream_name(&stream)
                    .set_records(Some(records))
                    .send()
                    .await
                    .expect("PutRecords");
                assert_eq!(answer.failed_record_count, Some(0), "no record refused");
            }
        }));
    }
    for writer in writers {
        writer.await.expect("a writer");
    }
}

fn rate(records: usize, elapsed: Duration) -> String {
    format!(
        "{:.0} records/s ({records} in {:.2} s)",
        records as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    )
}

async fn throughput(options: &Options) {
    let stream = format!("{}-bulk", options.stream);
    let setup = client(&options.endpoint);
    let names: Vec<String> = (0..=FAN_OUT).map(|index| format!("bulk-{index}")).collect();
    let arns = stream_with_consumers(&setup, &stream, &names).await;
    let filling = Instant::now();
    fill(options, &stream).await;
    let records = options.records;
    println!(
        "delivery throughput, {records} records of 100 B (filled with PutRecords at {}):",
        rate(records, filling.elapsed())
    );

    let started = Instant::now();
    let single = client(&options.endpoint);
    let mut events = subscribe(&single, &arns[0], ShardIteratorType::TrimHorizon).await;
    receive(&mut events, records, |_| {}).await;
    println!("  one subscription: {}", rate(records, started.elapsed()));
    drop(events);

    let started = Instant::now();
    let mut readers = Vec::new();
    for arn in &arns[1..] {
        let client = client(&options.endpoint);
        let arn = arn.clone();
        readers.push(tokio::spawn(async move {
            let mut events = subscribe(&client, &arn, ShardIteratorType::TrimHorizon).await;
            receive(&mut events, records, |_| {}).await;
            Instant::now()
        }));
    }
    let mut slowest = started;
    for reader in readers {
        slowest = slowest.max(reader.await.expect("a subscriber"));
    }
    let elapsed = slowest - started;
    println!(
        "  {FAN_OUT} subscriptions at once: {} in all, {} each",
        rate(records * FAN_OUT, elapsed),
        rate(records, elapsed)
    );

    let started = Instant::now();
    let poller = client(&options.endpoint);
    let start = iterator(&poller, &stream, ShardIteratorType::TrimHorizon).await;
    poll(&poller, start, records, Duration::ZERO, |_| {}).await;
    println!(
        "  GetRecords back to back (baseline): {}",
        rate(records, started.elapsed())
    );
}

#[tokio::main]
async fn main() {
    let options = options();
    epoch();
    tokio::time::timeout(PHASE_MAX, latency(&options))
        .await
        .expect("the latency phase ends in time");
    tokio::time::timeout(PHASE_MAX, throughput(&options))
        .await
        .expect("the throughput phase ends in time");
    let cleanup = client(&options.endpoint);
    for stream in [options.stream.clone(), format!("{}-bulk", options.stream)] {
        let _ = cleanup
            .delete_stream()
            .stream_name(stream)
            .enforce_consumer_deletion(true)
            .send()
            .await;
    }
}
