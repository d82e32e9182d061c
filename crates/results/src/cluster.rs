//! What a run on a server cluster measured of the cluster itself (the `cluster` scenario, or any
//! run with `--server-procs N --broker …`): the broker hop's latency, publisher → broker → each
//! server process, and the broker's CPU per event. Additive: documents without it load as before.

use serde::{Deserialize, Serialize};

/// The broker hop and the broker's cost over a whole run (every phase, warm-up included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterFigures {
    /// Server processes.
    pub server_procs: u32,
    /// The broker (`redis`).
    pub broker: String,
    /// Hops timed: events × processes.
    pub hops: u64,
    /// Mean hop, microseconds.
    pub hop_mean_us: f64,
    /// Median hop, microseconds: the upper bound of the bucket it falls in (`None`: past the
    /// last bound).
    pub hop_p50_us: Option<u64>,
    /// 99th-percentile hop, microseconds: the upper bound of its bucket (`None`: past the last).
    pub hop_p99_us: Option<u64>,
    /// The histogram: (bucket upper bound in µs, `None` for the last, unbounded one; hops in it).
    pub hop_buckets_us: Vec<(Option<u64>, u64)>,
    /// The broker process's CPU over the run, microseconds (`None`: not ours to read).
    pub broker_cpu_us: Option<u64>,
    /// The broker's CPU per event published to it, microseconds.
    pub broker_cpu_us_per_event: Option<f64>,
}

impl ClusterFigures {
    /// The hop quantile `q` (0..=1) from the buckets: the upper bound of the bucket holding it
    /// (`None` for the unbounded bucket, or no hops).
    pub fn quantile_us(buckets: &[(Option<u64>, u64)], q: f64) -> Option<u64> {
        let total: u64 = buckets.iter().map(|b| b.1).sum();
        let rank = (q * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for &(le, count) in buckets {
            seen += count;
            if seen >= rank {
                return le;
            }
        }
        None
    }

    /// One line for the report.
    pub fn summary(&self) -> String {
        let cpu = match self.broker_cpu_us_per_event {
            Some(us) => format!("{us:.1} µs broker CPU per event"),
            None => "broker CPU not measured".into(),
        };
        let bound = |q: Option<u64>| q.map_or("> 1 s".to_string(), |us| format!("≤ {us} µs"));
        format!(
            "cluster: {} server processes, broker {}: hop publisher → broker → process p50 {}, p99 {}, mean {:.0} µs over {} hops; {cpu}",
            self.server_procs,
            self.broker,
            bound(self.hop_p50_us),
            bound(self.hop_p99_us),
            self.hop_mean_us,
            self.hops
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_bucket_upper_bounds() {
        let buckets = [(Some(100), 50), (Some(200), 49), (Some(500), 1), (None, 0)];
        assert_eq!(ClusterFigures::quantile_us(&buckets, 0.5), Some(100));
        assert_eq!(ClusterFigures::quantile_us(&buckets, 0.99), Some(200));
        assert_eq!(ClusterFigures::quantile_us(&buckets, 1.0), Some(500));
        let late = [(Some(100), 1), (None, 1)];
        assert_eq!(ClusterFigures::quantile_us(&late, 1.0), None);
        assert_eq!(ClusterFigures::quantile_us(&[], 0.5), None);
    }
}
