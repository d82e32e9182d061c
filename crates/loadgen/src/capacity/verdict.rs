//! When a capacity step breaks: the bounds, and the verdict on one measured row.

use rtbench_results::Row;
use serde::{Deserialize, Serialize};

/// When a step breaks. Relative latency by default, so that short polling's built-in wait of up
/// to one interval is not counted as overload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    /// A step breaks when its p99 exceeds the lightest step's p99 by more than this, ms.
    pub p99_over_lightest_ms: f64,
    /// A step also breaks when its p99 exceeds this, ms (none by default).
    pub p99_max_ms: Option<f64>,
    /// A step breaks when more events than this were not delivered, lost or late (0: any breaks
    /// it).
    pub max_lost: u64,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            p99_over_lightest_ms: 250.0,
            p99_max_ms: None,
            max_lost: 0,
        }
    }
}

/// What one step showed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "verdict", content = "why")]
pub enum Verdict {
    /// Every bound held, and the load generator was not saturated.
    Held,
    /// A bound broke (the reason in words).
    Broke(String),
    /// The load generator was saturated: nothing is known about the server at this load.
    LoadgenBound,
}

/// The verdict on `row`, given the lightest step's p99 (µs; `None` for the lightest step itself).
/// A step whose load generator was saturated is `loadgen-bound` even when a bound broke too: its
/// latency and loss may be the load generator's own, so it is neither capacity nor the first step
/// that broke (the bisection never uses it as its upper end).
pub fn judge(row: &Row, lightest_p99_us: Option<f64>, bounds: &Bounds) -> Verdict {
    let p99 = row.latency_us.p99;
    let mut why = Vec::new();
    if let Some(base) = lightest_p99_us
        && p99 > base + bounds.p99_over_lightest_ms * 1e3
    {
        why.push(format!(
            "p99 {:.1} ms is more than {:.0} ms above the lightest step's {:.1} ms",
            p99 / 1e3,
            bounds.p99_over_lightest_ms,
            base / 1e3
        ));
    }
    if let Some(max) = bounds.p99_max_ms
        && p99 > max * 1e3
    {
        why.push(format!("p99 {:.1} ms is above {max:.0} ms", p99 / 1e3));
    }
    if row.undelivered() > bounds.max_lost {
        let o = &row.overload;
        why.push(format!(
            "{} events not delivered ({} lost, {} late, {} unpublished)",
            row.undelivered(),
            row.lost,
            o.late,
            o.unpublished
        ));
    }
    if row.overload.unpublished > 0 {
        why.push("the publisher fell behind its schedule".into());
    }
    match (row.overload.loadgen_bound, why.is_empty()) {
        (true, _) => Verdict::LoadgenBound,
        (false, false) => Verdict::Broke(why.join("; ")),
        (false, true) => Verdict::Held,
    }
}
