//! Reading a request body into memory: no larger than the limit, no slower than the minimum rate,
//! no longer than the read timeout.
//!
//! The minimum rate is what keeps a client that trickles (or stalls) from holding a body's budget
//! and its connection: after a grace period, the bytes received must keep up with
//! `bytes_per_sec_min`, that is, the body is cut when
//! `now > started + grace + received / bytes_per_sec_min`. A client that sends its body at once,
//! as every SDK does, never comes near it.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::time::Instant;

/// The slowest a body may arrive.
#[derive(Debug, Clone, Copy)]
pub struct BodyRate {
    /// Bytes per second a body must keep up with once the grace period is over.
    pub bytes_per_sec_min: u64,
    /// How long a body may take before the rate applies (a client's first round trips).
    pub grace: Duration,
}

/// Why a body could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// It grew past the limit.
    TooLarge,
    /// It fell below the minimum rate, or did not complete within the read timeout.
    TooSlow,
    /// The connection failed or the framing was invalid.
    Broken,
}

/// Reads `body` whole. `declared_bytes` (from `Content-Length`) only sizes the buffer; the limit is
/// checked on what arrives.
pub async fn read(
    mut body: Incoming,
    declared_bytes: Option<usize>,
    bytes_max: usize,
    read_timeout: Duration,
    rate: BodyRate,
) -> Result<Bytes, BodyError> {
    let started = Instant::now();
    let overall_deadline = started + read_timeout;
    let mut collected = BytesMut::with_capacity(declared_bytes.unwrap_or(0).min(bytes_max));
    loop {
        let received = collected.len() as u64;
        let keeping_up_for =
            Duration::from_millis(received.saturating_mul(1000) / rate.bytes_per_sec_min.max(1));
        let deadline = overall_deadline.min(started + rate.grace + keeping_up_for);
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_elapsed) => return Err(BodyError::TooSlow),
            Ok(None) => return Ok(collected.freeze()),
            Ok(Some(Err(_))) => return Err(BodyError::Broken),
            Ok(Some(Ok(frame))) => frame,
        };
        // Trailers carry nothing a Kinesis call uses.
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if collected.len() + data.len() > bytes_max {
            return Err(BodyError::TooLarge);
        }
        collected.extend_from_slice(&data);
    }
}
