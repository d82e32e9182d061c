//! `rtbench run --capacity-steps …`: the capacity search (docs/capacity.md) instead of one
//! measurement per transport — for each transport a ramp of offered load until a step breaks a
//! bound, then a bisection. Every step's row goes into `results.json` like any row; the curves go
//! to `capacity.json` beside it, and a capacity table is printed.

use rtbench_loadgen::capacity::{Axis, Curve, Plan, run_capacity};
use rtbench_loadgen::{Campaign, Control, Progress, Target};
use rtbench_results::Row;
use std::path::Path;

/// [`measure_placed`] without the server's CPU count: `capacity.json` then leaves `server_cpus`
/// out, and the report divides by the server CPUs `results.json`'s placement names instead.
pub async fn measure(
    campaign: &Campaign,
    plan: &Plan,
    ctx: (&Target, &Control, &Progress),
    out: &Path,
) -> anyhow::Result<Vec<Row>> {
    measure_placed(campaign, plan, None, ctx, out).await
}

/// Runs the search for every transport of `campaign`'s one point; writes `capacity.json` to
/// `out` (each curve with `server_cpus`, the CPUs the placement plan gave the server, `None`
/// when not pinned), prints the table, and returns every step's row.
pub async fn measure_placed(
    campaign: &Campaign,
    plan: &Plan,
    server_cpus: Option<u32>,
    (target, control, progress): (&Target, &Control, &Progress),
    out: &Path,
) -> anyhow::Result<Vec<Row>> {
    let [point] = campaign.points.as_slice() else {
        anyhow::bail!("the capacity search runs one point: no --sweep");
    };
    if campaign.repeat > 1 {
        anyhow::bail!("the capacity search does not repeat: no --repeat");
    }
    let (mut curves, mut rows) = (Vec::new(), Vec::new());
    for &t in &point.config.transports {
        let (mut curve, steps) =
            run_capacity(t, &point.config, plan, (target, control, progress)).await?;
        curve.server_cpus = server_cpus;
        curves.push(curve);
        rows.extend(steps);
    }
    // The search's result: printed even with --quiet, like the results table.
    for curve in &curves {
        println!("{}", line(curve));
    }
    let path = out.join("capacity.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&curves)?)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(rows)
}

/// One transport's line of the capacity table.
fn line(c: &Curve) -> String {
    let unit = match c.axis {
        Axis::Clients => "clients",
        Axis::Rate => "events/s",
    };
    let held = match c.capacity_step() {
        Some(s) => format!(
            "{} {unit} held: {:.0} deliveries/s, p99 {:.1} ms, server {:.2} cores ({:.1} µs/delivery), load generator {:.1} µs/delivery",
            s.offered,
            s.deliveries_per_s,
            s.p99_us / 1e3,
            s.server_cpu_cores,
            s.server_cpu_us_per_delivery,
            s.client_cpu_us_per_delivery
        ),
        None => "no step held".into(),
    };
    let limit = match (c.loadgen_limited, c.steps.last()) {
        (true, _) => " · LOADGEN-BOUND before the server broke a bound: a lower bound, not the server's capacity".into(),
        (false, Some(s)) if s.verdict != rtbench_loadgen::capacity::Verdict::Held => {
            format!(" · broke at {} {unit}", s.offered)
        }
        _ => " · no step broke: capacity is above the last step".into(),
    };
    format!("capacity {}: {held}{limit}", c.transport)
}
