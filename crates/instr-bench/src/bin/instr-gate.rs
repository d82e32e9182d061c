//! `instr-gate`: the instruction-count gate's command line (scripts/instr-gate.sh drives it).
//!
//! ```text
//! instr-gate compare BASELINE RUN.jsonl [--tolerance PCT] [--format text|markdown]
//! instr-gate baseline --out BASELINE [--tolerance PCT] RUN.jsonl...
//! instr-gate spread RUN.jsonl...
//! ```
//! `RUN.jsonl` is what `cargo bench -p rtbench-instr-bench -- --output-format=json` prints. Exit
//! codes are `rtbench compare`'s: 0 pass, 3 regression, 2 unusable input (one line on stderr).

use clap::{Parser, Subcommand, ValueEnum};
use rtbench_compare::{EXIT_OK, EXIT_UNUSABLE};
use rtbench_instr_bench::gate::{render_markdown, render_text};
use rtbench_instr_bench::{Baseline, Count, compare, parse_counts, spread};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The instruction-count regression gate.
#[derive(Debug, Parser)]
#[command(name = "instr-gate", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Judges one run against the baseline: exit 0 pass, 3 regression, 2 unusable.
    Compare {
        /// The committed baseline (reports/instructions/baseline.json).
        baseline: PathBuf,
        /// gungraun's JSON lines of this run.
        run: PathBuf,
        /// Tolerance in % (default: the baseline's).
        #[arg(long)]
        tolerance: Option<f64>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Writes a baseline from runs of one tree: each benchmark's median run.
    Baseline {
        /// Where to write it.
        #[arg(long)]
        out: PathBuf,
        /// Tolerance in % recorded in the baseline.
        #[arg(long, default_value_t = 2.0)]
        tolerance: f64,
        /// gungraun's JSON lines of each run.
        #[arg(required = true)]
        runs: Vec<PathBuf>,
    },
    /// Prints each benchmark's run-to-run spread as Markdown.
    Spread {
        /// gungraun's JSON lines of each run.
        #[arg(required = true)]
        runs: Vec<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Markdown,
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(code) => ExitCode::from(code),
        Err(why) => {
            eprintln!("instr-gate: {why}");
            ExitCode::from(EXIT_UNUSABLE)
        }
    }
}

fn run(command: Command) -> Result<u8, String> {
    match command {
        Command::Compare {
            baseline,
            run,
            tolerance,
            format,
        } => {
            let baseline = Baseline::load(&baseline).map_err(|e| e.to_string())?;
            let tolerance = tolerance.unwrap_or(baseline.tolerance_pct);
            rtbench_instr_bench::baseline::check_tolerance(tolerance).map_err(|e| e.to_string())?;
            let counts = read_run(&run)?;
            let c = compare(&baseline, &counts, tolerance).map_err(|e| e.to_string())?;
            match format {
                Format::Text => print!("{}", render_text(&c)),
                Format::Markdown => print!("{}", render_markdown(&c)),
            }
            Ok(c.exit_code())
        }
        Command::Baseline {
            out,
            tolerance,
            runs,
        } => {
            let runs = runs
                .iter()
                .map(|p| read_run(p))
                .collect::<Result<Vec<_>, _>>()?;
            let b = Baseline::from_runs(&runs, tolerance).map_err(|e| e.to_string())?;
            b.save(&out).map_err(|e| e.to_string())?;
            print!(
                "{}",
                spread::render_markdown(&spread::spread(&runs), runs.len())
            );
            println!(
                "instr-gate: wrote {} from {} runs",
                out.display(),
                runs.len()
            );
            Ok(EXIT_OK)
        }
        Command::Spread { runs } => {
            let runs = runs
                .iter()
                .map(|p| read_run(p))
                .collect::<Result<Vec<_>, _>>()?;
            print!(
                "{}",
                spread::render_markdown(&spread::spread(&runs), runs.len())
            );
            Ok(EXIT_OK)
        }
    }
}

/// One run's counts from gungraun's JSON lines in `path`.
fn read_run(path: &Path) -> Result<Vec<Count>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_counts(&text).map_err(|e| format!("{}: {e}", path.display()))
}
