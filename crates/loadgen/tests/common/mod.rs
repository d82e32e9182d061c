//! What the load generator's integration tests share: the built-in scenarios shrunk to a few
//! clients and about a second of events, so that every transport, stack and engine is exercised
//! with the same small workload.

use rtbench_loadgen::LoadConfig;
use rtbench_loadgen::scenario::{self, knobs::Overrides};
use std::time::Duration;

/// The built-in scenario `name`, shrunk: `clients` clients (in rooms of `room_size`), `rate`
/// events per second, a 200 ms warm-up, an 800 ms window and fast (40 ms) polling.
pub fn small(name: &str, clients: u64, room_size: Option<u64>, rate: f64) -> LoadConfig {
    let mut config = scenario::load(name).unwrap().config;
    Overrides {
        clients: Some(clients),
        room_size,
        rate: Some(rate),
        poll_interval: Some(Duration::from_millis(40)),
        warmup: Some(Duration::from_millis(200)),
        window: Some(Duration::from_millis(800)),
        tail: Some(Duration::from_millis(100)),
        drain: Some(Duration::from_secs(3)),
        ..Overrides::default()
    }
    .apply(&mut config);
    config.quiet = true;
    config.validate().unwrap();
    config
}
