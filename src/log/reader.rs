//! Reading a shard log: seeking to a starting point, then iterating records in order.
//!
//! A reader holds its current segment (an `Arc`), so it keeps working if retention deletes that
//! segment: it finishes reading it and then continues with the oldest segment after it. Records it
//! returns are `Bytes` slices of the mapping: zero-copy, and valid for as long as they are held.
//!
//! Seeking is O(log n): a binary search over segments (by base counter or by last arrival time),
//! then over the segment's sparse index, then a scan of at most one index interval of frames.
//!
//! A log reopened in place after a latch (`ShardLog::recover_if_latched`) has new segment objects,
//! possibly with a tail cut; a reader notices (`Inner::reopens` changed) and seeks again, to the
//! first counter after the last record it returned, so it neither repeats nor skips a record.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::frame::{self, DecodedFrame};
use super::segment::{SEGMENT_HEADER_BYTES, Segment};
use super::{Inner, LogPosition};
use crate::error::{LogError, LogResult};
use crate::record::Record;
use crate::sequence::SequenceNumber;

/// Where a reader starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeekTo {
    /// At the oldest record still stored (Kinesis `TRIM_HORIZON`).
    Oldest,
    /// Just after the newest record: only records appended later are read (Kinesis `LATEST`).
    Latest,
    /// At the first record whose sequence number is ≥ this one (Kinesis `AT_SEQUENCE_NUMBER`; the
    /// number need not name a stored record). It must belong to this shard.
    AtSequence(SequenceNumber),
    /// At the first record whose sequence number is > this one (Kinesis `AFTER_SEQUENCE_NUMBER`).
    AfterSequence(SequenceNumber),
    /// At the first record that arrived at or after this Unix time in milliseconds
    /// (Kinesis `AT_TIMESTAMP`); after the newest record if there is none.
    AtTimestamp(u64),
}

/// An iterator over a shard log's records, from a starting point onwards.
pub struct LogReader {
    inner: Arc<Inner>,
    segment: Arc<Segment>,
    /// Byte offset of the next frame in `segment`. Invariant: a frame boundary ≤ published length.
    offset: u64,
    /// Counter and arrival of the last record returned: the next must come strictly after.
    previous: Option<(u64, u64)>,
    /// The log's reopen count when the reader found its place.
    reopens: u64,
}

impl LogReader {
    pub(super) fn new(inner: Arc<Inner>, seek: SeekTo) -> LogResult<LogReader> {
        let reopens = inner.reopens.load(Ordering::Acquire);
        let counter_target = |sequence_number: SequenceNumber, after: bool| {
            if sequence_number.shard() != inner.options.identity {
                return Err(LogError::WrongShard {
                    sequence_number,
                    expected: inner.options.identity,
                });
            }
            Ok(sequence_number.counter().saturating_add(u64::from(after)))
        };
        let (segment, offset) = match seek {
            SeekTo::Oldest => (first_segment(&inner)?, SEGMENT_HEADER_BYTES),
            SeekTo::Latest => {
                let segment = last_segment(&inner)?;
                let end = segment.published_len();
                (segment, end)
            }
            SeekTo::AtSequence(sequence_number) => {
                seek_counter(&inner, counter_target(sequence_number, false)?)?
            }
            SeekTo::AfterSequence(sequence_number) => {
                seek_counter(&inner, counter_target(sequence_number, true)?)?
            }
            SeekTo::AtTimestamp(arrival_ms) => seek_arrival(&inner, arrival_ms)?,
        };
        Ok(LogReader {
            inner,
            segment,
            offset,
            previous: None,
            reopens,
        })
    }

    /// Whether the log was reopened in place since the reader found its place.
    fn log_reopened(&self) -> bool {
        self.inner.reopens.load(Ordering::Acquire) != self.reopens
    }

    /// After a reopen, finds the reader's place among the reopened segments: the first record
    /// after the last one it returned, or, if it returned none, the record it stood at. The
    /// reader's own segment object still shows the log as it was, so that record is found there.
    fn follow_reopen(&mut self) -> LogResult<()> {
        self.reopens = self.inner.reopens.load(Ordering::Acquire);
        let next_counter = match self.previous {
            Some((counter, _)) => counter.saturating_add(1),
            None => self.counter_at_position(),
        };
        (self.segment, self.offset) = seek_counter(&self.inner, next_counter)?;
        Ok(())
    }

    /// The counter of the record at the reader's position in its segment object, or the one the
    /// next record there would get at least.
    fn counter_at_position(&self) -> u64 {
        let at_position = self.segment.published_bytes().ok().and_then(|bytes| {
            let rest = bytes.get(self.offset as usize..)?;
            frame::decode(rest).ok().map(|frame| frame.counter)
        });
        at_position.unwrap_or_else(|| match self.segment.last_counter() {
            Some(last) => last.saturating_add(1),
            None => self.segment.base_counter(),
        })
    }

    /// Reads up to `max_records` records into `out` (appending) and returns how many were read.
    /// Returns 0 when the reader has caught up with the writer.
    pub fn read_into(&mut self, out: &mut Vec<Record>, max_records: usize) -> LogResult<usize> {
        self.read_into_bounded(out, max_records, usize::MAX)
    }

    /// Like [`LogReader::read_into`], but stops before the data of the records read would exceed
    /// `max_data_bytes` (at least one record is read if any is ready).
    pub fn read_into_bounded(
        &mut self,
        out: &mut Vec<Record>,
        max_records: usize,
        max_data_bytes: usize,
    ) -> LogResult<usize> {
        self.read_frames::<false>(out, max_records, max_data_bytes)
            .map(|(read, _)| read)
    }

    /// Like [`LogReader::read_into_bounded`], and also returns the size of the records read
    /// (partition keys plus data), summed here where each frame's lengths are at hand rather than
    /// in a second pass over the records (which cost 12 instructions a record).
    pub(crate) fn read_into_measured(
        &mut self,
        out: &mut Vec<Record>,
        max_records: usize,
        max_data_bytes: usize,
    ) -> LogResult<(usize, u64)> {
        self.read_frames::<true>(out, max_records, max_data_bytes)
    }

    /// The read loop; sums record sizes only if `MEASURE`, so that plain reads compile to the
    /// loop they had before the stream layer needed sizes.
    fn read_frames<const MEASURE: bool>(
        &mut self,
        out: &mut Vec<Record>,
        max_records: usize,
        max_data_bytes: usize,
    ) -> LogResult<(usize, u64)> {
        let identity = self.inner.options.identity;
        if self.log_reopened() {
            self.follow_reopen()?;
        }
        let mut read = 0;
        let mut data_bytes = 0usize;
        let mut record_bytes = 0u64;
        while read < max_records {
            // Load `sealed` before the length: if the segment is sealed, the length is final.
            let sealed = self.segment.is_sealed();
            let bytes = self
                .segment
                .published_bytes()
                .map_err(|error| LogError::io("mapping segment", self.segment.path(), error))?;
            out.reserve((max_records - read).min(4096));
            while read < max_records {
                let start = self.offset as usize;
                let Some(rest) = bytes.get(start..).filter(|rest| !rest.is_empty()) else {
                    break;
                };
                let frame = frame::decode(rest).map_err(|error| self.corrupt(error))?;
                // The same order rules recovery checks: a checksummed frame in the wrong place (a
                // misdirected or stale write under a trusted index) is corruption, not a record.
                // `last_counter` is stored before the length that published this frame, so it is
                // at least this frame's counter.
                let in_order = frame.counter >= self.segment.base_counter()
                    && self
                        .segment
                        .last_counter()
                        .is_some_and(|last| frame.counter <= last)
                    && self.previous.is_none_or(|(counter, arrival_ms)| {
                        frame.counter > counter && frame.arrival_ms >= arrival_ms
                    });
                if !in_order {
                    return Err(self.corrupt(format!(
                        "frame with counter {} (arrival {}) breaks the log's order",
                        frame.counter, frame.arrival_ms
                    )));
                }
                data_bytes = data_bytes.saturating_add(frame.data.len());
                if read > 0 && data_bytes > max_data_bytes {
                    return Ok((read, record_bytes));
                }
                if MEASURE {
                    // The data follows the partition key directly (see `frame`): one subtraction.
                    debug_assert_eq!(frame.partition_key.end, frame.data.start);
                    record_bytes += (frame.data.end - frame.partition_key.start) as u64;
                }
                // Decoding checked the counter and arrival ranges; the identity was checked at open.
                let sequence_number = SequenceNumber::from_checked_parts(
                    identity,
                    frame.counter,
                    frame.arrival_ms / 1000,
                );
                out.push(Record {
                    sequence_number,
                    arrival_ms: frame.arrival_ms,
                    explicit_hash_key: frame.explicit_hash_key,
                    frame: bytes.slice(start..start + frame.frame_len),
                    partition_key: frame.partition_key,
                    data: frame.data,
                });
                self.offset += frame.frame_len as u64;
                self.previous = Some((frame.counter, frame.arrival_ms));
                read += 1;
            }
            if read == max_records || !sealed || !self.advance_segment() {
                break;
            }
        }
        Ok((read, record_bytes))
    }

    /// Reads up to `max_records` records.
    pub fn next_batch(&mut self, max_records: usize) -> LogResult<Vec<Record>> {
        let mut records = Vec::new();
        self.read_into(&mut records, max_records)?;
        Ok(records)
    }

    /// Whether a record is ready to be read (the reader is behind the writer).
    pub fn has_records(&self) -> bool {
        if self.log_reopened() {
            return true; // reading finds the reader's place again, then tells
        }
        let sealed = self.segment.is_sealed();
        if self.offset < self.segment.published_len() {
            return true;
        }
        sealed && {
            let segments = self.inner.segments.read();
            segments.iter().any(|segment| {
                self.comes_after(segment) && segment.published_len() > SEGMENT_HEADER_BYTES
            })
        }
    }

    /// Blocks until a record is ready or `timeout` passes; returns whether one is ready. Appenders
    /// wake waiting readers directly: this is a notification, not a polling loop.
    pub fn wait_for_records(&self, timeout: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        self.inner
            .appended
            .wait_until(deadline, || self.has_records())
    }

    /// Blocks until a record is ready, `stop()` holds, or `deadline` passes; returns whether a
    /// record is ready. Whatever makes `stop()` true must then call [`super::ShardLog::wake_readers`]
    /// (as closing a shard does), or the waiter notices only at the deadline.
    pub fn wait_for_records_or(
        &self,
        deadline: std::time::Instant,
        stop: impl Fn() -> bool,
    ) -> bool {
        self.inner
            .appended
            .wait_until(deadline, || stop() || self.has_records());
        self.has_records()
    }

    /// The counter of the next record this reader returns at least: one past the last it
    /// returned, or that of the record it stands at.
    pub(crate) fn next_counter(&self) -> u64 {
        match self.previous {
            Some((counter, _)) => counter.saturating_add(1),
            None => self.counter_at_position(),
        }
    }

    /// Whether `segment` follows the current one in the log: a larger base, or the segment that
    /// replaced the current (empty) one under the same base.
    fn comes_after(&self, segment: &Arc<Segment>) -> bool {
        let base = self.segment.base_counter();
        segment.base_counter() > base
            || (segment.base_counter() == base && !Arc::ptr_eq(segment, &self.segment))
    }

    /// Moves to the oldest segment after the current one; false if there is none yet.
    fn advance_segment(&mut self) -> bool {
        if self.log_reopened() {
            // The segment list is the reopened log's: find the reader's place in it instead.
            return self.follow_reopen().is_ok();
        }
        let next = {
            let segments = self.inner.segments.read();
            segments
                .iter()
                .find(|segment| self.comes_after(segment))
                .cloned()
        };
        match next {
            Some(segment) => {
                self.segment = segment;
                self.offset = SEGMENT_HEADER_BYTES;
                true
            }
            None => false,
        }
    }

    /// Where the next record will be read from.
    pub fn position(&self) -> LogPosition {
        LogPosition {
            segment_base: self.segment.base_counter(),
            offset: self.offset,
        }
    }

    fn corrupt(&self, reason: impl ToString) -> LogError {
        LogError::corrupt(self.segment.path(), self.offset, reason)
    }
}

impl Iterator for LogReader {
    type Item = LogResult<Record>;

    /// The next record, or `None` when caught up with the writer. For throughput prefer
    /// [`LogReader::read_into`], which amortizes the per-call work over a batch.
    fn next(&mut self) -> Option<LogResult<Record>> {
        let mut one = Vec::with_capacity(1);
        match self.read_into(&mut one, 1) {
            Ok(_) => one.pop().map(Ok),
            Err(error) => Some(Err(error)),
        }
    }
}

fn first_segment(inner: &Inner) -> LogResult<Arc<Segment>> {
    inner
        .segments
        .read()
        .first()
        .cloned()
        .ok_or_else(|| LogError::corrupt(&inner.dir, 0, "the log has no segment"))
}

fn last_segment(inner: &Inner) -> LogResult<Arc<Segment>> {
    inner
        .segments
        .read()
        .last()
        .cloned()
        .ok_or_else(|| LogError::corrupt(&inner.dir, 0, "the log has no segment"))
}

/// The position of the first record with counter ≥ `counter`.
fn seek_counter(inner: &Inner, counter: u64) -> LogResult<(Arc<Segment>, u64)> {
    let segment = {
        let segments = inner.segments.read();
        let containing = segments
            .partition_point(|segment| segment.base_counter() <= counter)
            .saturating_sub(1);
        let Some(segment) = segments.get(containing).cloned() else {
            return Err(LogError::corrupt(&inner.dir, 0, "the log has no segment"));
        };
        segment
    };
    if counter < segment.base_counter() {
        // Older than anything still stored: start at the trim horizon.
        return Ok((segment, SEGMENT_HEADER_BYTES));
    }
    let start = segment
        .index()
        .floor_by_counter(counter)
        .map_or(SEGMENT_HEADER_BYTES, |entry| entry.position);
    scan_to(segment, start, |frame| frame.counter >= counter)
}

/// The position of the first record that arrived at or after `arrival_ms`.
fn seek_arrival(inner: &Inner, arrival_ms: u64) -> LogResult<(Arc<Segment>, u64)> {
    let segment = {
        let segments = inner.segments.read();
        // Last arrivals never decrease along the log (an empty segment carries the previous
        // segment's last arrival as a floor), so this predicate holds on a prefix.
        let found = segments.partition_point(|segment| segment.last_arrival_ms() < arrival_ms);
        let index = found.min(segments.len().saturating_sub(1));
        let Some(segment) = segments.get(index).cloned() else {
            return Err(LogError::corrupt(&inner.dir, 0, "the log has no segment"));
        };
        segment
    };
    let start = segment
        .index()
        .floor_by_arrival(arrival_ms)
        .map_or(SEGMENT_HEADER_BYTES, |entry| entry.position);
    scan_to(segment, start, |frame| frame.arrival_ms >= arrival_ms)
}

/// Scans frames from `start` to the first one matching `is_target`. If none does, the position is
/// the end of the segment: for the last segment that is "after the newest record"; from an older
/// one the reader moves on to the next segment when it reads.
fn scan_to(
    segment: Arc<Segment>,
    start: u64,
    is_target: impl Fn(&DecodedFrame) -> bool,
) -> LogResult<(Arc<Segment>, u64)> {
    let published = segment
        .published_bytes()
        .map_err(|error| LogError::io("mapping segment", segment.path(), error))?;
    let mut offset = start;
    loop {
        let Some(rest) = published
            .get(offset as usize..)
            .filter(|rest| !rest.is_empty())
        else {
            return Ok((segment, offset));
        };
        match frame::decode(rest) {
            Ok(frame) if is_target(&frame) => return Ok((segment, offset)),
            Ok(frame) => offset += frame.frame_len as u64,
            Err(error) => return Err(LogError::corrupt(segment.path(), offset, error)),
        }
    }
}
