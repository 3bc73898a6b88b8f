//! Settings shardlog records and reports but does not act on (a stream's encryption key, its
//! resource policy, its warm throughput) and the account's minimum throughput billing commitment
//! survive closing and reopening the engine; a stream's settings go with the stream; the stream
//! shows UPDATING for the update delay after each change, as Kinesis does; and the daily limits
//! and preconditions Kinesis applies are applied.

use crate::support::engine::{START_MS, clock, open, options};
use shardlog::engine::{COMMITMENT_MINIMUM_MS, CommitmentStatus};
use shardlog::stream::error::{Limit, Validation};
use shardlog::stream::{
    ENCRYPTION_STARTS_PER_DAY, Encryption, KmsKeyId, ResourcePolicy, WarmThroughput,
};
use shardlog::{CreateStream, EngineOptions, StreamError, StreamStatus};

const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const POLICY: &str = "{\"Version\": \"2012-10-17\",\n \"Statement\": []}";

#[test]
fn recorded_settings_and_the_commitment_survive_reopen_and_go_with_their_stream() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let options = EngineOptions {
        update_delay_ms: 500,
        ..options(&clock)
    };
    {
        let engine = open(dir.path(), &options);
        let stream = engine
            .create_stream(CreateStream::on_demand("recorded"))
            .unwrap();
        stream
            .start_encryption(KmsKeyId::parse(KEY).unwrap())
            .unwrap();
        assert_eq!(stream.status(), StreamStatus::Updating);
        clock.advance_ms(500);
        assert_eq!(stream.status(), StreamStatus::Active);
        stream
            .put_resource_policy(ResourcePolicy::parse(POLICY).unwrap())
            .unwrap();

        let commitment = engine
            .update_minimum_throughput_billing_commitment(true)
            .unwrap();
        assert_eq!(commitment.status, CommitmentStatus::Enabled);
        assert_eq!(commitment.started_ms, Some(START_MS + 500));
        let warm = engine
            .update_stream_warm_throughput("recorded", 100)
            .unwrap();
        assert_eq!(
            warm,
            WarmThroughput {
                current_mibps: 0,
                target_mibps: 100
            },
            "the target is reached when the UPDATING ends"
        );
        clock.advance_ms(500);
        assert_eq!(
            engine.warm_throughput("recorded").unwrap(),
            Some(WarmThroughput {
                current_mibps: 100,
                target_mibps: 100
            })
        );
    }

    let engine = open(dir.path(), &options);
    let stream = engine.stream("recorded").unwrap();
    assert_eq!(
        stream.encryption(),
        Encryption::Kms(KmsKeyId::parse(KEY).unwrap())
    );
    assert_eq!(
        stream
            .resource_policy()
            .map(|policy| policy.as_str().to_owned()),
        Some(POLICY.to_owned())
    );
    assert_eq!(
        engine.minimum_throughput_billing_commitment().status,
        CommitmentStatus::Enabled
    );
    assert_eq!(
        engine
            .warm_throughput("recorded")
            .unwrap()
            .map(|warm| warm.target_mibps),
        Some(100)
    );

    // Disabled within its first day, the commitment stays in force until the day is up, and the
    // warm throughput is reported until then.
    let disabling = engine
        .update_minimum_throughput_billing_commitment(false)
        .unwrap();
    assert_eq!(
        disabling.status,
        CommitmentStatus::EnabledUntilEarliestAllowedEnd
    );
    clock.set_ms(START_MS + 500 + COMMITMENT_MINIMUM_MS);
    assert_eq!(
        engine.minimum_throughput_billing_commitment().status,
        CommitmentStatus::Disabled
    );
    assert_eq!(engine.warm_throughput("recorded").unwrap(), None);

    // Deleted and created again, the stream starts with nothing recorded.
    drop(stream);
    engine.delete_stream("recorded").unwrap();
    let again = engine
        .create_stream(CreateStream::on_demand("recorded"))
        .unwrap();
    assert_eq!(again.encryption(), Encryption::None);
    assert_eq!(again.resource_policy(), None);
}

#[test]
fn encryption_changes_are_limited_per_day_and_need_an_active_stream() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(
        dir.path(),
        &EngineOptions {
            update_delay_ms: 1,
            ..options(&clock)
        },
    );
    let stream = engine
        .create_stream(CreateStream::provisioned("limited", 1))
        .unwrap();
    let key = |n: u32| KmsKeyId::parse(&format!("alias/key-{n}")).unwrap();
    for n in 0..ENCRYPTION_STARTS_PER_DAY {
        stream.start_encryption(key(n)).unwrap();
        let refused = stream.start_encryption(key(n + 100));
        assert!(
            matches!(refused, Err(StreamError::ResourceInUse { .. })),
            "UPDATING refuses another change: {refused:?}"
        );
        clock.advance_ms(1);
        stream
            .start_encryption(key(n))
            .expect("the key already applied is not a change");
    }
    let over = stream.start_encryption(key(1_000));
    assert!(
        matches!(&over, Err(error @ StreamError::LimitExceeded(Limit::EncryptionStartsPerDay { max: 25, .. }))
            if error.to_string().contains("25 times")),
        "{over:?}"
    );
    clock.advance_ms(24 * 3_600_000);
    stream.start_encryption(key(1_000)).unwrap();
    clock.advance_ms(1);
    stream.stop_encryption().unwrap();
    assert_eq!(stream.encryption(), Encryption::None);
}

#[test]
fn warm_throughput_needs_the_commitment_an_on_demand_stream_and_at_most_10_gibps() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    engine
        .create_stream(CreateStream::on_demand("warm"))
        .unwrap();
    engine
        .create_stream(CreateStream::provisioned("cold", 1))
        .unwrap();
    let without = engine.update_stream_warm_throughput("warm", 10);
    assert!(
        matches!(&without, Err(error @ StreamError::Validation(Validation::WarmThroughputNeedsCommitment { .. }))
            if error.to_string().contains("MinimumThroughputBillingCommitment")),
        "{without:?}"
    );
    engine
        .update_minimum_throughput_billing_commitment(true)
        .unwrap();
    let provisioned = engine.update_stream_warm_throughput("cold", 10);
    assert!(
        matches!(&provisioned, Err(error @ StreamError::Validation(Validation::WarmThroughputNeedsOnDemand { .. }))
            if error.to_string().contains("PROVISIONED")),
        "{provisioned:?}"
    );
    let too_much = engine.update_stream_warm_throughput("warm", 10_241);
    assert!(
        matches!(too_much, Err(StreamError::LimitExceeded { .. })),
        "{too_much:?}"
    );
    assert_eq!(
        engine
            .update_stream_warm_throughput("warm", 10_240)
            .unwrap(),
        WarmThroughput {
            current_mibps: 10_240,
            target_mibps: 10_240
        }
    );
    let missing = engine.update_stream_warm_throughput("missing", 1);
    assert!(
        matches!(missing, Err(StreamError::ResourceNotFound { .. })),
        "{missing:?}"
    );
}
