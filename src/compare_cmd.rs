//! `rtbench compare BASELINE CURRENT...`: the regression gate. Prints a table of every figure and
//! exits 0 (within tolerance), 3 (a regression) or 2 (an input that cannot be used).
//! `rtbench pick-baseline RUN...`: prints the most typical of several runs (exit 0, or 2).
//! The baseline and the current runs may be directories of a run over several stacks
//! (`<stack>/results.json`): each stack is then compared with its own baseline, one table per
//! stack, and the exit code is the worst stack's.

use crate::cli::{CompareArgs, Format, PickBaselineArgs};
use rtbench_compare::{
    EXIT_UNUSABLE, Names, Tolerances, compare, compare_stacks, most_typical, render_markdown,
    render_text,
};
use rtbench_results::{Results, stack_key};
use std::process::ExitCode;

/// Runs the command; every failure is one line on stderr and a documented exit code.
pub fn compare_cmd(args: CompareArgs) -> ExitCode {
    match run(&args) {
        Ok((report, code)) => {
            print!("{report}");
            ExitCode::from(code)
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(EXIT_UNUSABLE)
        }
    }
}

/// The results files `paths` name (a directory: its results.json, or each `<stack>/results.json`).
fn load_all(paths: &[std::path::PathBuf]) -> Result<Vec<(String, Results)>, String> {
    let mut out = Vec::new();
    for path in paths {
        for file in crate::report_cmd::expand(path).map_err(|e| format!("{e:#}"))? {
            let doc = Results::load(&file).map_err(|e| e.to_string())?;
            out.push((file.display().to_string(), doc));
        }
    }
    Ok(out)
}

fn run(args: &CompareArgs) -> Result<(String, u8), String> {
    let tolerances = Tolerances::from_settings(&args.tolerance).map_err(|e| e.to_string())?;
    let baselines = load_all(std::slice::from_ref(&args.baseline))?;
    let currents = load_all(&args.current)?;
    let render = |cmp: &rtbench_compare::Comparison, b: &str, c: &str| {
        let names = Names {
            baseline: b,
            current: c,
        };
        match args.format {
            Format::Text => render_text(cmp, names),
            Format::Markdown => render_markdown(cmp, names),
        }
    };
    let docs = |v: &[(String, Results)]| v.iter().map(|x| x.1.clone()).collect::<Vec<_>>();
    let (b_docs, c_docs) = (docs(&baselines), docs(&currents));
    let c_names: Vec<&str> = currents.iter().map(|x| x.0.as_str()).collect();
    if let [(b, baseline)] = &baselines[..] {
        let one_stack = c_docs.iter().all(|c| stack_key(c) == stack_key(baseline));
        if one_stack {
            let c = c_names.join(", ");
            let cmp =
                compare(baseline, &c_docs, &tolerances).map_err(|e| format!("{b} vs {c}: {e}"))?;
            return Ok((render(&cmp, b, &c), cmp.exit_code()));
        }
    }
    // A baseline per stack: each stack's runs against its own baseline.
    let per_stack = compare_stacks(&b_docs, &c_docs, &tolerances).map_err(|e| format!("{e}"))?;
    let mut report = String::new();
    for s in &per_stack {
        let c: Vec<&str> = s.currents.iter().map(|&i| c_names[i]).collect();
        report.push_str(&format!("stack {}\n", s.stack));
        report.push_str(&render(
            &s.comparison,
            &baselines[s.baseline].0,
            &c.join(", "),
        ));
    }
    Ok((report, rtbench_compare::stacks::exit_code(&per_stack)))
}

/// Runs `rtbench pick-baseline`: the chosen path on stdout, or one error line and exit 2.
pub fn pick_baseline_cmd(args: PickBaselineArgs) -> ExitCode {
    let runs = match args
        .runs
        .iter()
        .map(|p| Results::load(p).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(runs) => runs,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(EXIT_UNUSABLE);
        }
    };
    match most_typical(&runs) {
        Ok(i) => {
            println!("{}", args.runs[i].display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_UNUSABLE)
        }
    }
}
