//! `parse_explicit_hash_key` accepts exactly the decimals 0 ..= 2^128 − 1 written as the API
//! pattern `0|([1-9]\d{0,38})` allows. Text that breaks the pattern is a `ValidationException`; a
//! well-formed number above 2^128 − 1 is an `InvalidArgumentException` with the exact AWS message
//! (docs/KINESIS.md §3.1, §7.4).

use crate::support::engine::{assert_error, clock, open, options, validation_message};
use shardlog::stream::parse_explicit_hash_key;
use shardlog::{CreateStream, PutRecordInput, ShardId};

const MAX: &str = "340282366920938463463374607431768211455";

#[test]
fn decimals_in_range_parse_to_their_value() {
    assert_eq!(parse_explicit_hash_key("0").unwrap(), 0);
    assert_eq!(parse_explicit_hash_key("1").unwrap(), 1);
    assert_eq!(parse_explicit_hash_key("42").unwrap(), 42);
    assert_eq!(
        parse_explicit_hash_key("170141183460469231731687303715884105728").unwrap(),
        1u128 << 127
    );
    assert_eq!(parse_explicit_hash_key(MAX).unwrap(), u128::MAX);
    assert_eq!(
        parse_explicit_hash_key("100000000000000000000000000000000000000").unwrap(),
        10u128.pow(38)
    );
}

#[test]
fn numbers_above_2_to_the_128_minus_1_are_invalid_arguments() {
    for text in [
        "340282366920938463463374607431768211456",
        "340282366920938463463374607431768211457",
        "400000000000000000000000000000000000000",
        "999999999999999999999999999999999999999",
    ] {
        assert_error(
            parse_explicit_hash_key(text),
            "InvalidArgumentException",
            &format!(
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. \
                 Specified value was {text}"
            ),
        );
    }
}

#[test]
fn text_that_breaks_the_pattern_is_a_validation_error() {
    let forty_digits = format!("1{}", "0".repeat(39));
    let malformed = [
        "",
        "00",
        "01",
        "-1",
        "+1",
        "1.0",
        "1e3",
        "abc",
        " 1",
        "1 ",
        "0x10",
        "١٢٣",    // Arabic-Indic digits
        "１２３", // full-width digits
        &forty_digits,
    ];
    for text in malformed {
        assert_error(
            parse_explicit_hash_key(text),
            "ValidationException",
            &validation_message(
                text,
                "explicitHashKey",
                "satisfy regular expression pattern: 0|([1-9]\\d{0,38})",
            ),
        );
    }
}

#[test]
fn a_parsed_key_routes_a_record_to_the_shard_owning_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("explicit", 2))
        .unwrap();
    for (text, shard) in [
        ("0", 0),
        ("170141183460469231731687303715884105727", 0),
        ("170141183460469231731687303715884105728", 1),
        (MAX, 1),
    ] {
        let key = parse_explicit_hash_key(text).unwrap();
        let put = stream
            // MD5("abc") = 0x9001…, which alone would route to shard 1.
            .put_record(PutRecordInput::new("abc", b"x").with_explicit_hash_key(key))
            .unwrap();
        assert_eq!(put.shard_id, ShardId::new(shard), "{text}");
    }
}
