//! Hand-made rows and runs for the unit tests, built on a row of the committed fixture (a real run)
//! so that fields other issues add to the results document keep their recorded values.

use crate::Run;
use rtbench_results::{Latency, Results, Row, histogram::new_histogram};
use std::path::Path;

fn fixture() -> Results {
    let text = include_str!("../tests/fixtures/base.json");
    Results::from_json(text, Path::new("tests/fixtures/base.json")).expect("the fixture loads")
}

/// A row of `transport` with 1,000 deliveries all at `p50_us`, and `bytes` per delivery.
pub fn row(
    transport: &str,
    rate_per_s: f64,
    poll_interval_ms: u64,
    p50_us: f64,
    bytes: f64,
) -> Row {
    let mut h = new_histogram();
    h.record_n((p50_us * 1_000.0) as u64, 1_000).unwrap();
    let mut r = fixture().rows.swap_remove(0);
    r.scenario = "dashboard".into();
    r.transport = transport.parse().expect("a transport name");
    r.conditions = "loopback".into();
    r.clients = 100;
    r.rate_per_s = rate_per_s;
    r.payload_bytes = 128;
    r.poll_interval_ms = poll_interval_ms;
    r.events = 10;
    r.deliveries = 1_000;
    (
        r.lost,
        r.duplicated,
        r.reordered,
        r.client_errors,
        r.reconnects,
    ) = (0, 0, 0, 0, 0);
    r.latency_us = Latency::from_histogram(&h);
    r.ratio_to_floor_p50 = None;
    r.bytes_per_delivery = bytes;
    r.requests_per_delivery = if transport.ends_with("poll") {
        1.0
    } else {
        0.0
    };
    r.server_cpu_us_per_delivery = 5.0;
    r.client_cpu_us_per_delivery = 5.0;
    r.packets_per_delivery = None;
    r.memory_per_connection_bytes = None;
    r.idle_bytes_per_client_s = None;
    r.idle_requests_per_client_s = None;
    r.idle_server_cpu_us_per_client_s = None;
    r.latency_histogram = h;
    r
}

/// A run named `source` holding `rows`, its config taken from the first row.
pub fn run(source: &str, rows: Vec<Row>) -> Run {
    let first = rows
        .first()
        .cloned()
        .unwrap_or_else(|| row("tcp", 20.0, 500, 50.0, 180.0));
    let mut results = fixture();
    results.command = vec!["rtbench".into(), "run".into()];
    results.started_at_unix_s = 1_700_000_000;
    let e = &mut results.environment;
    e.cpu_model = "Test CPU".into();
    e.cores = 2;
    e.kernel = "6.1".into();
    e.rustc = "rustc 1.95.0".into();
    e.git_commit = "abc123".into();
    e.placement.description = "server on cpu 1, load generator on cpu 0".into();
    let c = &mut results.config;
    c.scenario = first.scenario.clone();
    c.clients = first.clients;
    c.rate_per_s = first.rate_per_s;
    c.payload_bytes = first.payload_bytes;
    c.poll_interval_ms = first.poll_interval_ms;
    c.warmup_ms = 2_000;
    c.window_ms = 10_000;
    c.transports = rows.iter().map(|r| r.transport).collect();
    results.rows = rows;
    Run {
        source: source.into(),
        results,
    }
}

/// An interval log as `rtbench run` writes it (hdrhistogram's writer, V2 + deflate), started at
/// `start_unix_s`, tagged `tag`: one interval per second, each holding `values_ns`.
pub fn hlog(start_unix_s: u64, tag: &str, intervals: &[&[u64]]) -> Vec<u8> {
    use hdrhistogram::serialization::V2DeflateSerializer;
    use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
    use std::time::{Duration, UNIX_EPOCH};
    let base = UNIX_EPOCH + Duration::from_secs(start_unix_s);
    let mut out = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    let mut w = IntervalLogWriterBuilder::new()
        .with_start_time(base)
        .with_base_time(base)
        .begin_log_with(&mut out, &mut serializer)
        .unwrap();
    for (i, values) in intervals.iter().enumerate() {
        let mut h = rtbench_results::histogram::new_histogram();
        for &v in *values {
            h.record(v).unwrap();
        }
        w.write_histogram(
            &h,
            Duration::from_secs(i as u64),
            Duration::from_secs(1),
            Tag::new(tag),
        )
        .unwrap();
    }
    drop(w);
    out
}
