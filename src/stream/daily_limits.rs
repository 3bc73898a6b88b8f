//! Operations Kinesis allows only so many times per stream in a rolling 24 hours: UpdateShardCount
//! (10 by default) and UpdateStreamMode (2).
//!
//! A stream's catalog keeps the times of its recent uses (`StreamMeta::shard_count_updates_ms`,
//! `mode_switches_ms`), so the count survives a restart. Only uses within the last day are kept,
//! and none are kept when the engine sets no limit, so the lists stay short.

use super::StreamResult;

/// A rolling day, in milliseconds.
pub(crate) const DAY_MS: u64 = 24 * 3_600_000;

/// Records a use at `now_ms` in `history` (the times of earlier uses), first dropping uses older
/// than a day. With `limit` uses within the last day already, records nothing and returns the
/// error `refuse` makes from the limit.
pub(crate) fn record_use(
    history: &mut Vec<u64>,
    now_ms: u64,
    limit: Option<u32>,
    refuse: impl FnOnce(u32) -> super::StreamError,
) -> StreamResult<()> {
    let Some(limit) = limit else {
        history.clear();
        return Ok(());
    };
    let day_start_ms = now_ms.saturating_sub(DAY_MS);
    history.retain(|&used_ms| used_ms > day_start_ms);
    if history.len() >= limit as usize {
        return Err(refuse(limit));
    }
    history.push(now_ms);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::StreamError;
    use crate::stream::error::Limit;

    fn refuse(max: u32) -> StreamError {
        StreamError::LimitExceeded(Limit::ShardsPerStream { max })
    }

    #[test]
    fn uses_within_a_rolling_day_are_counted_and_older_ones_forgotten() {
        let mut history = Vec::new();
        let start = 1_700_000_000_000;
        for hour in 0..2 {
            record_use(&mut history, start + hour * 3_600_000, Some(2), refuse).unwrap();
        }
        let third = record_use(&mut history, start + DAY_MS - 1, Some(2), refuse);
        assert!(
            matches!(
                &third,
                Err(StreamError::LimitExceeded(Limit::ShardsPerStream {
                    max: 2
                }))
            ),
            "the first use is a millisecond short of a day old: {third:?}"
        );
        assert_eq!(history.len(), 2, "a refused use is not recorded");
        record_use(&mut history, start + DAY_MS, Some(2), refuse).unwrap();
        assert_eq!(
            history,
            vec![start + 3_600_000, start + DAY_MS],
            "a use a whole day old no longer counts"
        );
    }

    #[test]
    fn without_a_limit_nothing_is_kept() {
        let mut history = vec![1, 2, 3];
        for _ in 0..100 {
            record_use(&mut history, 10, None, refuse).unwrap();
        }
        assert!(history.is_empty());
    }
}
