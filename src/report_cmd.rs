//! `rtbench report`: rebuild the HTML page and the Markdown summary from saved results files, merging
//! several into one page, with the first file's latency interval logs and a capacity document
//! (`capacity.json` beside it, or given among the files) in their own sections. Every error names
//! the file it is about.

use crate::cli::ReportArgs;
use anyhow::{Context, bail};
use rtbench_report::{Beside, Run};
use rtbench_results::Results;
use std::path::{Path, PathBuf};

/// Runs the command.
pub fn report(args: ReportArgs) -> anyhow::Result<()> {
    if args.files.is_empty() {
        bail!("rtbench report needs at least one RESULTS.json (as written by rtbench run)");
    }
    // A file named …capacity.json is the capacity document (rtbench run --capacity-steps), not
    // a results file.
    let (capacity, files): (Vec<&PathBuf>, Vec<&PathBuf>) = args.files.iter().partition(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with("capacity.json"))
    });
    if files.is_empty() {
        bail!("rtbench report needs a RESULTS.json beside the capacity document");
    }
    if capacity.len() > 1 {
        bail!(
            "rtbench report reads one capacity document; got {}",
            capacity.len()
        );
    }
    let mut runs = Vec::with_capacity(files.len());
    for path in &files {
        let results = Results::load(path)?;
        runs.push(Run {
            source: path.display().to_string(),
            results,
        });
    }
    let beside = Beside::load(
        files[0],
        runs[0].results.started_at_unix_s,
        capacity.first().map(|p| p.as_path()),
    )?;
    let out = match &args.out {
        Some(dir) => dir.clone(),
        None => files[0]
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf(),
    };
    crate::output::prepare_out(&out)?;
    let html = rtbench_report::render_html_with(&runs, &beside)?;
    let index = out.join("index.html");
    std::fs::write(&index, html).with_context(|| format!("writing {}", index.display()))?;
    let md = out.join("summary.md");
    std::fs::write(&md, rtbench_report::render_markdown_with(&runs, &beside))
        .with_context(|| format!("writing {}", md.display()))?;
    if args.print.format == crate::cli::OutputFormat::Json {
        let all: Vec<&Results> = runs.iter().map(|r| &r.results).collect();
        crate::output::print_results(&all, &args.print)?;
    } else {
        for run in &runs {
            if runs.len() > 1 {
                println!("{}:", run.source);
            }
            crate::output::print_results(&[&run.results], &args.print)?;
        }
    }
    eprintln!("wrote {} and {}", index.display(), md.display());
    Ok(())
}
