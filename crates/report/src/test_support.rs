//! Hand-made rows and runs for the unit tests (the committed fixture under `tests/` is a real run).

use crate::Run;
use rtbench_results::{
    Environment, Latency, Placement, Results, Row, RunConfig, SCHEMA_VERSION, Totals,
    encode_histogram, histogram::new_histogram,
};

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
    Row {
        scenario: "dashboard".into(),
        transport: transport.into(),
        conditions: "loopback".into(),
        clients: 100,
        rate_per_s,
        payload_bytes: 128,
        poll_interval_ms,
        events: 10,
        deliveries: 1_000,
        lost: 0,
        duplicated: 0,
        reordered: 0,
        client_errors: 0,
        reconnects: 0,
        latency_us: Latency::from_histogram(&h),
        ratio_to_floor_p50: None,
        bytes_per_delivery: bytes,
        requests_per_delivery: if transport.ends_with("poll") {
            1.0
        } else {
            0.0
        },
        server_cpu_us_per_delivery: 5.0,
        client_cpu_us_per_delivery: 5.0,
        packets_per_delivery: None,
        kernel_bytes_per_delivery: None,
        meter_kernel_disagreement_pct: None,
        connections: None,
        memory_per_connection_bytes: None,
        idle_bytes_per_client_s: None,
        idle_requests_per_client_s: None,
        idle_server_cpu_us_per_client_s: None,
        totals: Totals::default(),
        latency_histogram: encode_histogram(&h),
    }
}

/// A run named `source` holding `rows`, its config taken from the first row.
pub fn run(source: &str, rows: Vec<Row>) -> Run {
    let first = rows
        .first()
        .cloned()
        .unwrap_or_else(|| row("tcp", 20.0, 500, 50.0, 180.0));
    let results = Results {
        schema_version: SCHEMA_VERSION,
        tool: "rtbench 0.1.0".into(),
        command: vec!["rtbench".into(), "run".into()],
        started_at_unix_s: 1_700_000_000,
        environment: Environment {
            cpu_model: "Test CPU".into(),
            cores: 2,
            kernel: "6.1".into(),
            rustc: "rustc 1.95.0".into(),
            git_commit: "abc123".into(),
            placement: Placement {
                server_cpus: vec![1],
                loadgen_cpus: vec![0],
                description: "server on cpu 1, load generator on cpu 0".into(),
            },
        },
        config: RunConfig {
            scenario: first.scenario.clone(),
            clients: first.clients,
            rate_per_s: first.rate_per_s,
            payload_bytes: first.payload_bytes,
            poll_interval_ms: first.poll_interval_ms,
            longpoll_timeout_ms: 30_000,
            warmup_ms: 2_000,
            window_ms: 10_000,
            tail_ms: 500,
            drain_ms: 2_000,
            transports: rows.iter().map(|r| r.transport.clone()).collect(),
            server_http: "127.0.0.1:1".into(),
            server_tcp: "127.0.0.1:2".into(),
        },
        rows,
    };
    Run {
        source: source.into(),
        results,
    }
}
