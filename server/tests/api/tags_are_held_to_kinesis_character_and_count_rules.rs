//! AddTagsToStream and RemoveTagsFromStream refuse what Kinesis refuses, with its exception and
//! words (recorded in kinesalite's test/addTagsToStream.js and test/removeTagsFromStream.js):
//! `;`, `,`, a tab or a line break is an invalid character; `%`, though listed as valid, is
//! refused once the stream is found; and more tags than a stream may hold is an
//! InvalidArgumentException however many one request carries (the model lets a request carry
//! 200), in CreateStream too.

use crate::common::{TestServer, bounded, call_json};
use http::StatusCode;
use serde_json::{Value, json};
use shardlog_server::ServerConfig;

const INVALID_CHARACTERS: &str = "Some tags contain invalid characters. Valid characters: \
                                  Unicode letters, digits, white space, _ . / = + - % @.";

fn invalid_argument(message: &str) -> Value {
    json!({"__type": "InvalidArgumentException", "message": message})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_are_held_to_kinesis_character_and_count_rules() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), ServerConfig::default()).await;
    let addr = server.addr;
    bounded(async {
        let created = call_json(addr, "CreateStream", r#"{"StreamName":"s","ShardCount":1}"#).await;
        assert_eq!(created.status, StatusCode::OK);

        let percent = |verb: &str| {
            invalid_argument(&format!(
                "Failed to {verb} stream s under account 000000000000 because some tags \
                 contained illegal characters. The allowed characters are Unicode letters, \
                 white-spaces, '_',',','/','=','+','-','@'."
            ))
        };
        let too_many = invalid_argument(
            "Failed to add tags to stream s under account 000000000000 because a given stream \
             cannot have more than 10 tags associated with it.",
        );
        let fifty_one = (0..51)
            .map(|i| (format!("k{i}"), json!("")))
            .collect::<serde_json::Map<_, _>>();
        let fifty_one_tags = json!({"StreamName": "s", "Tags": fifty_one}).to_string();
        let new_stream_with_fifty_one_tags =
            json!({"StreamName": "new", "ShardCount": 1, "Tags": fifty_one}).to_string();
        let cases: Vec<(&str, String, Value)> = vec![
            (
                "AddTagsToStream",
                r#"{"StreamName":"s","Tags":{"abc;def":"1"}}"#.into(),
                invalid_argument(INVALID_CHARACTERS),
            ),
            (
                "AddTagsToStream",
                r#"{"StreamName":"s","Tags":{"abc,def":"1"}}"#.into(),
                invalid_argument(INVALID_CHARACTERS),
            ),
            (
                "AddTagsToStream",
                r#"{"StreamName":"s","Tags":{"abc\tdef":"1"}}"#.into(),
                invalid_argument(INVALID_CHARACTERS),
            ),
            (
                "AddTagsToStream",
                r#"{"StreamName":"s","Tags":{"a":"abc;def"}}"#.into(),
                invalid_argument(INVALID_CHARACTERS),
            ),
            (
                "AddTagsToStream",
                r#"{"StreamName":"s","Tags":{"a":"abc,def"}}"#.into(),
                invalid_argument(INVALID_CHARACTERS),
            ),
            (
                "AddTagsToStream",
                r#"{"StreamName":"s","Tags":{"abc%def":"1"}}"#.into(),
                percent("add tags to"),
            ),
            (
                "AddTagsToStream",
                r#"{"StreamName":"s","Tags":{"a":"abc%def"}}"#.into(),
                percent("add tags to"),
            ),
            // The stream is looked up before the characters are read.
            (
                "AddTagsToStream",
                r#"{"StreamName":"gone","Tags":{"abc;def":"1"}}"#.into(),
                json!({"__type": "ResourceNotFoundException",
                       "message": "Stream gone under account 000000000000 not found."}),
            ),
            (
                "RemoveTagsFromStream",
                r#"{"StreamName":"s","TagKeys":["abc;def"]}"#.into(),
                invalid_argument(INVALID_CHARACTERS),
            ),
            (
                "RemoveTagsFromStream",
                r#"{"StreamName":"s","TagKeys":["abc\ndef"]}"#.into(),
                invalid_argument(INVALID_CHARACTERS),
            ),
            (
                "RemoveTagsFromStream",
                r#"{"StreamName":"s","TagKeys":["abc,def"]}"#.into(),
                invalid_argument(INVALID_CHARACTERS),
            ),
            (
                "RemoveTagsFromStream",
                r#"{"StreamName":"s","TagKeys":["abc%def"]}"#.into(),
                percent("remove tags from"),
            ),
            // The model lets one request carry 200 tags; a stream holds 50.
            ("AddTagsToStream", fifty_one_tags, too_many),
            (
                "CreateStream",
                new_stream_with_fifty_one_tags,
                invalid_argument(
                    "51 tags were given, and a stream or consumer cannot have more than 50 tags \
                     associated with it.",
                ),
            ),
        ];
        for (operation, body, expected) in cases {
            let answer = call_json(addr, operation, &body).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{operation} {body}");
            assert_eq!(answer.json(), expected, "{operation} {body}");
        }

        // Letters of any script, digits, spaces and _ . / = + - @ are accepted.
        let accepted = call_json(
            addr,
            "AddTagsToStream",
            r#"{"StreamName":"s","Tags":{"ü0 _.":"a","/=+-@":"a","b":"ü0 _./=+-@","c":""}}"#,
        )
        .await;
        assert_eq!(accepted.status, StatusCode::OK);
        let listed = call_json(addr, "ListTagsForStream", r#"{"StreamName":"s"}"#).await;
        assert_eq!(listed.json()["Tags"].as_array().map(Vec::len), Some(4));
        let removed = call_json(
            addr,
            "RemoveTagsFromStream",
            r#"{"StreamName":"s","TagKeys":["ü0 _.","/=+-@"]}"#,
        )
        .await;
        assert_eq!(removed.status, StatusCode::OK);
        let listed = call_json(addr, "ListTagsForStream", r#"{"StreamName":"s"}"#).await;
        assert_eq!(listed.json()["Tags"].as_array().map(Vec::len), Some(2));
    })
    .await;
    server.stop().await;
}
