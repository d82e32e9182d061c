//! Shards' results as files, and `rtbench merge`'s side of them: a remote shard's result of a
//! phase is kept beside the phase's latency log (`latency-sse.hlog.shard2.json`), and any set of
//! such files merges with the same [`super::merge`] the coordinator uses into one
//! [`MergedFile`].

use super::{ShardResult, merge};
use crate::error::LoadError;
use rtbench_results::histogram::as_base64;
use rtbench_results::{Latency, LatencyHistogram, ShardClock};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Shards' results merged: what `rtbench merge` writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergedFile {
    /// Results merged.
    pub shards: u32,
    /// Deliveries inside the window, every shard's.
    pub window_deliveries: u64,
    /// The merged window's percentiles, microseconds, with the largest clock uncertainty.
    pub latency_us: Latency,
    /// The merged window histogram, nanoseconds (HdrHistogram V2 + deflate, base64).
    #[serde(with = "as_base64")]
    pub window_histogram: LatencyHistogram,
    /// The counters summed (each shard checked its own clients for loss and order).
    pub received: u64,
    /// Scheduled events some client never received.
    pub lost: u64,
    /// Duplicate receipts.
    pub duplicated: u64,
    /// Out-of-order receipts.
    pub reordered: u64,
    /// Clients that ended with an error.
    pub client_errors: u64,
    /// Every remote shard's clock, in the order given.
    pub clocks: Vec<ShardClock>,
}

/// Where the coordinator keeps shard `n`'s result beside the phase's latency log `hlog`.
pub fn result_path(hlog: &Path, n: u32) -> PathBuf {
    let mut name = hlog.as_os_str().to_owned();
    name.push(format!(".shard{n}.json"));
    PathBuf::from(name)
}

/// Writes `result` to `path`.
pub fn write(path: &Path, result: &ShardResult) -> Result<(), LoadError> {
    let bad = |why: String| LoadError::ShardFile {
        path: path.to_owned(),
        why,
    };
    let text = serde_json::to_vec(result).map_err(|e| bad(e.to_string()))?;
    std::fs::write(path, text).map_err(|e| bad(e.to_string()))
}

/// Reads the shard results at `paths` and merges them.
pub fn merge_files(paths: &[PathBuf]) -> Result<MergedFile, LoadError> {
    let mut results = Vec::with_capacity(paths.len());
    for path in paths {
        let bad = |why: String| LoadError::ShardFile {
            path: path.clone(),
            why,
        };
        let text = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let result: ShardResult =
            serde_json::from_slice(&text).map_err(|e| bad(format!("not a shard result: {e}")))?;
        results.push(result);
    }
    Ok(merged_file(&results))
}

/// The merged document of `results`.
pub fn merged_file(results: &[ShardResult]) -> MergedFile {
    let m = merge(results);
    let t = &m.totals;
    MergedFile {
        shards: results.len() as u32,
        window_deliveries: m.window_histogram.len(),
        latency_us: Latency {
            uncertainty_us: rtbench_results::max_uncertainty_us(&m.clocks),
            ..Latency::from_histogram(&m.window_histogram)
        },
        received: t.received,
        lost: t.lost,
        duplicated: t.duplicated,
        reordered: t.reordered,
        client_errors: t.client_errors,
        clocks: m.clocks.clone(),
        window_histogram: m.window_histogram,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shard::tests::{result, synthetic};
    use rtbench_results::histogram::new_histogram;

    #[test]
    fn files_of_three_shards_merge_as_one_histogram_of_all_samples() {
        let dir = std::env::temp_dir().join(format!("rtbench-merge-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let hlog = dir.join("latency-websocket.hlog");
        let samples: Vec<Vec<u64>> = (1..=3)
            .map(|seed| synthetic(seed, 4_000 + seed as usize))
            .collect();
        let mut all = new_histogram();
        let mut paths = Vec::new();
        for (i, s) in samples.iter().enumerate() {
            s.iter().for_each(|&v| all.record(v).unwrap());
            let path = result_path(&hlog, i as u32 + 1);
            write(&path, &result(s, i as u64, false)).unwrap();
            paths.push(path);
        }
        assert!(paths[1].ends_with("latency-websocket.hlog.shard2.json"));
        let merged = merge_files(&paths).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(merged.shards, 3);
        assert_eq!(
            merged.window_deliveries, 12_006,
            "the sum of the shards' counts"
        );
        assert_eq!((merged.received, merged.lost), (12_006, 3));
        assert_eq!(merged.window_histogram, all);
        let one = Latency::from_histogram(&all);
        assert_eq!(
            (merged.latency_us.p50, merged.latency_us.p99),
            (one.p50, one.p99)
        );
        let back: MergedFile =
            serde_json::from_str(&serde_json::to_string(&merged).unwrap()).unwrap();
        assert_eq!(back, merged);
        let err = merge_files(&[dir.join("absent.json")])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("shard result "), "{err}");
    }
}
