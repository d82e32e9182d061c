//! What `rtbench run` shares between its scenarios (the campaign in `run.rs`, the idle scenario in
//! `run_idle.rs`): the output directory, the load generator's runtime, the server's settings as
//! recorded, the results document's header, and writing the table, `results.json`, `summary.md`
//! and `index.html`. Neither run module imports the other's code; both import this one.

use crate::cli::{OutputFormat, PrintFlags};
use crate::placement::{self, Plan};
use anyhow::{Context, bail};
use rtbench_loadgen::{Control, Target};
use rtbench_results::{Placement, Results, Row, RunConfig, SCHEMA_VERSION, ServerInfo};
use std::path::Path;

/// Creates `dir` and proves it writable, so a bad `--out` fails before a minute of measuring.
/// `-` is refused (it would be a directory named `-`; `--format json` puts the document on
/// stdout), and so is an existing file, named as such rather than by the OS's "File exists".
pub(crate) fn prepare_out(dir: &Path) -> anyhow::Result<()> {
    if dir.as_os_str() == "-" {
        bail!(
            "--out is a directory, and '-' would create one named '-'; for the results on stdout use --format json"
        );
    }
    if dir.exists() && !dir.is_dir() {
        bail!(
            "--out {} is a file, not a directory: --out names the directory for results.json, summary.md and index.html",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create --out {}", dir.display()))?;
    let probe = dir.join(".rtbench-write-test");
    std::fs::write(&probe, b"")
        .with_context(|| format!("cannot write to --out {}", dir.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// Removes what an earlier `rtbench run` left in `dir` that this run may not overwrite, so the
/// page never shows it as this run's: `capacity.json` and `latency-*.hlog`. Nothing else in the
/// directory is touched.
pub(crate) fn clear_previous_run(dir: &Path) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let ours =
            name == "capacity.json" || (name.starts_with("latency-") && name.ends_with(".hlog"));
        if ours && entry.path().is_file() {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("cannot remove {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// The settings the server at `control` runs with, as it answers `GET /settings` (`None` when it
/// has no such route). The allocator is a fact of the binary: for a server this binary started
/// (`ours`) it is this binary's; another server's is what it says, or `unknown`.
pub(crate) async fn server_info(
    control: &Control,
    ours: bool,
) -> anyhow::Result<Option<ServerInfo>> {
    let snapshot = control.scrape_with_settings().await?;
    Ok(snapshot.settings.map(|mut info| {
        if ours {
            info.allocator = crate::ALLOCATOR.to_string();
        } else if info.allocator.is_empty() {
            info.allocator = "unknown".into();
        }
        info
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

/// The results document of a run that started at `started_at_unix_s`, placed by `plan`, against
/// `external` (a server given by address) or servers of its own.
pub(crate) fn document(
    started_at_unix_s: u64,
    (plan, external): (&Plan, Option<Target>),
    config: RunConfig,
    rows: Vec<Row>,
) -> Results {
    let description = plan.describe(external.map(|t| t.http.to_string()).as_deref());
    Results {
        schema_version: SCHEMA_VERSION,
        tool: format!("rtbench {}", env!("CARGO_PKG_VERSION")),
        command: std::env::args().collect(),
        started_at_unix_s,
        environment: crate::environment::detect(Placement {
            server_cpus: plan.server.clone(),
            loadgen_cpus: plan.loadgen.clone(),
            description,
        }),
        config,
        rows,
        cluster: None,
    }
}

/// Prints `results` on stdout as `print` asks: the table (compact or wide) or the JSON document.
pub(crate) fn print_results(results: &[&Results], print: &PrintFlags) -> anyhow::Result<()> {
    match print.format {
        OutputFormat::Json => {
            let json = match results {
                [one] => serde_json::to_string_pretty(&one.to_json()),
                many => serde_json::to_string_pretty(
                    &many.iter().map(|r| r.to_json()).collect::<Vec<_>>(),
                ),
            }
            .context("serialising the results")?;
            println!("{json}");
        }
        OutputFormat::Table => {
            for r in results {
                print!("{}", rtbench_report::render_table_view(r, print.view()));
            }
        }
    }
    Ok(())
}

/// Prints the results as `print` asks and writes `results.json`, `summary.md` and `index.html`
/// into `out`.
pub(crate) fn write_results(
    results: &Results,
    out: &Path,
    print: &PrintFlags,
) -> anyhow::Result<()> {
    print_results(&[results], print)?;
    let json = out.join("results.json");
    results.save(&json)?;
    // The page shows this run's latency over time and, after a capacity search, its curves.
    let beside = rtbench_report::Beside::load(&json, results.started_at_unix_s, None)?;
    let run = rtbench_report::Run {
        source: "results.json".into(),
        results: results.clone(),
    };
    let runs = std::slice::from_ref(&run);
    let md = out.join("summary.md");
    std::fs::write(&md, rtbench_report::render_markdown_with(runs, &beside))
        .with_context(|| format!("writing {}", md.display()))?;
    let html = out.join("index.html");
    std::fs::write(&html, rtbench_report::render_html_with(runs, &beside)?)
        .with_context(|| format!("writing {}", html.display()))?;
    eprintln!(
        "wrote {}, {} and {}",
        json.display(),
        md.display(),
        html.display()
    );
    crate::environment::warn_if_debug_build();
    Ok(())
}
