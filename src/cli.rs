//! Command-line interface: flags and their defaults. Defaults are the ones printed in the table's
//! header, so a reader can always tell what was measured.

use clap::{Args, Parser, Subcommand};
use rtbench_loadgen::scenario::knobs::SweepAxis;
use rtbench_proto::Transport;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Short polling, long polling, SSE and WebSockets, measured side by side against a raw-TCP floor.
#[derive(Debug, Parser)]
#[command(name = "rtbench", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a server, measure every transport with the same events, print the table, write the report.
    Run(RunArgs),
    /// Serve all transports (short poll, long poll, SSE, WebSocket, raw TCP) until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
}

fn duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (examples: 500ms, 2s, 1m)"))
}

/// Flags of `rtbench run`. Workload flags left out keep the scenario's values.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Workload: a built-in scenario (dashboard, notifications, chat, game, collaboration) or the
    /// path of a scenario file.
    #[arg(long, default_value = "dashboard")]
    pub scenario: String,
    /// Clients per transport [default: the scenario's; dashboard: 100].
    #[arg(long)]
    pub clients: Option<u64>,
    /// Every rate of the scenario: server events per second per room, and each sender's messages
    /// per second [default: the scenario's; dashboard: 20].
    #[arg(long)]
    pub rate: Option<f64>,
    /// Payload bytes of server events and client messages [default: the scenario's; dashboard: 128].
    #[arg(long)]
    pub payload: Option<usize>,
    /// Members per room (one topic per room) [default: the scenario's; dashboard: all clients].
    #[arg(long)]
    pub room_size: Option<u64>,
    /// Short-poll interval [default: the scenario's; dashboard: 500ms].
    #[arg(long, value_parser = duration)]
    pub poll_interval: Option<Duration>,
    /// How long each long-poll request asks the server to hold it [default: the scenario's; 30s].
    #[arg(long, value_parser = duration)]
    pub longpoll_timeout: Option<Duration>,
    /// Warm-up before the measured window; its deliveries are discarded [default: the scenario's; 2s].
    #[arg(long, value_parser = duration)]
    pub warmup: Option<Duration>,
    /// Measured window [default: the scenario's; 10s].
    #[arg(long, value_parser = duration)]
    pub window: Option<Duration>,
    /// Events keep flowing this long after the window (unmeasured), so the window ends in steady
    /// state [default: the scenario's; 500ms].
    #[arg(long, value_parser = duration)]
    pub tail: Option<Duration>,
    /// Longest wait for late deliveries after the last event; what has not arrived then is lost
    /// [default: the scenario's; 2s].
    #[arg(long, value_parser = duration)]
    pub drain: Option<Duration>,
    /// Sweep a parameter: KEY=V1,V2,... with KEY one of clients, poll_interval, payload, rate,
    /// room_size; each value is a point with one row per transport. Repeat the flag to sweep
    /// every combination.
    #[arg(long, value_name = "KEY=V1,V2,...")]
    pub sweep: Vec<SweepAxis>,
    /// Run every point N times, transports interleaved across repetitions; rows report medians
    /// with a min–max spread.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub repeat: u32,
    /// Transports to run, comma-separated, in order.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "tcp,websocket,sse,long_poll,short_poll"
    )]
    pub transports: Vec<Transport>,
    /// Directory for results.json and summary.md.
    #[arg(long, default_value = "reports/latest")]
    pub out: PathBuf,
    /// Measure a server that is already running at this HTTP address instead of starting one
    /// (needs --server-tcp too).
    #[arg(long, requires = "server_tcp")]
    pub server_http: Option<SocketAddr>,
    /// Raw-TCP address of the server given by --server-http.
    #[arg(long, requires = "server_http")]
    pub server_tcp: Option<SocketAddr>,
    /// Do not pin the server and the load generator to separate cores.
    #[arg(long)]
    pub no_pin: bool,
    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Flags of `rtbench serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// HTTP address (poll, long poll, SSE, WebSocket, publish, metrics). Port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Raw-TCP floor address.
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub tcp_addr: SocketAddr,
    /// Pin the server to these CPUs (comma-separated indices), before any thread starts.
    #[arg(long, value_delimiter = ',')]
    pub cpus: Vec<usize>,
    /// Events retained per topic for cursors to resume from.
    #[arg(long, default_value_t = rtbench_proto::limits::DEFAULT_RING_CAPACITY)]
    pub ring_capacity: usize,
    /// Most topics the server creates (`rtbench run` raises it to what its phases need).
    #[arg(long, default_value_t = 10_000)]
    pub max_topics: usize,
    /// Start a demo publisher on this topic (with --publish-rate), for curl or a browser.
    #[arg(long, requires = "publish_rate")]
    pub publish_topic: Option<String>,
    /// Events per second of the demo publisher.
    #[arg(long, requires = "publish_topic")]
    pub publish_rate: Option<f64>,
    /// Payload bytes of the demo publisher's events.
    #[arg(long, default_value_t = 128)]
    pub publish_payload: usize,
}
