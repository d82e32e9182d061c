//! `rtbench report`: rebuild the HTML page and the Markdown summary from saved results files, merging
//! several into one page. Every error names the file it is about.

use crate::cli::ReportArgs;
use anyhow::{Context, bail};
use rtbench_report::Run;
use rtbench_results::Results;
use std::path::Path;

/// Runs the command.
pub fn report(args: ReportArgs) -> anyhow::Result<()> {
    if args.files.is_empty() {
        bail!("rtbench report needs at least one RESULTS.json (as written by rtbench run)");
    }
    let mut runs = Vec::with_capacity(args.files.len());
    for path in &args.files {
        let results = Results::load(path)?;
        runs.push(Run {
            source: path.display().to_string(),
            results,
        });
    }
    let out = match &args.out {
        Some(dir) => dir.clone(),
        None => args.files[0]
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf(),
    };
    crate::output::prepare_out(&out)?;
    let html = rtbench_report::render_html(&runs)?;
    let index = out.join("index.html");
    std::fs::write(&index, html).with_context(|| format!("writing {}", index.display()))?;
    let md = out.join("summary.md");
    std::fs::write(&md, rtbench_report::render_markdown_runs(&runs))
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
