//! `rtbench run --capacity-steps …`: the capacity search (docs/capacity.md) instead of one
//! measurement per transport — for each transport a ramp of offered load until a step breaks a
//! bound, then a bisection. Every step's row goes into `results.json` like any row; the curves go
//! to `capacity.json` beside it, and a capacity table is printed.

use clap::Args;
use rtbench_loadgen::capacity::{Axis, Bounds, Curve, Plan, run_capacity};
use rtbench_loadgen::{Campaign, Control, Progress, Target};
use rtbench_results::Row;
use std::path::Path;
use std::time::Duration;

/// Flags of the capacity search.
#[derive(Debug, Clone, Args)]
pub struct CapacityArgs {
    /// Run the capacity search: the offered load of each ramp step, lightest first (clients, or
    /// events/s with `--capacity-axis rate`), e.g. 100,1000,5000,10000,15000.
    #[arg(long, value_delimiter = ',')]
    pub capacity_steps: Vec<f64>,
    /// What the ramp varies: clients (at the scenario's rate) or rate (at the scenario's clients).
    #[arg(long, value_enum, default_value = "clients")]
    pub capacity_axis: AxisArg,
    /// Bisection steps between the last step that held and the first that broke.
    #[arg(long, default_value_t = 3)]
    pub capacity_bisections: u32,
    /// A step breaks when its p99 is more than this many ms above the lightest step's.
    #[arg(long, default_value_t = 250.0)]
    pub capacity_p99_over_ms: f64,
    /// A step also breaks when its p99 is above this many ms.
    #[arg(long)]
    pub capacity_p99_max_ms: Option<f64>,
    /// A step breaks when more events than this were not delivered.
    #[arg(long, default_value_t = 0)]
    pub capacity_max_lost: u64,
    /// A window is marked `loadgen-bound` when the load generator's probe timer fired later than
    /// this at p99 (or its CPU reached 90 % of its cores).
    #[arg(long, value_parser = crate::cli::duration, default_value = "5ms")]
    pub loadgen_lag_bound: Duration,
}

/// `--capacity-axis`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AxisArg {
    /// Clients at the scenario's event rate.
    Clients,
    /// Events per second at the scenario's clients.
    Rate,
}

impl CapacityArgs {
    /// The search's plan; `None` without `--capacity-steps`.
    pub fn plan(&self) -> Option<Plan> {
        (!self.capacity_steps.is_empty()).then(|| Plan {
            axis: match self.capacity_axis {
                AxisArg::Clients => Axis::Clients,
                AxisArg::Rate => Axis::Rate,
            },
            steps: self.capacity_steps.clone(),
            bisections: self.capacity_bisections,
            bounds: Bounds {
                p99_over_lightest_ms: self.capacity_p99_over_ms,
                p99_max_ms: self.capacity_p99_max_ms,
                max_lost: self.capacity_max_lost,
            },
        })
    }
}

/// Runs the search for every transport of `campaign`'s one point; writes `capacity.json` to
/// `out`, prints the table, and returns every step's row.
pub async fn measure(
    campaign: &Campaign,
    plan: &Plan,
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
        let (curve, steps) =
            run_capacity(t, &point.config, plan, (target, control, progress)).await?;
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
