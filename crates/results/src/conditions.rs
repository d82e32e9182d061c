//! The network conditions and faults a run was made under, as the results document records them.

use serde::{Deserialize, Serialize};

/// One network-conditions profile. Rows name it in their `conditions` field.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ConditionsSpec {
    /// Profile name: `loopback` (nothing added), `lan`, `continent`, `mobile`, `custom`, or
    /// `direct` for a server given by address without a proxy.
    pub name: String,
    /// Round-trip time added by the delay proxy, milliseconds.
    pub rtt_ms: f64,
    /// Largest deviation of one segment's one-way delay, milliseconds (order preserved).
    pub jitter_ms: f64,
    /// Bandwidth cap per connection and direction, bits per second; `None` for no cap.
    pub bandwidth_bps: Option<u64>,
    /// One line a person reads, e.g. `continent: RTT 40 ms, no bandwidth cap (delay proxy)`.
    pub description: String,
}

/// The faults injected in every phase of a run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FaultsSpec {
    /// Fraction of each phase's clients whose connection is dropped per round (0: none).
    pub drop_fraction: f64,
    /// Time between drop rounds, milliseconds (`None`: no drops).
    pub drop_every_ms: Option<u64>,
    /// The server was restarted this long after each phase's first event, milliseconds.
    pub restart_server_at_ms: Option<u64>,
    /// One line a person reads (`None` when no fault was injected).
    pub description: Option<String>,
}
