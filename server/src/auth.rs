//! AWS Signature Version 4 on incoming requests.
//!
//! Two modes. Without credentials (local development, the default) a request must carry a
//! well-formed signature (an `Authorization` header with `Credential`, `SignedHeaders` and
//! `Signature`, and a date), as Kinesis and kinesalite demand, but the signature is not checked.
//! With `--credentials KEY:SECRET` the signature is recomputed from the request and compared in
//! constant time; a request that fails is refused before any operation reads its fields or runs,
//! so it has no effect. (Its body's syntax is checked before, as Kinesis does: see
//! [`crate::front_end`].)
//!
//! A verified signature also holds only where and when AWS would accept it: dated within 15
//! minutes of the server's clock (or, presigned, within its `X-Amz-Expires`, at most a week),
//! scoped to the server's region, `kinesis` and the day of its date, with the host signed. Each
//! refusal carries AWS's exception and message.
//!
//! The canonical request follows the SigV4 specification: method, URI path, sorted query string,
//! the signed headers (lower-cased names, trimmed values with inner runs of spaces folded), the list
//! of signed header names, and the hex SHA-256 of the body. Over HTTP/2 the host is the
//! `:authority` pseudo-header, which clients sign as `host` (the Rust SDK) or as `:authority`
//! (the JavaScript SDK v3).

use std::collections::HashMap;

use hmac::{Hmac, Mac};
use http::request::Parts;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

type HmacSha256 = Hmac<Sha256>;

/// How far a request's date may be from the server's clock when signatures are verified.
const CLOCK_SKEW_SECS_MAX: i64 = 15 * 60;
/// Longest validity of a presigned request, `X-Amz-Expires` (a week, as AWS allows).
const PRESIGNED_EXPIRES_SECS_MAX: i64 = 7 * 24 * 60 * 60;
/// The service a credential scope must name.
const SERVICE: &str = "kinesis";
/// The last element of every credential scope.
const SCOPE_TERMINATOR: &str = "aws4_request";

/// The credentials the server accepts; empty means "accept any well-formed signature".
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    secrets: HashMap<String, String>,
}

impl Credentials {
    /// Accepts these `(access key id, secret access key)` pairs.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Credentials {
        Credentials {
            secrets: pairs.into_iter().collect(),
        }
    }

    /// Whether signatures are verified.
    pub fn verifies(&self) -> bool {
        !self.secrets.is_empty()
    }

    /// Checks a request's signature, in the order AWS checks: the signature's parts, its date
    /// against the server's clock, its credential scope (this server's `region`, `kinesis`, the
    /// request's day), the access key, and last the signature itself. `body` is the raw body,
    /// hashed, never decoded; `now_secs` is the server's Unix time.
    pub fn check(
        &self,
        parts: &Parts,
        body: &[u8],
        region: &str,
        now_secs: i64,
    ) -> Result<(), ApiError> {
        let signature = Signature::read(parts)?;
        if !self.verifies() {
            return Ok(());
        }
        signature.check_form()?;
        let Some(request_secs) = parse_amz_date(&signature.date) else {
            return Err(ApiError::client(
                "IncompleteSignatureException",
                format!(
                    "Date must be in ISO-8601 'basic format'. Got '{}'. See \
                     http://en.wikipedia.org/wiki/ISO_8601",
                    signature.date
                ),
            ));
        };
        signature.check_time(request_secs, now_secs)?;
        signature.check_scope(region)?;
        let Some(secret) = self.secrets.get(&signature.access_key) else {
            return Err(ApiError::client(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ));
        };
        let body_hash = hex(&Sha256::digest(body));
        // A presigned request may leave its payload unsigned.
        let matches = |payload_hash: &str| {
            let expected = signature.expected(parts, payload_hash, secret);
            constant_time_eq(expected.as_bytes(), signature.signature.as_bytes())
        };
        if !(matches(&body_hash) || (signature.in_query && matches("UNSIGNED-PAYLOAD"))) {
            return Err(ApiError::client(
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. \
                 Check your AWS Secret Access Key and signing method. Consult the service \
                 documentation for details.",
            ));
        }
        Ok(())
    }
}

/// Checks that a request carries a signature of the right form, in the `Authorization` header or
/// in the query string, without checking the signature itself: the first thing Kinesis' front
/// end asks of every request, with AWS's exception and message when it is missing or incomplete.
pub fn require_signature(parts: &Parts) -> Result<(), ApiError> {
    Signature::read(parts).map(drop)
}

/// The parts of a SigV4 signature, from the header or the query string.
struct Signature {
    access_key: String,
    /// `<date>/<region>/<service>/aws4_request`.
    scope: String,
    signed_headers: Vec<String>,
    signature: String,
    /// `X-Amz-Date` (`20150830T123600Z`).
    date: String,
    /// Whether the query string carries the signature (so it is left out of the canonical query).
    in_query: bool,
    /// `X-Amz-Expires` of a presigned request, as given (checked by [`Signature::check_form`]).
    expires: Option<String>,
}

impl Signature {
    /// The request's signature: from its `Authorization` header or its query string, which
    /// must not both carry one.
    fn read(parts: &Parts) -> Result<Signature, ApiError> {
        let header = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok());
        let query_signed = parts
            .uri
            .query()
            .is_some_and(|query| query_pairs(query).any(|(key, _)| key == "X-Amz-Algorithm"));
        match (header, query_signed) {
            (Some(_), true) => Err(ApiError::client(
                "InvalidSignatureException",
                "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as \
                 HTTP header.",
            )),
            (None, false) => Err(ApiError::client(
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            )),
            (Some(header), false) => Signature::from_header(header, parts),
            (None, true) => Signature::from_query(parts.uri.query().unwrap_or_default()),
        }
    }

    fn from_header(header: &str, parts: &Parts) -> Result<Signature, ApiError> {
        let mut credential = None;
        let mut signed_headers = None;
        let mut signature = None;
        // `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`
        for item in header
            .split([',', ' '])
            .skip(1)
            .filter(|item| !item.is_empty())
        {
            match item.trim().split_once('=') {
                Some(("Credential", value)) => credential = Some(value),
                Some(("SignedHeaders", value)) => signed_headers = Some(value),
                Some(("Signature", value)) => signature = Some(value),
                _ => {}
            }
        }
        let date = parts
            .headers
            .get("x-amz-date")
            .or_else(|| parts.headers.get(http::header::DATE))
            .and_then(|value| value.to_str().ok());
        let mut message = String::new();
        for (name, value) in [
            ("Credential", credential),
            ("Signature", signature),
            ("SignedHeaders", signed_headers),
        ] {
            if value.is_none_or(str::is_empty) {
                message.push_str(&format!(
                    "Authorization header requires '{name}' parameter. "
                ));
            }
        }
        if date.is_none() {
            message.push_str(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' \
                 header. ",
            );
        }
        if !message.is_empty() {
            message.push_str(&format!("Authorization={header}"));
            return Err(ApiError::client("IncompleteSignatureException", message));
        }
        Signature::build(
            credential.unwrap_or_default(),
            signed_headers.unwrap_or_default(),
            signature.unwrap_or_default(),
            date.unwrap_or_default(),
            false,
        )
    }

    fn from_query(query: &str) -> Result<Signature, ApiError> {
        let find = |name: &str| {
            query_pairs(query)
                .find(|(key, _)| key == name)
                .map(|(_, value)| value)
                .filter(|value| !value.is_empty())
        };
        let mut message = String::new();
        for name in [
            "X-Amz-Algorithm",
            "X-Amz-Credential",
            "X-Amz-Signature",
            "X-Amz-SignedHeaders",
            "X-Amz-Date",
        ] {
            if find(name).is_none() {
                message.push_str(&format!(
                    "AWS query-string parameters must include '{name}'. "
                ));
            }
        }
        if !message.is_empty() {
            message.push_str("Re-examine the query-string parameters.");
            return Err(ApiError::client("IncompleteSignatureException", message));
        }
        let mut signature = Signature::build(
            &find("X-Amz-Credential").unwrap_or_default(),
            &find("X-Amz-SignedHeaders").unwrap_or_default(),
            &find("X-Amz-Signature").unwrap_or_default(),
            &find("X-Amz-Date").unwrap_or_default(),
            true,
        )?;
        signature.expires = find("X-Amz-Expires");
        Ok(signature)
    }

    fn build(
        credential: &str,
        signed_headers: &str,
        signature: &str,
        date: &str,
        in_query: bool,
    ) -> Result<Signature, ApiError> {
        let Some((access_key, scope)) = credential.split_once('/') else {
            return Err(ApiError::client(
                "IncompleteSignatureException",
                format!(
                    "Credential should be scoped to a valid region, not ''. Credential={credential}"
                ),
            ));
        };
        Ok(Signature {
            access_key: access_key.to_owned(),
            scope: scope.to_owned(),
            signed_headers: signed_headers
                .split(';')
                .map(str::to_ascii_lowercase)
                .collect(),
            signature: signature.to_owned(),
            date: date.to_owned(),
            in_query,
            expires: None,
        })
    }

    /// What a verifying server demands beyond a well-formed signature: the host is signed
    /// (`host`, or `:authority` as HTTP/2 clients sign it), and a presigned request's validity
    /// is a number of seconds of at most a week.
    fn check_form(&self) -> Result<(), ApiError> {
        if !self
            .signed_headers
            .iter()
            .any(|name| name == "host" || name == ":authority")
        {
            return Err(ApiError::client(
                "InvalidSignatureException",
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
            ));
        }
        match self.expires_secs() {
            Some(Err(message)) => Err(ApiError::client("IncompleteSignatureException", message)),
            _ => Ok(()),
        }
    }

    /// A presigned request's `X-Amz-Expires` in seconds, or AWS's message for a bad one.
    fn expires_secs(&self) -> Option<Result<i64, &'static str>> {
        let text = self.expires.as_deref()?;
        Some(match text.parse::<i64>() {
            Err(_) => Err("X-Amz-Expires should be a number"),
            Ok(secs) if secs < 0 => Err("X-Amz-Expires must be non-negative"),
            Ok(secs) if secs > PRESIGNED_EXPIRES_SECS_MAX => Err(
                "X-Amz-Expires must be less than a week (in seconds); that is, the given \
                 X-Amz-Expires must be less than 604800 seconds",
            ),
            Ok(secs) => Ok(secs),
        })
    }

    /// The request's date against the server's clock: at most the skew ahead, and not older
    /// than the skew (a header signature) or than its `X-Amz-Expires` (a presigned request).
    fn check_time(&self, request_secs: i64, now_secs: i64) -> Result<(), ApiError> {
        let latest_secs = now_secs + CLOCK_SKEW_SECS_MAX;
        if request_secs > latest_secs {
            return Err(ApiError::client(
                "InvalidSignatureException",
                format!(
                    "Signature not yet current: {} is still later than {} ({} + {}.)",
                    self.date,
                    format_amz_date(latest_secs),
                    format_amz_date(now_secs),
                    format_duration(CLOCK_SKEW_SECS_MAX)
                ),
            ));
        }
        let valid_secs = match self.expires_secs() {
            Some(Ok(expires_secs)) => expires_secs,
            _ => CLOCK_SKEW_SECS_MAX,
        };
        let earliest_secs = now_secs - valid_secs;
        if request_secs < earliest_secs {
            return Err(ApiError::client(
                "InvalidSignatureException",
                format!(
                    "Signature expired: {} is now earlier than {} ({} - {}.)",
                    self.date,
                    format_amz_date(earliest_secs),
                    format_amz_date(now_secs),
                    format_duration(valid_secs)
                ),
            ));
        }
        Ok(())
    }

    /// The credential scope: `<day of X-Amz-Date>/<region>/kinesis/aws4_request`. Every element
    /// that is wrong is named, in AWS's words and order.
    fn check_scope(&self, region: &str) -> Result<(), ApiError> {
        let elements: Vec<&str> = self.scope.split('/').collect();
        let [day, scope_region, service, terminator] = elements.as_slice() else {
            return Err(ApiError::client(
                "IncompleteSignatureException",
                format!(
                    "Credential must have exactly 5 slash-delimited elements, e.g. \
                     keyid/date/region/service/term, got '{}/{}'",
                    self.access_key, self.scope
                ),
            ));
        };
        let mut message = String::new();
        if *scope_region != region {
            message.push_str(&format!(
                "Credential should be scoped to a valid region, not '{scope_region}'. "
            ));
        }
        if *service != SERVICE {
            message.push_str(&format!(
                "Credential should be scoped to correct service: '{SERVICE}'. "
            ));
        }
        if *terminator != SCOPE_TERMINATOR {
            message.push_str(&format!(
                "Credential should be scoped with a valid terminator: '{SCOPE_TERMINATOR}', not \
                 '{terminator}'. "
            ));
        }
        let request_day = self.date.get(..8).unwrap_or_default();
        if *day != request_day {
            message.push_str(&format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
                 from HTTP: '{day}' != '{request_day}', from '{}'. ",
                self.date
            ));
        }
        if message.is_empty() {
            Ok(())
        } else {
            Err(ApiError::client("InvalidSignatureException", message))
        }
    }

    /// The signature the request should carry if it was signed with `secret`.
    fn expected(&self, parts: &Parts, payload_hash: &str, secret: &str) -> String {
        let canonical_request = self.canonical_request(parts, payload_hash);
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n{}\n{}\n{}",
            self.date,
            self.scope,
            hex(&Sha256::digest(canonical_request.as_bytes()))
        );
        let mut key = format!("AWS4{secret}").into_bytes();
        for part in self.scope.split('/') {
            key = hmac(&key, part.as_bytes()).to_vec();
        }
        hex(&hmac(&key, string_to_sign.as_bytes()))
    }

    fn canonical_request(&self, parts: &Parts, payload_hash: &str) -> String {
        let path = match parts.uri.path() {
            "" => "/",
            path => path,
        };
        let mut query: Vec<(String, String)> = parts
            .uri
            .query()
            .map(|query| {
                query_pairs(query)
                    .filter(|(key, _)| !(self.in_query && key == "X-Amz-Signature"))
                    .map(|(key, value)| (uri_encode(&key), uri_encode(&value)))
                    .collect()
            })
            .unwrap_or_default();
        query.sort();
        let query = query
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect::<Vec<_>>()
            .join("&");
        let mut headers = String::new();
        for name in &self.signed_headers {
            let values: Vec<String> = parts
                .headers
                .get_all(name.as_str())
                .iter()
                .filter_map(|value| value.to_str().ok())
                .map(fold_spaces)
                .collect();
            // HTTP/2 carries the host as the :authority pseudo-header, which hyper keeps in the
            // URI; HTTP/2 clients sign it as `host` (the Rust SDK) or as `:authority` (the
            // JavaScript SDK v3), and either name means the same value.
            let is_host = name == "host" || name == ":authority";
            let value = match parts.uri.authority() {
                Some(authority) if is_host && values.is_empty() => authority.as_str().to_owned(),
                _ if name == ":authority" => host_header(parts),
                _ => values.join(","),
            };
            headers.push_str(&format!("{name}:{value}\n"));
        }
        format!(
            "{}\n{path}\n{query}\n{headers}\n{}\n{payload_hash}",
            parts.method,
            self.signed_headers.join(";")
        )
    }
}

/// `key=value` pairs of a query string, percent-decoded.
fn query_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        let decoded = (byte == b'%')
            .then(|| text.get(at + 1..at + 3))
            .flatten()
            .and_then(|digits| u8::from_str_radix(digits, 16).ok());
        match decoded {
            Some(value) => {
                out.push(value);
                at += 3;
            }
            None => {
                out.push(if byte == b'+' { b' ' } else { byte });
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// RFC 3986 encoding of everything but the unreserved characters, as SigV4 requires.
fn uri_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The `Host` header (what `:authority` is over HTTP/1.1).
fn host_header(parts: &Parts) -> String {
    parts
        .headers
        .get(http::header::HOST)
        .and_then(|value| value.to_str().ok())
        .map(fold_spaces)
        .unwrap_or_default()
}

/// A validity period as AWS words it in messages: `15 min`, or `90 sec`.
fn format_duration(secs: i64) -> String {
    if secs % 60 == 0 {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} sec")
    }
}

fn fold_spaces(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so creating it cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes keys of any size");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_shifted = (month + 9) % 12;
    let day_of_year = (153 * month_shifted + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Parses `20150830T123600Z` into Unix seconds.
fn parse_amz_date(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() != 16 || bytes.get(8) != Some(&b'T') || bytes.get(15) != Some(&b'Z') {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = text.get(range)?;
        digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    let (year, month, day) = (number(0..4)?, number(4..6)?, number(6..8)?);
    let (hour, minute, second) = (number(9..11)?, number(11..13)?, number(13..15)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second.min(60))
}

/// Formats Unix seconds as `20150830T123600Z`.
fn format_amz_date(secs: i64) -> String {
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = shardlog::clock::civil_date(secs.div_euclid(86_400));
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates_round_trip() {
        for secs in [0, 951_782_400, 1_440_938_160, 4_102_444_799] {
            let text = format_amz_date(secs);
            assert_eq!(parse_amz_date(&text), Some(secs), "{text}");
        }
        assert_eq!(format_amz_date(1_440_938_160), "20150830T123600Z");
        assert_eq!(parse_amz_date("2015-08-30T12:36:00Z"), None);
    }

    #[test]
    fn query_strings_are_decoded_and_re_encoded() {
        let pairs: Vec<_> = query_pairs("a=b%2Fc&d=e+f&g").collect();
        assert_eq!(
            pairs,
            vec![
                ("a".to_owned(), "b/c".to_owned()),
                ("d".to_owned(), "e f".to_owned()),
                ("g".to_owned(), String::new())
            ]
        );
        assert_eq!(uri_encode("b/c d~"), "b%2Fc%20d~");
    }
}
