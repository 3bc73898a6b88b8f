//! `GET /metrics`: every stream's and shard's Kinesis metrics in the Prometheus text format.
//!
//! The library keeps cumulative counters named as Kinesis names its CloudWatch metrics
//! (`IncomingBytes`, `GetRecords.Latency`, ...), each with its statistic and unit. They map onto
//! Prometheus families by rule, so a metric added to the library appears here without a table:
//! the name in snake case (`get_records_latency`), prefixed `shardlog_stream_` (label `stream`)
//! or `shardlog_shard_` (labels `stream`, `shard`); a `Sum` or `SampleCount` is a counter, a
//! `Maximum` or `Latest` sample a gauge. Microsecond values carry their unit in the name.

use std::fmt::Write as _;

use shardlog::Engine;
use shardlog::stream::metrics::{Statistic, Unit};
use shardlog::stream::{ShardMetric, StreamMetric};

/// The Prometheus text exposition of every stream's metrics.
pub fn render(engine: &Engine) -> String {
    let mut snapshots = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = engine.list_streams(after.as_deref(), 1000);
        snapshots.extend(
            page.names
                .iter()
                .filter_map(|name| engine.stream(name.as_str()).ok())
                .map(|stream| stream.metrics()),
        );
        match (page.has_more, page.names.last()) {
            (true, Some(last)) => after = Some(last.as_str().to_owned()),
            _ => break,
        }
    }
    let mut out = String::with_capacity(4096 + snapshots.len() * 4096);
    for &metric in StreamMetric::ALL {
        let family = begin_family(
            &mut out,
            "stream",
            metric.name(),
            metric.statistic(),
            metric.unit(),
        );
        for snapshot in &snapshots {
            let _ = writeln!(
                out,
                "{family}{{stream=\"{}\"}} {}",
                snapshot.stream_name,
                snapshot.stream.get(metric)
            );
        }
    }
    for &metric in ShardMetric::ALL {
        let family = begin_family(
            &mut out,
            "shard",
            metric.name(),
            metric.statistic(),
            metric.unit(),
        );
        for snapshot in &snapshots {
            for shard in &snapshot.shards {
                let _ = writeln!(
                    out,
                    "{family}{{stream=\"{}\",shard=\"{}\"}} {}",
                    snapshot.stream_name,
                    shard.shard_id,
                    shard.get(metric)
                );
            }
        }
    }
    out
}

/// Writes the HELP and TYPE lines of the `level` ("stream" or "shard") family of a Kinesis metric
/// and returns the family's name (`shardlog_<level>_...`).
fn begin_family(
    out: &mut String,
    level: &str,
    kinesis_name: &str,
    statistic: Statistic,
    unit: Unit,
) -> String {
    let family = family_name(&format!("shardlog_{level}_"), kinesis_name, statistic, unit);
    let kind = if statistic.is_cumulative() {
        "counter"
    } else {
        "gauge"
    };
    let _ = writeln!(
        out,
        "# HELP {family} Kinesis {level}-level {kinesis_name} ({}, {}).",
        statistic.as_str(),
        unit.as_str()
    );
    let _ = writeln!(out, "# TYPE {family} {kind}");
    family
}

/// `GetRecords.Latency` (Sum, Microseconds) → `<prefix>get_records_latency_microseconds_sum`;
/// `IncomingBytes` (Sum) → `<prefix>incoming_bytes_total`.
fn family_name(prefix: &str, kinesis_name: &str, statistic: Statistic, unit: Unit) -> String {
    let mut name = prefix.to_owned();
    let mut previous_lower = false;
    for character in kinesis_name.chars() {
        if character == '.' {
            name.push('_');
            previous_lower = false;
        } else if character.is_ascii_uppercase() {
            if previous_lower {
                name.push('_');
            }
            name.push(character.to_ascii_lowercase());
            previous_lower = false;
        } else {
            name.push(character);
            previous_lower = character.is_ascii_lowercase() || character.is_ascii_digit();
        }
    }
    // The sample count of a latency shares its sum's family name, as Prometheus summaries do.
    if unit == Unit::Microseconds || statistic == Statistic::SampleCount {
        name.push_str("_microseconds");
    }
    name.push_str(match statistic {
        Statistic::Sum if unit == Unit::Microseconds => "_sum",
        Statistic::Sum => "_total",
        Statistic::SampleCount => "_count",
        Statistic::Maximum => "_max",
        Statistic::Latest => "",
    });
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinesis_names_become_prometheus_families() {
        let cases = [
            (
                "IncomingBytes",
                Statistic::Sum,
                Unit::Bytes,
                "p_incoming_bytes_total",
            ),
            (
                "PutRecords.Success",
                Statistic::Sum,
                Unit::Count,
                "p_put_records_success_total",
            ),
            (
                "GetRecords.Latency",
                Statistic::Sum,
                Unit::Microseconds,
                "p_get_records_latency_microseconds_sum",
            ),
            (
                "GetRecords.Latency",
                Statistic::SampleCount,
                Unit::Count,
                "p_get_records_latency_microseconds_count",
            ),
            (
                "GetRecords.IteratorAgeMilliseconds",
                Statistic::Latest,
                Unit::Milliseconds,
                "p_get_records_iterator_age_milliseconds",
            ),
            (
                "IteratorAgeMilliseconds",
                Statistic::Maximum,
                Unit::Milliseconds,
                "p_iterator_age_milliseconds_max",
            ),
        ];
        for (name, statistic, unit, family) in cases {
            assert_eq!(family_name("p_", name, statistic, unit), family);
        }
    }

    #[test]
    fn every_family_name_is_distinct() {
        let mut names: Vec<String> = StreamMetric::ALL
            .iter()
            .map(|m| family_name("s_", m.name(), m.statistic(), m.unit()))
            .chain(
                ShardMetric::ALL
                    .iter()
                    .map(|m| family_name("h_", m.name(), m.statistic(), m.unit())),
            )
            .collect();
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count);
    }
}
