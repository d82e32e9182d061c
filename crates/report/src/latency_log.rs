//! Latency over time: the `latency-<transport>….hlog` interval logs `rtbench run` writes beside
//! `results.json` (standard HdrHistogram interval logs, one interval per second, nanoseconds),
//! read with `hdrhistogram`'s interval-log reader into p50, p99 and max per interval.
//!
//! Reading never fails the report: a file that cannot be read, or that began before the run it
//! sits beside (an old file `--out` still holds), becomes one sentence instead of a chart.

use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use rtbench_results::Transport;
use std::path::Path;

/// One interval's figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Start, seconds from the phase's time zero.
    pub start_s: f64,
    /// Receipts in the interval.
    pub count: u64,
    /// Median latency, microseconds.
    pub p50_us: f64,
    /// 99th percentile, microseconds.
    pub p99_us: f64,
    /// Largest latency, microseconds.
    pub max_us: f64,
}

/// One phase's log.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyLog {
    /// The file name (`latency-sse.hlog`).
    pub file: String,
    /// The transport (the intervals' tag, else the file name's).
    pub transport: Transport,
    /// The phase as the file name tells it beyond the transport (`clients_100`), empty when none.
    pub label: String,
    /// Intervals with at least one receipt, in order.
    pub intervals: Vec<Interval>,
    /// The log's start, seconds since the Unix epoch, when it says.
    pub start_unix_s: Option<f64>,
}

/// Every log found in one directory, and what could not be used.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LatencyLogs {
    /// Logs read, in transport order.
    pub logs: Vec<LatencyLog>,
    /// One sentence per file left out.
    pub problems: Vec<String>,
}

/// The transport and label a file name `latency-<transport>[-<label>].hlog` names.
fn from_name(file: &str) -> Option<(Transport, String)> {
    let stem = file.strip_prefix("latency-")?.strip_suffix(".hlog")?;
    let (name, label) = stem.split_once('-').unwrap_or((stem, ""));
    Some((name.parse().ok()?, label.to_string()))
}

/// Reads one interval log (its bytes `text`, named `file`).
pub fn parse(file: &str, text: &[u8]) -> Result<LatencyLog, String> {
    let (mut transport, label) =
        from_name(file).ok_or_else(|| format!("{file}: not named latency-<transport>….hlog"))?;
    let mut log = LatencyLog {
        file: file.to_string(),
        transport,
        label,
        intervals: Vec::new(),
        start_unix_s: None,
    };
    for entry in IntervalLogIterator::new(text) {
        let entry = entry.map_err(|e| {
            format!(
                "{file}: unreadable after {} intervals ({e:?})",
                log.intervals.len()
            )
        })?;
        match entry {
            LogEntry::StartTime(t) => log.start_unix_s = Some(t.as_secs_f64()),
            LogEntry::BaseTime(_) => {}
            LogEntry::Interval(i) => {
                if let Some(t) = i.tag().and_then(|t| t.as_str().parse().ok()) {
                    transport = t;
                }
                let h = rtbench_results::decode_histogram(i.encoded_histogram())
                    .map_err(|e| format!("{file}: an interval's histogram: {e}"))?;
                if h.is_empty() {
                    continue;
                }
                let us = |ns: u64| ns as f64 / 1e3;
                log.intervals.push(Interval {
                    start_s: i.start_timestamp().as_secs_f64(),
                    count: h.len(),
                    p50_us: us(h.value_at_quantile(0.5)),
                    p99_us: us(h.value_at_quantile(0.99)),
                    max_us: us(h.max()),
                });
            }
        }
    }
    log.transport = transport;
    Ok(log)
}

/// Reads every `latency-*.hlog` in `dir`; a log that began before `run_started_unix_s` (an older
/// run's file left in the directory) is left out with a sentence.
pub fn read_dir(dir: &Path, run_started_unix_s: u64) -> LatencyLogs {
    let mut out = LatencyLogs::default();
    let Ok(entries) = std::fs::read_dir(dir) else {
        out.problems
            .push(format!("{}: the directory cannot be read", dir.display()));
        return out;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("latency-") && n.ends_with(".hlog"))
        .collect();
    names.sort();
    for name in names {
        let read = std::fs::read(dir.join(&name))
            .map_err(|e| format!("{name}: {e}"))
            .and_then(|text| parse(&name, &text));
        match read {
            // The results record whole seconds; a log starts within the run, never before.
            Ok(log)
                if log
                    .start_unix_s
                    .is_some_and(|s| s + 1.0 < run_started_unix_s as f64) =>
            {
                out.problems.push(format!(
                    "{name}: left over from an earlier run (it began before this run started)"
                ))
            }
            Ok(log) if log.intervals.is_empty() => {
                out.problems.push(format!("{name}: no receipts recorded"))
            }
            Ok(log) => out.logs.push(log),
            Err(e) => out.problems.push(e),
        }
    }
    out.logs
        .sort_by_key(|l| crate::transport::rank(l.transport));
    out
}

#[cfg(test)]
#[path = "latency_log_tests.rs"]
mod tests;
