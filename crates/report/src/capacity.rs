//! The capacity document (`capacity.json`, written by `rtbench run --capacity-steps …`) as the
//! report reads it, and the capacity table made from it: per transport, the highest offered load
//! that held, the server's and the load generator's CPU there, the verdict, and deliveries/s per
//! server core at the bound.
//!
//! The types mirror `rtbench_loadgen::capacity::Curve` field for field (the report does not depend
//! on the load generator, which pulls in a runtime and HTTP clients); a test in the root package
//! writes a curve with the load generator's type and reads it back with these.

use crate::format::{number, whole};
use rtbench_results::Transport;
use serde::Deserialize;
use std::path::Path;

/// What one step showed (`rtbench_loadgen::capacity::Verdict`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", tag = "verdict", content = "why")]
pub enum Verdict {
    /// Every bound held, and the load generator was not saturated.
    Held,
    /// A bound broke (the reason in words).
    Broke(String),
    /// The load generator was saturated: nothing is known about the server at this load.
    LoadgenBound,
}

/// One measured step of a curve.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Step {
    /// Offered load on the curve's axis (clients or events/s).
    pub offered: f64,
    /// Clients subscribed.
    pub clients: u64,
    /// Events per second.
    pub rate_per_s: f64,
    /// Deliveries per second measured inside the window.
    pub deliveries_per_s: f64,
    /// p99 delivery latency, microseconds.
    pub p99_us: f64,
    /// Events not delivered.
    pub lost: u64,
    /// Server CPU over the window, cores.
    pub server_cpu_cores: f64,
    /// The server's resident memory at the window's end, bytes (absent in older documents).
    #[serde(default)]
    pub server_rss_bytes: Option<u64>,
    /// Load-generator CPU over the window, cores.
    #[serde(default)]
    pub loadgen_cpu_cores: Option<f64>,
    /// Server CPU per delivery, microseconds.
    pub server_cpu_us_per_delivery: f64,
    /// Load-generator CPU per delivery, microseconds.
    pub client_cpu_us_per_delivery: f64,
    /// The load generator was saturated in this step.
    pub loadgen_bound: bool,
    /// A bisection step rather than a ramp step.
    #[serde(default)]
    pub bisection: bool,
    /// What the step showed.
    pub verdict: Verdict,
}

impl Step {
    /// Offered deliveries per second: clients × events/s (every client receives every event, as
    /// in the dashboard workload the search ramps).
    pub fn offered_deliveries_per_s(&self) -> f64 {
        self.clients as f64 * self.rate_per_s
    }
}

/// One transport's capacity curve.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Curve {
    /// The transport.
    pub transport: Transport,
    /// What the steps varied: `clients` or `rate`.
    pub axis: String,
    /// Every step measured, in the order run.
    pub steps: Vec<Step>,
    /// The highest offered load that held.
    pub capacity: Option<f64>,
    /// The load generator gave out before the server broke a bound.
    pub loadgen_limited: bool,
    /// CPUs the server was given, when the search recorded it.
    #[serde(default)]
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

    /// The lightest step that broke a bound.
    pub fn first_broken(&self) -> Option<&Step> {
        self.steps
            .iter()
            .filter(|s| matches!(s.verdict, Verdict::Broke(_)))
            .min_by(|a, b| a.offered.total_cmp(&b.offered))
    }

    /// The lightest step whose load generator was saturated without a bound breaking.
    pub fn first_loadgen_bound(&self) -> Option<&Step> {
        self.steps
            .iter()
            .filter(|s| s.verdict == Verdict::LoadgenBound)
            .min_by(|a, b| a.offered.total_cmp(&b.offered))
    }

    /// The offered load's unit.
    pub fn unit(&self) -> &'static str {
        if self.axis == "rate" {
            "events/s"
        } else {
            "clients"
        }
    }
}

/// A capacity document that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct BadCapacity {
    /// The file.
    pub file: String,
    /// Why.
    pub reason: String,
}

/// Reads `capacity.json`: one curve per transport.
pub fn load(path: &Path) -> Result<Vec<Curve>, BadCapacity> {
    let bad = |reason: String| BadCapacity {
        file: path.display().to_string(),
        reason,
    };
    let text = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    serde_json::from_slice(&text).map_err(|e| {
        bad(format!(
            "not a capacity document (rtbench run --capacity-steps): {e}"
        ))
    })
}

/// What "per server core" divided by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cores {
    /// The CPUs the server was given (its placement).
    Given(u32),
    /// The server CPU measured at the capacity step, cores.
    Measured(f64),
}

/// One transport's row of the capacity table.
#[derive(Debug, Clone, PartialEq)]
pub struct CapacityRow {
    /// The transport.
    pub transport: Transport,
    /// The step at the capacity, when one held.
    pub held: Option<Step>,
    /// The offered load's unit (`clients`, `events/s`).
    pub unit: &'static str,
    /// The load generator gave out first: `held` is a lower bound, not the server's capacity.
    pub lower_bound: bool,
    /// The verdict in words.
    pub verdict: String,
    /// Held deliveries/s per server core, and what it divided by.
    pub per_core: Option<(f64, Cores)>,
}

impl CapacityRow {
    /// Deliveries/s per server core as a cell: `131,000 (÷ 1 server CPU)`, `≥ 131,000 (load
    /// generator bound)`, or `–`.
    pub fn per_core_text(&self) -> String {
        match self.per_core {
            None => "–".into(),
            Some((v, _)) if self.lower_bound => {
                format!("≥ {} (load generator bound)", whole(v))
            }
            Some((v, c)) => format!("{} ({})", whole(v), c.basis()),
        }
    }
}

impl Cores {
    /// What was divided by, in words.
    pub fn basis(self) -> String {
        match self {
            Cores::Given(1) => "÷ 1 server CPU".into(),
            Cores::Given(n) => format!("÷ {n} server CPUs"),
            Cores::Measured(c) => format!("÷ {c:.2} cores measured"),
        }
    }
}

/// Why the ramp stopped where it did, in words.
fn verdict(c: &Curve) -> String {
    let unit = c.unit();
    let at = |s: &Step| format!("{} {unit}", whole(s.offered));
    let held = c
        .capacity_step()
        .map(|s| format!("{} ({} deliveries/s)", at(s), whole(s.deliveries_per_s)));
    let broke = c.first_broken();
    if c.loadgen_limited {
        let saturated = c
            .first_loadgen_bound()
            .or(broke.filter(|s| s.loadgen_bound))
            .map(|s| format!("; the load generator saturated at {}", at(s)))
            .unwrap_or_default();
        return match held {
            Some(h) => format!(
                "LOADGEN-BOUND: held ≥ {h}{saturated}; a lower bound, not the server's capacity"
            ),
            None => format!("LOADGEN-BOUND at the lightest step{saturated}: no server figure"),
        };
    }
    match (held, broke) {
        (Some(h), Some(b)) => format!(
            "held up to {h}; broke at {} because {}{}",
            at(b),
            why(b),
            saturated_too(b)
        ),
        (Some(h), None) => {
            format!("held up to {h} at every step: the capacity is above the last step")
        }
        (None, Some(b)) => format!(
            "broke at the lightest step, {}, because {}{}",
            at(b),
            why(b),
            saturated_too(b)
        ),
        (None, None) => "no step measured".into(),
    }
}

fn why(s: &Step) -> &str {
    match &s.verdict {
        Verdict::Broke(why) => why,
        _ => "",
    }
}

fn saturated_too(s: &Step) -> &'static str {
    if s.loadgen_bound {
        " (the load generator was saturated there too, so the step is not clean evidence)"
    } else {
        ""
    }
}

/// The capacity table: one row per curve, in transport order. `placement_cpus` is the number of
/// CPUs `results.json`'s placement gave the server, used when the curve does not record it.
pub fn table(curves: &[Curve], placement_cpus: Option<u32>) -> Vec<CapacityRow> {
    let mut rows: Vec<CapacityRow> = curves
        .iter()
        .map(|c| {
            let held = c.capacity_step().cloned();
            let per_core = held.as_ref().and_then(|s| {
                let cores = match c.server_cpus.or(placement_cpus) {
                    Some(n) if n > 0 => Cores::Given(n),
                    _ => Cores::Measured(s.server_cpu_cores),
                };
                let by = match cores {
                    Cores::Given(n) => n as f64,
                    Cores::Measured(c) => c,
                };
                (by > 0.0).then(|| (s.deliveries_per_s / by, cores))
            });
            CapacityRow {
                transport: c.transport,
                held,
                unit: c.unit(),
                lower_bound: c.loadgen_limited,
                verdict: verdict(c),
                per_core,
            }
        })
        .collect();
    rows.sort_by_key(|r| crate::transport::rank(r.transport));
    rows
}

/// The capacity table's headers.
pub const HEADERS: [&str; 8] = [
    "transport",
    "held (offered)",
    "deliveries/s there",
    "p99 there",
    "server CPU · RSS there",
    "CPU per delivery: server · load generator",
    "deliveries/s per server core",
    "verdict",
];

/// One row's cells, in [`HEADERS`] order.
pub fn cells(r: &CapacityRow) -> Vec<String> {
    let dash = || "–".to_string();
    let held = r.held.as_ref();
    let ge = if r.lower_bound { "≥ " } else { "" };
    vec![
        crate::transport::label(r.transport).to_string(),
        held.map_or_else(dash, |s| format!("{ge}{} {}", whole(s.offered), r.unit)),
        held.map_or_else(dash, |s| format!("{ge}{}", whole(s.deliveries_per_s))),
        held.map_or_else(dash, |s| crate::format::latency_us(s.p99_us)),
        held.map_or_else(dash, |s| {
            let rss = s
                .server_rss_bytes
                .map_or_else(dash, |b| crate::format::bytes(b as f64));
            format!("{:.2} cores · {rss}", s.server_cpu_cores)
        }),
        held.map_or_else(dash, |s| {
            format!(
                "{} µs · {} µs",
                number(s.server_cpu_us_per_delivery),
                number(s.client_cpu_us_per_delivery)
            )
        }),
        r.per_core_text(),
        r.verdict.clone(),
    ]
}

/// What the table cannot say, for the line under it: documents written before steps recorded
/// the server's memory show no RSS.
pub fn rss_note(rows: &[CapacityRow]) -> Option<&'static str> {
    rows.iter()
        .filter_map(|r| r.held.as_ref())
        .any(|s| s.server_rss_bytes.is_none())
        .then_some(
            "RSS –: this capacity document was written before steps recorded the server's \
             memory; re-run the search to see it.",
        )
}

#[cfg(test)]
#[path = "capacity_tests.rs"]
pub(crate) mod tests;
