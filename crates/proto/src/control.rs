//! The control plane: starting the server's open-loop publisher (`POST /schedule`) and the line
//! `rtbench serve` prints once it listens.

use serde::{Deserialize, Serialize};

/// Body of `POST /schedule`: publish `events` events to `topic` at a fixed rate, starting
/// `start_in_ms` from now. Event `k` (0-based) is stamped with its *scheduled* time
/// `start_mono_ns + k * period_ns`, whenever it is actually published (open loop, DESIGN §4).
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
}

/// The JSON error body every endpoint answers bad input with: `{"error":"..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// One line saying what was wrong.
    pub error: String,
}
