//! Pins the results document's shape: tools, CI and reports read these names.

use super::*;
use std::path::Path;

pub(crate) fn sample() -> Results {
    let mut h = histogram::new_histogram();
    h.record(45_000).unwrap();
    Results {
        schema_version: SCHEMA_VERSION,
        tool: "rtbench 0.1.0".into(),
        command: vec!["rtbench".into(), "run".into()],
        started_at_unix_s: 1,
        environment: Environment {
            cpu_model: "cpu".into(),
            cores: 2,
            kernel: "6.1".into(),
            rustc: "rustc 1.95.0".into(),
            git_commit: "abc".into(),
            placement: Placement {
                server_cpus: vec![1],
                loadgen_cpus: vec![0],
                description: "server on cpu 1, load generator on cpu 0".into(),
            },
        },
        config: RunConfig {
            scenario: "dashboard".into(),
            clients: 100,
            rate_per_s: 20.0,
            payload_bytes: 128,
            poll_interval_ms: 500,
            longpoll_timeout_ms: 30_000,
            warmup_ms: 2_000,
            window_ms: 10_000,
            tail_ms: 500,
            drain_ms: 2_000,
            transports: vec!["tcp".into()],
            server_http: "127.0.0.1:1".into(),
            server_tcp: "127.0.0.1:2".into(),
            server_fault: ServerFault::default(),
        },
        rows: vec![Row {
            scenario: "dashboard".into(),
            transport: "tcp".into(),
            conditions: "loopback".into(),
            clients: 100,
            rate_per_s: 20.0,
            payload_bytes: 128,
            poll_interval_ms: 500,
            events: 200,
            deliveries: 20_000,
            lost: 0,
            duplicated: 0,
            reordered: 0,
            client_errors: 0,
            reconnects: 0,
            latency_us: Latency::from_histogram(&h),
            ratio_to_floor_p50: Some(1.0),
            bytes_per_delivery: 180.0,
            requests_per_delivery: 0.0,
            server_cpu_us_per_delivery: 3.0,
            client_cpu_us_per_delivery: 2.0,
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
        }],
    }
}

fn keys(v: &serde_json::Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn shape_is_pinned() {
    let v = serde_json::to_value(sample()).unwrap();
    assert_eq!(
        keys(&v),
        [
            "command",
            "config",
            "environment",
            "rows",
            "schema_version",
            "started_at_unix_s",
            "tool"
        ]
    );
    assert_eq!(
        keys(&v["environment"]),
        [
            "cores",
            "cpu_model",
            "git_commit",
            "kernel",
            "placement",
            "rustc"
        ]
    );
    let row = &v["rows"][0];
    assert_eq!(
        keys(row),
        [
            "bytes_per_delivery",
            "client_cpu_us_per_delivery",
            "client_errors",
            "clients",
            "conditions",
            "connections",
            "deliveries",
            "duplicated",
            "events",
            "idle_bytes_per_client_s",
            "idle_requests_per_client_s",
            "idle_server_cpu_us_per_client_s",
            "kernel_bytes_per_delivery",
            "latency_histogram",
            "latency_us",
            "lost",
            "memory_per_connection_bytes",
            "meter_kernel_disagreement_pct",
            "packets_per_delivery",
            "payload_bytes",
            "poll_interval_ms",
            "rate_per_s",
            "ratio_to_floor_p50",
            "reconnects",
            "reordered",
            "requests_per_delivery",
            "scenario",
            "server_cpu_us_per_delivery",
            "totals",
            "transport",
        ]
    );
    assert_eq!(
        v["config"]["server_fault"],
        serde_json::json!({"delay_us": 0, "pad_bytes": 0})
    );
    assert_eq!(
        keys(&row["latency_us"]),
        ["max", "mean", "p50", "p90", "p99", "p999"]
    );
    assert_eq!(v["schema_version"], 1);
}

#[test]
fn round_trips_and_refuses_other_versions_and_corrupt_files() {
    let r = sample();
    let text = serde_json::to_string(&r).unwrap();
    let p = Path::new("results.json");
    assert_eq!(Results::from_json(&text, p).unwrap(), r);

    let old = text.replace("\"schema_version\":1", "\"schema_version\":0");
    let err = Results::from_json(&old, p).unwrap_err().to_string();
    assert!(
        err.starts_with("results.json: results schema version 0"),
        "{err}"
    );

    let err = Results::from_json("{not json", p).unwrap_err().to_string();
    assert!(
        err.starts_with("results.json: not an rtbench results file"),
        "{err}"
    );
    let mut older = serde_json::to_value(&r).unwrap();
    older["config"]
        .as_object_mut()
        .unwrap()
        .remove("server_fault");
    assert_eq!(
        Results::from_json(&older.to_string(), p).unwrap(),
        r,
        "files without server_fault load"
    );

    let err = Results::from_json("{\"schema_version\":1}", p)
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing field"), "{err}");
}
