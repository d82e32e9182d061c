//! Command-line interface: flags and their defaults. Defaults are the ones printed in the table's
//! header, so a reader can always tell what was measured.

use clap::{Args, Parser, Subcommand};
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
    /// Compare results against a baseline: exit 0 within tolerance, 3 on a regression, 2 when an
    /// input cannot be used.
    Compare(CompareArgs),
    /// Of several results files of one tree, print the path of the most typical one (each gated
    /// figure closest to the median of all): the baseline `scripts/perf-check.sh` keeps.
    PickBaseline(PickBaselineArgs),
}

fn duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (examples: 500ms, 2s, 1m)"))
}

/// Flags of `rtbench run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Clients subscribed per transport.
    #[arg(long, default_value_t = 100)]
    pub clients: u64,
    /// Events published per second.
    #[arg(long, default_value_t = 20.0)]
    pub rate: f64,
    /// Payload bytes per event.
    #[arg(long, default_value_t = 128)]
    pub payload: usize,
    /// Short-poll interval.
    #[arg(long, value_parser = duration, default_value = "500ms")]
    pub poll_interval: Duration,
    /// How long each long-poll request asks the server to hold it.
    #[arg(long, value_parser = duration, default_value = "30s")]
    pub longpoll_timeout: Duration,
    /// Warm-up before the measured window; its deliveries are discarded.
    #[arg(long, value_parser = duration, default_value = "2s")]
    pub warmup: Duration,
    /// Measured window.
    #[arg(long, value_parser = duration, default_value = "10s")]
    pub window: Duration,
    /// Events keep flowing this long after the window (unmeasured), so the window ends in steady state.
    #[arg(long, value_parser = duration, default_value = "500ms")]
    pub tail: Duration,
    /// Longest wait for late deliveries after the last event; what has not arrived then is lost.
    #[arg(long, value_parser = duration, default_value = "2s")]
    pub drain: Duration,
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
    /// Fault injection (tests the regression gate, never a real measurement): the server
    /// busy-waits this long before each write to an HTTP transport's socket, microseconds.
    #[arg(long, default_value_t = 0, conflicts_with = "server_http",
          value_parser = clap::value_parser!(u64).range(..=MAX_FAULT_DELAY_US))]
    pub server_fault_delay_us: u64,
    /// Fault injection (tests the regression gate): the server appends this many spaces to every
    /// event body, bytes.
    #[arg(long, default_value_t = 0, conflicts_with = "server_http",
          value_parser = clap::value_parser!(u64).range(..=MAX_FAULT_PAD_BYTES))]
    pub server_fault_pad_bytes: u64,
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
    /// Start a demo publisher on this topic (with --publish-rate), for curl or a browser.
    #[arg(long, requires = "publish_rate")]
    pub publish_topic: Option<String>,
    /// Events per second of the demo publisher.
    #[arg(long, requires = "publish_topic")]
    pub publish_rate: Option<f64>,
    /// Payload bytes of the demo publisher's events.
    #[arg(long, default_value_t = 128)]
    pub publish_payload: usize,
    /// Fault injection, off by default (tests the regression gate): busy-wait this long before
    /// each write to an HTTP transport's socket, microseconds. The raw-TCP floor is not slowed.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(..=MAX_FAULT_DELAY_US))]
    pub fault_delay_us: u64,
    /// Fault injection, off by default (tests the regression gate): append this many spaces to
    /// every event body, bytes.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(..=MAX_FAULT_PAD_BYTES))]
    pub fault_pad_bytes: u64,
}

/// Largest accepted fault delay, microseconds.
pub const MAX_FAULT_DELAY_US: u64 = 100_000;
/// Largest accepted fault padding, bytes.
pub const MAX_FAULT_PAD_BYTES: u64 = 65_536;

/// Output format of `rtbench compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A terminal table.
    Text,
    /// Markdown, for a pull-request comment.
    Markdown,
}

/// Flags of `rtbench compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The baseline results file (e.g. reports/baseline/results.json).
    pub baseline: PathBuf,
    /// The results file(s) to judge (e.g. reports/latest/results.json). Given several runs of one
    /// tree, a cost or timing counts as regressed only if it regressed in every run.
    #[arg(required = true)]
    pub current: Vec<PathBuf>,
    /// Override a tolerance, in percent of the baseline: NAME=PERCENT with NAME one of bytes,
    /// requests, packets, p50, cpu (e.g. --tolerance p50=50,bytes=1). Defaults: bytes 3,
    /// requests 3, packets 10, p50 100, cpu 100. Repeatable.
    #[arg(long, value_delimiter = ',')]
    pub tolerance: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Flags of `rtbench pick-baseline`.
#[derive(Debug, Args)]
pub struct PickBaselineArgs {
    /// Results files of the same workload and tree.
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
}
