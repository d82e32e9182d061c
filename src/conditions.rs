//! `rtbench run`'s network-condition and fault flags: the profiles to run, the fault plan, and how
//! the results document records them.

use crate::cli::RunArgs;
use anyhow::bail;
use rtbench_loadgen::{Conditions, FaultPlan};
use rtbench_results::{ConditionsSpec, FaultsSpec};
use std::time::Duration;

/// The conditions profiles to run, in order: `--conditions`, with `--rtt`, `--jitter` and
/// `--bandwidth` replacing the values of a single profile (which is then named `custom`).
/// `external` says the server was given by address: without a proxy, rows are labelled `direct`.
pub fn profiles(args: &RunArgs, external: bool) -> anyhow::Result<Vec<Conditions>> {
    let mut list = Vec::with_capacity(args.conditions.len());
    for name in &args.conditions {
        let profile = Conditions::profile(name.trim())?;
        if list.iter().any(|p: &Conditions| p.name == profile.name) {
            bail!("--conditions lists '{}' twice", profile.name);
        }
        list.push(profile);
    }
    if list.is_empty() {
        bail!("--conditions needs at least one profile");
    }
    if args.rtt.is_some() || args.jitter.is_some() || args.bandwidth.is_some() {
        if list.len() > 1 {
            bail!(
                "--rtt, --jitter and --bandwidth change one profile; --conditions lists {}",
                list.len()
            );
        }
        let p = &mut list[0];
        p.name = "custom".into();
        p.rtt = args.rtt.unwrap_or(p.rtt);
        p.jitter = args.jitter.unwrap_or(p.jitter);
        p.bandwidth_bps = args.bandwidth.or(p.bandwidth_bps);
    }
    if external {
        for p in list.iter_mut().filter(|p| p.is_loopback()) {
            p.name = "direct".into();
        }
    }
    Ok(list)
}

/// The fault plan of `--drop-fraction`, `--drop-every` and `--restart-server-at`.
pub fn fault_plan(args: &RunArgs) -> FaultPlan {
    FaultPlan {
        drop_fraction: args.drop_fraction.unwrap_or(0.0),
        drop_every: args.drop_every.unwrap_or(Duration::ZERO),
        restart_server_at: args.restart_server_at,
    }
}

/// How the results document records a profile.
pub fn spec(c: &Conditions) -> ConditionsSpec {
    let description = match c.name.as_str() {
        "direct" => "direct: nothing added by rtbench; whatever lies between the load generator and the server".into(),
        _ => c.describe(),
    };
    ConditionsSpec {
        name: c.name.clone(),
        rtt_ms: c.rtt.as_secs_f64() * 1e3,
        jitter_ms: c.jitter.as_secs_f64() * 1e3,
        bandwidth_bps: c.bandwidth_bps,
        description,
    }
}

/// How the results document records the fault plan.
pub fn faults_spec(plan: &FaultPlan) -> FaultsSpec {
    FaultsSpec {
        drop_fraction: plan.drop_fraction,
        drop_every_ms: plan.drops().then_some(plan.drop_every.as_millis() as u64),
        restart_server_at_ms: plan.restart_server_at.map(|d| d.as_millis() as u64),
        description: plan.describe(),
    }
}
