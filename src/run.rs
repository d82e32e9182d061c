//! `rtbench run`: start a server, measure every transport with the same events, print the table,
//! write `results.json` and `summary.md`.

use crate::cli::RunArgs;
use crate::placement::{self, Plan};
use crate::server_child::ServerChild;
use anyhow::{Context, bail};
use rtbench_loadgen::{LoadConfig, Target};
use rtbench_results::{Placement, Results, RunConfig, SCHEMA_VERSION, ServerFault};
use std::path::Path;

fn load_config(args: &RunArgs) -> LoadConfig {
    LoadConfig {
        scenario: "dashboard".into(),
        clients: args.clients,
        rate_per_s: args.rate,
        payload_bytes: args.payload,
        poll_interval: args.poll_interval,
        longpoll_timeout: args.longpoll_timeout,
        warmup: args.warmup,
        window: args.window,
        tail: args.tail,
        drain: args.drain,
        transports: args.transports.clone(),
        quiet: args.quiet,
        ..LoadConfig::default()
    }
}

/// Creates `dir` and proves it writable, so a bad `--out` fails before a minute of measuring.
fn prepare_out(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create --out {}", dir.display()))?;
    let probe = dir.join(".rtbench-write-test");
    std::fs::write(&probe, b"")
        .with_context(|| format!("cannot write to --out {}", dir.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

fn run_config(config: &LoadConfig, target: &Target, server_fault: ServerFault) -> RunConfig {
    RunConfig {
        scenario: config.scenario.clone(),
        clients: config.clients,
        rate_per_s: config.rate_per_s,
        payload_bytes: config.payload_bytes,
        poll_interval_ms: config.poll_interval.as_millis() as u64,
        longpoll_timeout_ms: config.longpoll_timeout.as_millis() as u64,
        warmup_ms: config.warmup.as_millis() as u64,
        window_ms: config.window.as_millis() as u64,
        tail_ms: config.tail.as_millis() as u64,
        drain_ms: config.drain.as_millis() as u64,
        transports: config
            .transports
            .iter()
            .map(|t| t.as_str().to_string())
            .collect(),
        server_http: target.http.to_string(),
        server_tcp: target.tcp.to_string(),
        server_fault,
    }
}

/// Runs the command.
pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let config = load_config(&args);
    config.validate()?;
    if !args
        .transports
        .iter()
        .all(|t| args.transports.iter().filter(|u| *u == t).count() == 1)
    {
        bail!("--transports lists a transport twice");
    }
    prepare_out(&args.out)?;
    let fault = ServerFault {
        delay_us: args.server_fault_delay_us,
        pad_bytes: args.server_fault_pad_bytes as usize,
    };

    let external = args
        .server_http
        .zip(args.server_tcp)
        .map(|(http, tcp)| Target { http, tcp });
    let plan = Plan::choose(&placement::allowed_cpus(), !args.no_pin);
    let server = match external {
        Some(_) => None,
        None => Some(ServerChild::start(&plan.server, fault)?),
    };
    let target = external
        .or(server.as_ref().map(|s| s.target))
        .expect("one of the two is set");
    placement::pin_current_thread(&plan.loadgen)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(plan.loadgen.len().max(1))
        .enable_all()
        .build()
        .context("starting the load generator's runtime")?;

    let started_at_unix_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    if !config.quiet {
        let pid = server
            .as_ref()
            .map(|s| format!(" (pid {})", s.pid()))
            .unwrap_or_default();
        eprintln!(
            "server at http://{} and tcp://{}{pid}",
            target.http, target.tcp
        );
    }
    let rows = runtime.block_on(rtbench_loadgen::run(&config, &target))?;
    drop(server);

    let description = plan.describe(external.map(|t| t.http.to_string()).as_deref());
    let results = Results {
        schema_version: SCHEMA_VERSION,
        tool: format!("rtbench {}", env!("CARGO_PKG_VERSION")),
        command: std::env::args().collect(),
        started_at_unix_s,
        environment: crate::environment::detect(Placement {
            server_cpus: plan.server.clone(),
            loadgen_cpus: plan.loadgen.clone(),
            description,
        }),
        config: run_config(&config, &target, fault),
        rows,
    };
    print!("{}", rtbench_report::render_table(&results));
    let json = args.out.join("results.json");
    results.save(&json)?;
    let md = args.out.join("summary.md");
    std::fs::write(&md, rtbench_report::render_markdown(&results))
        .with_context(|| format!("writing {}", md.display()))?;
    eprintln!("wrote {} and {}", json.display(), md.display());
    Ok(())
}
