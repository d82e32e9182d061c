//! How a row's phase coped with its load: the part of its loss that the drain's end explains
//! (events the server had not published, events a client was still behind on) and whether the load
//! generator itself was the limit. All fields default, so documents written before they existed
//! still load.

use serde::{Deserialize, Serialize};

/// A row's account of overload. Zero and `None` everywhere when nothing was late and the load
/// generator was not measured.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Overload {
    /// Not in `lost`: events × members the server had not published by the end of the drain (its
    /// schedule fell behind), as it answers just after the clients stop.
    pub unpublished: u64,
    /// Not in `lost`: events × members that were published, never announced gone by a gap notice, and
    /// after a client's cursor when the drain ended: the client was behind — late, not dropped.
    pub late: u64,
    /// Clients that were behind when the drain ended.
    pub late_clients: u64,
    /// The most events any client was behind when the drain ended.
    pub late_max_behind_events: u64,
    /// Load-generator CPU over the window, cores (its user+sys CPU time ÷ the window's length).
    pub loadgen_cpu_cores: Option<f64>,
    /// Cores the load generator may use (its CPU affinity and cgroup quota).
    pub loadgen_cores_available: Option<f64>,
    /// How late the load generator's 10 ms probe timer fired over the window, 99th percentile,
    /// microseconds: its tasks waited this long for a thread.
    pub loadgen_lag_p99_us: Option<f64>,
    /// The probe's largest lateness over the window, microseconds.
    pub loadgen_lag_max_us: Option<f64>,
    /// The load generator's resident memory at the window's start, bytes.
    pub loadgen_rss_window_start_bytes: Option<u64>,
    /// The load generator's resident memory at the window's end, bytes: with a long warm-up, the
    /// two say whether its memory grows with the run.
    pub loadgen_rss_window_end_bytes: Option<u64>,
    /// The load generator was saturated during the window (CPU or probe lateness over its bound,
    /// see the row's notes): the row's latency measures the load generator as much as the server.
    pub loadgen_bound: bool,
}

impl Overload {
    /// The accounts of repetitions of one row combined: counts added, the largest figures and
    /// lateness kept, bound if any repetition was.
    pub fn combine(all: &[Overload]) -> Overload {
        let max = |f: fn(&Overload) -> Option<f64>| {
            all.iter()
                .filter_map(f)
                .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))
        };
        Overload {
            unpublished: all.iter().map(|o| o.unpublished).sum(),
            late: all.iter().map(|o| o.late).sum(),
            late_clients: all.iter().map(|o| o.late_clients).sum(),
            late_max_behind_events: all
                .iter()
                .map(|o| o.late_max_behind_events)
                .max()
                .unwrap_or(0),
            loadgen_cpu_cores: max(|o| o.loadgen_cpu_cores),
            loadgen_cores_available: max(|o| o.loadgen_cores_available),
            loadgen_lag_p99_us: max(|o| o.loadgen_lag_p99_us),
            loadgen_lag_max_us: max(|o| o.loadgen_lag_max_us),
            loadgen_rss_window_start_bytes: all
                .iter()
                .filter_map(|o| o.loadgen_rss_window_start_bytes)
                .max(),
            loadgen_rss_window_end_bytes: all
                .iter()
                .filter_map(|o| o.loadgen_rss_window_end_bytes)
                .max(),
            loadgen_bound: all.iter().any(|o| o.loadgen_bound),
        }
    }
}
