//! The ramp and the bisection, written once over any way of measuring a step (a real phase in
//! [`run_capacity`], made-up rows in tests).

use super::{Axis, Curve, Plan, Step, Verdict, judge};
use crate::config::LoadConfig;
use crate::control::{Control, Target};
use crate::error::LoadError;
use crate::phase::run_phase;
use crate::progress::Progress;
use rtbench_proto::Transport;
use rtbench_results::Row;
use std::future::Future;

/// Ramps `plan`'s steps, measuring each with `measure(offered)`, until one does not hold; then
/// bisects between the last that held and the first that broke (not past a `loadgen-bound` step:
/// the load generator gave out, and nothing above it is known). Returns the curve and every row
/// measured, in the order run.
pub async fn search<F, Fut>(
    transport: Transport,
    plan: &Plan,
    mut measure: F,
) -> Result<(Curve, Vec<Row>), LoadError>
where
    F: FnMut(f64) -> Fut,
    Fut: Future<Output = Result<Row, LoadError>>,
{
    let mut curve = Curve {
        transport,
        axis: plan.axis,
        steps: Vec::new(),
        capacity: None,
        loadgen_limited: false,
        server_cpus: None,
    };
    let mut rows = Vec::new();
    let mut lightest_p99_us = None;
    let mut first_bad = None;
    for &offered in &plan.steps {
        let row = measure(offered).await?;
        let verdict = judge(&row, lightest_p99_us, &plan.bounds);
        lightest_p99_us.get_or_insert(row.latency_us.p99);
        curve
            .steps
            .push(step(offered, &row, verdict.clone(), false));
        rows.push(row);
        match verdict {
            Verdict::Held => curve.capacity = Some(offered),
            Verdict::LoadgenBound => {
                curve.loadgen_limited = true;
                return Ok((curve, rows));
            }
            Verdict::Broke(_) => {
                first_bad = Some(offered);
                break;
            }
        }
    }
    let (Some(mut good), Some(mut bad)) = (curve.capacity, first_bad) else {
        return Ok((curve, rows));
    };
    for _ in 0..plan.bisections {
        let mid = midpoint(plan.axis, good, bad);
        if mid <= good || mid >= bad {
            break;
        }
        let row = measure(mid).await?;
        let verdict = judge(&row, lightest_p99_us, &plan.bounds);
        curve.steps.push(step(mid, &row, verdict.clone(), true));
        rows.push(row);
        match verdict {
            Verdict::Held => {
                good = mid;
                curve.capacity = Some(mid);
            }
            Verdict::Broke(_) => bad = mid,
            Verdict::LoadgenBound => {
                curve.loadgen_limited = true;
                break;
            }
        }
    }
    Ok((curve, rows))
}

/// Halfway between `good` and `bad`: a whole number of clients, or events/s to 0.1.
fn midpoint(axis: Axis, good: f64, bad: f64) -> f64 {
    let mid = (good + bad) / 2.0;
    match axis {
        Axis::Clients => mid.floor(),
        Axis::Rate => (mid * 10.0).floor() / 10.0,
    }
}

/// A curve's step from the row measured at `offered`.
fn step(offered: f64, row: &Row, verdict: Verdict, bisection: bool) -> Step {
    let window_s = row.totals.window_us as f64 / 1e6;
    let per_s = |x: f64| if window_s > 0.0 { x / window_s } else { 0.0 };
    Step {
        offered,
        clients: row.clients,
        rate_per_s: row.rate_per_s,
        deliveries_per_s: per_s(row.deliveries as f64),
        p99_us: row.latency_us.p99,
        lost: row.lost,
        late: row.overload.late,
        unpublished: row.overload.unpublished,
        server_cpu_cores: per_s(row.totals.server_cpu_us as f64 / 1e6),
        server_rss_bytes: row.totals.server_rss_bytes,
        loadgen_cpu_cores: row.overload.loadgen_cpu_cores,
        loadgen_lag_p99_us: row.overload.loadgen_lag_p99_us,
        server_cpu_us_per_delivery: row.server_cpu_us_per_delivery,
        client_cpu_us_per_delivery: row.client_cpu_us_per_delivery,
        loadgen_bound: row.overload.loadgen_bound,
        bisection,
        verdict,
    }
}

/// Runs the capacity search for `transport`: each step is a phase of `base` with its clients (or
/// rate) set to the step's offered load; every step's row is returned beside the curve.
pub async fn run_capacity(
    transport: Transport,
    base: &LoadConfig,
    plan: &Plan,
    (target, control, progress): (&Target, &Control, &Progress),
) -> Result<(Curve, Vec<Row>), LoadError> {
    search(transport, plan, |offered| {
        let mut config = base.clone();
        match plan.axis {
            Axis::Clients => config.clients = offered as u64,
            Axis::Rate => config.rate_per_s = offered,
        }
        let label = format!("capacity {transport} · {} {offered}", axis_name(plan.axis));
        let phase = progress.phase(label.clone());
        async move {
            config.validate()?;
            let row = run_phase(transport, &config, target, control, (&phase, None)).await?;
            drop(phase);
            progress.println(&format!(
                "{label}: p99 {:.1} ms, lost/dup/reord {}{}",
                row.latency_us.p99 / 1e3,
                rtbench_results::format::loss(&row),
                if row.overload.loadgen_bound {
                    " · LOADGEN-BOUND"
                } else {
                    ""
                }
            ));
            Ok(row)
        }
    })
    .await
}

/// The axis as the progress line names it.
fn axis_name(axis: Axis) -> &'static str {
    match axis {
        Axis::Clients => "clients",
        Axis::Rate => "events/s",
    }
}
