//! `rtbench run`: start a server, measure every transport with the same events, print the table,
//! write `results.json`, `summary.md` and `index.html`. `--scenario idle` is handed to
//! [`crate::run_idle`].

use crate::cli::RunArgs;
use crate::placement::{self, Plan};
use crate::server_child::ServerChild;
use anyhow::{Context, bail};
use rtbench_loadgen::{Control, LoadConfig, Target};
use rtbench_results::{Placement, Results, RunConfig, SCHEMA_VERSION, ServerSettings};
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
pub(crate) fn prepare_out(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create --out {}", dir.display()))?;
    let probe = dir.join(".rtbench-write-test");
    std::fs::write(&probe, b"")
        .with_context(|| format!("cannot write to --out {}", dir.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

fn run_config(config: &LoadConfig, target: &Target, server: Option<ServerSettings>) -> RunConfig {
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
        server,
        connections: None,
        idle_window_ms: None,
    }
}

/// The settings `target`'s server reports, with the allocator filled in when the server is this
/// binary (`None` when it reports none).
pub(crate) async fn server_settings(
    control: &Control,
    ours: bool,
) -> anyhow::Result<Option<ServerSettings>> {
    let snapshot = control.scrape().await?;
    Ok(snapshot.settings.map(|mut s| {
        s.allocator = if ours { crate::ALLOCATOR } else { "unknown" }.to_string();
        s
    }))
}

/// Fails unless every transport in `transports` is listed once.
pub(crate) fn check_unique(transports: &[rtbench_proto::Transport]) -> anyhow::Result<()> {
    if !transports
        .iter()
        .all(|t| transports.iter().filter(|u| *u == t).count() == 1)
    {
        bail!("--transports lists a transport twice");
    }
    Ok(())
}

/// The load generator's runtime, on the CPUs `plan` gives it.
pub(crate) fn loadgen_runtime(plan: &Plan) -> anyhow::Result<tokio::runtime::Runtime> {
    placement::pin_current_thread(&plan.loadgen)?;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(plan.loadgen.len().max(1))
        .enable_all()
        .build()
        .context("starting the load generator's runtime")
}

/// Seconds since the Unix epoch now (0 if the clock is before it).
pub(crate) fn unix_now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Prints the table and writes `results.json`, `summary.md` and `index.html` into `out`.
pub(crate) fn write_results(results: &Results, out: &Path) -> anyhow::Result<()> {
    print!("{}", rtbench_report::render_table(results));
    let json = out.join("results.json");
    results.save(&json)?;
    let md = out.join("summary.md");
    std::fs::write(&md, rtbench_report::render_markdown(results))
        .with_context(|| format!("writing {}", md.display()))?;
    let html = out.join("index.html");
    let run = rtbench_report::Run {
        source: "results.json".into(),
        results: results.clone(),
    };
    std::fs::write(
        &html,
        rtbench_report::render_html(std::slice::from_ref(&run))?,
    )
    .with_context(|| format!("writing {}", html.display()))?;
    eprintln!(
        "wrote {}, {} and {}",
        json.display(),
        md.display(),
        html.display()
    );
    Ok(())
}

/// Runs the command.
pub fn run(args: RunArgs) -> anyhow::Result<()> {
    match args.scenario.as_str() {
        "dashboard" => {}
        "idle" => return crate::run_idle::run_idle(args),
        other => bail!("unknown scenario '{other}' (expected dashboard or idle)"),
    }
    let config = load_config(&args);
    config.validate()?;
    args.server.to_config().validate()?;
    check_unique(&args.transports)?;
    prepare_out(&args.out)?;

    let external = args
        .server_http
        .zip(args.server_tcp)
        .map(|(http, tcp)| Target { http, tcp });
    let plan = Plan::choose(&placement::allowed_cpus(), !args.no_pin);
    let server = match external {
        Some(_) => None,
        None => Some(ServerChild::start(&plan.server, &args.server)?),
    };
    let target = external
        .or(server.as_ref().map(|s| s.target))
        .expect("one of the two is set");
    let runtime = loadgen_runtime(&plan)?;
    let started_at_unix_s = unix_now_s();
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
    let settings = runtime.block_on(server_settings(&Control::new(&target)?, server.is_some()))?;
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
        config: run_config(&config, &target, settings),
        rows,
    };
    write_results(&results, &args.out)
}
