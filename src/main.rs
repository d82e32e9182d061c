//! `rtbench`: short polling, long polling, SSE and WebSockets measured side by side against a
//! raw-TCP floor. This file only parses flags and hands over; see `cli.rs` for the commands.

mod broker_child;
mod browser_cmd;
mod campaign;
mod capacity_cmd;
mod check_cmd;
mod cli;
mod cluster_args;
mod cluster_probe;
mod compare_cmd;
mod conditions;
mod connect_cmd;
mod environment;
mod merge_cmd;
mod output;
mod placement;
mod report_cmd;
mod rlimit;
mod run;
mod run_idle;
mod run_remote;
mod run_target;
mod serve;
mod serve_cluster;
mod server_child;
mod shard_cmd;
mod shard_remote;
mod stacks;
mod sweep_arg;
mod write_cost;

/// The server's memory per idle connection is a measured figure; jemalloc keeps it lowest of the
/// allocators tried, for the server and the load generator alike (one binary); results record it.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
/// The allocator's name, as the results record it.
const ALLOCATOR: &str = "jemalloc";

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap's first paragraph, on one line: "error: ... not provided: --drop-every <D>".
            let text = e.render().to_string();
            let first: Vec<&str> = text
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            eprintln!("{}", first.join(" "));
            return ExitCode::from(2);
        }
    };
    let outcome = match cli.command {
        cli::Command::Run(args) => run::run(*args),
        cli::Command::Serve(args) => serve::serve(*args),
        cli::Command::Compare(args) => return compare_cmd::compare_cmd(args),
        cli::Command::Check(args) => return check_cmd::check_cmd(args),
        cli::Command::PickBaseline(args) => return compare_cmd::pick_baseline_cmd(args),
        cli::Command::Report(args) => report_cmd::report(args),
        cli::Command::Shard(args) => shard_cmd::shard(args),
        cli::Command::Merge(args) => merge_cmd::merge(args),
        cli::Command::WriteCost(args) => write_cost::write_cost_cmd(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
