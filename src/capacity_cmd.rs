//! `rtbench run --capacity-steps …`: the capacity search (docs/capacity.md) instead of one
//! measurement per transport — for each transport a ramp of offered load until a step breaks a
//! bound, then a bisection. Every step's row goes into `results.json` like any row; the curves go
//! to `capacity.json` beside it, and a capacity table is printed.

use rtbench_loadgen::capacity::{Axis, Curve, Plan, Verdict, run_capacity};
use rtbench_loadgen::{Campaign, Control, Progress, Target};
use rtbench_results::Row;
use std::path::Path;

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
            "{} {unit} held: {:.0} deliveries/s{}, p99 {:.1} ms, server {:.2} cores{} ({:.1} µs/delivery), load generator {:.1} µs/delivery",
            s.offered,
            s.deliveries_per_s,
            per_core(c, s),
            s.p99_us / 1e3,
            s.server_cpu_cores,
            s.server_rss_bytes
                .map(|b| format!(" and {:.0} MiB", b as f64 / (1u64 << 20) as f64))
                .unwrap_or_default(),
            s.server_cpu_us_per_delivery,
            s.client_cpu_us_per_delivery
        ),
        None => "no step held".into(),
    };
    // The lightest step that broke: after a bisection the last step run may have held.
    let first_broken = c
        .steps
        .iter()
        .filter(|s| matches!(s.verdict, Verdict::Broke(_)))
        .map(|s| s.offered)
        .min_by(f64::total_cmp);
    let limit = match (c.loadgen_limited, first_broken) {
        (true, _) => " · LOADGEN-BOUND before the server broke a bound: a lower bound, not the server's capacity".into(),
        (false, Some(offered)) => format!(" · broke at {offered} {unit}"),
        (false, None) => " · no step broke: capacity is above the last step".into(),
    };
    format!("capacity {}: {held}{limit}", c.transport)
}

/// `(N per server core)` when the server was given a known number of CPUs.
fn per_core(c: &Curve, s: &rtbench_loadgen::capacity::Step) -> String {
    match c.server_cpus {
        Some(n) if n > 0 => format!(
            " ({:.0} per server core, {n} given)",
            s.deliveries_per_s / f64::from(n)
        ),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtbench_loadgen::capacity::Step;
    use rtbench_proto::Transport;

    fn step(clients: u64, verdict: Verdict, bisection: bool) -> Step {
        Step {
            offered: clients as f64,
            clients,
            rate_per_s: 20.0,
            deliveries_per_s: clients as f64 * 20.0,
            p99_us: 20_000.0,
            lost: 0,
            late: 0,
            unpublished: 0,
            server_cpu_cores: 0.2,
            server_rss_bytes: None,
            loadgen_cpu_cores: None,
            loadgen_lag_p99_us: None,
            server_cpu_us_per_delivery: 5.0,
            client_cpu_us_per_delivery: 5.0,
            loadgen_bound: false,
            bisection,
            verdict,
        }
    }

    #[test]
    fn a_bisection_step_that_held_does_not_hide_where_the_ramp_broke() {
        let curve = Curve {
            transport: Transport::Tcp,
            axis: Axis::Clients,
            steps: vec![
                step(100, Verdict::Held, false),
                step(3_000, Verdict::Broke("p99".into()), false),
                step(2_000, Verdict::Held, true),
            ],
            capacity: Some(2_000.0),
            loadgen_limited: false,
            server_cpus: Some(1),
        };
        let l = line(&curve);
        assert!(l.starts_with("capacity tcp: 2000 clients held"), "{l}");
        assert!(l.ends_with(" · broke at 3000 clients"), "{l}");
    }
}
