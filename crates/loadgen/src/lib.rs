//! rtbench's load generator: drives N clients per transport against a server with open-loop
//! streams of events — the server's, and the clients' own messages — and measures how late each
//! event arrived and what it cost.
//!
//! A run is a [`campaign::Campaign`]: a scenario ([`scenario`]: dashboard, notifications, chat,
//! game, collaboration, or a file of one's own), possibly swept over a parameter and repeated;
//! each phase runs one transport on one [`workload`] (rooms, server events, client messages).
//!
//! Results flow one way (as in oha): each client task owns a [`recorder::Recorder`], which records
//! each first receipt's latency at arrival into the phase's [`latency_sink::LatencySink`]; when a
//! phase ends the sink's shards merge into one HdrHistogram and the tallies' counts into one
//! [`rtbench_results::Row`] per transport.
//! The server is reached only through its wire protocols ([`rtbench_proto`]): it may be a child
//! process, another host, or an in-process server in a test.

mod behind;
pub mod browser;
pub mod campaign;
pub mod capacity;
pub mod clients;
pub mod conditions;
pub mod config;
pub mod connect_storm;
pub mod control;
mod control_http;
pub mod error;
pub mod faults;
mod http;
pub mod idle;
pub mod interval_log;
pub mod latency_sink;
mod phase;
pub mod probe;
pub mod progress;
pub mod recorder;
pub mod scenario;
pub mod seqset;
pub mod server_info;
pub mod shard;
pub mod stack;
pub mod target;
mod tls_sessions;
pub mod upstream;
mod usage;
mod window;
pub mod workload;

pub use campaign::{Campaign, Point, run_campaign, run_campaign_with};
pub use conditions::Conditions;
pub use config::LoadConfig;
pub use control::RestartServer;
pub use control::{Control, Target};
pub use error::ClientError;
pub use error::{ConfigError, LoadError};
pub use faults::FaultPlan;
pub use idle::{IdleConfig, run_idle, run_idle_transport};
pub use phase::run_transport;
pub use progress::Progress;

use rtbench_results::Row;

/// Runs every configured transport in turn against `target`, each with the same schedule, and
/// returns one row per transport, with `ratio_to_floor_p50` filled in when the floor was run. Progress
/// goes to stderr unless `config.quiet` (or stderr is not a terminal).
pub async fn run(config: &LoadConfig, target: &Target) -> Result<Vec<Row>, LoadError> {
    run_with(config, target, Control::new(target)?).await
}

/// Like [`run`], with a control client of the caller's (one that can restart the server, for
/// `restart_server_at`).
pub async fn run_with(
    config: &LoadConfig,
    target: &Target,
    control: Control,
) -> Result<Vec<Row>, LoadError> {
    let progress = Progress::stderr(config.quiet);
    run_campaign_with(
        &Campaign::single(config.clone()),
        target,
        &control,
        &progress,
    )
    .await
}
