//! The bodies of the event-stream fuzz targets, `event_stream_decode` and
//! `event_stream_round_trip`, which hold the server's framing (`protocol::event_stream`, in which
//! SubscribeToShard answers) to the AWS SDK for Rust's own (`aws-smithy-eventstream`): an
//! implementation nobody on the project wrote, and the one the Rust SDK decodes our events with.
//!
//! - [`event_stream_decode`]: any bytes. The server's decoder never panics, and it agrees with the
//!   SDK's: whatever one reads as a message the other reads as the same message (headers and
//!   payload), and what one refuses the other refuses. The server's decoder reads only string
//!   headers (the only kind the server writes), so a message the SDK reads with another kind of
//!   header is refused by ours by design.
//! - [`event_stream_round_trip`]: the input is turned into a message (string headers, a
//!   payload; see [`message_from`]). The server's encoder writes exactly the bytes the SDK's
//!   encoder writes, and both decoders read them back as the same message.
//!
//! Like `lib.rs`, this file is included by the server's `tests/fuzz_corpus_replay.rs`, which
//! replays `corpus/event_stream_decode/` and `corpus/event_stream_round_trip/`; so it may use only
//! what the server package depends on (the SDK's framing crate is a dev-dependency).

use aws_smithy_types::event_stream::{Header, HeaderValue, Message as SdkMessage};
use shardlog_server::protocol::event_stream::{self, Message};

/// Decodes the message bytes in `data` with the server's decoder and the SDK's; they must agree.
/// The first byte selects: odd, and the bytes get their checksums made right first (so that the
/// fuzzer, which cannot forge a CRC, reaches the lengths and headers behind them); even, and they
/// are decoded as they are.
pub fn event_stream_decode(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let mut bytes = bytes.to_vec();
    if selector & 1 == 1 {
        fix_checksums(&mut bytes);
    }
    let data = &bytes[..];
    let ours = event_stream::decode(data);
    let theirs = aws_smithy_eventstream::frame::read_message_from(data);
    match (ours, theirs) {
        (Ok((message, taken)), Ok(sdk)) => {
            assert!(taken <= data.len(), "took {taken} of {} bytes", data.len());
            assert_eq!(
                Some(message),
                from_sdk(&sdk),
                "the decoders read different messages"
            );
        }
        (Ok((message, _)), Err(error)) => {
            panic!("the server's decoder read {message:?}; the SDK's refused it: {error}")
        }
        (Err(error), Ok(sdk)) => {
            // Only a header of a kind the server never writes may make ours refuse.
            assert!(
                from_sdk(&sdk).is_none(),
                "the SDK's decoder read {sdk:?}; the server's refused it: {error}"
            );
        }
        (Err(_), Err(_)) => {}
    }
}

/// Writes the prelude CRC, and the message CRC where the total length falls within `bytes`, as
/// an encoder would.
fn fix_checksums(bytes: &mut [u8]) {
    if bytes.len() < 12 {
        return;
    }
    let prelude_crc = crc32fast::hash(&bytes[..8]);
    bytes[8..12].copy_from_slice(&prelude_crc.to_be_bytes());
    let total = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    if (16..=bytes.len()).contains(&total) {
        let message_crc = crc32fast::hash(&bytes[..total - 4]);
        bytes[total - 4..total].copy_from_slice(&message_crc.to_be_bytes());
    }
}

/// Builds a message from `data`, encodes it with both encoders (which must write the same
/// bytes) and decodes it with both decoders (which must read the message back).
pub fn event_stream_round_trip(data: &[u8]) {
    let message = message_from(data);
    let headers: Vec<(&str, &str)> = message
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let ours = event_stream::encode(&headers, &message.payload);

    let sdk = SdkMessage::new_from_parts(
        message
            .headers
            .iter()
            .map(|(name, value)| {
                Header::new(name.clone(), HeaderValue::String(value.clone().into()))
            })
            .collect(),
        message.payload.clone(),
    );
    let mut theirs = Vec::new();
    aws_smithy_eventstream::frame::write_message_to(&sdk, &mut theirs)
        .expect("the SDK encodes a message within its limits");
    assert_eq!(ours, theirs, "the encoders wrote different bytes");

    let (decoded, taken) = event_stream::decode(&ours).expect("the server's decoder reads it");
    assert_eq!(taken, ours.len());
    assert_eq!(decoded, message);
    let sdk_decoded = aws_smithy_eventstream::frame::read_message_from(&ours[..])
        .expect("the SDK's decoder reads it");
    assert_eq!(from_sdk(&sdk_decoded), Some(message));
}

/// Most headers in a built message.
const HEADERS_MAX: usize = 8;

/// The message `data` describes: its first byte is the number of headers (modulo
/// [`HEADERS_MAX`] + 1); each header is a name (a length byte, then that many bytes) and a value
/// (likewise, its length byte times 3, to reach values of several hundred bytes); the rest is the
/// payload. Missing bytes make fields empty.
pub fn message_from(data: &[u8]) -> Message {
    let (&count, mut rest) = data.split_first().unwrap_or((&0, &[]));
    let mut headers = Vec::new();
    for _ in 0..usize::from(count) % (HEADERS_MAX + 1) {
        let name = take_text(&mut rest, 1);
        let value = take_text(&mut rest, 3);
        headers.push((name, value));
    }
    Message {
        headers,
        payload: rest.to_vec(),
    }
}

/// Takes a field from the front of `rest`: a length byte times `scale`, then that many bytes as
/// text. Invalid UTF-8 is replaced, and the text then cut back to the field's length, so that a
/// name stays within the format's 255 bytes.
fn take_text(rest: &mut &[u8], scale: usize) -> String {
    let (&length, after) = rest.split_first().unwrap_or((&0, &[]));
    let length = (usize::from(length) * scale).min(after.len());
    let (field, after) = after.split_at(length);
    *rest = after;
    let mut text = String::from_utf8_lossy(field).into_owned();
    while text.len() > length {
        text.pop();
    }
    text
}

/// The SDK's message in the server's terms, if every header is a string (the only kind the
/// server's framing has).
fn from_sdk(message: &SdkMessage) -> Option<Message> {
    let headers = message
        .headers()
        .iter()
        .map(|header| match header.value() {
            HeaderValue::String(value) => {
                Some((header.name().as_str().to_owned(), value.as_str().to_owned()))
            }
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Message {
        headers,
        payload: message.payload().to_vec(),
    })
}

/// Hand-written seeds for both targets: the messages the server sends (initial response, an
/// event, an exception), a message with a header kind the server never writes, and damaged ones.
pub fn seeds() -> Vec<(String, Vec<u8>)> {
    let initial = event_stream::encode(
        &[
            (":message-type", "event"),
            (":event-type", "initial-response"),
            (":content-type", "application/json"),
        ],
        b"{}",
    );
    let event = event_stream::encode(
        &[
            (":message-type", "event"),
            (":event-type", "SubscribeToShardEvent"),
            (":content-type", "application/json"),
        ],
        br#"{"Records":[],"ContinuationSequenceNumber":"1","MillisBehindLatest":0}"#,
    );
    let exception = event_stream::encode(
        &[
            (":message-type", "exception"),
            (":exception-type", "ResourceInUseException"),
            (":content-type", "application/cbor"),
        ],
        &[0xa1, 0x66, b'_', b'_', b't', b'y', b'p', b'e', 0x61, b'x'],
    );
    let mut other_header_kind = Vec::new();
    aws_smithy_eventstream::frame::write_message_to(
        &SdkMessage::new_from_parts(vec![Header::new("flag", HeaderValue::Bool(true))], "x"),
        &mut other_header_kind,
    )
    .expect("a small message encodes");
    let mut bad_crc = event.clone();
    if let Some(last) = bad_crc.last_mut() {
        *last ^= 1;
    }
    let two_messages = [initial.clone(), event.clone()].concat();
    // Selector 1: the damaged message gets its checksum made right, and reads.
    let checksum_fixed = [&[1][..], &bad_crc].concat();
    // The first byte selects the decoding mode (even: as is), and is the header count for the
    // round trip: the same seeds serve both targets.
    let mut seeds = Vec::new();
    for (name, bytes) in [
        ("initial-response", initial),
        ("event", event.clone()),
        ("exception", exception),
        ("bool-header", other_header_kind),
        ("bad-message-crc", bad_crc),
        ("truncated", event[..event.len() / 2].to_vec()),
        ("two-messages", two_messages),
        ("empty", Vec::new()),
    ] {
        seeds.push((format!("seed-{name}"), [&[0][..], &bytes].concat()));
    }
    seeds.push(("seed-checksum-fixed".to_owned(), checksum_fixed));
    seeds
}
