//! Command-line interface: flags and their defaults. Defaults are the ones printed in the table's
//! header, so a reader can always tell what was measured.

pub mod capacity;
pub mod limits;
pub mod target;
pub mod tls;

use clap::{Args, Parser, Subcommand};
use rtbench_proto::Transport;
use rtbench_proto::{HttpEngine, ServerSettings};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::LazyLock;
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
    Serve(Box<ServeArgs>),
    /// Compare results against a baseline: exit 0 within tolerance, 3 on a regression, 2 when an
    /// input cannot be used.
    Compare(CompareArgs),
    /// Of several results files of one tree, print the path of the most typical one (each gated
    /// figure closest to the median of all): the baseline `scripts/perf-check.sh` keeps.
    PickBaseline(PickBaselineArgs),
    /// Check a server on this machine against the contract (docs/contract.md), clause by clause:
    /// exit 0 when nothing failed, 1 on a failed clause, 2 when the target cannot be checked.
    Check(crate::check_cmd::CheckArgs),
    /// Rebuild index.html and summary.md from saved results; several files merge into one page.
    Report(ReportArgs),
    /// One load-generator shard: of `rtbench run --loadgen-procs N` (internal: its spec comes as
    /// one JSON line on stdin), or with --coordinator of `rtbench run --remote-shards N` on
    /// another host (docs/distributed.md).
    Shard(crate::shard_remote::ShardArgs),
    /// Merge load-generator shards' results of one phase into one (histograms added, counters
    /// summed): OUT SHARD_RESULT...
    Merge(crate::merge_cmd::MergeArgs),
    /// Measure the CPU one plain write() of a floor-sized frame costs, over N loopback sockets.
    WriteCost(crate::write_cost::WriteCostArgs),
}

pub(crate) fn duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (examples: 500ms, 2s, 1m)"))
}

fn bandwidth(s: &str) -> Result<u64, String> {
    rtbench_loadgen::conditions::parse_bandwidth(s).map_err(|e| e.to_string())
}

fn fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!(
            "'{s}' is not a fraction between 0 and 1 (e.g. 0.1)"
        )),
    }
}

/// Buffer settings of the server, flags of both `serve` and `run` (which passes them to the server
/// it starts). They decide much of the server's memory per connection.
#[derive(Debug, Clone, Args)]
pub struct ServerTuning {
    /// WebSocket read buffer per connection, bytes (tungstenite's own default is 128 KiB).
    #[arg(long, default_value_t = ServerSettings::default().ws_read_buffer_bytes)]
    pub ws_read_buffer: usize,
    /// WebSocket write buffer target per connection, bytes (0: write each message at once).
    #[arg(long, default_value_t = ServerSettings::default().ws_write_buffer_bytes)]
    pub ws_write_buffer: usize,
    /// Largest read buffer an HTTP/1 connection may grow to (hyper's max_buf_size), bytes.
    #[arg(long, default_value_t = ServerSettings::default().http_max_buf_bytes)]
    pub http_max_buf: usize,
    /// Write HTTP/1 responses with vectored writes (true/false).
    #[arg(long, default_value_t = ServerSettings::default().http_writev, action = clap::ArgAction::Set)]
    pub http_writev: bool,
    /// The server stack: stock (axum on hyper, tokio-tungstenite over hyper's upgrade: what a
    /// service deploys) or lean (rtbench's own HTTP/1.1 responder for GET /poll, /longpoll and
    /// /sse, which holds no buffer while a connection waits, and tokio-tungstenite directly on the
    /// socket for /ws). Both write the same bytes; `hyper` is the old name of stock. `run` takes a
    /// list (`stock,lean`) and measures each stack on each engine; `serve` takes one.
    #[arg(long, value_delimiter = ',', default_value = "stock", value_parser = engine_parser())]
    pub http_engine: Vec<HttpEngine>,
}

/// `--http-engine`: one of proto's [`HttpEngine`] names, listed in `--help`.
fn engine_parser() -> impl clap::builder::TypedValueParser<Value = HttpEngine> {
    use clap::builder::TypedValueParser;
    let names = HttpEngine::ALL.map(|e| {
        let name = clap::builder::PossibleValue::new(e.as_str());
        // The stock engine's name before the engines were renamed.
        if e == HttpEngine::Stock {
            name.alias("hyper")
        } else {
            name
        }
    });
    clap::builder::PossibleValuesParser::new(names)
        // Only the listed names get here, and each parses.
        .map(|name| name.parse::<HttpEngine>().unwrap_or_default())
}

impl ServerTuning {
    /// The one engine of a server these flags start (the first listed: `run` measures each in
    /// turn, with a list of one).
    pub fn engine(&self) -> HttpEngine {
        self.http_engine.first().copied().unwrap_or_default()
    }

    /// The server settings these flags give (other settings at their defaults).
    pub fn to_config(&self) -> ServerSettings {
        ServerSettings {
            ws_read_buffer_bytes: self.ws_read_buffer,
            ws_write_buffer_bytes: self.ws_write_buffer,
            http_max_buf_bytes: self.http_max_buf,
            http_writev: self.http_writev,
            http_engine: self.engine(),
            ..ServerSettings::default()
        }
    }
}

/// Flags of `rtbench run`. Workload flags left out keep the scenario's values.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Workload: a built-in scenario (dashboard, notifications, chat, game, collaboration, cluster), `idle`
    /// (memory per connection and the cost of connections that carry no events), or the path of a
    /// scenario file.
    #[arg(long, default_value = "dashboard")]
    pub scenario: String,
    /// Idle scenario: connections opened and held per transport.
    #[arg(long, default_value_t = rtbench_loadgen::idle::DEFAULT_IDLE_CONNECTIONS)]
    pub connections: u64,
    /// Idle scenario: how long the connections are held with no events.
    #[arg(long, value_parser = duration, default_value = "30s")]
    pub idle_window: Duration,
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
    /// every combination. `stack=h1,h1-tls` sweeps the protocol stack (as --stack does).
    #[arg(long, value_name = "KEY=V1,V2,...")]
    pub sweep: Vec<crate::sweep_arg::RunSweep>,
    /// Run every point N times, transports interleaved across repetitions; rows report medians
    /// with a min–max spread.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub repeat: u32,
    /// Transports to run, comma-separated, in order.
    #[arg(long, value_delimiter = ',', default_value = ALL_TRANSPORTS.as_str())]
    pub transports: Vec<Transport>,
    /// Directory for results.json, summary.md and index.html.
    #[arg(long, default_value = "reports/latest")]
    pub out: PathBuf,
    /// Measure a server that is already running at this HTTP address instead of starting one
    /// (needs --server-tcp too).
    #[arg(long, requires = "server_tcp")]
    pub server_http: Option<SocketAddr>,
    /// Raw-TCP address of the server given by --server-http.
    #[arg(long, requires = "server_http")]
    pub server_tcp: Option<SocketAddr>,
    /// Measure a server rtbench did not write, at http://127.0.0.1:PORT (loopback only), that
    /// follows docs/contract.md: the four HTTP transports, bytes counted at the load generator's
    /// sockets, events stamped by the target's publisher (POST /schedule).
    #[arg(long, value_name = "URL", conflicts_with_all = ["server_http", "server_cpus"])]
    pub target: Option<String>,
    /// The --target server's process id: its CPU and RSS are read from /proc/PID (without it they
    /// are reported as not measured).
    #[arg(long, value_name = "PID", requires = "target")]
    pub target_pid: Option<u32>,
    /// The target's URL templates and field names, and who stamps its events.
    #[command(flatten)]
    pub target_args: target::TargetArgs,
    /// Do not pin the server and the load generator to separate cores.
    #[arg(long, conflicts_with = "server_cpus")]
    pub no_pin: bool,
    /// Cores for the server: the highest N of the allowed CPUs; the load generator gets the rest
    /// (at least one) [default: half, rounded up; 1 on a 2-core machine].
    #[arg(long, value_name = "N", conflicts_with = "server_http")]
    pub server_cpus: Option<usize>,
    /// Split each phase's clients over N load-generator processes, each pinned to one of the load
    /// generator's cores (round-robin), with one start time; their histograms merge losslessly.
    /// Only for workloads whose clients only receive, on loopback, without faults. Raised
    /// automatically when one process's open-file limit cannot hold its share of the clients.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(rtbench_loadgen::shard::MAX_LOADGEN_PROCS)))]
    pub loadgen_procs: u32,
    /// Run each phase's clients on N load-generator shards on other hosts
    /// (`rtbench shard --coordinator HOST:PORT --index I`, I from 0 to N-1), which connect to
    /// --shard-listen; their clocks' offsets to the server are estimated and carried into the
    /// latency (docs/distributed.md).
    #[arg(long, value_name = "N", requires = "shard_listen", conflicts_with_all = ["loadgen_procs", "target"],
          value_parser = clap::value_parser!(u32).range(1..=i64::from(rtbench_loadgen::shard::MAX_LOADGEN_PROCS)))]
    pub remote_shards: Option<u32>,
    /// Where the coordinator listens for --remote-shards, ADDR:PORT; rtbench's own server listens
    /// on the same address (port chosen), so ADDR must be one the shards can reach.
    #[arg(long, value_name = "ADDR:PORT", requires = "remote_shards")]
    pub shard_listen: Option<SocketAddr>,
    /// Longest wait for every --remote-shards shard to connect, seconds.
    #[arg(long, value_name = "S", default_value_t = 300)]
    pub shard_wait_s: u64,
    /// The server as a cluster of processes with a broker (`docs/distributed.md`).
    #[command(flatten)]
    pub cluster: crate::cluster_args::RunClusterArgs,
    /// Measure the floor's plain-write() calibration even when it takes more than 2 s.
    #[arg(long)]
    pub calibrate_write: bool,
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
    /// The table's width and stdout's format.
    #[command(flatten)]
    pub print: PrintFlags,
    /// The server's buffer settings.
    #[command(flatten)]
    pub server: ServerTuning,
    /// The capacity search, and when a window counts as `loadgen-bound`.
    #[command(flatten)]
    pub capacity: capacity::CapacityArgs,
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
    /// Protocol stacks, run one after the other (one table and results directory each,
    /// `docs/stacks.md`): h1 (plaintext HTTP/1.1), h1-tls (HTTP/1.1 over TLS), h2 (cleartext HTTP/2,
    /// prior knowledge), h2-tls (HTTP/2 over TLS, ALPN h2).
    #[arg(long, value_delimiter = ',', default_value = "h1", value_parser = tls::parse_stack)]
    pub stack: Vec<rtbench_proto::Stack>,
    /// Whose clients measure the transports, comma-separated: rust (rtbench's own), browser (the
    /// browser's EventSource, WebSocket and fetch in headless Chromium, `docs/browser.md`), or
    /// rust,browser for both side by side.
    #[arg(long, value_delimiter = ',', default_value = "rust")]
    pub clients_in: Vec<ClientsIn>,
    /// Socket.IO rows: clients publish as acknowledged emits on their own connection
    /// (`42<id>["publish",…]`, answered `43<id>[]`) instead of `POST /publish`, and each row
    /// reports the latency from the emit's scheduled time to its ack. Needs a scenario whose
    /// clients publish (chat, game).
    #[arg(long)]
    pub socketio_ack: bool,
}

/// Whose clients `run` measures with (`--clients-in`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClientsIn {
    /// rtbench's own Rust clients: every transport, every scenario.
    Rust,
    /// The browser's own clients in headless Chromium: the HTTP transports, one-topic workloads.
    Browser,
}

/// What `run` and `report` print on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// The table for people (compact unless --wide).
    #[default]
    Table,
    /// The results document as JSON (for `report` with several files, a JSON array of them), for
    /// scripts; the files are written all the same.
    Json,
}

/// How `run` and `report` print their results on stdout.
#[derive(Debug, Clone, Args)]
pub struct PrintFlags {
    /// Print every column of the table (kernel counts, every percentile, client CPU; 200–300
    /// characters wide) instead of the compact view that fits 120 columns.
    #[arg(long)]
    pub wide: bool,
    /// What stdout gets: the table, or the results document as JSON.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

impl PrintFlags {
    /// The table view these flags ask for.
    pub fn view(&self) -> rtbench_report::View {
        match self.wide {
            true => rtbench_report::View::Wide,
            false => rtbench_report::View::Compact,
        }
    }
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
    /// Serve POST /faults/close, which closes random connections (fault injection).
    #[arg(long)]
    pub fault_endpoints: bool,
    /// Fault injection, off by default (tests the regression gate): busy-wait this long before
    /// each write to an HTTP transport's socket, microseconds. The raw-TCP floor is not slowed.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(..=MAX_FAULT_DELAY_US))]
    pub fault_delay_us: u64,
    /// Fault injection, off by default (tests the regression gate): append this many spaces to
    /// every event body, bytes.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(..=MAX_FAULT_PAD_BYTES))]
    pub fault_pad_bytes: u64,
    /// Buffer settings.
    #[command(flatten)]
    pub tuning: ServerTuning,
    /// Limits against hostile clients (`docs/limits.md`).
    #[command(flatten)]
    pub limits: Box<limits::LimitArgs>,
    /// TLS on the HTTP listener (`docs/stacks.md`).
    #[command(flatten)]
    pub tls: Box<tls::TlsArgs>,
    /// Origins whose pages may read /sse, /poll, /longpoll, /clock and POST /publish (CORS):
    /// `scheme://host:port`, port `*` for any, or `*` for every origin; repeat or comma-separate.
    /// Default: loopback pages (http://127.0.0.1:*, http://localhost:*, http://[::1]:*).
    #[arg(long = "cors-origin", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// No startup line on stderr (warnings and errors still go there).
    #[arg(short, long)]
    pub quiet: bool,
    /// Every server setting as one JSON value (`rtbench_proto::ServerSettings`), replacing the
    /// settings flags above; how `rtbench run` configures its server child.
    #[arg(long, hide = true)]
    pub settings_json: Option<String>,
    /// A cluster of server processes and its broker (`docs/distributed.md`).
    #[command(flatten)]
    pub cluster: Box<crate::cluster_args::ClusterArgs>,
}

/// Flags of `rtbench report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Results files written by `rtbench run`, or directories (a run over several stacks: each
    /// `<stack>/results.json` in it); the first one's workload is the page's base, the
    /// others add sweeps (or merge with rows of the same workload).
    #[arg(value_name = "RESULTS.json")]
    pub files: Vec<PathBuf>,
    /// Directory for index.html and summary.md [default: the first file's directory].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The table's width and stdout's format.
    #[command(flatten)]
    pub print: PrintFlags,
}

/// `--transports`' default: the floor and the chapter's four by name, floor first
/// (`tcp,websocket,…`); transports beyond the chapter are measured when named.
pub static ALL_TRANSPORTS: LazyLock<String> = LazyLock::new(Transport::default_names);

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
    /// The baseline results file (e.g. reports/baseline/results.json), or a directory holding one
    /// per stack (`<stack>/results.json`): each stack is compared with its own.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_measures_every_transport_by_default_floor_first() {
        let cli = Cli::try_parse_from(["rtbench", "run"]).unwrap();
        let Command::Run(args) = cli.command else {
            panic!("parsed as run")
        };
        assert_eq!(args.transports, Transport::DEFAULT);
        for t in Transport::DEFAULT {
            assert!(
                ALL_TRANSPORTS.split(',').any(|name| name == t.as_str()),
                "{t}"
            );
        }
    }
}
