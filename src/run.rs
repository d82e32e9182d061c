//! `rtbench run`: start a server, measure every transport of the scenario (every sweep point,
//! every repetition) with the same events, print the table, write `results.json` and `summary.md`.

use crate::cli::RunArgs;
use crate::placement::{self, Plan};
use crate::server_child::ServerChild;
use anyhow::Context;
use rtbench_loadgen::{Progress, Target};
use rtbench_results::{Placement, Results, SCHEMA_VERSION};
use std::path::Path;

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

/// Runs the command.
pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let measured = crate::campaign::from_args(&args)?;
    let campaign = &measured.campaign;
    prepare_out(&args.out)?;

    let external = args
        .server_http
        .zip(args.server_tcp)
        .map(|(http, tcp)| Target { http, tcp });
    let plan = Plan::choose(&placement::allowed_cpus(), !args.no_pin);
    let server = match external {
        Some(_) => None,
        None => Some(ServerChild::start(
            &plan.server,
            crate::campaign::topics_needed(campaign),
        )?),
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
    let progress = Progress::stderr(args.quiet);
    let rows = runtime.block_on(rtbench_loadgen::run_campaign(campaign, &target, &progress))?;
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
        config: crate::campaign::run_config(&measured.scenario, &args, &measured.base, &target),
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
