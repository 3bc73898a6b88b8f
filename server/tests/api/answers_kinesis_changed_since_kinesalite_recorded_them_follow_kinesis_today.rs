//! Where Kinesis has changed since kinesalite's suite was recorded, the server answers as
//! Kinesis does today (the current API model in botocore's service-2.json); docs/COMPATIBILITY.md
//! lists each of these suite tests with its evidence. Covered here: a stream named by neither
//! name nor ARN, the larger tag and list limits, retention beyond a week, the new response
//! members (StreamModeDetails, MaxRecordSizeInKiB, StreamSummaries).

use crate::common::{TestServer, bounded, call_json};
use http::StatusCode;
use serde_json::{Value, json};
use shardlog_server::ServerConfig;

fn validation(violations: &[&str]) -> Value {
    let plural = if violations.len() == 1 { "" } else { "s" };
    json!({"__type": "ValidationException",
           "message": format!("{} validation error{plural} detected: {}",
                              violations.len(), violations.join("; "))})
}

fn not_null(path: &str) -> String {
    format!("Value null at '{path}' failed to satisfy constraint: Member must not be null")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_kinesis_changed_since_kinesalite_recorded_them_follow_kinesis_today() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), ServerConfig::default()).await;
    let addr = server.addr;
    bounded(async {
        let created = call_json(addr, "CreateStream", r#"{"StreamName":"s","ShardCount":3}"#).await;
        assert_eq!(created.status, StatusCode::OK);

        // StreamName is optional in the model since StreamARN came (both may name the stream),
        // and ShardCount since ON_DEMAND streams: neither is reported as null.
        let neither = json!({"__type": "InvalidArgumentException",
                             "message": "Stream arn and stream name can't be empty at the same time"});
        let cases: Vec<(&str, &str, Value)> = vec![
            ("CreateStream", "{}", validation(&[&not_null("streamName")])),
            ("DeleteStream", "{}", neither.clone()),
            ("DescribeStream", "{}", neither.clone()),
            ("DescribeStreamSummary", "{}", neither.clone()),
            ("ListTagsForStream", "{}", neither.clone()),
            ("AddTagsToStream", "{}", validation(&[&not_null("tags")])),
            ("RemoveTagsFromStream", "{}", validation(&[&not_null("tagKeys")])),
            ("IncreaseStreamRetentionPeriod", "{}", validation(&[&not_null("retentionPeriodHours")])),
            ("DecreaseStreamRetentionPeriod", "{}", validation(&[&not_null("retentionPeriodHours")])),
            ("MergeShards", "{}", validation(&[&not_null("adjacentShardToMerge"), &not_null("shardToMerge")])),
            ("SplitShard", "{}", validation(&[&not_null("newStartingHashKey"), &not_null("shardToSplit")])),
            // RetentionPeriodHours has no range in the model any more: -1 reaches the retention
            // rules, after the stream name's own errors.
            (
                "IncreaseStreamRetentionPeriod",
                r#"{"StreamName":"","RetentionPeriodHours":-1}"#,
                validation(&[
                    "Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
                    "Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1",
                ]),
            ),
            // ListTagsForStream's Limit now goes to 50.
            (
                "ListTagsForStream",
                r#"{"StreamName":"s","Limit":51}"#,
                validation(&["Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50"]),
            ),
        ];
        for (operation, body, expected) in cases {
            let answer = call_json(addr, operation, body).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{operation} {body}");
            assert_eq!(answer.json(), expected, "{operation} {body}");
        }

        // More than the ten tags or tag keys a request once took; a listing of up to 50.
        let eleven = |value: &dyn Fn(usize) -> Value| (0..11).map(|i| (format!("k{i}"), value(i))).collect::<serde_json::Map<_, _>>();
        let tags = json!({"StreamName": "s", "Tags": eleven(&|i| json!(i.to_string()))});
        let keys: Vec<String> = (0..11).map(|i| format!("k{i}")).collect();
        for (operation, body) in [
            ("AddTagsToStream", tags.to_string()),
            ("ListTagsForStream", r#"{"StreamName":"s","Limit":50}"#.to_owned()),
            ("RemoveTagsFromStream", json!({"StreamName": "s", "TagKeys": keys}).to_string()),
            // Retention goes to a year (8760 hours), not a week.
            ("IncreaseStreamRetentionPeriod", r#"{"StreamName":"s","RetentionPeriodHours":169}"#.to_owned()),
            ("DecreaseStreamRetentionPeriod", r#"{"StreamName":"s","RetentionPeriodHours":168}"#.to_owned()),
        ] {
            let answer = call_json(addr, operation, &body).await;
            assert_eq!(answer.status, StatusCode::OK, "{operation} {body}: {:?}", answer.body);
        }

        // The members Kinesis has added to its answers.
        let described = call_json(addr, "DescribeStream", r#"{"StreamName":"s"}"#).await.json();
        assert_eq!(described["StreamDescription"]["StreamModeDetails"], json!({"StreamMode": "PROVISIONED"}));
        let summary = call_json(addr, "DescribeStreamSummary", r#"{"StreamName":"s"}"#).await.json();
        let summary = &summary["StreamDescriptionSummary"];
        assert_eq!(summary["StreamModeDetails"], json!({"StreamMode": "PROVISIONED"}));
        assert_eq!(summary["MaxRecordSizeInKiB"], 1024);
        let listed = call_json(addr, "ListStreams", "{}").await.json();
        assert_eq!(listed["StreamNames"], json!(["s"]));
        assert_eq!(listed["StreamSummaries"][0]["StreamName"], "s");
        assert_eq!(listed["StreamSummaries"][0]["StreamModeDetails"], json!({"StreamMode": "PROVISIONED"}));
    })
    .await;
    server.stop().await;
}
