//! The fault-injection control plane: closing connections from the server side
//! (`POST /faults/close`) and resuming a schedule on a restarted server (`POST /schedule/resume`).
//!
//! Both are control requests the load generator makes on its own connection (labelled `control`),
//! never on a measured client's connection.

use serde::{Deserialize, Serialize};

/// Body of `POST /faults/close`: the server closes `count` of its open connections of `transport`,
/// chosen at random, abruptly (the socket is dropped: the client sees the stream end or a reset).
/// Only served when the server was started with fault endpoints enabled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// Transport whose connections to close (`tcp`, `websocket`, `sse`, `long_poll`, `short_poll`).
    pub transport: String,
    /// How many to close; fewer are closed if fewer are open.
    pub count: u64,
}

/// Answer to `POST /faults/close`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseResponse {
    /// Connections actually closed.
    pub closed: u64,
    /// Connections of that transport that were open.
    pub open: u64,
}

/// Body of `POST /schedule/resume`: continue an interrupted schedule on a server that restarted and
/// lost its ring. The topic must be empty on this server; its sequence numbers continue at
/// `from_seq`, so cursors clients hold stay meaningful, and a client whose cursor is behind
/// `from_seq - 1` is told with a gap notice that the events in between are gone.
///
/// Event `seq` (for `from_seq <= seq <= last_seq`) is published at, and stamped with, its original
/// scheduled time `start_mono_ns + (seq - first_seq) * period_ns`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResumeRequest {
    /// Topic of the interrupted schedule.
    pub topic: String,
    /// Payload bytes per event, as in the original schedule.
    pub payload_bytes: usize,
    /// CLOCK_MONOTONIC time of the original schedule's first event, nanoseconds.
    pub start_mono_ns: u64,
    /// Nanoseconds between scheduled events, as the original schedule answered.
    pub period_ns: u64,
    /// Sequence number of the original schedule's first event.
    pub first_seq: u64,
    /// First sequence number this server publishes.
    pub from_seq: u64,
    /// Last sequence number of the original schedule.
    pub last_seq: u64,
}

impl ResumeRequest {
    /// Scheduled time of event `seq` on the original schedule, CLOCK_MONOTONIC nanoseconds.
    pub fn t_pub_ns(&self, seq: u64) -> u64 {
        self.start_mono_ns + seq.saturating_sub(self.first_seq) * self.period_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_keeps_the_original_schedule() {
        let r = ResumeRequest {
            topic: "t".into(),
            payload_bytes: 8,
            start_mono_ns: 1_000,
            period_ns: 50,
            first_seq: 1,
            from_seq: 11,
            last_seq: 20,
        };
        assert_eq!(r.t_pub_ns(1), 1_000);
        assert_eq!(r.t_pub_ns(11), 1_500);
        let json = serde_json::to_string(&CloseRequest {
            transport: "sse".into(),
            count: 2,
        })
        .unwrap();
        assert_eq!(json, r#"{"transport":"sse","count":2}"#);
    }
}
