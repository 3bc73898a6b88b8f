//! StartStreamEncryption, StopStreamEncryption, the resource-policy operations,
//! UpdateAccountSettings and UpdateStreamWarmThroughput refuse bad requests with the exception
//! Kinesis names and an exact message: model constraints first (every violation at once, in the
//! front end's format), then the stream, then the operation's own rules.

use std::net::SocketAddr;

use crate::common::{TestServer, bounded, call_json};
use http::StatusCode;
use serde_json::json;
use shardlog::engine::EngineOptions;
use shardlog_server::ServerConfig;

const ARN: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/plain";
const KEY: &str = "alias/aws/kinesis";

/// Calls `operation` with `body` and checks that it fails with exactly `expected`.
async fn refused(
    addr: SocketAddr,
    operation: &str,
    body: serde_json::Value,
    expected: serde_json::Value,
) {
    let answer = call_json(addr, operation, &body.to_string()).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{operation} {body}");
    assert_eq!(answer.json(), expected, "{operation} {body}");
}

/// Calls `operation` with `body` and checks that it succeeds.
async fn accepted(addr: SocketAddr, operation: &str, body: serde_json::Value) -> serde_json::Value {
    let answer = call_json(addr, operation, &body.to_string()).await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "{operation} {body}: {}",
        String::from_utf8_lossy(&answer.body)
    );
    if answer.body.is_empty() {
        serde_json::Value::Null
    } else {
        answer.json()
    }
}

fn validation(message: &str) -> serde_json::Value {
    json!({"__type": "ValidationException", "message": message})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encryption_policy_account_and_warm_throughput_requests_get_kinesis_errors() {
    let dir = tempfile::tempdir().unwrap();
    // A long update delay keeps a changed stream UPDATING for the whole test.
    let options = EngineOptions {
        update_delay_ms: 3_600_000,
        ..EngineOptions::default()
    };
    let server = TestServer::start_with(dir.path(), ServerConfig::default(), options).await;
    let addr = server.addr;
    bounded(async {
        accepted(addr, "CreateStream", json!({"StreamName": "plain", "ShardCount": 1})).await;
        accepted(addr, "CreateStream", json!({"StreamName": "busy", "ShardCount": 1})).await;
        accepted(
            addr,
            "CreateStream",
            json!({"StreamName": "warm", "StreamModeDetails": {"StreamMode": "ON_DEMAND"}}),
        )
        .await;

        // StartStreamEncryption and StopStreamEncryption.
        for operation in ["StartStreamEncryption", "StopStreamEncryption"] {
            refused(
                addr,
                operation,
                json!({"StreamName": "plain"}),
                validation(
                    "2 validation errors detected: Value null at 'encryptionType' failed to \
                     satisfy constraint: Member must not be null; Value null at 'keyId' failed \
                     to satisfy constraint: Member must not be null",
                ),
            )
            .await;
            refused(
                addr,
                operation,
                json!({"StreamName": "plain", "EncryptionType": "AES", "KeyId": "",
                       "StreamId": "NOT-AN-ID"}),
                validation(
                    "3 validation errors detected: Value 'AES' at 'encryptionType' failed to \
                     satisfy constraint: Member must satisfy enum value set: [NONE, KMS]; Value \
                     '' at 'keyId' failed to satisfy constraint: Member must have length greater \
                     than or equal to 1; Value 'NOT-AN-ID' at 'streamId' failed to satisfy \
                     constraint: Member must satisfy regular expression pattern: \
                     [a-z0-9]{20}-[a-z0-9]{3}",
                ),
            )
            .await;
            refused(
                addr,
                operation,
                json!({"StreamName": "nope", "EncryptionType": "KMS", "KeyId": KEY}),
                json!({"__type": "ResourceNotFoundException",
                       "message": "Stream nope under account 000000000000 not found."}),
            )
            .await;
            refused(
                addr,
                operation,
                json!({"EncryptionType": "KMS", "KeyId": KEY}),
                json!({"__type": "InvalidArgumentException",
                       "message": "Stream arn and stream name can't be empty at the same time"}),
            )
            .await;
            refused(
                addr,
                operation,
                json!({"StreamARN": ARN, "EncryptionType": "NONE", "KeyId": KEY}),
                json!({"__type": "InvalidArgumentException",
                       "message": format!("KMS is the only valid EncryptionType for {operation}.")}),
            )
            .await;
            refused(
                addr,
                operation,
                json!({"StreamName": "plain", "EncryptionType": "KMS", "KeyId": "my-key"}),
                json!({"__type": "KMSNotFoundException",
                       "message": "Invalid keyId my-key: a KMS key is named by its key id, key \
                                   ARN, alias name (alias/...) or alias ARN."}),
            )
            .await;
        }
        // A stream being changed takes no other change until it is ACTIVE again.
        accepted(
            addr,
            "StartStreamEncryption",
            json!({"StreamName": "busy", "EncryptionType": "KMS", "KeyId": KEY}),
        )
        .await;
        for operation in ["StartStreamEncryption", "StopStreamEncryption"] {
            refused(
                addr,
                operation,
                json!({"StreamName": "busy", "EncryptionType": "KMS", "KeyId": "alias/other"}),
                json!({"__type": "ResourceInUseException",
                       "message": "Stream busy under account 000000000000 not ACTIVE, instead in \
                                   state UPDATING"}),
            )
            .await;
        }

        // The resource-policy operations.
        refused(
            addr,
            "PutResourcePolicy",
            json!({}),
            validation(
                "2 validation errors detected: Value null at 'policy' failed to satisfy \
                 constraint: Member must not be null; Value null at 'resourceARN' failed to \
                 satisfy constraint: Member must not be null",
            ),
        )
        .await;
        for operation in ["GetResourcePolicy", "DeleteResourcePolicy"] {
            refused(
                addr,
                operation,
                json!({"ResourceARN": "arn:aws:kinesis:us-east-1:000000000000:table/plain"}),
                validation(
                    "1 validation error detected: Value \
                     'arn:aws:kinesis:us-east-1:000000000000:table/plain' at 'resourceARN' failed \
                     to satisfy constraint: Member must satisfy regular expression pattern: \
                     arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+",
                ),
            )
            .await;
            refused(
                addr,
                operation,
                json!({"ResourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/nope"}),
                json!({"__type": "ResourceNotFoundException",
                       "message": "Stream nope under account 000000000000 not found."}),
            )
            .await;
            let consumer = "arn:aws:kinesis:us-east-1:000000000000:stream/plain/consumer/c:1";
            refused(
                addr,
                operation,
                json!({"ResourceARN": consumer}),
                json!({"__type": "ResourceNotFoundException",
                       "message": format!("Consumer {consumer} not found.")}),
            )
            .await;
        }
        let invalid_policy = |kind: &str, why: &str| {
            json!({"__type": kind, "message": format!("Invalid resource policy for {ARN}: {why}.")})
        };
        for (policy, expected) in [
            (
                "not json".to_owned(),
                invalid_policy(
                    "InvalidArgumentException",
                    "the policy is not valid JSON: expected ident at line 1 column 2",
                ),
            ),
            (
                "[\"Statement\"]".to_owned(),
                invalid_policy("InvalidArgumentException", "the policy is not a JSON object"),
            ),
            (
                format!("{{{}}}", " ".repeat(20 * 1024)),
                invalid_policy(
                    "LimitExceededException",
                    "the policy is 20482 bytes, more than the 20480 allowed",
                ),
            ),
        ] {
            refused(
                addr,
                "PutResourcePolicy",
                json!({"ResourceARN": ARN, "Policy": policy}),
                expected,
            )
            .await;
        }
        let no_policy = accepted(addr, "GetResourcePolicy", json!({"ResourceARN": ARN})).await;
        assert_eq!(no_policy, json!({"Policy": "{}"}), "nothing was stored");

        // UpdateAccountSettings.
        refused(
            addr,
            "UpdateAccountSettings",
            json!({}),
            validation(
                "1 validation error detected: Value null at 'minimumThroughputBillingCommitment' \
                 failed to satisfy constraint: Member must not be null",
            ),
        )
        .await;
        refused(
            addr,
            "UpdateAccountSettings",
            json!({"MinimumThroughputBillingCommitment": {}}),
            validation(
                "1 validation error detected: Value null at \
                 'minimumThroughputBillingCommitment.status' failed to satisfy constraint: Member \
                 must not be null",
            ),
        )
        .await;
        refused(
            addr,
            "UpdateAccountSettings",
            json!({"MinimumThroughputBillingCommitment":
                   {"Status": "ENABLED_UNTIL_EARLIEST_ALLOWED_END"}}),
            validation(
                "1 validation error detected: Value 'ENABLED_UNTIL_EARLIEST_ALLOWED_END' at \
                 'minimumThroughputBillingCommitment.status' failed to satisfy constraint: Member \
                 must satisfy enum value set: [ENABLED, DISABLED]",
            ),
        )
        .await;

        // UpdateStreamWarmThroughput.
        refused(
            addr,
            "UpdateStreamWarmThroughput",
            json!({"StreamName": "warm"}),
            validation(
                "1 validation error detected: Value null at 'warmThroughputMiBps' failed to \
                 satisfy constraint: Member must not be null",
            ),
        )
        .await;
        refused(
            addr,
            "UpdateStreamWarmThroughput",
            json!({"StreamName": "warm", "WarmThroughputMiBps": -1}),
            validation(
                "1 validation error detected: Value '-1' at 'warmThroughputMiBps' failed to \
                 satisfy constraint: Member must have value greater than or equal to 0",
            ),
        )
        .await;
        refused(
            addr,
            "UpdateStreamWarmThroughput",
            json!({"StreamName": "nope", "WarmThroughputMiBps": 10}),
            json!({"__type": "ResourceNotFoundException",
                   "message": "Stream nope under account 000000000000 not found."}),
        )
        .await;
        refused(
            addr,
            "UpdateStreamWarmThroughput",
            json!({"StreamName": "warm", "WarmThroughputMiBps": 10}),
            validation(
                "Warm throughput requires MinimumThroughputBillingCommitment to be enabled for \
                 account 000000000000.",
            ),
        )
        .await;
        accepted(
            addr,
            "UpdateAccountSettings",
            json!({"MinimumThroughputBillingCommitment": {"Status": "ENABLED"}}),
        )
        .await;
        refused(
            addr,
            "UpdateStreamWarmThroughput",
            json!({"StreamName": "plain", "WarmThroughputMiBps": 10}),
            validation(
                "Warm throughput is only supported for ON_DEMAND streams; stream plain under \
                 account 000000000000 is PROVISIONED.",
            ),
        )
        .await;
        refused(
            addr,
            "UpdateStreamWarmThroughput",
            json!({"StreamName": "warm", "WarmThroughputMiBps": 10_241}),
            json!({"__type": "LimitExceededException",
                   "message": "Requested warm throughput of 10241 MiBps for stream warm under \
                               account 000000000000 exceeds the limit of 10240 MiBps."}),
        )
        .await;
        let warm = accepted(
            addr,
            "UpdateStreamWarmThroughput",
            json!({"StreamName": "warm", "WarmThroughputMiBps": 10_240}),
        )
        .await;
        assert_eq!(
            warm,
            json!({"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/warm",
                   "StreamName": "warm",
                   "WarmThroughput": {"TargetMiBps": 10_240, "CurrentMiBps": 0}}),
            "the stream scales towards the target while it is UPDATING"
        );
        let summary = accepted(addr, "DescribeStreamSummary", json!({"StreamName": "warm"})).await;
        assert_eq!(
            summary["StreamDescriptionSummary"]["WarmThroughput"],
            json!({"TargetMiBps": 10_240, "CurrentMiBps": 0})
        );
        refused(
            addr,
            "UpdateStreamWarmThroughput",
            json!({"StreamName": "warm", "WarmThroughputMiBps": 20}),
            json!({"__type": "ResourceInUseException",
                   "message": "Stream warm under account 000000000000 not ACTIVE, instead in \
                               state UPDATING"}),
        )
        .await;
    })
    .await;
    server.stop().await;
}
