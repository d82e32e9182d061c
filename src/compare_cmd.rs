//! `rtbench compare BASELINE CURRENT...`: the regression gate. Prints a table of every figure and
//! exits 0 (within tolerance), 3 (a regression) or 2 (an input that cannot be used).
//! `rtbench pick-baseline RUN...`: prints the most typical of several runs (exit 0, or 2).

use crate::cli::{CompareArgs, Format, PickBaselineArgs};
use rtbench_compare::{
    EXIT_UNUSABLE, Names, Tolerances, compare, most_typical, render_markdown, render_text,
};
use rtbench_results::Results;
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

fn run(args: &CompareArgs) -> Result<(String, u8), String> {
    let tolerances = Tolerances::from_settings(&args.tolerance).map_err(|e| e.to_string())?;
    let baseline = Results::load(&args.baseline).map_err(|e| e.to_string())?;
    let currents = args
        .current
        .iter()
        .map(|p| Results::load(p).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let b = args.baseline.display().to_string();
    let c: Vec<String> = args
        .current
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let c = c.join(", ");
    let cmp = compare(&baseline, &currents, &tolerances).map_err(|e| format!("{b} vs {c}: {e}"))?;
    let names = Names {
        baseline: &b,
        current: &c,
    };
    let report = match args.format {
        Format::Text => render_text(&cmp, names),
        Format::Markdown => render_markdown(&cmp, names),
    };
    Ok((report, cmp.exit_code()))
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
