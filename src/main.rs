//! `rtbench`: short polling, long polling, SSE and WebSockets measured side by side against a
//! raw-TCP floor. This file only parses flags and hands over; see `cli.rs` for the commands.

mod cli;
mod compare_cmd;
mod environment;
mod placement;
mod run;
mod serve;
mod server_child;

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
            let text = e.render().to_string();
            eprintln!("{}", text.lines().next().unwrap_or("error: bad arguments"));
            return ExitCode::from(2);
        }
    };
    let outcome = match cli.command {
        cli::Command::Run(args) => run::run(args),
        cli::Command::Serve(args) => serve::serve(args),
        cli::Command::Compare(args) => return compare_cmd::compare_cmd(args),
        cli::Command::PickBaseline(args) => return compare_cmd::pick_baseline_cmd(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
