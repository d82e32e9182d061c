//! `rtbench run --target`'s flags beyond the URL and the pid (docs/contract.md): the target file
//! (other URLs and field names) and who stamps the events.

use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// Who stamps each event's scheduled time in a target run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Stamping {
    /// The target's publisher (`POST /schedule`), as rtbench's own server does.
    #[default]
    Server,
    /// The load generator's publisher client: it posts each event at its scheduled time carrying
    /// the stamp, and the target only relays it.
    Client,
}

impl Stamping {
    /// `server` or `client`, as the results record it.
    pub fn as_str(self) -> &'static str {
        match self {
            Stamping::Server => "server",
            Stamping::Client => "client",
        }
    }
}

/// The target's URLs and field names, and the stamping.
#[derive(Debug, Clone, Default, Args)]
pub struct TargetArgs {
    /// A TOML file giving the target's URL templates and event field names where they differ
    /// from the contract's (docs/contract.md, "Other paths and field names").
    #[arg(long, value_name = "FILE", requires = "target")]
    pub target_file: Option<PathBuf>,
    /// Who stamps each event: the target's publisher (server) or the load generator's publisher
    /// client, with the target only relaying (client).
    #[arg(long, value_enum, default_value_t = Stamping::Server, requires = "target")]
    pub stamping: Stamping,
}
