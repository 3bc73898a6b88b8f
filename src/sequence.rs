//! Kinesis sequence numbers as a typed value.
//!
//! # Layout
//!
//! A sequence number is a 188-bit unsigned integer (47 hex digits) using the
//! "version 2" layout that real AWS Kinesis sequence numbers decode with (the
//! layout was reverse-engineered by kinesalite). From the most significant hex
//! digit to the least significant one:
//!
//! | hex digits | bits | field                                              |
//! |------------|------|----------------------------------------------------|
//! | 0          | 4    | constant `2`                                       |
//! | 1–9        | 36   | shard creation time, Unix seconds                  |
//! | 10         | 4    | low hex digit of the shard index (`index & 0xF`)   |
//! | 11–26      | 64   | per-shard counter (63 bits; the top bit must be 0) |
//! | 27–28      | 8    | reserved byte, always `0`                          |
//! | 29–37      | 36   | record arrival time, Unix seconds                  |
//! | 38–45      | 32   | shard index                                        |
//! | 46         | 4    | format version, constant `2`                       |
//!
//! # Why this layout
//!
//! * **Compatibility.** Clients, checkpoint tables and tooling written against
//!   AWS treat sequence numbers as opaque decimal strings, but in practice they
//!   always see 56-digit values of this shape. Because the leading hex digit is
//!   the constant 2, every value lies in `[2·16^46, 3·16^46)`, so it always
//!   prints as exactly 56 decimal digits and comparing two sequence numbers as
//!   strings gives the same answer as comparing them as numbers.
//! * **The shard is recoverable.** The shard's index and creation time are
//!   part of the number, so a sequence number presented to the wrong shard (or
//!   to a shard that was deleted and re-created under the same name) is
//!   detected instead of being silently interpreted as a position in an
//!   unrelated log.
//! * **Order within a shard is by counter.** The per-shard counter sits above
//!   the arrival time, so within one shard the numeric order of sequence
//!   numbers is exactly the append order, even when the wall clock steps
//!   backwards. The arrival time is only a tie-breaker and is carried for
//!   `AT_TIMESTAMP`-style lookups and diagnostics.
//!
//! A shard's `StartingSequenceNumber` has counter 0 and arrival time equal to
//! the shard's creation time ([`SequenceNumber::starting`]); a closed shard's
//! `EndingSequenceNumber` has the largest counter,
//! [`SequenceNumber::COUNTER_MAX`], and the closing time as arrival time
//! ([`SequenceNumber::ending`]).
//!
//! # Parsing
//!
//! [`SequenceNumber::from_str`](std::str::FromStr::from_str) first applies the
//! Kinesis API input pattern `0|([1-9]\d{0,128})` and then accepts only values
//! that decode as the layout above. Every rejection is a typed
//! [`SequenceNumberError`]; parsing never panics, never overflows, does not
//! allocate, and does work bounded by a small constant regardless of the
//! input's length.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Identity of one shard as a sequence number encodes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ShardIdentity {
    /// Shard index: the numeric part of a shard id such as
    /// `shardId-000000000001`.
    pub index: u32,
    /// Shard creation time, Unix seconds.
    pub created_secs: u64,
}

/// A Kinesis sequence number in the version 2 layout (see the
/// [module documentation](self)).
///
/// [`Display`](fmt::Display) prints the 56-digit decimal form used on the
/// wire, [`FromStr`] parses it back, and [`Ord`] is the numeric order of the
/// underlying 188-bit value, which agrees with comparing the decimal strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SequenceNumber {
    shard_created_secs: u64,
    shard_index: u32,
    counter: u64,
    arrival_secs: u64,
}

/// Why a sequence number could not be built or parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SequenceNumberError {
    /// The input string was empty.
    #[error("sequence number is empty")]
    Empty,
    /// The input contained something other than the ASCII digits `0`–`9`
    /// (a sign, whitespace, a letter, ...).
    #[error(
        "sequence number must contain only decimal digits, found {found:?} at byte offset {position}"
    )]
    NotDecimal {
        /// Byte offset of the offending character.
        position: usize,
        /// The offending character.
        found: char,
    },
    /// The input had a leading zero (only `"0"` itself may start with `0`).
    #[error("sequence number must not have a leading zero")]
    LeadingZero,
    /// The input was longer than the 129 digits Kinesis accepts.
    #[error("sequence number is {len} bytes long, but at most 129 digits are allowed")]
    TooLong {
        /// Length of the input in bytes.
        len: usize,
    },
    /// The input was a well-formed decimal number, but not 56 digits long, so
    /// it cannot be a version 2 sequence number.
    #[error("sequence number has {digits} digits, but sequence numbers have exactly 56")]
    WrongLength {
        /// Number of digits in the input.
        digits: usize,
    },
    /// The input was a 56-digit number that does not decode as the version 2
    /// layout.
    #[error("sequence number does not use the version 2 layout: {reason}")]
    UnknownLayout {
        /// Which part of the layout was violated.
        reason: &'static str,
    },
    /// A field passed to a constructor does not fit the layout.
    #[error("{field} = {value} is out of range (maximum {max})")]
    FieldOutOfRange {
        /// Name of the field.
        field: &'static str,
        /// The rejected value.
        value: u64,
        /// The largest accepted value.
        max: u64,
    },
}

/// Longest input the Kinesis pattern `0|([1-9]\d{0,128})` accepts.
const MAX_INPUT_DIGITS: usize = 129;

/// Number of decimal digits of every version 2 sequence number.
const DECIMAL_DIGITS: usize = 56;

/// Value of the leading hex digit and of the trailing (version) hex digit.
const LAYOUT_VERSION: u64 = 2;

const REASON_LEADING_DIGIT: &str = "leading hex digit is not 2";
const REASON_VERSION_DIGIT: &str = "trailing (version) hex digit is not 2";
const REASON_RESERVED: &str = "reserved byte is not zero";
const REASON_COUNTER_TOP_BIT: &str = "top bit of the counter is set";
const REASON_INDEX_DIGIT: &str = "shard index check digit does not match the shard index";
const REASON_TOO_WIDE: &str = "value does not fit in 188 bits";

/// A bit field of the 188-bit value: `width` bits starting at bit `lsb`
/// (bit 0 is the least significant bit).
#[derive(Clone, Copy)]
struct Field {
    lsb: u32,
    width: u32,
}

impl Field {
    /// Mask of the field's `width` low bits; `width` is in `1..=64`.
    const fn mask(self) -> u64 {
        if self.width >= 64 {
            u64::MAX
        } else {
            (1 << self.width) - 1
        }
    }
}

// Fields from least significant to most significant. Hex digit `d` of the
// 47-digit value occupies bits `(46 - d) * 4 .. (46 - d) * 4 + 4`.
const VERSION: Field = Field { lsb: 0, width: 4 };
const SHARD_INDEX: Field = Field { lsb: 4, width: 32 };
const ARRIVAL: Field = Field { lsb: 36, width: 36 };
const RESERVED: Field = Field { lsb: 72, width: 8 };
const COUNTER: Field = Field { lsb: 80, width: 64 };
const INDEX_DIGIT: Field = Field { lsb: 144, width: 4 };
const CREATED: Field = Field {
    lsb: 148,
    width: 36,
};
/// The leading hex digit together with the four unused bits above bit 188,
/// so that a value wider than 188 bits is rejected too.
const LEADING: Field = Field { lsb: 184, width: 8 };

/// A 192-bit unsigned integer as three little-endian `u64` limbs: just the
/// operations needed to convert between the packed layout and decimal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct U192([u64; 3]);

/// `10^19`, the largest power of ten that fits in a `u64`.
const TEN_POW_19: u64 = 10_000_000_000_000_000_000;

/// Decimal digits printed per division by [`TEN_POW_19`].
const CHUNK_DIGITS: usize = 19;

/// Decimal buffer size: four chunks of 19 digits cover any 192-bit value
/// (which has at most 58 digits).
const DECIMAL_BUF_LEN: usize = 4 * CHUNK_DIGITS;

impl U192 {
    /// Limb `i` (0 = least significant), or 0 past the top.
    fn limb(&self, i: usize) -> u64 {
        self.0.get(i).copied().unwrap_or(0)
    }

    /// Reads `field`.
    fn field(&self, field: Field) -> u64 {
        let limb = (field.lsb / 64) as usize;
        let offset = field.lsb % 64;
        let mut value = self.limb(limb) >> offset;
        if offset != 0 {
            value |= self.limb(limb + 1) << (64 - offset);
        }
        value & field.mask()
    }

    /// ORs `value` into `field`, which must currently be zero. Callers have
    /// range-checked `value`; bits beyond the field's width are discarded.
    fn with_field(mut self, field: Field, value: u64) -> Self {
        debug_assert!(value <= field.mask(), "value wider than its field");
        let value = value & field.mask();
        let limb = (field.lsb / 64) as usize;
        let offset = field.lsb % 64;
        if let Some(low) = self.0.get_mut(limb) {
            *low |= value << offset;
        }
        if offset != 0
            && let Some(high) = self.0.get_mut(limb + 1)
        {
            *high |= value >> (64 - offset);
        }
        self
    }

    /// `self = self * mul + add`; returns `None` if the result does not fit
    /// in 192 bits.
    fn mul_add_small(self, mul: u64, add: u64) -> Option<Self> {
        let mut out = self;
        let mut carry = u128::from(add);
        for limb in &mut out.0 {
            let wide = u128::from(*limb) * u128::from(mul) + carry;
            *limb = wide as u64;
            carry = wide >> 64;
        }
        (carry == 0).then_some(out)
    }

    /// `self /= div`, returning the remainder. `div` must be non-zero; it is
    /// only ever the constant [`TEN_POW_19`].
    fn div_rem_small(&mut self, div: u64) -> u64 {
        let div = u128::from(div);
        let mut rem: u128 = 0;
        for limb in self.0.iter_mut().rev() {
            // `rem < div <= u64::MAX`, so this cannot overflow, and the
            // quotient is below 2^64.
            let wide = (rem << 64) | u128::from(*limb);
            *limb = (wide / div) as u64;
            rem = wide % div;
        }
        rem as u64
    }

    fn is_zero(&self) -> bool {
        self.0.iter().all(|&limb| limb == 0)
    }

    /// Parses ASCII decimal digits; `None` if a byte is not a digit or the
    /// value overflows 192 bits.
    fn from_decimal(digits: &[u8]) -> Option<Self> {
        digits.iter().try_fold(Self::default(), |acc, &byte| {
            let digit = byte.checked_sub(b'0').filter(|d| *d <= 9)?;
            acc.mul_add_small(10, u64::from(digit))
        })
    }

    /// Writes the decimal form into `buf` and returns it without leading
    /// zeros (`"0"` for zero).
    fn write_decimal(self, buf: &mut [u8; DECIMAL_BUF_LEN]) -> Result<&str, fmt::Error> {
        let mut value = self;
        buf.fill(b'0');
        for chunk in buf.rchunks_exact_mut(CHUNK_DIGITS) {
            let mut rem = value.div_rem_small(TEN_POW_19);
            for slot in chunk.iter_mut().rev() {
                *slot = b'0' + (rem % 10) as u8;
                rem /= 10;
            }
            if value.is_zero() {
                break;
            }
        }
        let start = buf
            .iter()
            .position(|&b| b != b'0')
            .unwrap_or(DECIMAL_BUF_LEN - 1);
        let digits = buf.get(start..).ok_or(fmt::Error)?;
        std::str::from_utf8(digits).map_err(|_| fmt::Error)
    }
}

impl Ord for U192 {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.iter().rev().cmp(other.0.iter().rev())
    }
}

impl PartialOrd for U192 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Rejects `value` if it exceeds `max`.
fn check_range(field: &'static str, value: u64, max: u64) -> Result<(), SequenceNumberError> {
    if value > max {
        Err(SequenceNumberError::FieldOutOfRange { field, value, max })
    } else {
        Ok(())
    }
}

/// Applies the Kinesis input pattern `0|([1-9]\d{0,128})` and returns the
/// digits. The length is checked before anything else, so the work done is
/// bounded by [`MAX_INPUT_DIGITS`] whatever the input.
fn match_input_pattern(s: &str) -> Result<&[u8], SequenceNumberError> {
    let bytes = s.as_bytes();
    let Some(&first) = bytes.first() else {
        return Err(SequenceNumberError::Empty);
    };
    if bytes.len() > MAX_INPUT_DIGITS {
        return Err(SequenceNumberError::TooLong { len: bytes.len() });
    }
    if let Some((position, found)) = s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        return Err(SequenceNumberError::NotDecimal { position, found });
    }
    if first == b'0' && bytes.len() > 1 {
        return Err(SequenceNumberError::LeadingZero);
    }
    Ok(bytes)
}

impl SequenceNumber {
    /// Largest per-shard counter (63 bits). It is also the counter of a closed
    /// shard's `EndingSequenceNumber`.
    pub const COUNTER_MAX: u64 = (1 << 63) - 1;

    /// Largest encodable Unix time in seconds (36 bits, in the year 4147).
    pub const SECONDS_MAX: u64 = (1 << 36) - 1;

    /// Builds a sequence number from its fields.
    ///
    /// # Errors
    ///
    /// [`SequenceNumberError::FieldOutOfRange`] if `shard.created_secs` or
    /// `arrival_secs` exceeds [`Self::SECONDS_MAX`] or `counter` exceeds
    /// [`Self::COUNTER_MAX`]. Every `u32` shard index is accepted. The
    /// arrival time is not required to be after the shard's creation.
    pub fn new(
        shard: ShardIdentity,
        counter: u64,
        arrival_secs: u64,
    ) -> Result<Self, SequenceNumberError> {
        check_range("shard_created_secs", shard.created_secs, Self::SECONDS_MAX)?;
        check_range("counter", counter, Self::COUNTER_MAX)?;
        check_range("arrival_secs", arrival_secs, Self::SECONDS_MAX)?;
        Ok(Self {
            shard_created_secs: shard.created_secs,
            shard_index: shard.index,
            counter,
            arrival_secs,
        })
    }

    /// Builds a sequence number from fields the caller has already range-checked (the log checks the
    /// shard identity when it opens, and counter and arrival time when it writes or decodes a frame).
    pub(crate) fn from_checked_parts(
        shard: ShardIdentity,
        counter: u64,
        arrival_secs: u64,
    ) -> Self {
        debug_assert!(
            shard.created_secs <= Self::SECONDS_MAX,
            "creation time checked"
        );
        debug_assert!(counter <= Self::COUNTER_MAX, "counter checked");
        debug_assert!(arrival_secs <= Self::SECONDS_MAX, "arrival time checked");
        Self {
            shard_created_secs: shard.created_secs,
            shard_index: shard.index,
            counter,
            arrival_secs,
        }
    }

    /// A shard's `StartingSequenceNumber`: counter 0, arrival time equal to
    /// the shard's creation time.
    ///
    /// # Errors
    ///
    /// [`SequenceNumberError::FieldOutOfRange`] if `shard.created_secs`
    /// exceeds [`Self::SECONDS_MAX`].
    pub fn starting(shard: ShardIdentity) -> Result<Self, SequenceNumberError> {
        Self::new(shard, 0, shard.created_secs)
    }

    /// A closed shard's `EndingSequenceNumber`: counter
    /// [`Self::COUNTER_MAX`], arrival time `closed_secs`.
    ///
    /// # Errors
    ///
    /// [`SequenceNumberError::FieldOutOfRange`] if `shard.created_secs` or
    /// `closed_secs` exceeds [`Self::SECONDS_MAX`].
    pub fn ending(shard: ShardIdentity, closed_secs: u64) -> Result<Self, SequenceNumberError> {
        Self::new(shard, Self::COUNTER_MAX, closed_secs)
    }

    /// The shard this sequence number belongs to.
    pub const fn shard(&self) -> ShardIdentity {
        ShardIdentity {
            index: self.shard_index,
            created_secs: self.shard_created_secs,
        }
    }

    /// The per-shard counter.
    pub const fn counter(&self) -> u64 {
        self.counter
    }

    /// The record's arrival time, Unix seconds.
    pub const fn arrival_secs(&self) -> u64 {
        self.arrival_secs
    }

    /// The shard's index.
    pub const fn shard_index(&self) -> u32 {
        self.shard_index
    }

    /// The shard's creation time, Unix seconds.
    pub const fn shard_created_secs(&self) -> u64 {
        self.shard_created_secs
    }

    /// Packs the fields into the 188-bit value.
    fn to_bits(self) -> U192 {
        U192::default()
            .with_field(LEADING, LAYOUT_VERSION)
            .with_field(CREATED, self.shard_created_secs)
            .with_field(INDEX_DIGIT, u64::from(self.shard_index & 0xF))
            .with_field(COUNTER, self.counter)
            .with_field(RESERVED, 0)
            .with_field(ARRIVAL, self.arrival_secs)
            .with_field(SHARD_INDEX, u64::from(self.shard_index))
            .with_field(VERSION, LAYOUT_VERSION)
    }

    /// Unpacks a 188-bit value, checking every constant part of the layout so
    /// that `from_bits(x)?.to_bits() == x` whenever it succeeds.
    fn from_bits(bits: U192) -> Result<Self, SequenceNumberError> {
        let layout = |reason| SequenceNumberError::UnknownLayout { reason };
        if bits.field(LEADING) != LAYOUT_VERSION {
            return Err(layout(REASON_LEADING_DIGIT));
        }
        if bits.field(VERSION) != LAYOUT_VERSION {
            return Err(layout(REASON_VERSION_DIGIT));
        }
        if bits.field(RESERVED) != 0 {
            return Err(layout(REASON_RESERVED));
        }
        let counter = bits.field(COUNTER);
        if counter > Self::COUNTER_MAX {
            return Err(layout(REASON_COUNTER_TOP_BIT));
        }
        // The field is 32 bits wide, so the conversion cannot fail.
        let index =
            u32::try_from(bits.field(SHARD_INDEX)).map_err(|_| layout(REASON_INDEX_DIGIT))?;
        if bits.field(INDEX_DIGIT) != u64::from(index & 0xF) {
            return Err(layout(REASON_INDEX_DIGIT));
        }
        // Both time fields are 36 bits wide, so `new` cannot reject them.
        Self::new(
            ShardIdentity {
                index,
                created_secs: bits.field(CREATED),
            },
            counter,
            bits.field(ARRIVAL),
        )
    }

    /// The fields in the order of their significance in the packed value;
    /// comparing these keys is comparing the 188-bit values (the remaining
    /// bits are constants).
    fn sort_key(&self) -> (u64, u32, u64, u64, u32) {
        (
            self.shard_created_secs,
            self.shard_index & 0xF,
            self.counter,
            self.arrival_secs,
            self.shard_index,
        )
    }
}

impl fmt::Display for SequenceNumber {
    /// Writes the 56-digit decimal form. Width, fill and alignment flags are
    /// honoured as for integers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; DECIMAL_BUF_LEN];
        let digits = self.to_bits().write_decimal(&mut buf)?;
        f.pad_integral(true, "", digits)
    }
}

impl FromStr for SequenceNumber {
    type Err = SequenceNumberError;

    /// Parses the decimal form; see the [module documentation](self) for what
    /// is accepted.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = match_input_pattern(s)?;
        if digits.len() != DECIMAL_DIGITS {
            return Err(SequenceNumberError::WrongLength {
                digits: digits.len(),
            });
        }
        let bits = U192::from_decimal(digits).ok_or(SequenceNumberError::UnknownLayout {
            reason: REASON_TOO_WIDE,
        })?;
        Self::from_bits(bits)
    }
}

impl Ord for SequenceNumber {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

impl PartialOrd for SequenceNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Unix seconds of a UTC civil date-time (proleptic Gregorian calendar),
    /// computed independently of the code under test.
    fn utc(year: i64, month: i64, day: i64, hour: i64, min: i64, sec: i64) -> u64 {
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (month + 9) % 12;
        let doy = (153 * mp + 2) / 5 + day - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        u64::try_from(days * 86_400 + hour * 3_600 + min * 60 + sec).unwrap()
    }

    /// Converts a hex string to decimal with schoolbook arithmetic on a digit
    /// vector: an oracle that shares no code with `U192`.
    fn hex_to_decimal(hex: &str) -> String {
        let mut digits: Vec<u32> = vec![0]; // little-endian decimal digits
        for c in hex.chars() {
            let mut carry = c.to_digit(16).unwrap();
            for d in &mut digits {
                let v = *d * 16 + carry;
                *d = v % 10;
                carry = v / 10;
            }
            while carry > 0 {
                digits.push(carry % 10);
                carry /= 10;
            }
        }
        while digits.len() > 1 && digits.last() == Some(&0) {
            digits.pop();
        }
        digits
            .iter()
            .rev()
            .map(|d| char::from_digit(*d, 10).unwrap())
            .collect()
    }

    /// The 47-digit hex form built directly from the layout table.
    fn layout_hex(created: u64, index: u32, counter: u64, arrival: u64) -> String {
        format!(
            "2{created:09x}{:x}{counter:016x}00{arrival:09x}{index:08x}2",
            index & 0xF
        )
    }

    fn seq(index: u32, created_secs: u64, counter: u64, arrival: u64) -> SequenceNumber {
        SequenceNumber::new(
            ShardIdentity {
                index,
                created_secs,
            },
            counter,
            arrival,
        )
        .unwrap()
    }

    fn parse(s: &str) -> Result<SequenceNumber, SequenceNumberError> {
        s.parse()
    }

    fn layout_err(reason: &'static str) -> Result<SequenceNumber, SequenceNumberError> {
        Err(SequenceNumberError::UnknownLayout { reason })
    }

    /// Deterministic xorshift64 generator.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        /// A random value up to `max`, biased towards the boundaries.
        fn field(&mut self, max: u64) -> u64 {
            match self.next() % 8 {
                0 => 0,
                1 => max,
                2 => self.next() % 16,
                3 => max - self.next() % 16,
                _ => self.next() % max + 1,
            }
        }

        fn random(&mut self) -> SequenceNumber {
            let index = u32::try_from(self.field(u64::from(u32::MAX))).unwrap();
            let created = self.field(SequenceNumber::SECONDS_MAX);
            let counter = self.field(SequenceNumber::COUNTER_MAX);
            let arrival = self.field(SequenceNumber::SECONDS_MAX);
            seq(index, created, counter, arrival)
        }
    }

    #[test]
    fn epoch_seconds_of_the_sample_dates() {
        assert_eq!(utc(1970, 1, 1, 0, 0, 0), 0);
        assert_eq!(utc(2015, 1, 14, 23, 47, 10), 1_421_279_230);
        assert_eq!(utc(2015, 1, 14, 23, 49, 46), 1_421_279_386);
        assert_eq!(utc(2015, 3, 26, 17, 28, 51), 1_427_390_931);
        assert_eq!(utc(2015, 3, 30, 20, 56, 24), 1_427_748_984);
        assert_eq!(utc(2019, 3, 26, 2, 51, 52), 1_553_568_712);
        assert_eq!(utc(2019, 3, 26, 2, 52, 15), 1_553_568_735);
        // SECONDS_MAX is in the year 4147.
        assert!(utc(4147, 1, 1, 0, 0, 0) <= SequenceNumber::SECONDS_MAX);
        assert!(utc(4148, 1, 1, 0, 0, 0) > SequenceNumber::SECONDS_MAX);
    }

    #[test]
    fn real_aws_vectors_decode_and_round_trip() {
        // (string, shard created, counter, arrival, shard index)
        let vectors = [
            (
                "49546986683135544286507457936321625675700192471156785154",
                utc(2015, 1, 14, 23, 47, 10),
                469,
                utc(2015, 1, 14, 23, 49, 46),
                0,
            ),
            (
                "49549167410945534708633744510750617797212193316405248018",
                utc(2015, 3, 26, 17, 28, 51),
                0,
                utc(2015, 3, 26, 17, 28, 51),
                1,
            ),
            (
                "49549167410956685081233009822320176730553508082787287058",
                utc(2015, 3, 26, 17, 28, 51),
                0x7fff_ffff_ffff_ffff,
                utc(2015, 3, 30, 20, 56, 24),
                1,
            ),
            (
                "49594189147623985939251953501666965394405037144469929986",
                utc(2019, 3, 26, 2, 51, 52),
                195,
                utc(2019, 3, 26, 2, 52, 15),
                0,
            ),
        ];
        for (text, created, counter, arrival, index) in vectors {
            let parsed = parse(text).unwrap();
            assert_eq!(parsed.shard_created_secs(), created, "{text}");
            assert_eq!(parsed.counter(), counter, "{text}");
            assert_eq!(parsed.arrival_secs(), arrival, "{text}");
            assert_eq!(parsed.shard_index(), index, "{text}");
            assert_eq!(
                parsed.shard(),
                ShardIdentity {
                    index,
                    created_secs: created
                }
            );
            assert_eq!(parsed, seq(index, created, counter, arrival));
            assert_eq!(parsed.to_string(), text);
            assert_eq!(
                hex_to_decimal(&layout_hex(created, index, counter, arrival)),
                text
            );
        }

        // The second and third vectors are shard 1's starting and ending
        // sequence numbers.
        let shard1 = ShardIdentity {
            index: 1,
            created_secs: 1_427_390_931,
        };
        assert_eq!(
            SequenceNumber::starting(shard1).unwrap().to_string(),
            "49549167410945534708633744510750617797212193316405248018"
        );
        assert_eq!(
            SequenceNumber::ending(shard1, 1_427_748_984)
                .unwrap()
                .to_string(),
            "49549167410956685081233009822320176730553508082787287058"
        );
        assert_eq!(SequenceNumber::COUNTER_MAX, 0x7fff_ffff_ffff_ffff);
        assert_eq!(SequenceNumber::SECONDS_MAX, 0xf_ffff_ffff);
    }

    #[test]
    fn display_matches_layout_oracle_and_round_trips() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..5_000 {
            let value = rng.random();
            let text = value.to_string();
            assert_eq!(text.len(), 56, "{value:?}");
            let expected = hex_to_decimal(&layout_hex(
                value.shard_created_secs(),
                value.shard_index(),
                value.counter(),
                value.arrival_secs(),
            ));
            assert_eq!(text, expected, "{value:?}");
            assert_eq!(parse(&text), Ok(value));
        }
    }

    #[test]
    fn order_matches_string_order_and_counter_order() {
        let mut rng = XorShift(0x0123_4567_89ab_cdef);
        let mut saw = [false; 3];
        for _ in 0..5_000 {
            let a = rng.random();
            let b = if rng.next().is_multiple_of(4) {
                a
            } else {
                rng.random()
            };
            let order = a.cmp(&b);
            assert_eq!(order, a.to_string().cmp(&b.to_string()), "{a:?} {b:?}");
            assert_eq!(order, a.to_bits().cmp(&b.to_bits()), "{a:?} {b:?}");
            assert_eq!(a.partial_cmp(&b), Some(order));
            assert_eq!(order == Ordering::Equal, a == b);
            let slot = match order {
                Ordering::Less => saw.get_mut(0),
                Ordering::Equal => saw.get_mut(1),
                Ordering::Greater => saw.get_mut(2),
            };
            if let Some(seen) = slot {
                *seen = true;
            }

            // Same shard, different counters: the counter decides, whatever
            // the arrival times are.
            let shard = a.shard();
            let low = rng.field(SequenceNumber::COUNTER_MAX - 1);
            let high = rng.field(SequenceNumber::COUNTER_MAX).max(low + 1);
            let first =
                SequenceNumber::new(shard, low, rng.field(SequenceNumber::SECONDS_MAX)).unwrap();
            let second =
                SequenceNumber::new(shard, high, rng.field(SequenceNumber::SECONDS_MAX)).unwrap();
            assert!(first < second, "{first:?} {second:?}");
            assert!(first.to_string() < second.to_string());
        }
        assert_eq!(saw, [true; 3], "all three orderings exercised");
    }

    #[test]
    fn boundaries() {
        let min = seq(0, 0, 0, 0);
        assert_eq!(
            min.to_string(),
            "49039857307708443467467104868809893875799651909875269634"
        );
        let max = seq(
            u32::MAX,
            SequenceNumber::SECONDS_MAX,
            SequenceNumber::COUNTER_MAX,
            SequenceNumber::SECONDS_MAX,
        );
        assert_eq!(
            max.to_string(),
            "73559785961551514828601391991642868751110021924530421746"
        );
        assert!(min < max);
        for index in [0, 1, 0xF, 0x10, u32::MAX - 1, u32::MAX] {
            for created in [0, 1, SequenceNumber::SECONDS_MAX] {
                for counter in [0, 1, SequenceNumber::COUNTER_MAX] {
                    for arrival in [0, SequenceNumber::SECONDS_MAX] {
                        let value = seq(index, created, counter, arrival);
                        let text = value.to_string();
                        assert_eq!(text.len(), 56);
                        assert_eq!(
                            text,
                            hex_to_decimal(&layout_hex(created, index, counter, arrival))
                        );
                        let back = parse(&text).unwrap();
                        assert_eq!(back, value);
                        assert_eq!(back.shard_index(), index);
                        assert_eq!(back.shard_created_secs(), created);
                        assert_eq!(back.counter(), counter);
                        assert_eq!(back.arrival_secs(), arrival);
                    }
                }
            }
        }
    }

    #[test]
    fn constructors_reject_out_of_range_fields() {
        let ok_shard = ShardIdentity {
            index: u32::MAX,
            created_secs: SequenceNumber::SECONDS_MAX,
        };
        let bad_shard = ShardIdentity {
            index: 0,
            created_secs: SequenceNumber::SECONDS_MAX + 1,
        };
        let out = |field, value, max| {
            Err::<SequenceNumber, _>(SequenceNumberError::FieldOutOfRange { field, value, max })
        };
        assert_eq!(
            SequenceNumber::new(bad_shard, 0, 0),
            out(
                "shard_created_secs",
                SequenceNumber::SECONDS_MAX + 1,
                SequenceNumber::SECONDS_MAX
            )
        );
        assert_eq!(
            SequenceNumber::new(ok_shard, SequenceNumber::COUNTER_MAX + 1, 0),
            out(
                "counter",
                SequenceNumber::COUNTER_MAX + 1,
                SequenceNumber::COUNTER_MAX
            )
        );
        assert_eq!(
            SequenceNumber::new(ok_shard, u64::MAX, 0),
            out("counter", u64::MAX, SequenceNumber::COUNTER_MAX)
        );
        assert_eq!(
            SequenceNumber::new(ok_shard, 0, SequenceNumber::SECONDS_MAX + 1),
            out(
                "arrival_secs",
                SequenceNumber::SECONDS_MAX + 1,
                SequenceNumber::SECONDS_MAX
            )
        );
        assert_eq!(
            SequenceNumber::new(ok_shard, 0, u64::MAX),
            out("arrival_secs", u64::MAX, SequenceNumber::SECONDS_MAX)
        );
        assert_eq!(
            SequenceNumber::starting(bad_shard),
            out(
                "shard_created_secs",
                SequenceNumber::SECONDS_MAX + 1,
                SequenceNumber::SECONDS_MAX
            )
        );
        assert_eq!(
            SequenceNumber::ending(ok_shard, SequenceNumber::SECONDS_MAX + 1),
            out(
                "arrival_secs",
                SequenceNumber::SECONDS_MAX + 1,
                SequenceNumber::SECONDS_MAX
            )
        );
        let ending = SequenceNumber::ending(ok_shard, 7).unwrap();
        assert_eq!(ending.counter(), SequenceNumber::COUNTER_MAX);
        assert_eq!(ending.arrival_secs(), 7);
        let starting = SequenceNumber::starting(ok_shard).unwrap();
        assert_eq!(starting.counter(), 0);
        assert_eq!(starting.arrival_secs(), SequenceNumber::SECONDS_MAX);
        assert!(starting < ending);
    }

    #[test]
    fn rejects_strings_outside_the_input_pattern() {
        assert_eq!(parse(""), Err(SequenceNumberError::Empty));
        assert_eq!(
            parse("-1"),
            Err(SequenceNumberError::NotDecimal {
                position: 0,
                found: '-'
            })
        );
        assert_eq!(
            parse("+1"),
            Err(SequenceNumberError::NotDecimal {
                position: 0,
                found: '+'
            })
        );
        assert_eq!(
            parse(" 1"),
            Err(SequenceNumberError::NotDecimal {
                position: 0,
                found: ' '
            })
        );
        assert_eq!(
            parse("1 "),
            Err(SequenceNumberError::NotDecimal {
                position: 1,
                found: ' '
            })
        );
        assert_eq!(
            parse("1a"),
            Err(SequenceNumberError::NotDecimal {
                position: 1,
                found: 'a'
            })
        );
        assert_eq!(
            parse("12\u{0663}"),
            Err(SequenceNumberError::NotDecimal {
                position: 2,
                found: '\u{0663}'
            })
        );
        assert_eq!(parse("01"), Err(SequenceNumberError::LeadingZero));
        let leading_zero = format!(
            "0{}",
            "49546986683135544286507457936321625675700192471156785154"
        );
        assert_eq!(parse(&leading_zero), Err(SequenceNumberError::LeadingZero));
        assert_eq!(
            parse(&"1".repeat(130)),
            Err(SequenceNumberError::TooLong { len: 130 })
        );
        assert_eq!(
            parse(&"x".repeat(1_000_000)),
            Err(SequenceNumberError::TooLong { len: 1_000_000 })
        );
    }

    #[test]
    fn rejects_in_pattern_numbers_of_other_lengths() {
        assert_eq!(
            parse("0"),
            Err(SequenceNumberError::WrongLength { digits: 1 })
        );
        assert_eq!(
            parse("1"),
            Err(SequenceNumberError::WrongLength { digits: 1 })
        );
        let valid = "49546986683135544286507457936321625675700192471156785154";
        assert_eq!(
            parse(valid.get(..55).unwrap()),
            Err(SequenceNumberError::WrongLength { digits: 55 })
        );
        assert_eq!(
            parse(&format!("{valid}0")),
            Err(SequenceNumberError::WrongLength { digits: 57 })
        );
        // Largest accepted by the pattern: must not overflow.
        assert_eq!(
            parse(&"9".repeat(129)),
            Err(SequenceNumberError::WrongLength { digits: 129 })
        );
        // 2^188 has 57 digits.
        assert_eq!(
            parse(&hex_to_decimal(&format!("1{}", "0".repeat(47)))),
            Err(SequenceNumberError::WrongLength { digits: 57 })
        );
    }

    #[test]
    fn rejects_56_digit_numbers_outside_the_layout() {
        let good = layout_hex(1_421_279_230, 0x1234_5678, 469, 1_421_279_386);
        assert_eq!(good.len(), 47);
        let patch = |pos: usize, digit: char| -> String {
            let text: String = good
                .chars()
                .enumerate()
                .map(|(i, c)| if i == pos { digit } else { c })
                .collect();
            let decimal = hex_to_decimal(&text);
            assert_eq!(decimal.len(), 56, "{text}");
            decimal
        };
        // Control: unpatched (and patched to the same digit) parses.
        assert!(parse(&hex_to_decimal(&good)).is_ok());
        assert!(parse(&patch(0, '2')).is_ok());

        assert_eq!(parse(&patch(0, '1')), layout_err(REASON_LEADING_DIGIT));
        assert_eq!(parse(&patch(0, '3')), layout_err(REASON_LEADING_DIGIT));
        assert_eq!(parse(&patch(46, '0')), layout_err(REASON_VERSION_DIGIT));
        assert_eq!(parse(&patch(46, '1')), layout_err(REASON_VERSION_DIGIT));
        assert_eq!(parse(&patch(46, '3')), layout_err(REASON_VERSION_DIGIT));
        assert_eq!(parse(&patch(27, '1')), layout_err(REASON_RESERVED));
        assert_eq!(parse(&patch(28, 'f')), layout_err(REASON_RESERVED));
        for top in ['8', 'a', 'f'] {
            assert_eq!(parse(&patch(11, top)), layout_err(REASON_COUNTER_TOP_BIT));
        }
        // Index 0x12345678 has check digit 8.
        assert_eq!(parse(&patch(10, '7')), layout_err(REASON_INDEX_DIGIT));
        assert_eq!(parse(&patch(45, '9')), layout_err(REASON_INDEX_DIGIT));

        // Extremes of the 56-digit range.
        let smallest = format!("1{}", "0".repeat(55));
        assert_eq!(parse(&smallest), layout_err(REASON_LEADING_DIGIT));
        assert_eq!(parse(&"9".repeat(56)), layout_err(REASON_LEADING_DIGIT));
        // Just below 2·16^46 and exactly 3·16^46.
        let below = hex_to_decimal(&format!("1{}", "f".repeat(46)));
        assert_eq!(parse(&below), layout_err(REASON_LEADING_DIGIT));
        let above = hex_to_decimal(&format!("3{}", "0".repeat(46)));
        assert_eq!(parse(&above), layout_err(REASON_LEADING_DIGIT));
    }

    #[test]
    fn mutated_and_random_inputs_never_parse_to_a_different_value() {
        let mut rng = XorShift(0xdead_beef_cafe_f00d);
        let alphabet = b"0123456789 -+a";
        for _ in 0..20_000 {
            let base = rng.random().to_string();
            let mut bytes = base.into_bytes();
            for _ in 0..=(rng.next() % 3) {
                let pos = usize::try_from(rng.next() % 56).unwrap();
                let pick = usize::try_from(rng.next() % 10).unwrap();
                if let (Some(slot), Some(&new)) = (bytes.get_mut(pos), alphabet.get(pick)) {
                    *slot = new;
                }
            }
            let text = String::from_utf8(bytes).unwrap();
            if let Ok(value) = parse(&text) {
                assert_eq!(value.to_string(), text);
            }

            let len = usize::try_from(rng.next() % 140).unwrap();
            let random: String = (0..len)
                .filter_map(|_| {
                    let pick = usize::try_from(rng.next() % 14).unwrap();
                    alphabet.get(pick).map(|&b| char::from(b))
                })
                .collect();
            if let Ok(value) = parse(&random) {
                assert_eq!(value.to_string(), random);
            }
        }
    }

    #[test]
    fn u192_helpers() {
        assert_eq!(U192::from_decimal(b""), Some(U192::default()));
        assert_eq!(U192::from_decimal(b"12a"), None);
        assert_eq!(
            U192::from_decimal(b"340282366920938463463374607431768211457"),
            Some(U192([1, 0, 1])) // 2^128 + 1
        );
        // 2^192 - 1 fits, 2^192 does not, nor does a 129-digit number.
        let max = "6277101735386680763835789423207666416102355444464034512895";
        assert_eq!(
            U192::from_decimal(max.as_bytes()),
            Some(U192([u64::MAX; 3]))
        );
        let over = "6277101735386680763835789423207666416102355444464034512896";
        assert_eq!(U192::from_decimal(over.as_bytes()), None);
        assert_eq!(U192::from_decimal("9".repeat(129).as_bytes()), None);

        let mut buf = [0u8; DECIMAL_BUF_LEN];
        assert_eq!(U192([u64::MAX; 3]).write_decimal(&mut buf), Ok(max));
        assert_eq!(U192::default().write_decimal(&mut buf), Ok("0"));
        assert_eq!(
            U192([TEN_POW_19, 0, 0]).write_decimal(&mut buf),
            Ok("10000000000000000000")
        );

        let bits = U192::default().with_field(COUNTER, u64::MAX);
        assert_eq!(bits, U192([0, u64::MAX << 16, 0xFFFF]));
        assert_eq!(bits.field(COUNTER), u64::MAX);
        assert_eq!(bits.field(RESERVED), 0);
        assert_eq!(bits.field(INDEX_DIGIT), 0);
        let bits = U192::default().with_field(ARRIVAL, SequenceNumber::SECONDS_MAX);
        assert_eq!(bits, U192([0xF << 60 | 0xFF_FFFF << 36, 0xFF, 0]));
        assert_eq!(bits.field(ARRIVAL), SequenceNumber::SECONDS_MAX);
    }

    #[test]
    fn display_and_error_formatting() {
        let value = parse("49546986683135544286507457936321625675700192471156785154").unwrap();
        assert_eq!(
            format!("{value:>60}"),
            "    49546986683135544286507457936321625675700192471156785154"
        );
        assert_eq!(
            format!("{value:<57}|"),
            "49546986683135544286507457936321625675700192471156785154 |"
        );
        assert_eq!(
            SequenceNumberError::WrongLength { digits: 1 }.to_string(),
            "sequence number has 1 digits, but sequence numbers have exactly 56"
        );
        assert_eq!(
            SequenceNumberError::UnknownLayout {
                reason: REASON_RESERVED
            }
            .to_string(),
            "sequence number does not use the version 2 layout: reserved byte is not zero"
        );
        assert_eq!(
            SequenceNumberError::FieldOutOfRange {
                field: "counter",
                value: 9,
                max: 8
            }
            .to_string(),
            "counter = 9 is out of range (maximum 8)"
        );
        assert_eq!(
            SequenceNumberError::NotDecimal {
                position: 3,
                found: 'x'
            }
            .to_string(),
            "sequence number must contain only decimal digits, found 'x' at byte offset 3"
        );
    }
}
