//! `rtbench report`: rebuild the HTML page and the Markdown summary from saved results files, merging
//! several into one page, with the first file's latency interval logs and a capacity document
//! (`capacity.json` beside it, or given among the files) in their own sections. Every error names
//! the file it is about.
//!
//! A directory stands for its `results.json` or, when it has none, for the `results.json` of each
//! of its subdirectories in name order — the `<out>/<stack>/` layout of a run over several stacks,
//! whose combined report (the stack section, its charts as `stacks-*.svg`) is rebuilt the same way
//! `rtbench run` wrote it ([`write_combined`]).

use crate::cli::ReportArgs;
use anyhow::{Context, bail};
use rtbench_report::{Beside, Run};
use rtbench_results::Results;
use std::path::{Path, PathBuf};

/// The results files `path` names: itself; a directory's `results.json`; else each
/// subdirectory's, in name order.
pub(crate) fn expand(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let own = path.join("results.json");
    if own.is_file() {
        return Ok(vec![own]);
    }
    let mut found = Vec::new();
    for entry in std::fs::read_dir(path).with_context(|| format!("reading {}", path.display()))? {
        let file = entry?.path().join("results.json");
        if file.is_file() {
            found.push(file);
        }
    }
    found.sort();
    if found.is_empty() {
        bail!(
            "{}: no results.json in it or in its subdirectories",
            path.display()
        );
    }
    Ok(found)
}

/// Runs the command.
pub fn report(args: ReportArgs) -> anyhow::Result<()> {
    if args.files.is_empty() {
        bail!("rtbench report needs at least one RESULTS.json (as written by rtbench run)");
    }
    let dir_out = args.files.first().filter(|p| p.is_dir()).cloned();
    let mut given = Vec::new();
    for path in &args.files {
        given.extend(expand(path)?);
    }
    // A file named …capacity.json is the capacity document (rtbench run --capacity-steps), not
    // a results file.
    let (capacity, files): (Vec<&PathBuf>, Vec<&PathBuf>) = given.iter().partition(|p| {
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
    let out = match (&args.out, dir_out) {
        (Some(dir), _) => dir.clone(),
        (None, Some(dir)) => dir,
        (None, None) => files[0]
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf(),
    };
    crate::output::prepare_out(&out)?;
    write_pages(&runs, &beside, &out)?;
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
    Ok(())
}

/// Writes `index.html`, `summary.md` and, over several stacks, the stack charts into `out`.
fn write_pages(runs: &[Run], beside: &Beside, out: &Path) -> anyhow::Result<()> {
    let html = rtbench_report::render_html_with(runs, beside)?;
    let index = out.join("index.html");
    std::fs::write(&index, html).with_context(|| format!("writing {}", index.display()))?;
    let md = out.join("summary.md");
    std::fs::write(&md, rtbench_report::render_markdown_with(runs, beside))
        .with_context(|| format!("writing {}", md.display()))?;
    let mut charts = Vec::new();
    if let Some(section) = rtbench_report::stacks::StackSection::of(runs)? {
        charts = rtbench_report::stacks::write_charts(&section, out)?;
    }
    let charts: Vec<String> = charts.iter().map(|p| p.display().to_string()).collect();
    eprintln!(
        "wrote {} and {}{}",
        index.display(),
        md.display(),
        if charts.is_empty() {
            String::new()
        } else {
            format!(" (stack charts: {})", charts.join(", "))
        }
    );
    Ok(())
}

/// After a run over several stacks: the combined report at `out` from each stack's
/// `<out>/<stack>/results.json`, with the stack section beside the first stack's tables.
pub fn write_combined(out: &Path, stacks: &[String]) -> anyhow::Result<()> {
    let mut runs = Vec::new();
    for stack in stacks {
        let path = out.join(stack).join("results.json");
        if !path.is_file() {
            continue;
        }
        runs.push(Run {
            source: path.display().to_string(),
            results: Results::load(&path)?,
        });
    }
    if runs.len() < 2 {
        return Ok(());
    }
    write_pages(&runs, &Beside::default(), out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_over_two_stacks_is_reported_from_its_directory_with_the_stack_section() {
        let fixture = include_str!("../crates/report/tests/fixtures/base.json");
        let mut results = Results::from_json(fixture, Path::new("base.json")).unwrap();
        let dir = std::env::temp_dir().join(format!("rtbench-report-dir-{}", std::process::id()));
        for stack in [rtbench_results::Stack::H1, rtbench_results::Stack::H1Tls] {
            results.config.stack = stack;
            let sub = dir.join(stack.to_string());
            std::fs::create_dir_all(&sub).unwrap();
            results.save(&sub.join("results.json")).unwrap();
        }
        let found = expand(&dir).unwrap();
        assert_eq!(
            found,
            [
                dir.join("h1").join("results.json"),
                dir.join("h1-tls").join("results.json")
            ]
        );
        write_combined(&dir, &["h1".into(), "h1-tls".into()]).unwrap();
        let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
        assert!(md.contains("## Stacks"), "{md}");
        assert!(dir.join("stacks-bytes.svg").is_file());
        assert!(expand(&dir.join("h1")).unwrap()[0].ends_with("h1/results.json"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
