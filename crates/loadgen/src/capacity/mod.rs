//! The capacity search (docs/capacity.md): for one transport, an open-loop ramp of offered load in
//! steps — more clients at the scenario's event rate, or a higher event rate at fixed clients —
//! each step a whole phase (warm-up, window, tail, drain), until a step breaks a bound ([`Bounds`]:
//! p99 more than 250 ms above the lightest step's, any event not delivered, the publisher behind);
//! then a bisection between the last step that held and the first that broke. A step whose load
//! generator was saturated (`loadgen-bound`) is never reported as capacity: the ramp stops there
//! and the curve says the load generator, not the server, gave out first.

mod search;
mod verdict;

pub use search::{run_capacity, search};
pub use verdict::{Bounds, Verdict, judge};

use rtbench_proto::Transport;
use serde::{Deserialize, Serialize};

/// What the ramp varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Axis {
    /// Clients, at the scenario's event rate.
    Clients,
    /// Events per second, at the scenario's clients.
    Rate,
}

/// A capacity search's plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// What the steps vary.
    pub axis: Axis,
    /// Offered load of each ramp step (clients or events/s), lightest first.
    pub steps: Vec<f64>,
    /// Bisection steps between the last step that held and the first that broke.
    pub bisections: u32,
    /// When a step breaks.
    pub bounds: Bounds,
}

/// One measured step of the curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Offered load on the plan's axis (clients or events/s).
    pub offered: f64,
    /// Clients subscribed.
    pub clients: u64,
    /// Events per second.
    pub rate_per_s: f64,
    /// Deliveries per second inside the window.
    pub deliveries_per_s: f64,
    /// p99 delivery latency, microseconds.
    pub p99_us: f64,
    /// Events lost (not counting `late` and `unpublished`).
    pub lost: u64,
    /// Events clients were still behind on at the end of the drain.
    pub late: u64,
    /// Events the server had not published by the end of the drain.
    pub unpublished: u64,
    /// Server CPU over the window, cores.
    pub server_cpu_cores: f64,
    /// The server's resident memory at the window's end, bytes (absent in older documents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_rss_bytes: Option<u64>,
    /// Load-generator CPU over the window, cores.
    pub loadgen_cpu_cores: Option<f64>,
    /// How late the load generator's probe timer fired, p99, microseconds.
    pub loadgen_lag_p99_us: Option<f64>,
    /// Server CPU per delivery, microseconds.
    pub server_cpu_us_per_delivery: f64,
    /// Load-generator CPU per delivery, microseconds.
    pub client_cpu_us_per_delivery: f64,
    /// The load generator was saturated: this step says nothing about the server.
    pub loadgen_bound: bool,
    /// Whether it was a bisection step (not a ramp step).
    pub bisection: bool,
    /// What this step showed.
    pub verdict: Verdict,
}

/// One transport's capacity curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    /// The transport.
    pub transport: Transport,
    /// What the steps varied.
    pub axis: Axis,
    /// Every step measured, in the order run.
    pub steps: Vec<Step>,
    /// The highest offered load that held (never a `loadgen-bound` step); `None` when even the
    /// lightest step broke or the load generator gave out first.
    pub capacity: Option<f64>,
    /// The load generator gave out before the server broke a bound: the capacity, if any, is a
    /// lower bound of the server's.
    pub loadgen_limited: bool,
    /// CPUs the server was given (its placement), when known: the report's "deliveries/s per
    /// server core" divides by it, else by the server CPU measured at the capacity step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_cpus: Option<u32>,
}

impl Curve {
    /// The step measured at the curve's capacity.
    pub fn capacity_step(&self) -> Option<&Step> {
        let c = self.capacity?;
        self.steps
            .iter()
            .find(|s| s.offered == c && s.verdict == Verdict::Held)
    }
}

#[cfg(test)]
mod tests;
