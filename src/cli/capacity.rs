//! `rtbench run`'s capacity-search flags (`docs/capacity.md`).

use clap::Args;
use rtbench_loadgen::capacity::{Axis, Bounds, Plan};
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
    #[arg(long, value_parser = super::duration, default_value = "5ms")]
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
