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
    Run(Box<RunArgs>),
    /// Serve all transports (short poll, long poll, SSE, WebSocket, raw TCP) until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
}

fn duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (examples: 500ms, 2s, 1m)"))
}

fn bandwidth(s: &str) -> Result<u64, String> {
    rtbench_loadgen::conditions::parse_bandwidth(s)
}

fn fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!(
            "'{s}' is not a fraction between 0 and 1 (e.g. 0.1)"
        )),
    }
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
    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Network conditions between clients and server, run one after the other (one table each):
    /// loopback (nothing added), lan (0.5 ms RTT), continent (40 ms RTT), mobile (150 ms RTT,
    /// 1.6 Mbit/s). Emulated by a delay proxy in the load generator.
    #[arg(long, value_delimiter = ',', default_value = "loopback")]
    pub conditions: Vec<String>,
    /// Custom round-trip time added by the delay proxy (half each way); with one profile, replaces
    /// its RTT and names the result `custom`.
    #[arg(long, value_parser = duration)]
    pub rtt: Option<Duration>,
    /// Custom jitter: each segment's one-way delay varies uniformly by up to this much, order kept.
    #[arg(long, value_parser = duration)]
    pub jitter: Option<Duration>,
    /// Custom bandwidth cap per connection and direction, tc-style: 1.6mbit, 500kbit, 1gbit.
    #[arg(long, value_parser = bandwidth)]
    pub bandwidth: Option<u64>,
    /// Fraction of each transport's connections dropped every --drop-every (half closed by the
    /// server, half reset by clients).
    #[arg(long, value_parser = fraction, requires = "drop_every")]
    pub drop_fraction: Option<f64>,
    /// Time between connection drops (needs --drop-fraction).
    #[arg(long, value_parser = duration, requires = "drop_fraction")]
    pub drop_every: Option<Duration>,
    /// Restart the server process this long after each transport's first event (its ring is lost).
    #[arg(long, value_parser = duration)]
    pub restart_server_at: Option<Duration>,
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
    /// Serve POST /faults/close, which closes random connections (fault injection).
    #[arg(long)]
    pub fault_endpoints: bool,
}
