//! `rtbench`: short polling, long polling, SSE and WebSockets measured side by side against a
//! raw-TCP floor. This file only parses flags and hands over; see `cli.rs` for the commands.

mod cli;
mod conditions;
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
        cli::Command::Serve(args) => serve::serve(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
