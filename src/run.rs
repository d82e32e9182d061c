//! `rtbench run`: start a server, measure every transport of the scenario (every sweep point,
//! every repetition) with the same events, print the table, write `results.json`, `summary.md` and
//! `index.html`. `--scenario idle` is handed to [`crate::run_idle`].

use crate::cli::RunArgs;
use crate::conditions::{fault_plan, faults_spec, profiles, spec};
use crate::placement::{self, Plan};
use crate::server_child::{ManagedServer, ServerChild, ServerSpec};
use anyhow::{Context, bail};
use rtbench_loadgen::{Campaign, Conditions, Control, Progress, Target};
use rtbench_results::{
    Placement, Results, Row, RunConfig, SCHEMA_VERSION, ServerFault, ServerSettings,
};
use std::path::Path;
use std::sync::Arc;

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

/// The settings `target`'s server reports, with the allocator filled in when the server is this
/// binary (`None` when it reports none).
pub(crate) async fn server_settings(
    control: &Control,
    ours: bool,
) -> anyhow::Result<Option<ServerSettings>> {
    let snapshot = control.scrape_with_settings().await?;
    Ok(snapshot.settings.map(|info| {
        let mut s = rtbench_loadgen::server_info::results_settings(&info);
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
    server: Option<&ManagedServer>,
    profiles: &[Conditions],
    quiet: bool,
) -> anyhow::Result<Vec<Row>> {
    let mut control = Control::new(target)?;
    if let Some(server) = server {
        control = control.with_restarter(Arc::new(server.clone()));
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
        rows.extend(runtime.block_on(rtbench_loadgen::run_campaign_with(
            &c, target, &control, &progress,
        ))?);
    }
    Ok(rows)
}

/// Runs the command.
pub fn run(args: RunArgs) -> anyhow::Result<()> {
    if args.scenario == "idle" {
        return crate::run_idle::run_idle(args);
    }
    let mut measured = crate::campaign::from_args(&args)?;
    let faults = fault_plan(&args);
    for point in &mut measured.campaign.points {
        point.config.faults = faults.clone();
    }
    let profiles = profiles(&args, args.server_http.is_some())?;
    check(&args, &measured.campaign, &profiles)?;
    args.server.to_config().validate()?;
    let campaign = &measured.campaign;
    let server_fault = ServerFault {
        delay_us: args.server_fault_delay_us,
        pad_bytes: args.server_fault_pad_bytes as usize,
    };
    prepare_out(&args.out)?;

    let external = args
        .server_http
        .zip(args.server_tcp)
        .map(|(http, tcp)| Target { http, tcp });
    let plan = Plan::choose(&placement::allowed_cpus(), !args.no_pin);
    let server = match external {
        Some(_) => None,
        None => Some(ManagedServer::new(ServerChild::start(&ServerSpec {
            cpus: plan.server.clone(),
            fault_endpoints: faults.drops(),
            tuning: args.server.clone(),
            max_topics: crate::campaign::topics_needed(campaign) * profiles.len(),
            fault: server_fault,
            quiet: args.quiet,
        })?)),
    };
    let target = external
        .or(server.as_ref().map(ManagedServer::target))
        .expect("one of the two is set");
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
    let settings = runtime.block_on(server_settings(&Control::new(&target)?, server.is_some()))?;
    let rows = measure(
        &runtime,
        campaign,
        &target,
        server.as_ref(),
        &profiles,
        args.quiet,
    )?;
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
        config: RunConfig {
            server: settings,
            conditions: profiles.iter().map(spec).collect(),
            faults: faults_spec(&faults),
            server_fault,
            ..crate::campaign::run_config(&measured.scenario, &args, &measured.base, &target)
        },
        rows,
    };
    write_results(&results, &args.out)
}
