//! Latency over time: one phase's HdrHistogram interval log (the standard `.hlog` text format,
//! written with `hdrhistogram`'s interval-log writer), one interval per second.
//!
//! Every first receipt goes into the phase's [`LatencySink`] interval histograms as it arrives; a
//! task takes them once a second and appends one interval line to the file, so memory stays one
//! histogram per shard whatever the length of the run. An interval holds the receipts that
//! *arrived* in it (warm-up, window and tail alike): a freeze shows where it ended, as a spike.
//! Timestamps count from the phase's time zero (`#[BaseTime]`, the wall-clock time of time zero);
//! intervals are as long as they really were (a late tick makes a longer one, never a lost one).
//! Values are nanoseconds (the max column too: no divisor).

use crate::error::LoadError;
use crate::latency_sink::LatencySink;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use rtbench_proto::mono_now_ns;
use rtbench_results::LatencyHistogram;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Length of one interval.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// A running interval log; [`IntervalLog::finish`] writes the last interval and closes it.
#[derive(Debug)]
pub struct IntervalLog {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), LoadError>>,
}

impl IntervalLog {
    /// Starts writing `sink`'s intervals to `path` (created, or truncated), counting from
    /// `start_mono_ns` (the phase's time zero), each interval tagged `tag`.
    pub fn start(
        sink: Arc<LatencySink>,
        path: PathBuf,
        start_mono_ns: u64,
        tag: String,
    ) -> Result<IntervalLog, LoadError> {
        let bad = |source| LoadError::IntervalLog {
            path: path.clone(),
            source,
        };
        let mut file = std::fs::File::create(&path).map_err(bad)?;
        file.write_all(&header(start_mono_ns, &tag).map_err(bad)?)
            .map_err(bad)?;
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(write_intervals(
            sink,
            file,
            path,
            start_mono_ns,
            tag,
            stopped,
        ));
        Ok(IntervalLog { stop, task })
    }

    /// Writes the last (partial) interval and closes the log.
    pub async fn finish(self) -> Result<(), LoadError> {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(written) => written,
            Err(e) => Err(LoadError::Control(format!("interval log task: {e}"))),
        }
    }
}

/// The log's header: a comment, and time zero as its start and base time.
fn header(start_mono_ns: u64, tag: &str) -> std::io::Result<Vec<u8>> {
    let base = wall_clock_of(start_mono_ns);
    let mut head = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    IntervalLogWriterBuilder::new()
        .add_comment(&format!(
            "rtbench delivery latency of {tag}, nanoseconds; one interval per second, receipts by arrival time"
        ))
        .with_start_time(base)
        .with_base_time(base)
        .begin_log_with(&mut head, &mut serializer)?;
    Ok(head)
}

/// Merges the logs of a phase's load-generator shards (each ticked once a second from the same
/// time zero, so their n-th intervals cover the same second) into one log at `out`: the n-th
/// interval is every shard's n-th added together (HdrHistogram addition, lossless), from the
/// earliest start to the latest end among them. The shards' files are removed.
pub fn merge_files(
    shards: &[PathBuf],
    out: &Path,
    start_mono_ns: u64,
    tag: &str,
) -> Result<(), LoadError> {
    let bad = |path: &Path, e: String| LoadError::IntervalLog {
        path: path.to_owned(),
        source: std::io::Error::other(e),
    };
    let mut merged: Vec<(Duration, Duration, LatencyHistogram)> = Vec::new();
    for path in shards {
        for (i, (from, to, h)) in read_timed(path)
            .map_err(|e| bad(path, e))?
            .into_iter()
            .enumerate()
        {
            match merged.get_mut(i) {
                Some(m) => {
                    (m.0, m.1) = (m.0.min(from), m.1.max(to));
                    // Same bounds and precision everywhere: adding cannot fail.
                    let _ = m.2.add(&h);
                }
                None => merged.push((from, to, h)),
            }
        }
    }
    let mut text = header(start_mono_ns, tag).map_err(|e| bad(out, e.to_string()))?;
    for (from, to, h) in &merged {
        let from_ns = start_mono_ns + from.as_nanos() as u64;
        let to_ns = start_mono_ns + to.as_nanos() as u64;
        text.extend(interval_line(
            h,
            (from_ns, to_ns.max(from_ns)),
            start_mono_ns,
            tag,
        ));
    }
    std::fs::write(out, text).map_err(|e| bad(out, e.to_string()))?;
    for path in shards {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// The wall-clock time at which CLOCK_MONOTONIC reads (or read) `mono_ns`.
fn wall_clock_of(mono_ns: u64) -> SystemTime {
    let now = mono_now_ns();
    let wall = SystemTime::now();
    match now.checked_sub(mono_ns) {
        Some(ago) => wall - Duration::from_nanos(ago),
        None => wall + Duration::from_nanos(mono_ns - now),
    }
}

/// Once a second until stopped (and once more then), appends the interval since the last one.
async fn write_intervals(
    sink: Arc<LatencySink>,
    mut file: std::fs::File,
    path: PathBuf,
    start_mono_ns: u64,
    tag: String,
    mut stopped: oneshot::Receiver<()>,
) -> Result<(), LoadError> {
    let first = tokio::time::Instant::now()
        + Duration::from_nanos(start_mono_ns.saturating_sub(mono_now_ns()))
        + INTERVAL;
    let mut ticks = tokio::time::interval_at(first, INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut from_ns = start_mono_ns;
    loop {
        let last = tokio::select! {
            _ = ticks.tick() => false,
            _ = &mut stopped => true,
        };
        let to_ns = mono_now_ns().max(from_ns);
        let line = interval_line(&sink.take_interval(), (from_ns, to_ns), start_mono_ns, &tag);
        // One short line a second: a blocking write is cheaper than a thread hop.
        file.write_all(&line)
            .map_err(|source| LoadError::IntervalLog {
                path: path.clone(),
                source,
            })?;
        from_ns = to_ns;
        if last {
            return Ok(());
        }
    }
}

/// One interval's line: histogram `h` of `[from_ns, to_ns)`, timestamped from `start_ns`.
fn interval_line(
    h: &LatencyHistogram,
    (from_ns, to_ns): (u64, u64),
    start_ns: u64,
    tag: &str,
) -> Vec<u8> {
    let mut line = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    // A builder with no headers writes nothing before the interval.
    if let Ok(mut w) = IntervalLogWriterBuilder::new().begin_log_with(&mut line, &mut serializer) {
        let _ = w.write_histogram(
            h,
            Duration::from_nanos(from_ns.saturating_sub(start_ns)),
            Duration::from_nanos(to_ns - from_ns),
            Tag::new(tag),
        );
    }
    line
}

/// The file name of a phase's log: `latency-<transport>.hlog`, with `-<what>` parts (conditions,
/// sweep point, repetition) when a run has more than one phase per transport; anything but
/// letters, digits, `.`, `_` and `-` becomes `_`.
pub fn file_name(transport: &str, parts: &[&str]) -> String {
    let mut name = format!("latency-{transport}");
    for part in parts.iter().filter(|p| !p.is_empty()) {
        name.push('-');
        name.extend(part.chars().map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '-' => c,
            _ => '_',
        }));
    }
    name.push_str(".hlog");
    name
}

/// Reads an interval log back with `hdrhistogram`'s reader: each interval's start (seconds from
/// time zero) and histogram.
pub fn read(path: &Path) -> Result<Vec<(f64, LatencyHistogram)>, String> {
    Ok(read_timed(path)?
        .into_iter()
        .map(|(from, _, h)| (from.as_secs_f64(), h))
        .collect())
}

/// Each interval's start and end (from time zero) and histogram.
fn read_timed(path: &Path) -> Result<Vec<(Duration, Duration, LatencyHistogram)>, String> {
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for entry in IntervalLogIterator::new(&text) {
        if let LogEntry::Interval(i) = entry.map_err(|e| format!("{e:?}"))? {
            let h = rtbench_results::decode_histogram(i.encoded_histogram())
                .map_err(|e| e.to_string())?;
            let from = i.start_timestamp();
            out.push((from, from + i.duration(), h));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn writes_a_standard_log_that_reads_back_interval_by_interval() {
        let dir = std::env::temp_dir().join(format!("rtbench-hlog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(file_name("sse", &["clients=100", ""]));
        assert!(path.ends_with("latency-sse-clients_100.hlog"));
        let sink = Arc::new(LatencySink::new());
        let log =
            IntervalLog::start(sink.clone(), path.clone(), mono_now_ns(), "sse".into()).unwrap();
        sink.record(0, 0, 1_000);
        sink.record(5, 0, 2_000);
        // Paused time: the first tick fires once every task is idle, a second later.
        tokio::time::sleep(INTERVAL + Duration::from_millis(10)).await;
        sink.record(1, 0, 3_000_000);
        log.finish().await.unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("#[BaseTime: "), "{text}");
        assert!(text.contains("Tag=sse,"), "{text}");
        let intervals = read(&path).unwrap();
        assert_eq!(intervals.len(), 2, "{text}");
        assert_eq!(
            intervals[0].0, 0.0,
            "the first interval starts at time zero"
        );
        assert_eq!(intervals[0].1.len(), 2);
        assert_eq!(intervals[1].1.len(), 1);
        assert!(intervals[1].1.max() >= 3_000_000);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
