//! What `rtbench run` measures: the scenario `--scenario` names, the command line's overrides on
//! top of it, and the points of `--sweep` × `--repeat`; and how the results document records it.

use crate::cli::RunArgs;
use anyhow::bail;
use rtbench_loadgen::scenario::knobs::{Overrides, expand};
use rtbench_loadgen::scenario::{self, Scenario};
use rtbench_loadgen::workload::SendTo;
use rtbench_loadgen::{Campaign, LoadConfig, Target};
use rtbench_results::RunConfig;

/// The scenario `spec` names. Built-in scenarios that are code rather than a file would be matched
/// here, before [`scenario::load`] looks for a built-in file or a path.
fn load_scenario(spec: &str) -> anyhow::Result<Scenario> {
    Ok(scenario::load(spec)?)
}

/// What one `rtbench run` measures.
pub struct Measured {
    /// The scenario as read from its file.
    pub scenario: Scenario,
    /// Its workload with the command line's overrides, before any sweep.
    pub base: LoadConfig,
    /// Every point and repetition.
    pub campaign: Campaign,
}

/// The scenario and the campaign `args` ask for, checked: nothing runs if any point is invalid.
pub fn from_args(args: &RunArgs) -> anyhow::Result<Measured> {
    let scenario = load_scenario(&args.scenario)?;
    let overrides = Overrides {
        clients: args.clients,
        rate: args.rate,
        payload: args.payload,
        room_size: args.room_size,
        poll_interval: args.poll_interval,
        longpoll_timeout: args.longpoll_timeout,
        warmup: args.warmup,
        window: args.window,
        tail: args.tail,
        drain: args.drain,
    };
    let mut base = scenario.config.clone();
    overrides.apply(&mut base);
    base.transports = args.transports.clone();
    base.quiet = args.quiet;
    let duplicated = base
        .transports
        .iter()
        .any(|t| base.transports.iter().filter(|u| *u == t).count() > 1);
    if duplicated {
        bail!("--transports lists a transport twice");
    }
    let points = expand(&base, &crate::sweep_arg::knob_sweeps(&args.sweep))
        .map_err(|e| anyhow::anyhow!("--sweep {e}"))?;
    let campaign = Campaign {
        points,
        repeat: args.repeat,
        latency_log_dir: None,
    };
    campaign.validate()?;
    Ok(Measured {
        scenario,
        base,
        campaign,
    })
}

/// Topics the server must be able to create for the whole campaign: every phase uses fresh ones.
pub fn topics_needed(campaign: &Campaign) -> usize {
    let per_rep: u64 = campaign
        .points
        .iter()
        .map(|p| {
            let c = &p.config;
            let inputs = matches!(c.send.as_ref().map(|s| s.to), Some(SendTo::Server));
            c.rooms() * if inputs { 2 } else { 1 } * c.transports.len() as u64
        })
        .sum();
    (per_rep * u64::from(campaign.repeat)) as usize + 64
}

/// The results document's record of the workload: the base point's values and the scenario.
pub fn run_config(
    scenario: &Scenario,
    args: &RunArgs,
    base: &LoadConfig,
    target: &Target,
) -> RunConfig {
    let ms = |d: std::time::Duration| d.as_millis() as u64;
    RunConfig {
        scenario: base.scenario.clone(),
        clients: base.clients,
        rate_per_s: base.rate_per_s,
        payload_bytes: base.payload_bytes,
        poll_interval_ms: ms(base.poll_interval),
        longpoll_timeout_ms: ms(base.longpoll_timeout),
        warmup_ms: ms(base.warmup),
        window_ms: ms(base.window),
        tail_ms: ms(base.tail),
        drain_ms: ms(base.drain),
        transports: base.transports.clone(),
        server_http: target.http.to_string(),
        server_tcp: target.tcp.to_string(),
        scenario_file: scenario.file.clone(),
        scenario_description: scenario.description.clone(),
        scenario_toml: scenario.text.clone(),
        room_size: base.effective_room_size(),
        send_rate_per_s: base.send_rate_per_s(),
        sweep: args.sweep.iter().map(ToString::to_string).collect(),
        repeat: args.repeat,
        server: None,
        connections: None,
        idle_window_ms: None,
        conditions: Vec::new(),
        faults: Default::default(),
        stack: Default::default(),
        target: None,
    }
}
