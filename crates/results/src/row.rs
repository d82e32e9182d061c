//! One row of a results document: what one transport did under one workload, and the figures
//! (latency percentiles, spread across repetitions, window totals) it is made of.

use crate::Overload;
use crate::histogram::LatencyHistogram;
use rtbench_proto::Transport;
use serde::{Deserialize, Serialize};

/// What one transport did under one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Scenario name.
    pub scenario: String,
    /// The transport, written as its name ([`Transport::as_str`]).
    pub transport: Transport,
    /// Whose client measured it: rtbench's own (`rust`, the default of documents written before
    /// the field) or the browser's, hosted in headless Chromium (`browser`).
    #[serde(default)]
    pub client: Client,
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
    /// Scheduled events (warm-up, window and tail) some client never received, summed over
    /// clients, not counting those the drain's end explains: events a client was still behind on
    /// (`overload.late`) and events the server had not published (`overload.unpublished`).
    /// `lost_in_gaps` says which part of it the ring dropped. [`Row::undelivered`] adds all.
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
    /// Beside `lost`, the events the drain's end explains (unpublished, late), and whether the
    /// load generator was the limit.
    #[serde(default)]
    pub overload: Overload,
    /// Clients that ended with an error (connection refused, reset, protocol error).
    pub client_errors: u64,
    /// Times clients reconnected (after a dropped connection or a server restart).
    pub reconnects: u64,
    /// Delivery latency: client's monotonic clock at parse − the event's scheduled time.
    pub latency_us: Latency,
    /// This row's p50 over its floor's p50 ([`crate::floor`]; absent when the run has no floor row
    /// for its workload).
    pub ratio_to_floor_p50: Option<f64>,
    /// TCP payload bytes, both directions, counted on the server's sockets over the window, per delivery.
    pub bytes_per_delivery: f64,
    /// HTTP requests served over the window per delivery (0 for tcp).
    pub requests_per_delivery: f64,
    /// Server process user+sys CPU over the window per delivery, microseconds; absent from the
    /// JSON (0 here) when [`Row::server_measured`] is false.
    #[serde(default)]
    pub server_cpu_us_per_delivery: f64,
    /// Whether the server's CPU and RSS were measured: false in `rtbench run --target` without
    /// `--target-pid`, and then the server's CPU figures and RSS are left out of the JSON rather
    /// than written as 0 ([`Row::server_cpu_us_per_delivery_measured`]). Written only when false;
    /// documents without it (every run of rtbench's own server) read true.
    #[serde(default = "measured", skip_serializing_if = "is_measured")]
    pub server_measured: bool,
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
    /// The latency histogram in nanoseconds; written as HdrHistogram V2 + deflate, base64.
    #[serde(with = "crate::histogram::as_base64")]
    pub latency_histogram: LatencyHistogram,
    /// Socket.IO rows run with `--socketio-ack`: the acknowledged emits and the latency from each
    /// emit's scheduled time to its ack. Absent otherwise (and in documents written before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack: Option<Ack>,
    /// The load-generator shards on other hosts this row was measured from, with their clock
    /// offsets to the server (empty when the load generator ran on the server's host).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<crate::ShardClock>,
}

/// Acknowledged emits of one row (`--socketio-ack`): how many were emitted and acked over the
/// whole phase, and the ack latency of those scheduled inside the measured window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ack {
    /// Emits with an ack id the clients wrote (whole phase).
    pub emits: u64,
    /// ACK packets the clients received (whole phase); equal to `emits` when every emit was
    /// acknowledged once.
    pub acks: u64,
    /// Ack latency: client's monotonic clock at the ACK − the emit's scheduled time.
    pub latency_us: Latency,
    /// The ack latency histogram in nanoseconds (window only), HdrHistogram V2 + deflate, base64.
    #[serde(with = "crate::histogram::as_base64")]
    pub histogram: LatencyHistogram,
}

/// Whose client measured a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Client {
    /// rtbench's own Rust clients (the load generator).
    #[default]
    Rust,
    /// The browser's own EventSource, WebSocket and fetch, in headless Chromium.
    Browser,
}

impl Client {
    /// The name written in results and reports: `rust`, `browser`.
    pub fn as_str(self) -> &'static str {
        match self {
            Client::Rust => "rust",
            Client::Browser => "browser",
        }
    }
}

impl std::fmt::Display for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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
    /// How far each latency may be off because the clients' clocks were not the server's: the
    /// largest clock-offset uncertainty of the row's remote shards, microseconds (`None` when
    /// the clients shared the server's clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncertainty_us: Option<f64>,
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
    /// Server CPU per delivery, microseconds (absent from the JSON when not measured).
    #[serde(default)]
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
    /// Server process CPU, microseconds (absent from the JSON when the row's server was not
    /// measured, [`Row::server_measured`]).
    #[serde(default)]
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
    /// The server's resident memory at the window's end, bytes (what a capacity step reports
    /// beside its CPU); absent in documents written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_rss_bytes: Option<u64>,
}

/// What [`Row::server_measured`] reads when the document does not say: measured.
fn measured() -> bool {
    true
}

/// Whether [`Row::server_measured`] is the default, left out of the JSON.
fn is_measured(measured: &bool) -> bool {
    *measured
}

impl Row {
    /// The server's CPU per delivery in microseconds, or `None` when it was not measured
    /// ([`Row::server_measured`]).
    pub fn server_cpu_us_per_delivery_measured(&self) -> Option<f64> {
        self.server_measured
            .then_some(self.server_cpu_us_per_delivery)
    }

    /// The transport as a reader reads it in a table: its name, and `(browser)` after it when the
    /// browser's client measured it.
    pub fn who(&self) -> String {
        match self.client {
            Client::Rust => self.transport.to_string(),
            Client::Browser => format!("{} (browser)", self.transport),
        }
    }

    /// Every scheduled event × member that was not delivered by the drain's end, whatever the
    /// reason: `lost` plus the late and unpublished ones. A complete row has none.
    pub fn undelivered(&self) -> u64 {
        self.lost + self.overload.late + self.overload.unpublished
    }
}
