//! The results document of an rtbench run: one versioned JSON file that the terminal table, the
//! Markdown summary, the HTML report and the regression gate all read, and that doubles as a baseline.
//!
//! Field names are fixed (tools and CI read them); [`SCHEMA_VERSION`] changes when they do, and a
//! test pins the shape. Latency histograms travel serialised ([`histogram`]) so runs can be merged
//! and re-plotted without re-running.

mod conditions;
pub mod histogram;
mod load;
mod repeat;

pub use conditions::{ConditionsSpec, FaultsSpec};

pub use histogram::{LatencyHistogram, decode_histogram, encode_histogram};
pub use load::LoadError;
pub use repeat::combine_repeats;

use serde::{Deserialize, Serialize};

/// Fields added after the first documents of version 1 were written (the scenario, room and
/// upstream fields) default when absent, so every version-1 document stays readable.
fn one() -> u32 {
    1
}

/// Version of the document's shape. Readers refuse other versions with a clear error.
pub const SCHEMA_VERSION: u32 = 1;

/// One run: where, how, and what it measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// Always [`SCHEMA_VERSION`] when written by this version.
    pub schema_version: u32,
    /// `rtbench <version>` that wrote the document.
    pub tool: String,
    /// The command line that produced the run, program name first.
    pub command: Vec<String>,
    /// Start of the run, seconds since the Unix epoch (wall clock; never used for latency).
    pub started_at_unix_s: u64,
    /// The machine and build the run was made on.
    pub environment: Environment,
    /// The workload every transport was given.
    pub config: RunConfig,
    /// One row per (scenario, transport), floor first.
    pub rows: Vec<Row>,
}

/// The machine, build and process placement of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    /// CPU model name from /proc/cpuinfo.
    pub cpu_model: String,
    /// Logical CPUs online.
    pub cores: usize,
    /// Kernel release (`uname -r`).
    pub kernel: String,
    /// `rustc --version` of the compiler that built rtbench.
    pub rustc: String,
    /// Git commit of the checkout the run was made from (`-dirty` appended when it had changes).
    pub git_commit: String,
    /// Where the server and the load generator ran.
    pub placement: Placement,
}

/// Core placement of server and load generator: fixed for the whole run, the same for every transport.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// CPUs the server process was pinned to (empty when not pinned or not known).
    pub server_cpus: Vec<usize>,
    /// CPUs the load generator was pinned to (empty when not pinned).
    pub loadgen_cpus: Vec<usize>,
    /// One line a person reads, e.g. `server on cpu 1, load generator on cpu 0`.
    pub description: String,
}

/// The workload of a run, as the user set it or the defaults chose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// Scenario name (`dashboard` for the default push-to-all workload).
    pub scenario: String,
    /// Subscribed clients per transport.
    pub clients: u64,
    /// Events published per second.
    pub rate_per_s: f64,
    /// Payload bytes per event.
    pub payload_bytes: usize,
    /// Short-poll interval, milliseconds.
    pub poll_interval_ms: u64,
    /// How long a long-poll request asks to be held, milliseconds.
    pub longpoll_timeout_ms: u64,
    /// Warm-up before the measured window (discarded), milliseconds.
    pub warmup_ms: u64,
    /// Measured window, milliseconds.
    pub window_ms: u64,
    /// Events keep flowing this long after the window (unmeasured), milliseconds.
    pub tail_ms: u64,
    /// Longest wait for late deliveries after the last event, milliseconds.
    pub drain_ms: u64,
    /// Transports run, in order.
    pub transports: Vec<String>,
    /// Address of the HTTP listener measured.
    pub server_http: String,
    /// Address of the raw-TCP listener measured.
    pub server_tcp: String,
    /// Where the scenario came from: a built-in's file (`benches/scenarios/chat.toml`) or the path
    /// given to `--scenario`.
    #[serde(default)]
    pub scenario_file: String,
    /// The scenario's one-line description.
    #[serde(default)]
    pub scenario_description: String,
    /// The scenario file's text as it was run (command-line overrides are in `command`).
    #[serde(default)]
    pub scenario_toml: String,
    /// Members per room (one topic per room); `clients` when every client shares one room.
    #[serde(default)]
    pub room_size: u64,
    /// Upstream messages per second per sending client (0 when clients only receive).
    #[serde(default)]
    pub send_rate_per_s: f64,
    /// The `--sweep` axes as given (`poll_interval=100ms,250ms`); each point is one row per transport.
    #[serde(default)]
    pub sweep: Vec<String>,
    /// Repetitions of every point (`--repeat`); rows then report medians with a min–max spread.
    #[serde(default = "one")]
    pub repeat: u32,
    /// The server's buffer settings as it reported them (absent if it did not).
    pub server: Option<ServerSettings>,
    /// Idle scenario: connections opened per transport.
    pub connections: Option<u64>,
    /// Idle scenario: the window held with no events, milliseconds.
    pub idle_window_ms: Option<u64>,
    /// Network conditions the rows ran under, one entry per profile, in the order run.
    #[serde(default)]
    pub conditions: Vec<ConditionsSpec>,
    /// Faults injected in every phase.
    #[serde(default)]
    pub faults: FaultsSpec,
    /// Degradations the server was told to inject (all 0 for a real measurement). Absent in older
    /// files.
    #[serde(default)]
    pub server_fault: ServerFault,
}

/// Degradations injected into the server to prove the regression gate catches them; all 0 normally.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerFault {
    /// Busy-wait before each write to an HTTP transport's socket, microseconds.
    pub delay_us: u64,
    /// Spaces appended to every event body, bytes.
    pub pad_bytes: usize,
}

impl ServerFault {
    /// Whether no fault was injected.
    pub fn is_off(&self) -> bool {
        *self == ServerFault::default()
    }
}

/// The server's buffer settings, which decide much of its memory per connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSettings {
    /// WebSocket read buffer per connection, bytes (tungstenite's default is 128 KiB).
    pub ws_read_buffer_bytes: u64,
    /// WebSocket write buffer target per connection, bytes (0: each message written at once).
    pub ws_write_buffer_bytes: u64,
    /// Largest HTTP/1 connection read buffer (hyper `max_buf_size`), bytes.
    pub http_max_buf_bytes: u64,
    /// Whether HTTP/1 responses are written with vectored writes.
    pub http_writev: bool,
    /// Which HTTP/1.1 implementation answered poll, long-poll and SSE requests: `lean` (rtbench's
    /// own, holding no buffer while a connection waits) or `hyper`. Results made before the lean
    /// path existed read as `hyper`.
    #[serde(default = "hyper_engine")]
    pub http_engine: String,
    /// Silence before an SSE keep-alive comment, milliseconds.
    pub sse_keep_alive_ms: u64,
    /// Memory allocator of the server binary (`jemalloc` or `system`).
    pub allocator: String,
}

fn hyper_engine() -> String {
    "hyper".into()
}

/// What one transport did under one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Scenario name.
    pub scenario: String,
    /// One of `tcp`, `websocket`, `sse`, `long_poll`, `short_poll`.
    pub transport: String,
    /// Network conditions between clients and server (`loopback` when none were added).
    pub conditions: String,
    /// Clients subscribed.
    pub clients: u64,
    /// Events published per second in this row's workload.
    pub rate_per_s: f64,
    /// Payload bytes per event in this row's workload.
    pub payload_bytes: usize,
    /// Short-poll interval of this row's workload, milliseconds.
    pub poll_interval_ms: u64,
    /// Members per room in this row's workload; each room is one topic.
    #[serde(default)]
    pub room_size: u64,
    /// Clients that publish upstream (0 when the server is the only publisher).
    #[serde(default)]
    pub senders: u64,
    /// Upstream messages per second per sending client (0 when none).
    #[serde(default)]
    pub send_rate_per_s: f64,
    /// Events scheduled inside the measured window: server pushes and client messages that fan
    /// out to a room.
    pub events: u64,
    /// Upstream messages clients were scheduled to send inside the measured window.
    #[serde(default)]
    pub sends: u64,
    /// Upstream messages (whole run) the server never published: failed requests, broken sockets.
    #[serde(default)]
    pub sends_lost: u64,
    /// Events × clients actually received inside the window (each counted once).
    pub deliveries: u64,
    /// Scheduled events (warm-up, window and tail) some client never received, summed over clients.
    pub lost: u64,
    /// Receipts of an event the client already had.
    pub duplicated: u64,
    /// Receipts of an event older than one the client already had.
    pub reordered: u64,
    /// Of `lost`, events the server announced as gone with a gap notice (`{"dropped":N}`): the
    /// client was behind the ring, or a restarted server no longer had them.
    #[serde(default)]
    pub lost_in_gaps: u64,
    /// What a reader needs to interpret this row: faults injected, the cause of any loss, counters
    /// that could not be read. Empty when nothing happened.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Clients that ended with an error (connection refused, reset, protocol error).
    pub client_errors: u64,
    /// Times clients reconnected (after a dropped connection or a server restart).
    pub reconnects: u64,
    /// Delivery latency: client's monotonic clock at parse − the event's scheduled time.
    pub latency_us: Latency,
    /// This row's p50 over the same run's tcp p50 (absent when the run has no tcp row).
    pub ratio_to_floor_p50: Option<f64>,
    /// TCP payload bytes, both directions, counted on the server's sockets over the window, per delivery.
    pub bytes_per_delivery: f64,
    /// HTTP requests served over the window per delivery (0 for tcp).
    pub requests_per_delivery: f64,
    /// Server process user+sys CPU over the window per delivery, microseconds.
    pub server_cpu_us_per_delivery: f64,
    /// Load-generator process user+sys CPU over the window per delivery, microseconds.
    pub client_cpu_us_per_delivery: f64,
    /// TCP segments, both directions, per delivery (kernel TCP_INFO), when measured.
    pub packets_per_delivery: Option<f64>,
    /// Bytes per delivery by the kernel's count (TCP_INFO bytes_received + bytes_acked), when measured.
    pub kernel_bytes_per_delivery: Option<f64>,
    /// |meter − kernel| / kernel × 100 for the window's bytes, when measured; over 1 is flagged.
    pub meter_kernel_disagreement_pct: Option<f64>,
    /// Idle scenario: connections held open.
    pub connections: Option<u64>,
    /// Idle scenario: server RSS growth per open connection at the end of the idle window (after
    /// a whole idle cycle), bytes.
    pub memory_per_connection_bytes: Option<f64>,
    /// Idle scenario: server RSS growth per open connection just after they all connected, bytes.
    pub memory_per_connection_at_connect_bytes: Option<f64>,
    /// Idle scenario: growth of the kernel's TCP buffer memory (/proc/net/sockstat `TCP mem`, both
    /// ends of every loopback connection, whole network namespace) per open connection, bytes.
    pub kernel_socket_memory_per_connection_bytes: Option<f64>,
    /// Idle scenario: bytes per second per connected client while no event flows.
    pub idle_bytes_per_client_s: Option<f64>,
    /// Idle scenario: HTTP requests per second per connected client while no event flows.
    pub idle_requests_per_client_s: Option<f64>,
    /// Idle scenario: server CPU microseconds per second per connected client while no event flows.
    pub idle_server_cpu_us_per_client_s: Option<f64>,
    /// With `--repeat N` (N > 1): the range of the key figures across the repetitions. The row's
    /// latency percentiles and per-delivery figures are then medians, its counts and totals sums,
    /// its histogram all repetitions merged.
    pub spread: Option<Spread>,
    /// The raw window totals the per-delivery figures are derived from.
    pub totals: Totals,
    /// The latency histogram in nanoseconds, HdrHistogram V2 + deflate, base64.
    pub latency_histogram: String,
}

/// Delivery latency percentiles, microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest recorded.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
}

/// The smallest and largest value of one figure across repetitions.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct MinMax {
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

/// How much the key figures of one row varied across `--repeat` repetitions.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Spread {
    /// Repetitions combined.
    pub repeats: u32,
    /// Median latency, microseconds.
    pub latency_p50_us: MinMax,
    /// 99th-percentile latency, microseconds.
    pub latency_p99_us: MinMax,
    /// Bytes per delivery.
    pub bytes_per_delivery: MinMax,
    /// HTTP requests per delivery.
    pub requests_per_delivery: MinMax,
    /// Server CPU per delivery, microseconds.
    pub server_cpu_us_per_delivery: MinMax,
    /// Load-generator CPU per delivery, microseconds.
    pub client_cpu_us_per_delivery: MinMax,
}

/// Counters over the measured window, from which per-delivery figures are computed.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Totals {
    /// Measured window length actually elapsed between the two scrapes, microseconds.
    pub window_us: u64,
    /// Bytes the server wrote to this transport's sockets.
    pub bytes_to_clients: u64,
    /// Bytes the server read from this transport's sockets.
    pub bytes_from_clients: u64,
    /// HTTP requests the server served on this transport.
    pub http_requests: u64,
    /// Server process CPU, microseconds.
    pub server_cpu_us: u64,
    /// Load-generator process CPU, microseconds.
    pub client_cpu_us: u64,
    /// Bytes the server wrote to this transport's sockets by the kernel's count (TCP_INFO
    /// `bytes_acked` plus the send queue), when the server reports it.
    pub kernel_bytes_to_clients: Option<u64>,
    /// Bytes the server read from them by the kernel's count (TCP_INFO `bytes_received` minus the
    /// receive queue), when the server reports it.
    pub kernel_bytes_from_clients: Option<u64>,
    /// TCP segments the server's sockets sent (TCP_INFO `segs_out`), when reported.
    pub segments_out: Option<u64>,
    /// TCP segments the server's sockets received (TCP_INFO `segs_in`), when reported.
    pub segments_in: Option<u64>,
    /// Idle scenario: server RSS at the end of the idle window minus before connecting, bytes.
    pub rss_growth_bytes: Option<i64>,
    /// Idle scenario: server RSS once every connection was open minus before connecting, bytes.
    pub rss_growth_at_connect_bytes: Option<i64>,
    /// Idle scenario: growth of /proc/net/sockstat `TCP mem` over the same span as
    /// `rss_growth_bytes`, bytes.
    pub socket_memory_growth_bytes: Option<i64>,
    /// Idle scenario: the same over the span of `rss_growth_at_connect_bytes`, bytes.
    pub socket_memory_growth_at_connect_bytes: Option<i64>,
}

impl Results {
    /// The row of `transport` under `scenario`, if the run has one.
    pub fn row(&self, scenario: &str, transport: &str) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.scenario == scenario && r.transport == transport)
    }
}

#[cfg(test)]
mod tests;
