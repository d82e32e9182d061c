//! Which figures the gate checks, per row, under which rule, and how several current runs are
//! combined.
//!
//! - Delivery must be complete: lost, duplicated, reordered and client errors stay 0, and the
//!   window's deliveries equal the baseline's (both are fixed by the workload). This must hold in
//!   *every* current run.
//! - Costs are deterministic for a given workload and compared tightly: wire bytes, HTTP requests
//!   and (when measured) TCP segments per delivery.
//! - Timings are never compared in microseconds — the machine's load moves those — but as ratios
//!   to the raw-TCP floor measured in the same run under the same workload
//!   ([`rtbench_results::floor`]): the median (p50) delivery latency and server CPU per delivery.
//!   The median is gated for the transports whose spec says `latency_gated` (WebSocket, SSE, long
//!   polling: their latency is the server's doing); short polling's median is about half the poll
//!   interval by construction, a ratio of hundreds to a sub-millisecond floor that says nothing
//!   about the code, so it is shown, not gated. The 99th percentile is shown, not gated: on a shared machine one
//!   burst of someone else's work moves it tenfold.
//!
//! Costs and timings must regress in *every* current run to count: given several runs of the same
//! tree, the gate judges each such figure by its best value. Noise from other processes only ever
//! makes a run look worse, and rarely in every run; a real regression shows in all of them.

use crate::check::{Check, Rule};
use crate::tolerance::Tolerances;
use rtbench_results::floor::{floor_row, ratio_of};
use rtbench_results::{Results, Row, Transport};

/// A figure of a row, given the row and its run's floor row.
pub(crate) type Figure = fn(&Row, Option<&Row>) -> Option<f64>;

/// One figure the gate looks at, and the rule it is held to.
pub(crate) struct Metric {
    /// Name in the tables.
    pub(crate) name: &'static str,
    /// How to read it from a row and its run's floor row.
    pub(crate) value: Figure,
    /// The rule it is held to.
    pub(crate) rule: Rule,
}

/// The metrics of a row of `transport`.
pub(crate) fn metrics(transport: Transport, tol: &Tolerances) -> Vec<Metric> {
    let m = |name, value: Figure, rule| Metric { name, value, rule };
    let mut out = vec![
        m(
            "lost+late+dup+reord+errors",
            |r, _| Some((r.undelivered() + r.duplicated + r.reordered + r.client_errors) as f64),
            Rule::Zero,
        ),
        m("deliveries", |r, _| Some(r.deliveries as f64), Rule::Equal),
        m(
            "bytes_per_delivery",
            |r, _| Some(r.bytes_per_delivery),
            Rule::AtMost(tol.bytes),
        ),
        m(
            "requests_per_delivery",
            |r, _| Some(r.requests_per_delivery),
            Rule::AtMost(tol.requests),
        ),
        m(
            "packets_per_delivery",
            |r, _| r.packets_per_delivery,
            Rule::AtMost(tol.packets),
        ),
    ];
    if transport.is_floor() {
        let why = Rule::Info("the floor itself: its µs follow the machine's load");
        out.push(m("p50 µs", |r, _| Some(r.latency_us.p50), why));
        out.push(m("p99 µs", |r, _| Some(r.latency_us.p99), why));
        out.push(m(
            "srv CPU µs/deliv",
            |r, _| r.server_cpu_us_per_delivery_measured(),
            why,
        ));
        return out;
    }
    let p50_rule = if transport.spec().latency_gated {
        Rule::AtMost(tol.p50)
    } else {
        Rule::Info("≈ poll interval ÷ 2 by construction")
    };
    out.push(m(
        "p50 ÷ tcp",
        |r, f| ratio_of(r, f, |x| x.latency_us.p50),
        p50_rule,
    ));
    out.push(m(
        "p99 ÷ tcp",
        |r, f| ratio_of(r, f, |x| x.latency_us.p99),
        Rule::Info("one burst of other work moves it tenfold"),
    ));
    out.push(m(
        "srv CPU ÷ tcp",
        |r, f| {
            r.server_measured
                .then(|| ratio_of(r, f, |x| x.server_cpu_us_per_delivery))
                .flatten()
        },
        Rule::AtMost(tol.cpu),
    ));
    out
}

/// The value several current runs give a figure under `rule`: the worst for delivery rules (they
/// must hold in every run), the best for tolerances (a regression must show in every run).
fn combine(rule: Rule, values: &[Option<f64>]) -> Option<f64> {
    let mut known = values.iter().flatten().copied();
    let first = known.next()?;
    if values.iter().any(Option::is_none) {
        return None;
    }
    Some(match rule {
        Rule::Zero => known.fold(first, f64::max),
        Rule::Equal => known.find(|v| *v != first).unwrap_or(first),
        Rule::AtMost(_) | Rule::Info(_) => known.fold(first, f64::min),
    })
}

/// Every check of every row of `baseline`, in its row order, against one or more `currents`.
/// Rows are assumed to exist in every document (see [`crate::compat::check_compatible`]).
pub fn checks(baseline: &Results, currents: &[Results], tol: &Tolerances) -> Vec<Check> {
    let mut out = Vec::new();
    for b in &baseline.rows {
        let b_floor = floor_row(&baseline.rows, b);
        let rows: Vec<(&Row, Option<&Row>)> = currents
            .iter()
            .filter_map(|doc| {
                let row = doc.row(&b.scenario, b.transport)?;
                Some((row, floor_row(&doc.rows, row)))
            })
            .collect();
        for metric in metrics(b.transport, tol) {
            let base = (metric.value)(b, b_floor);
            let values: Vec<Option<f64>> = rows
                .iter()
                .map(|&(row, fl)| (metric.value)(row, fl))
                .collect();
            let current = combine(metric.rule, &values);
            out.push(Check::new(
                b.transport,
                metric.name,
                base,
                current,
                metric.rule,
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_runs_combine_worst_for_delivery_and_best_for_tolerances() {
        let v = [Some(3.0), Some(1.0), Some(2.0)];
        assert_eq!(combine(Rule::Zero, &v), Some(3.0));
        assert_eq!(combine(Rule::AtMost(5.0), &v), Some(1.0));
        assert_eq!(
            combine(Rule::Equal, &[Some(4.0), Some(4.0), Some(3.0)]),
            Some(3.0)
        );
        assert_eq!(combine(Rule::Equal, &[Some(4.0), Some(4.0)]), Some(4.0));
        assert_eq!(combine(Rule::AtMost(5.0), &[Some(1.0), None]), None);
        assert_eq!(combine(Rule::Zero, &[]), None);
    }
}
