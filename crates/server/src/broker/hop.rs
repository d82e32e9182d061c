//! The broker hop's latency as this process sees it: publisher → Redis → this process's hub, from
//! the publisher's send stamp to the event's arrival here (same host, CLOCK_MONOTONIC). Kept as
//! fixed buckets, Prometheus style, because buckets of several processes add up exactly in the
//! cluster's `/metrics` (a quantile does not).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the buckets, microseconds (the last bucket, `+Inf`, is implied).
pub const HOP_BUCKETS_US: [u64; 14] = [
    25, 50, 100, 200, 300, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 1_000_000,
];

/// Metric name of the hop's histogram (`_bucket`, `_sum`, `_count` series).
pub const HOP_METRIC: &str = "rtbench_broker_hop_us";
/// Metric name of the events that arrived from the broker.
pub const ARRIVED_METRIC: &str = "rtbench_broker_events_received_total";

/// Counts of hop latencies.
#[derive(Debug, Default)]
pub struct HopStats {
    /// One count per bucket, and one for `+Inf`.
    buckets: [AtomicU64; HOP_BUCKETS_US.len() + 1],
    sum_us: AtomicU64,
    count: AtomicU64,
}

impl HopStats {
    /// Records one hop of `hop_ns` nanoseconds.
    pub fn record(&self, hop_ns: u64) {
        let hop_us = hop_ns / 1_000;
        let i = HOP_BUCKETS_US.partition_point(|&le| le < hop_us);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(hop_us, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Hops recorded.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Appends the histogram (cumulative buckets) and the arrival count to `out`.
    pub fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP {HOP_METRIC} Publisher to this process through the broker, microseconds.\n# TYPE {HOP_METRIC} histogram"
        );
        let mut cumulative = 0u64;
        for (i, le) in HOP_BUCKETS_US.iter().enumerate() {
            cumulative += self.buckets[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "{HOP_METRIC}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        cumulative += self.buckets[HOP_BUCKETS_US.len()].load(Ordering::Relaxed);
        let _ = writeln!(out, "{HOP_METRIC}_bucket{{le=\"+Inf\"}} {cumulative}");
        let sum = self.sum_us.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "{HOP_METRIC}_sum {sum}\n{HOP_METRIC}_count {cumulative}"
        );
        let _ = writeln!(
            out,
            "# HELP {ARRIVED_METRIC} Events this process received from the broker.\n# TYPE {ARRIVED_METRIC} counter\n{ARRIVED_METRIC} {}",
            self.count()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_the_sum_is_in_microseconds() {
        let stats = HopStats::default();
        for ns in [10_000, 60_000, 60_000, 2_000_000_000] {
            stats.record(ns);
        }
        let mut out = String::new();
        stats.render(&mut out);
        assert!(
            out.contains("rtbench_broker_hop_us_bucket{le=\"25\"} 1\n"),
            "{out}"
        );
        assert!(out.contains("rtbench_broker_hop_us_bucket{le=\"50\"} 1\n"));
        assert!(out.contains("rtbench_broker_hop_us_bucket{le=\"100\"} 3\n"));
        assert!(out.contains("rtbench_broker_hop_us_bucket{le=\"1000000\"} 3\n"));
        assert!(out.contains("rtbench_broker_hop_us_bucket{le=\"+Inf\"} 4\n"));
        assert!(out.contains("rtbench_broker_hop_us_sum 2000130\n"));
        assert!(out.contains("rtbench_broker_events_received_total 4\n"));
    }
}
