//! `rtbench run`: start a server, measure every transport of the scenario (every sweep point,
//! every repetition) with the same events, print the table, write `results.json`, `summary.md` and
//! `index.html`. `--scenario idle` is handed to [`crate::run_idle`].

use crate::cli::RunArgs;
use crate::conditions::{fault_plan, faults_spec, profiles, spec as spec_of};
use crate::output::{
    document, loadgen_runtime, prepare_out, server_info, unix_now_s, write_results,
};
use crate::placement::{self, Plan};
use crate::server_child::{ManagedServer, ServerChild, ServerSpec};
use anyhow::bail;
use rtbench_loadgen::capacity::Plan as CapacityPlan;
use rtbench_loadgen::{Campaign, Conditions, Control, Progress, Target, shard};
use rtbench_results::{Row, RunConfig, ServerFault};
use std::path::Path;
use std::sync::Arc;

/// Sets every point's load-generator processes: `--loadgen-procs`, or more (and says so) when
/// one process's open-file limit cannot hold its share of the largest phase's clients. One line
/// when no number of processes would do, or the server could not hold the clients.
fn spread_clients(
    args: &RunArgs,
    campaign: &mut Campaign,
    capacity: Option<&CapacityPlan>,
    open_files: u64,
) -> anyhow::Result<u32> {
    let mut clients = campaign
        .points
        .iter()
        .map(|p| p.config.clients)
        .max()
        .unwrap_or(0);
    if let Some(plan) = capacity.filter(|p| p.axis == rtbench_loadgen::capacity::Axis::Clients) {
        clients = clients.max(plan.steps.iter().fold(0.0f64, |a, &b| a.max(b)) as u64);
    }
    let margin = rtbench_loadgen::shard::FD_MARGIN;
    // A cluster's processes share the clients (SO_REUSEPORT spreads them about evenly).
    let per_server = clients.div_ceil(u64::from(args.cluster.server_procs));
    if args.server_http.is_none() && per_server.saturating_add(margin) > open_files {
        bail!(
            "{per_server} clients need {} open files in the server process, over the open-file limit of {open_files} (ulimit -Hn); raise the hard limit",
            per_server + margin
        );
    }
    let Some(procs) = shard::procs_needed(clients, args.loadgen_procs, open_files) else {
        bail!(
            "{clients} clients cannot be spread over at most {} load-generator processes with an open-file limit of {open_files} (ulimit -Hn)",
            shard::MAX_LOADGEN_PROCS
        );
    };
    if procs > args.loadgen_procs && !args.quiet {
        eprintln!(
            "spreading {clients} clients over {procs} load-generator processes: one process may open {open_files} files (ulimit -Hn)"
        );
    }
    for point in &mut campaign.points {
        point.config.loadgen_procs = procs;
        let per_proc = point.config.clients.div_ceil(u64::from(procs));
        point.config.connect_timeout = point.config.connect_timeout.max(connect_time(per_proc));
    }
    Ok(procs)
}

/// How long one load-generator process may take to connect `clients`: 20 s, plus 1 s for every
/// 250 clients past 5,000 (a 50,000-client run on a busy 2-core machine connects about 600 per
/// second per process; a fixed 20 s failed it).
fn connect_time(clients: u64) -> std::time::Duration {
    std::time::Duration::from_secs(20 + clients.saturating_sub(5_000) / 250)
}

/// Checks every flag, each conditions profile included, before anything starts.
fn check(args: &RunArgs, campaign: &Campaign, profiles: &[Conditions]) -> anyhow::Result<()> {
    for profile in profiles {
        let mut c = campaign.clone();
        for point in &mut c.points {
            point.config.conditions = profile.clone();
        }
        c.validate()?;
    }
    if args.server_http.is_some() && args.restart_server_at.is_some() {
        bail!(
            "--restart-server-at restarts a server rtbench started itself, not one given by --server-http"
        );
    }
    Ok(())
}

/// Runs the campaign under every conditions profile, in order; one set of rows per profile.
fn measure(
    runtime: &tokio::runtime::Runtime,
    campaign: &Campaign,
    target: &Target,
    (server, plan): (Option<&ManagedServer>, &Plan),
    profiles: &[Conditions],
    (quiet, capacity): (bool, Option<(&CapacityPlan, &Path)>),
    (client_meter, remote): (
        Option<Option<u32>>,
        Option<Arc<shard::remote::RemoteShards>>,
    ),
) -> anyhow::Result<Vec<Row>> {
    let mut control = Control::new(target)?;
    if let Some(pid) = client_meter {
        control = control.with_client_meter(pid);
    }
    if let Some(server) = server {
        control = control.with_restarter(Arc::new(server.clone()));
    }
    if let Some(remote) = remote {
        control = control.with_remote_shards(remote);
    } else if plan.loadgen_procs > 1 {
        let spawner = crate::shard_cmd::ShardSpawner::new(plan.loadgen.clone())?;
        control = control.with_shard_spawner(Arc::new(spawner));
    }
    let progress = Progress::stderr(quiet);
    let mut rows = Vec::new();
    for profile in profiles {
        let mut c = campaign.clone();
        for point in &mut c.points {
            point.config.conditions = profile.clone();
        }
        if !quiet && (profiles.len() > 1 || !profile.is_loopback()) {
            progress.println(&format!("conditions {}", profile.describe()));
        }
        rows.extend(match capacity {
            Some((search, out)) => runtime.block_on(crate::capacity_cmd::measure_placed(
                &c,
                search,
                (!plan.server.is_empty()).then_some(plan.server.len() as u32),
                (target, &control, &progress),
                out,
            ))?,
            None => runtime.block_on(rtbench_loadgen::run_campaign_with(
                &c, target, &control, &progress,
            ))?,
        });
    }
    Ok(rows)
}

/// Runs the command, once per `--stack` ([`crate::stacks`]).
pub fn run(args: RunArgs) -> anyhow::Result<()> {
    crate::stacks::run_each(args, run_stack)
}

/// Runs the command on the one stack of `args`.
fn run_stack(mut args: RunArgs) -> anyhow::Result<()> {
    if args.scenario == crate::connect_cmd::SCENARIO {
        return crate::connect_cmd::run(args);
    }
    let target_mode = crate::run_target::prepare(&mut args)?;
    if args.scenario == "idle" {
        if crate::browser_cmd::browser_wanted(&args) {
            bail!("--clients-in browser: the idle scenario is measured by rtbench's clients only");
        }
        if args.loadgen_procs > 1 {
            bail!(
                "--loadgen-procs is for workloads with events; the idle scenario runs in one process"
            );
        }
        return crate::run_idle::run_idle(args);
    }
    let open_files = crate::rlimit::raise_open_files_limit();
    let mut measured = crate::campaign::from_args(&args)?;
    measured.campaign.latency_log_dir = Some(args.out.clone());
    let faults = fault_plan(&args);
    for point in &mut measured.campaign.points {
        point.config.faults = faults.clone();
        point.config.loadgen_lag_bound = args.capacity.loadgen_lag_bound;
        point.config.socketio_ack = args.socketio_ack;
    }
    if args.socketio_ack
        && measured
            .campaign
            .points
            .iter()
            .all(|p| p.config.send.is_none())
    {
        bail!("--socketio-ack needs a scenario whose clients publish (chat, game)");
    }
    let profiles = profiles(&args, args.server_http.is_some())?;
    let capacity = args.capacity.plan();
    if capacity.is_some() && profiles.len() > 1 {
        bail!("the capacity search runs under one --conditions profile");
    }
    let loadgen_procs =
        spread_clients(&args, &mut measured.campaign, capacity.as_ref(), open_files)?;
    let loadgen_procs = crate::run_remote::procs(&args, &mut measured.campaign, loadgen_procs);
    check(&args, &measured.campaign, &profiles)?;
    crate::browser_cmd::check(&args, &measured.campaign, &profiles)?;
    if target_mode.is_some() && loadgen_procs > 1 {
        bail!("--target counts bytes in one load-generator process: run fewer clients");
    }
    let plan = Plan {
        loadgen_procs,
        ..Plan::choose(&placement::allowed_cpus(), !args.no_pin, args.server_cpus)?
    };
    args.server.to_config().validate()?;
    let campaign = &measured.campaign;
    let server_fault = ServerFault {
        delay_us: args.server_fault_delay_us,
        pad_bytes: args.server_fault_pad_bytes as usize,
    };
    prepare_out(&args.out)?;
    crate::output::clear_previous_run(&args.out)?;
    crate::environment::warn_if_debug_build();

    let external = args
        .server_http
        .zip(args.server_tcp)
        .map(|(http, tcp)| Target::plain(http, tcp));
    let cert = crate::stacks::server_cert(&args)?;
    let spec = ServerSpec {
        cpus: plan.server.clone(),
        fault_endpoints: faults.drops(),
        tuning: args.server.clone(),
        max_topics: crate::campaign::topics_needed(campaign) * profiles.len()
            + crate::browser_cmd::topics_needed(&args, campaign),
        fault: server_fault,
        // The child's banner ("try /sse?topic=demo") is for `rtbench serve` users; `run` prints
        // its own line with the addresses. Warnings still reach stderr.
        quiet: true,
        tls: cert.setting(),
        control_token: crate::run_remote::control_token(&args),
        cluster: None,
    };
    let shard_listener = crate::run_remote::listen(&args)?;
    // The broker lives as long as the server (dropped after it: declared first).
    let (broker, cluster) = match external {
        Some(_) => (None, None),
        None => {
            let cluster = crate::broker_child::for_scenario(&args.cluster, &args.scenario);
            crate::broker_child::start(&cluster)?
        }
    };
    let spec = ServerSpec { cluster, ..spec };
    let server = match (external, args.shard_listen) {
        (Some(_), _) => None,
        (None, Some(listen)) if shard_listener.is_some() => Some(ManagedServer::new(
            ServerChild::start_at(&spec, listen.ip())?,
        )),
        (None, _) => Some(ManagedServer::new(ServerChild::start(&spec)?)),
    };
    let target = external
        .or(server.as_ref().map(ManagedServer::target))
        .expect("one of the two is set")
        .with_http2(crate::stacks::stack(&args).http2())
        .with_control_token(spec.control_token.clone().map(|t| &*t.leak()));
    let runtime = loadgen_runtime(&plan)?;
    let started_at_unix_s = unix_now_s();
    if !args.quiet {
        let pid = server
            .as_ref()
            .map(|s| format!(" (pid {})", s.pid()))
            .unwrap_or_default();
        eprintln!(
            "server at http://{} and tcp://{}{pid}",
            target.http, target.tcp
        );
    }
    let ours = server.is_some();
    let settings = match target_mode {
        Some(_) => None,
        None => runtime.block_on(server_info(&Control::new(&target)?, ours))?,
    };
    let remote = crate::run_remote::accept(&runtime, &args, shard_listener)?;
    let procs = spec.cluster.as_ref().map(|c| c.procs);
    let probe = procs.and_then(|n| {
        crate::cluster_probe::ClusterProbe::start(target.http, n, broker.as_ref().map(|b| b.pid()))
    });
    let mut rows = if crate::browser_cmd::rust_wanted(&args) {
        measure(
            &runtime,
            campaign,
            &target,
            (server.as_ref(), &plan),
            &profiles,
            (
                args.quiet,
                capacity.as_ref().map(|p| (p, args.out.as_path())),
            ),
            (target_mode.as_ref().map(|m| m.pid), remote),
        )?
    } else {
        Vec::new()
    };
    if crate::browser_cmd::browser_wanted(&args) {
        rows.extend(crate::browser_cmd::measure_points(
            &runtime, campaign, target, args.quiet,
        )?);
        rows = crate::browser_cmd::with_floor_ratios(rows);
    }
    let cluster = probe.and_then(crate::cluster_probe::ClusterProbe::finish);
    drop(server);
    crate::stacks::mark_stack_notes(&mut rows, crate::stacks::stack(&args));
    crate::run_target::mark_unmeasured(&mut rows, target_mode.as_ref());

    let config = RunConfig {
        stack: crate::stacks::stack(&args),
        server: settings,
        conditions: profiles.iter().map(spec_of).collect(),
        faults: crate::browser_cmd::faults_spec(&args, faults_spec(&faults)),
        target: target_mode
            .as_ref()
            .map(crate::run_target::TargetMode::record),
        ..crate::campaign::run_config(&measured.scenario, &args, &measured.base, &target)
    };
    let mut results = document(started_at_unix_s, (&plan, external), config, rows);
    results.cluster = cluster;
    let results =
        crate::write_cost::with_calibration(results, (ours, args.calibrate_write, args.quiet));
    write_results(&results, &args.out, &args.print)?;
    crate::write_cost::print_floor_ratio(&results, args.quiet);
    Ok(())
}
