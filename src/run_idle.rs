//! `rtbench run --scenario idle`: memory per connection and the cost of connections that carry no
//! events, for every transport. Each transport gets a fresh server process, so memory one
//! transport's connections freed (and the allocator kept) cannot hide part of the next one's
//! growth; a server given by `--server-http` serves them all in turn instead.

use crate::cli::RunArgs;
use crate::output::{
    check_unique, document, loadgen_runtime, prepare_out, server_info, unix_now_s, write_results,
};
use crate::placement::{self, Plan};
use crate::server_child::{ServerChild, ServerSpec};
use anyhow::bail;
use rtbench_loadgen::idle::SCENARIO;
use rtbench_loadgen::{Control, IdleConfig, Target, run_idle_transport};
use rtbench_results::{RunConfig, ServerInfo, floor};

/// Files a process needs besides the idle connections (listeners, control, runtime, stdio).
const FILES_MARGIN: u64 = 256;

fn idle_config(args: &RunArgs) -> IdleConfig {
    IdleConfig {
        connections: args.connections,
        idle_window: args.idle_window,
        poll_interval: args
            .poll_interval
            .unwrap_or(IdleConfig::default().poll_interval),
        longpoll_timeout: args
            .longpoll_timeout
            .unwrap_or(IdleConfig::default().longpoll_timeout),
        transports: args.transports.clone(),
        quiet: args.quiet,
        ..IdleConfig::default()
    }
}

fn run_config(
    config: &IdleConfig,
    external: Option<Target>,
    server: Option<ServerInfo>,
) -> RunConfig {
    let fresh = "127.0.0.1, a fresh server per transport".to_string();
    RunConfig {
        scenario: SCENARIO.into(),
        clients: config.connections,
        rate_per_s: 0.0,
        payload_bytes: 0,
        poll_interval_ms: config.poll_interval.as_millis() as u64,
        longpoll_timeout_ms: config.longpoll_timeout.as_millis() as u64,
        warmup_ms: 0,
        window_ms: config.idle_window.as_millis() as u64,
        tail_ms: 0,
        drain_ms: 0,
        transports: config.transports.clone(),
        server_http: external.map_or(fresh.clone(), |t| t.http.to_string()),
        server_tcp: external.map_or(fresh, |t| t.tcp.to_string()),
        server,
        connections: Some(config.connections),
        idle_window_ms: Some(config.idle_window.as_millis() as u64),
        scenario_file: "built-in".into(),
        scenario_description:
            "idle connections: memory per connection and the cost of holding them".into(),
        scenario_toml: String::new(),
        room_size: config.connections,
        send_rate_per_s: 0.0,
        sweep: Vec::new(),
        repeat: 1,
        conditions: Vec::new(),
        faults: Default::default(),
        stack: Default::default(),
        target: None,
    }
}

/// Runs the idle scenario.
pub fn run_idle(args: RunArgs) -> anyhow::Result<()> {
    if !args.sweep.is_empty() || args.repeat > 1 {
        bail!("--sweep and --repeat do not apply to the idle scenario");
    }
    let config = idle_config(&args);
    config.validate()?;
    args.server.to_config().validate()?;
    check_unique(&args.transports)?;
    prepare_out(&args.out)?;
    crate::output::clear_previous_run(&args.out)?;
    let limit = crate::rlimit::raise_open_files_limit();
    let needed = config.connections + FILES_MARGIN;
    if limit < needed {
        bail!(
            "--connections {} needs {needed} open files per process, this one may open {limit}",
            config.connections
        );
    }
    crate::environment::warn_if_debug_build();
    if let Some(warning) = rtbench_report::warnings::idle_window_warning(
        config.idle_window.as_millis() as u64,
        args.server.to_config().sse_keep_alive_ms,
        config.longpoll_timeout.as_millis() as u64,
    ) {
        eprintln!("warning: {warning}");
    }

    let external = args
        .server_http
        .zip(args.server_tcp)
        .map(|(http, tcp)| Target::plain(http, tcp));
    let plan = Plan::choose(&placement::allowed_cpus(), !args.no_pin, args.server_cpus)?;
    let runtime = loadgen_runtime(&plan)?;
    let started_at_unix_s = unix_now_s();
    let mut rows = Vec::with_capacity(config.transports.len());
    let mut settings = None;
    let cert = crate::stacks::server_cert(&args)?;
    let spec = ServerSpec {
        cpus: plan.server.clone(),
        fault_endpoints: false,
        tuning: args.server.clone(),
        max_topics: rtbench_proto::ServerSettings::default().max_topics,
        fault: Default::default(),
        // The child's banner is for `rtbench serve` users; warnings still reach stderr.
        quiet: true,
        tls: cert.setting(),
        control_token: None,
        cluster: None,
    };
    for &transport in &config.transports {
        let child = match external {
            Some(_) => None,
            None => Some(ServerChild::start(&spec)?),
        };
        let target = external
            .or(child.as_ref().map(|c| c.target))
            .expect("one of the two is set")
            .with_http2(crate::stacks::stack(&args).http2());
        let control = Control::new(&target)?;
        if settings.is_none() {
            let ours = child.is_some();
            settings = runtime.block_on(server_info(&control, ours))?;
        }
        let row = runtime.block_on(run_idle_transport(transport, &config, &target, &control))?;
        rows.push(row);
        drop(child);
    }

    let mut rows = floor::with_p50_ratios(rows);
    crate::stacks::mark_stack_notes(&mut rows, crate::stacks::stack(&args));
    let config = RunConfig {
        stack: crate::stacks::stack(&args),
        ..run_config(&config, external, settings)
    };
    let results = document(started_at_unix_s, (&plan, external), config, rows);
    write_results(&results, &args.out, &args.print)
}
