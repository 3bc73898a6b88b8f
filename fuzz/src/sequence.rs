//! `sequence_number_parse`: arbitrary text through `SequenceNumber::from_str`, and arbitrary field
//! values through `SequenceNumber::new` and `Display`.
//!
//! Checks, for every input that is UTF-8:
//! - parsing returns (never panics); it accepts exactly the strings that an independent reading of
//!   the version 2 layout accepts (a decimal-to-hex conversion by schoolbook arithmetic and a check
//!   of the layout's constant digits), with the same fields;
//! - an accepted string prints back identically, and the value rebuilds with `new`;
//! - a rejection names something that is really wrong with the input.
//!
//! Independently of UTF-8, the first 28 bytes also give field values for `new`, whose `Display`
//! output must parse back to the same value and have the layout's hex digits.

use shardlog::{SequenceNumber, SequenceNumberError, ShardIdentity};

use super::common::Input;

const DIGITS: usize = 56;
const MAX_INPUT: usize = 129;
const SECONDS_MAX: u64 = (1 << 36) - 1;
const COUNTER_MAX: u64 = (1 << 63) - 1;

/// The body of the `sequence_number_parse` target.
pub fn sequence_number_parse(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        check_parse(text);
    }
    if data.len() >= 28 {
        check_fields(&mut Input::new(data));
    }
}

/// The fields of a version 2 sequence number.
#[derive(Debug, PartialEq, Eq)]
struct Fields {
    created_secs: u64,
    index: u32,
    counter: u64,
    arrival_secs: u64,
}

impl Fields {
    fn of(number: &SequenceNumber) -> Fields {
        Fields {
            created_secs: number.shard_created_secs(),
            index: number.shard_index(),
            counter: number.counter(),
            arrival_secs: number.arrival_secs(),
        }
    }
}

/// Decimal digits (most significant first) to hex digits (most significant first, no leading
/// zeros), by repeated multiply-and-add on little-endian base-16 digits.
fn decimal_to_hex(decimal: &[u8]) -> Vec<u8> {
    let mut hex_le: Vec<u8> = vec![0];
    for &digit in decimal {
        let mut carry = u32::from(digit - b'0');
        for place in hex_le.iter_mut() {
            let value = u32::from(*place) * 10 + carry;
            *place = (value % 16) as u8;
            carry = value / 16;
        }
        while carry > 0 {
            hex_le.push((carry % 16) as u8);
            carry /= 16;
        }
    }
    while hex_le.len() > 1 && hex_le.last() == Some(&0) {
        hex_le.pop();
    }
    hex_le.reverse();
    hex_le
}

fn hex_value(digits: &[u8]) -> u64 {
    digits
        .iter()
        .fold(0u64, |value, &digit| (value << 4) | u64::from(digit))
}

/// The specification: `Some` exactly for the 56-digit decimal strings without a leading zero whose
/// 47 hex digits are `2 CCCCCCCCC I NNNNNNNNNNNNNNNN 00 AAAAAAAAA SSSSSSSS 2`, the counter's top
/// bit clear and `I` the low hex digit of the shard index `S`.
fn spec_parse(text: &str) -> Option<Fields> {
    let bytes = text.as_bytes();
    if bytes.len() != DIGITS || bytes[0] == b'0' || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let hex = decimal_to_hex(bytes);
    if hex.len() != 47 || hex[0] != 2 || hex[46] != 2 || hex[27..29] != [0, 0] || hex[11] >= 8 {
        return None;
    }
    let index = u32::try_from(hex_value(&hex[38..46])).expect("eight hex digits");
    if u64::from(index & 0xF) != u64::from(hex[10]) {
        return None;
    }
    Some(Fields {
        created_secs: hex_value(&hex[1..10]),
        index,
        counter: hex_value(&hex[11..27]),
        arrival_secs: hex_value(&hex[29..38]),
    })
}

fn check_parse(text: &str) {
    let spec = spec_parse(text);
    match text.parse::<SequenceNumber>() {
        Ok(number) => {
            let fields = Fields::of(&number);
            assert_eq!(
                Some(&fields),
                spec.as_ref(),
                "parse disagrees with the layout"
            );
            assert_eq!(
                number.to_string(),
                text,
                "Display does not give the input back"
            );
            let rebuilt =
                SequenceNumber::new(number.shard(), number.counter(), number.arrival_secs())
                    .expect("the fields of a parsed number are in range");
            assert_eq!(rebuilt, number);
            assert_eq!(number.cmp(&rebuilt), std::cmp::Ordering::Equal);
        }
        Err(error) => {
            assert!(
                spec.is_none(),
                "parse rejected a valid number ({error}): {spec:?}"
            );
            check_rejection(text, &error);
        }
    }
}

/// A rejection must name something that is really wrong with `text`.
fn check_rejection(text: &str, error: &SequenceNumberError) {
    let _ = error.to_string();
    let bytes = text.as_bytes();
    let all_digits = bytes.iter().all(u8::is_ascii_digit);
    match *error {
        SequenceNumberError::Empty => assert!(text.is_empty()),
        SequenceNumberError::TooLong { len } => {
            assert_eq!(len, bytes.len());
            assert!(len > MAX_INPUT);
        }
        SequenceNumberError::NotDecimal { position, found } => {
            assert!(!found.is_ascii_digit(), "{found:?} is a digit");
            assert_eq!(
                text.get(position..).and_then(|s| s.chars().next()),
                Some(found)
            );
            assert!(bytes[..position].iter().all(u8::is_ascii_digit));
        }
        SequenceNumberError::LeadingZero => {
            assert!(bytes.len() > 1 && bytes[0] == b'0' && all_digits);
        }
        SequenceNumberError::WrongLength { digits } => {
            assert!(all_digits && digits == bytes.len() && digits != DIGITS);
        }
        SequenceNumberError::UnknownLayout { .. } => {
            assert!(all_digits && bytes.len() == DIGITS && bytes[0] != b'0');
        }
        ref other => panic!("unexpected parse error {other:?} for {text:?}"),
    }
}

/// Field values from the input through `new`, `Display` and back.
fn check_fields(input: &mut Input<'_>) {
    let index = input.u32();
    let created_secs = input.u64();
    let counter = input.u64();
    let arrival_secs = input.u64();
    let built = SequenceNumber::new(
        ShardIdentity {
            index,
            created_secs,
        },
        counter,
        arrival_secs,
    );
    let in_range =
        created_secs <= SECONDS_MAX && counter <= COUNTER_MAX && arrival_secs <= SECONDS_MAX;
    let number = match built {
        Ok(number) => number,
        Err(error) => {
            assert!(!in_range, "new rejected fields in range: {error}");
            assert!(matches!(error, SequenceNumberError::FieldOutOfRange { .. }));
            return;
        }
    };
    assert!(in_range, "new accepted fields out of range");
    let expected = Fields {
        created_secs,
        index,
        counter,
        arrival_secs,
    };
    assert_eq!(Fields::of(&number), expected);
    let text = number.to_string();
    assert_eq!(text.len(), DIGITS, "{text} is not 56 digits");
    assert_eq!(
        spec_parse(&text),
        Some(expected),
        "{text} is not the layout"
    );
    assert_eq!(text.parse::<SequenceNumber>(), Ok(number));
    // Order of numbers of one shard is the order of their counters, then arrivals.
    let next = SequenceNumber::new(
        number.shard(),
        counter.saturating_add(1).min(COUNTER_MAX),
        0,
    )
    .expect("in range");
    assert_eq!(number < next, counter < COUNTER_MAX);
    assert_eq!(number < next, text < next.to_string());
}

/// Hand-made inputs: real AWS sequence numbers, the extremes of the layout, and near misses.
pub fn seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = [
        "49546986683135544286507457936321625675700192471156785154",
        "49549167410945534708633744510750617797212193316405248018",
        "49549167410956685081233009822320176730553508082787287058",
        "49594189147623985939251953501666965394405037144469929986",
        "0",
        "",
        "-1",
        "049546986683135544286507457936321625675700192471156785154",
        "4954698668313554428650745793632162567570019247115678515",
        "59546986683135544286507457936321625675700192471156785154",
    ]
    .iter()
    .map(|text| text.as_bytes().to_vec())
    .collect();
    let shard = ShardIdentity {
        index: u32::MAX,
        created_secs: SECONDS_MAX,
    };
    for (counter, arrival) in [(0, 0), (COUNTER_MAX, SECONDS_MAX)] {
        let number = SequenceNumber::new(shard, counter, arrival).expect("in range");
        seeds.push(number.to_string().into_bytes());
    }
    seeds.push("9".repeat(130).into_bytes());
    seeds
}
