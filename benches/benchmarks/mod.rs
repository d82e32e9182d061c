//! The benchmark groups and what they share: measurement settings sized so that the whole
//! `cargo bench` run takes a few minutes on two cores.

pub mod codec;
pub mod delivery;
pub mod hub;

mod http;
mod server;

use criterion::Criterion;
use std::time::Duration;

/// Payload bytes of every benchmarked event: `rtbench run`'s default.
pub const PAYLOAD_BYTES: usize = 128;

/// Settings for nanosecond-scale benchmarks (codec, hub).
pub fn quick() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(30)
}

/// Settings for loopback round trips (tens of microseconds each).
pub fn round_trips() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
}
