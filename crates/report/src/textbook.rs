//! The textbook table, measured: the chapter's four claims beside the figures of the base workload,
//! a rating derived from them ([`crate::rating`]) and a verdict per cell, plus, where the data holds
//! a sweep, the values at which the verdict flips. Transports beyond the chapter (Socket.IO, …)
//! that were measured get a part of their own below the chapter's rows, rated by the same scales
//! with no claim to hold them to.
//!
//! Nothing here is a measured number: every figure comes from the [`Dataset`].

use crate::capacity::CapacityRow;
use crate::data::{Dataset, Param, Point};
use crate::format::{latency_us, number, ratio};
use crate::rating::{LATENCY, Level, OVERHEAD, Scale, Verdict};
use rtbench_results::Transport;
use std::sync::LazyLock;

/// One row of the chapter's table (section 7.3.1): technique, latency claim, overhead claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// The technique as the chapter names it.
    pub technique: &'static str,
    /// The transport that measures it.
    pub transport: Transport,
    /// The chapter's latency rating.
    pub latency: &'static str,
    /// The chapter's overhead rating.
    pub overhead: &'static str,
}

/// The chapter's rows, one per transport with a chapter claim (its `spec().chapter`), in the
/// chapter's order: from the oldest technique (short polling) to the newest, the reverse of
/// [`Transport::ALL`].
pub fn claims() -> Vec<Claim> {
    Transport::ALL
        .iter()
        .rev()
        .filter_map(|&transport| {
            let c = transport.spec().chapter?;
            Some(Claim {
                technique: c.technique,
                transport,
                latency: c.latency,
                overhead: c.overhead,
            })
        })
        .collect()
}

/// The claim cell of a transport beyond the chapter: the chapter rates it nowhere.
pub const NO_CLAIM: &str = "–";

/// The rows of the part beyond the chapter, one per transport that is neither the floor nor one
/// of the chapter's techniques, in [`Transport::ALL`] order, with [`NO_CLAIM`] as their claims.
pub fn beyond_claims() -> Vec<Claim> {
    Transport::ALL
        .into_iter()
        .filter(|t| t.is_beyond())
        .map(|transport| Claim {
            technique: transport.label(),
            transport,
            latency: NO_CLAIM,
            overhead: NO_CLAIM,
        })
        .collect()
}

/// One claim held against one measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The chapter's rating.
    pub claimed: &'static str,
    /// The measured figure and its ratio to the floor, e.g. `1.24 ms (2.18×)`; empty when not measured.
    pub figure: String,
    /// The rating derived from the figure.
    pub rated: Option<&'static str>,
    /// The verdict, when a rating could be derived.
    pub verdict: Option<Verdict>,
    /// Where the data shows the verdict flipping (or holding) along a sweep, one sentence each.
    pub sweeps: Vec<String>,
}

impl Cell {
    /// The verdict as text: `agrees`, `disagrees: …`, or why there is none.
    pub fn verdict_text(&self) -> String {
        match (&self.verdict, self.figure.is_empty()) {
            (Some(v), _) => v.to_string(),
            (None, true) => "not measured".into(),
            (None, false) if self.claimed == NO_CLAIM => "beyond the chapter: no claim".into(),
            (None, false) => "no floor under this workload to rate against".into(),
        }
    }
}

/// One technique's row of the measured table.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredRow {
    /// The chapter's claim.
    pub claim: Claim,
    /// Latency cell.
    pub latency: Cell,
    /// Overhead cell.
    pub overhead: Cell,
    /// Other costs per delivery, stated but not rated: requests and server CPU.
    pub other_cost: String,
    /// Deliveries/s per server core at the capacity bound, when a capacity document is given
    /// (`≥ …` when the load generator gave out first); `–` when it has no figure for the row.
    pub per_core: Option<String>,
}

/// The whole measured table.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// The four rows, in the chapter's order.
    pub rows: Vec<MeasuredRow>,
    /// The part beyond the chapter: its transports that the base workload measured, rated by the
    /// same scales, with no claim ([`NO_CLAIM`]) and so no verdict.
    pub beyond: Vec<MeasuredRow>,
    /// The floor's own figures, e.g. `p50 571 µs, 180 B per delivery`, when it was measured.
    pub floor: Option<String>,
}

/// The two ratios a point is rated on: latency p50 and bytes per delivery over its floor's.
fn ratios(d: &Dataset, p: &Point) -> Option<(f64, f64)> {
    Some((
        d.over_floor(p, |x| x.latency.p50)?,
        d.over_floor(p, |x| x.bytes_per_delivery)?,
    ))
}

fn rate(scale: &Scale, d: &Dataset, p: &Point) -> Option<Level> {
    let (lat, bytes) = ratios(d, p)?;
    scale.rate(if *scale == LATENCY { lat } else { bytes })
}

/// Sentences on how the verdict of `claimed` behaves along every sweep of `transport` in the data.
pub fn sweep_notes(
    d: &Dataset,
    transport: Transport,
    scale: &Scale,
    claimed: Level,
) -> Vec<String> {
    let mut notes = Vec::new();
    for param in Param::ALL {
        let Some(points) = d.sweep(param) else {
            continue;
        };
        let rated: Vec<(f64, Level)> = points
            .iter()
            .filter(|p| p.transport == transport)
            .filter_map(|p| Some((param.of(&p.workload)?, rate(scale, d, p)?)))
            .collect();
        if rated.len() < 2 {
            continue;
        }
        // Runs of consecutive values with the same level.
        let mut runs: Vec<(f64, f64, Level)> = Vec::new();
        for &(v, l) in &rated {
            match runs.last_mut() {
                Some(last) if last.2 == l => last.1 = v,
                _ => runs.push((v, v, l)),
            }
        }
        let agree = |l: Level| {
            if Verdict::of(claimed, l).agrees() {
                "agrees"
            } else {
                "disagrees"
            }
        };
        let flips = runs.windows(2).any(|w| agree(w[0].2) != agree(w[1].2));
        let (lo, hi) = (rated[0].0, rated[rated.len() - 1].0);
        if flips {
            let parts: Vec<String> = runs
                .iter()
                .map(|&(a, b, l)| {
                    format!(
                        "{} ({}) at {}",
                        agree(l),
                        scale.label(l),
                        d.range(param, a, b)
                    )
                })
                .collect();
            notes.push(format!("flips with {}: {}", param.name(), parts.join("; ")));
        } else if runs.len() == 1 {
            let verb = if agree(runs[0].2) == "agrees" {
                "holds"
            } else {
                "disagrees"
            };
            notes.push(format!(
                "{verb} across {} ({})",
                d.range(param, lo, hi),
                scale.label(runs[0].2)
            ));
        } else {
            let verb = if agree(runs[0].2) == "agrees" {
                "holds"
            } else {
                "disagrees"
            };
            let parts: Vec<String> = runs
                .iter()
                .map(|&(a, b, l)| format!("{} at {}", scale.label(l), d.range(param, a, b)))
                .collect();
            notes.push(format!(
                "{verb} across {}: {}",
                d.range(param, lo, hi),
                parts.join(", ")
            ));
        }
    }
    notes
}

fn cell(
    d: &Dataset,
    p: Option<&Point>,
    scale: &Scale,
    claimed: &'static str,
    transport: Transport,
) -> Cell {
    // The chapter's labels are on its scales; a transport beyond the chapter has none.
    let claimed_level = scale.level_of(claimed);
    let sweeps = claimed_level
        .map(|l| sweep_notes(d, transport, scale, l))
        .unwrap_or_default();
    let Some(p) = p else {
        return Cell {
            claimed,
            figure: String::new(),
            rated: None,
            verdict: None,
            sweeps,
        };
    };
    let r = ratios(d, p);
    let figure = if *scale == LATENCY {
        format!("{} ({})", latency_us(p.latency.p50), ratio(r.map(|r| r.0)))
    } else {
        format!(
            "{} B ({})",
            number(p.bytes_per_delivery),
            ratio(r.map(|r| r.1))
        )
    };
    let level = rate(scale, d, p);
    Cell {
        claimed,
        figure,
        rated: level.map(|l| scale.label(l)),
        verdict: level.zip(claimed_level).map(|(l, c)| Verdict::of(c, l)),
        sweeps,
    }
}

fn other_cost(d: &Dataset, p: Option<&Point>) -> String {
    let Some(p) = p else { return String::new() };
    if !p.server_measured {
        return format!(
            "requests {} · server CPU not measured",
            number(p.requests_per_delivery)
        );
    }
    let cpu_ratio = d.over_floor(p, |x| x.server_cpu_us_per_delivery);
    format!(
        "requests {} · server CPU {} µs ({})",
        number(p.requests_per_delivery),
        number(p.server_cpu_us_per_delivery),
        ratio(cpu_ratio)
    )
}

/// The chapter's techniques as the browser's clients measured them: "WebSockets (browser)".
static BROWSER_TECHNIQUES: LazyLock<Vec<(Transport, String)>> = LazyLock::new(|| {
    claims()
        .into_iter()
        .map(|c| (c.transport, format!("{} (browser)", c.technique)))
        .collect()
});

/// After each claim's row, the same claim held against the browser's clients' point of the base
/// workload, when the data has one (rated against the same floor; no sweep notes, the sweeps
/// are the Rust clients').
fn with_browser_rows(d: &Dataset, rows: &mut Vec<MeasuredRow>, per_core: bool) {
    let browser = d.browser_base_points();
    let mut out = Vec::with_capacity(rows.len() * 2);
    for row in rows.drain(..) {
        let claim = row.claim;
        out.push(row);
        let Some(p) = browser
            .iter()
            .copied()
            .find(|p| p.transport == claim.transport)
        else {
            continue;
        };
        let Some((_, technique)) = BROWSER_TECHNIQUES.iter().find(|t| t.0 == claim.transport)
        else {
            continue;
        };
        let mut latency = cell(d, Some(p), &LATENCY, claim.latency, claim.transport);
        let mut overhead = cell(d, Some(p), &OVERHEAD, claim.overhead, claim.transport);
        latency.sweeps.clear();
        overhead.sweeps.clear();
        out.push(MeasuredRow {
            claim: Claim {
                technique: technique.as_str(),
                ..claim
            },
            latency,
            overhead,
            other_cost: other_cost(d, Some(p)),
            per_core: per_core.then(|| "–".into()),
        });
    }
    *rows = out;
}

/// Measures the chapter's table against the base workload of `d`.
pub fn measure(d: &Dataset) -> Measured {
    measure_with(d, None)
}

/// [`measure`], with the capacity table's "deliveries/s per server core at the bound" beside each
/// row's bytes per delivery when `capacity` is given.
pub fn measure_with(d: &Dataset, capacity: Option<&[CapacityRow]>) -> Measured {
    let mut rows: Vec<MeasuredRow> = claims()
        .into_iter()
        .map(|claim| measured_row(d, claim, capacity))
        .collect();
    let beyond = beyond_claims()
        .into_iter()
        .map(|claim| measured_row(d, claim, capacity))
        .filter(|r| !r.latency.figure.is_empty())
        .collect();
    with_browser_rows(d, &mut rows, capacity.is_some());
    let floor = d.floor_for(&d.base).map(|f| {
        format!(
            "p50 {}, {} B, {} µs server CPU per delivery",
            latency_us(f.latency.p50),
            number(f.bytes_per_delivery),
            number(f.server_cpu_us_per_delivery)
        )
    });
    Measured {
        rows,
        beyond,
        floor,
    }
}

/// `claim` held against the base workload's point of its transport.
fn measured_row(d: &Dataset, claim: Claim, capacity: Option<&[CapacityRow]>) -> MeasuredRow {
    let base = d.base_points();
    let p = base
        .iter()
        .copied()
        .find(|p| p.transport == claim.transport);
    MeasuredRow {
        claim,
        latency: cell(d, p, &LATENCY, claim.latency, claim.transport),
        overhead: cell(d, p, &OVERHEAD, claim.overhead, claim.transport),
        other_cost: other_cost(d, p),
        per_core: capacity.map(|rows| {
            rows.iter()
                .find(|r| r.transport == claim.transport)
                .map_or("–".into(), CapacityRow::per_core_text)
        }),
    }
}

#[cfg(test)]
#[path = "textbook_tests.rs"]
mod tests;
