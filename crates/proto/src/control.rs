//! The control plane: starting the server's open-loop publisher (`POST /schedule` for one topic at
//! a fixed rate, `POST /plan` for explicit times on many topics) and the line `rtbench serve`
//! prints once it listens.

use serde::{Deserialize, Serialize};

/// Body of `POST /schedule`: publish `events` events to `topic` at a fixed rate, starting
/// `start_in_ms` from now. Event `k` (0-based) is stamped with its *scheduled* time
/// `start_mono_ns + k * period_ns`, whenever it is actually published (open loop, docs/model.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    /// Topic to publish to.
    pub topic: String,
    /// Events per second (> 0).
    pub rate_per_s: f64,
    /// Payload bytes per event (the body adds its JSON envelope around them).
    pub payload_bytes: usize,
    /// How many events to publish (> 0).
    pub events: u64,
    /// Delay before the first scheduled event, in milliseconds.
    pub start_in_ms: u64,
}

/// Answer to `POST /schedule`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleResponse {
    /// Topic the events go to.
    pub topic: String,
    /// CLOCK_MONOTONIC time of the first scheduled event, in nanoseconds.
    pub start_mono_ns: u64,
    /// Nanoseconds between scheduled events.
    pub period_ns: u64,
    /// Sequence number the first event will carry.
    pub first_seq: u64,
    /// Sequence number the last event will carry.
    pub last_seq: u64,
}

impl ScheduleResponse {
    /// Scheduled publication time of the event with sequence number `seq`, in CLOCK_MONOTONIC ns.
    pub fn t_pub_ns(&self, seq: u64) -> u64 {
        self.start_mono_ns + (seq - self.first_seq) * self.period_ns
    }
}

/// Body of `POST /plan`: publish one event per entry of `events`, each to `topics[index]` when
/// CLOCK_MONOTONIC reaches `start + offset_ns`, stamped with that *scheduled* time (open loop,
/// docs/model.md). Used for workloads a fixed rate on one topic cannot express: many rooms, Poisson
/// arrivals. Every event carries a generated payload of `payload_bytes` bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// Topics the events go to, addressed by index in `events`.
    pub topics: Vec<String>,
    /// Payload bytes per event.
    pub payload_bytes: usize,
    /// Delay before the plan's time zero, in milliseconds.
    pub start_in_ms: u64,
    /// `[topic index, offset from time zero in ns]` per event, sorted by offset.
    pub events: Vec<(u32, u64)>,
}

/// Answer to `POST /plan`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanResponse {
    /// CLOCK_MONOTONIC time of the plan's time zero, in nanoseconds.
    pub start_mono_ns: u64,
    /// Per topic (same order as the request), the sequence number its first planned event gets,
    /// assuming nothing else publishes to it meanwhile.
    pub first_seqs: Vec<u64>,
}

/// The one JSON line `rtbench serve` prints on stdout once both listeners are bound, so a parent
/// process that asked for port 0 learns the real addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListeningLine {
    /// Address of the HTTP listener (poll, long-poll, SSE, WebSocket, publish, metrics).
    pub http: String,
    /// Address of the raw-TCP floor listener.
    pub tcp: String,
    /// Process id of the server.
    pub pid: u32,
    /// The certificate the HTTP listener presents (PEM) when it speaks TLS: what a client of this
    /// server trusts. Absent for plaintext.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_cert_pem: Option<String>,
}

/// The JSON error body every endpoint answers bad input with: `{"error":"..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// One line saying what was wrong.
    pub error: String,
}
