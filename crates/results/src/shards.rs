//! The load-generator shards a row was measured from when they ran on other hosts
//! (`rtbench run --remote-shards N`): each shard's name and its clock's offset to the server's
//! CLOCK_MONOTONIC, estimated at the phase's start and end (`docs/distributed.md`).

use serde::{Deserialize, Serialize};

/// One estimate of a shard's clock against the server's: `server = shard + offset_ns`, known to
/// within `± uncertainty_ns` (half the round trip of the exchange it came from).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClockOffset {
    /// The server's clock minus the shard's, nanoseconds.
    pub offset_ns: i64,
    /// Half the round trip of the best exchange, nanoseconds.
    pub uncertainty_ns: u64,
}

/// A remote shard of a phase: who it was and how its clock stood against the server's.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ShardClock {
    /// Its index (`rtbench shard --index`, from 0).
    pub index: u32,
    /// Its host name.
    pub host: String,
    /// The offset estimated before time zero; latencies are corrected by it.
    pub start: ClockOffset,
    /// The offset estimated after the drain (`start` and `end` differ by the drift).
    pub end: ClockOffset,
}

impl ShardClock {
    /// The larger of the two uncertainties, nanoseconds.
    pub fn uncertainty_ns(&self) -> u64 {
        self.start.uncertainty_ns.max(self.end.uncertainty_ns)
    }

    /// How far the offset moved between start and end, nanoseconds.
    pub fn drift_ns(&self) -> i64 {
        self.end.offset_ns.saturating_sub(self.start.offset_ns)
    }
}

/// The largest uncertainty of `shards`, microseconds (`None` when there are none): what a row's
/// latency carries as `± x µs`.
pub fn max_uncertainty_us(shards: &[ShardClock]) -> Option<f64> {
    shards
        .iter()
        .map(ShardClock::uncertainty_ns)
        .max()
        .map(|ns| ns as f64 / 1_000.0)
}
