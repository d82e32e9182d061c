//! `rtbench check URL`: the conformance suite of `docs/contract.md` against a live server on this
//! machine, printed as a table of clauses (pass, FAIL, skipped, with a reason), in the spirit of the
//! Autobahn WebSocket test suite's report. Exit 0 when nothing failed, 1 on a failed clause, 2 when
//! the target cannot be checked at all (a bad or non-loopback URL, nothing listening, not the
//! contract's answers): then one line says why.

use clap::Args;
use rtbench_loadgen::target::{self, CheckConfig, ClauseResult, Verdict};
use rtbench_proto::Transport;
use std::process::ExitCode;
use std::time::Duration;

/// Flags of `rtbench check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The server to check: http://127.0.0.1:PORT (loopback only).
    pub url: String,
    /// Time limit of each clause; a target that hangs fails the clause with a timeout line.
    #[arg(long, value_parser = crate::cli::duration, default_value = "10s")]
    pub clause_timeout: Duration,
    /// Events the target keeps per topic (its history), for the gap clauses; read from
    /// GET /settings when not given, and the gap clauses are skipped when neither says.
    #[arg(long, value_name = "EVENTS")]
    pub ring_capacity: Option<usize>,
    /// Transports to check, comma-separated (default: every HTTP transport of the contract).
    #[arg(long, value_delimiter = ',')]
    pub transports: Vec<Transport>,
    /// A TOML file giving the target's URL templates and event field names where they differ
    /// from the contract's (docs/contract.md, "Other paths and field names").
    #[arg(long, value_name = "FILE")]
    pub target_file: Option<std::path::PathBuf>,
}

/// Runs the check and prints its table; the process's exit code.
pub fn check_cmd(args: CheckArgs) -> ExitCode {
    let addr = match target::loopback_addr(&args.url) {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = target::spec::install_file(args.target_file.as_deref()) {
        for line in e.lines {
            eprintln!("error: {line}");
        }
        return ExitCode::from(2);
    }
    let transports = if args.transports.is_empty() {
        target::contract_transports()
    } else {
        args.transports
    };
    if let Some(t) = transports.iter().find(|t| t.http_path().is_none()) {
        eprintln!("error: {t} is not an HTTP transport; the contract's check covers only those");
        return ExitCode::from(2);
    }
    let config = CheckConfig {
        addr,
        clause_timeout: args.clause_timeout,
        ring_capacity: args.ring_capacity,
        transports,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(target::run_check(&config)) {
        Ok(results) => {
            print!("{}", table(&args.url, &results));
            if results.iter().any(|r| r.verdict == Verdict::Fail) {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// The report: one line per clause, then the totals.
fn table(url: &str, results: &[ClauseResult]) -> String {
    let width = results.iter().map(|r| r.id.len()).max().unwrap_or(6).max(6);
    let mut out = format!("rtbench check {url} (docs/contract.md)\n\n");
    out.push_str(&format!("{:<width$}  {:<7}  reason\n", "clause", "verdict"));
    for r in results {
        out.push_str(&format!(
            "{:<width$}  {:<7}  {}\n",
            r.id,
            r.verdict.as_str(),
            r.reason
        ));
    }
    let count = |v: Verdict| results.iter().filter(|r| r.verdict == v).count();
    out.push_str(&format!(
        "\n{} passed, {} failed, {} skipped\n",
        count(Verdict::Pass),
        count(Verdict::Fail),
        count(Verdict::Skipped)
    ));
    out
}
