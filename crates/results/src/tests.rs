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
            git_dirty: false,
            build_profile: "release".into(),
            placement: Placement {
                server_cpus: vec![1],
                loadgen_cpus: vec![0],
                description: "server on cpu 1, load generator on cpu 0".into(),
            },
            write_cost: None,
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
            transports: vec![Transport::Tcp],
            server_http: "127.0.0.1:1".into(),
            server_tcp: "127.0.0.1:2".into(),
            server: Some(ServerInfo {
                settings: ServerSettings::default(),
                allocator: "jemalloc".into(),
            }),
            connections: None,
            idle_window_ms: None,
            scenario_file: "benches/scenarios/dashboard.toml".into(),
            scenario_description: "dashboard".into(),
            scenario_toml: "clients = 100\n".into(),
            room_size: 100,
            send_rate_per_s: 0.0,
            sweep: vec![],
            repeat: 1,
            conditions: vec![ConditionsSpec {
                name: "loopback".into(),
                description: "loopback: nothing added".into(),
                ..ConditionsSpec::default()
            }],
            faults: FaultsSpec::default(),
            stack: Default::default(),
            target: None,
        },
        rows: vec![Row {
            scenario: "dashboard".into(),
            transport: Transport::Tcp,
            conditions: "loopback".into(),
            clients: 100,
            rate_per_s: 20.0,
            payload_bytes: 128,
            poll_interval_ms: 500,
            room_size: 100,
            senders: 0,
            send_rate_per_s: 0.0,
            events: 200,
            sends: 0,
            sends_lost: 0,
            deliveries: 20_000,
            lost: 0,
            duplicated: 0,
            reordered: 0,
            lost_in_gaps: 0,
            notes: Vec::new(),
            overload: Default::default(),
            client_errors: 0,
            reconnects: 0,
            latency_us: Latency::from_histogram(&h),
            ratio_to_floor_p50: Some(1.0),
            bytes_per_delivery: 180.0,
            requests_per_delivery: 0.0,
            server_cpu_us_per_delivery: 3.0,
            server_measured: true,
            client_cpu_us_per_delivery: 2.0,
            packets_per_delivery: None,
            kernel_bytes_per_delivery: None,
            meter_kernel_disagreement_pct: None,
            connections: None,
            memory_per_connection_bytes: None,
            memory_per_connection_at_connect_bytes: None,
            kernel_socket_memory_per_connection_bytes: None,
            idle_bytes_per_client_s: None,
            idle_requests_per_client_s: None,
            idle_server_cpu_us_per_client_s: None,
            spread: None,
            totals: Totals::default(),
            client: crate::Client::Rust,
            latency_histogram: h,
            ack: None,
            shards: Vec::new(),
        }],
        cluster: None,
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
            "build_profile",
            "cores",
            "cpu_model",
            "git_commit",
            "git_dirty",
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
            "client",
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
            "kernel_socket_memory_per_connection_bytes",
            "latency_histogram",
            "latency_us",
            "lost",
            "lost_in_gaps",
            "memory_per_connection_at_connect_bytes",
            "memory_per_connection_bytes",
            "meter_kernel_disagreement_pct",
            "notes",
            "overload",
            "packets_per_delivery",
            "payload_bytes",
            "poll_interval_ms",
            "rate_per_s",
            "ratio_to_floor_p50",
            "reconnects",
            "reordered",
            "requests_per_delivery",
            "room_size",
            "scenario",
            "send_rate_per_s",
            "senders",
            "sends",
            "sends_lost",
            "server_cpu_us_per_delivery",
            "spread",
            "totals",
            "transport",
        ]
    );
    assert_eq!(
        keys(&v["config"]),
        [
            "clients",
            "conditions",
            "connections",
            "drain_ms",
            "faults",
            "idle_window_ms",
            "longpoll_timeout_ms",
            "payload_bytes",
            "poll_interval_ms",
            "rate_per_s",
            "repeat",
            "room_size",
            "scenario",
            "scenario_description",
            "scenario_file",
            "scenario_toml",
            "send_rate_per_s",
            "server",
            "server_http",
            "server_tcp",
            "stack",
            "sweep",
            "tail_ms",
            "transports",
            "warmup_ms",
            "window_ms",
        ]
    );
    let spread = serde_json::to_value(Spread::default()).unwrap();
    assert_eq!(
        keys(&spread),
        [
            "bytes_per_delivery",
            "client_cpu_us_per_delivery",
            "latency_p50_us",
            "latency_p99_us",
            "repeats",
            "requests_per_delivery",
            "server_cpu_us_per_delivery",
        ]
    );
    assert_eq!(keys(&spread["latency_p50_us"]), ["max", "min"]);
    assert_eq!(
        keys(&row["latency_us"]),
        ["max", "mean", "p50", "p90", "p99", "p999"]
    );
    assert_eq!(
        keys(&row["totals"]),
        [
            "bytes_from_clients",
            "bytes_to_clients",
            "client_cpu_us",
            "http_requests",
            "kernel_bytes_from_clients",
            "kernel_bytes_to_clients",
            "rss_growth_at_connect_bytes",
            "rss_growth_bytes",
            "segments_in",
            "segments_out",
            "server_cpu_us",
            "socket_memory_growth_at_connect_bytes",
            "socket_memory_growth_bytes",
            "window_us",
        ]
    );
    assert_eq!(keys(&v["config"]["server"]), ["allocator", "settings"]);
    assert_eq!(
        keys(&v["config"]["server"]["settings"]),
        [
            "cors_origins",
            "fault",
            "fault_endpoints",
            "http_engine",
            "http_max_buf_bytes",
            "http_writev",
            "limits",
            "max_topics",
            "ring_capacity",
            "sse_keep_alive_ms",
            "tls",
            "ws_read_buffer_bytes",
            "ws_write_buffer_bytes",
        ]
    );
    assert_eq!(
        keys(&v["config"]["server"]["settings"]["fault"]),
        ["delay_us", "pad_bytes"]
    );
    assert_eq!(v["config"]["server"]["settings"]["http_engine"], "stock");
    assert_eq!(v["config"]["transports"], serde_json::json!(["tcp"]));
    assert_eq!(row["transport"], "tcp");
    assert!(
        row["latency_histogram"]
            .as_str()
            .unwrap()
            .starts_with("HISTF")
    );
    assert_eq!(v["schema_version"], 3);
}

#[test]
fn round_trips_and_refuses_other_versions_and_corrupt_files() {
    let r = sample();
    let text = serde_json::to_string(&r).unwrap();
    let p = Path::new("results.json");
    assert_eq!(Results::from_json(&text, p).unwrap(), r);

    let old = text.replace("\"schema_version\":3", "\"schema_version\":0");
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
    let err = Results::from_json("{\"schema_version\":3}", p)
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing field"), "{err}");
}

/// `sample()` as version 1 wrote it: flat server settings, the fault beside them.
fn version_1(fault: serde_json::Value) -> serde_json::Value {
    let mut v = serde_json::to_value(sample()).unwrap();
    v["schema_version"] = 1.into();
    v["config"]["server"] = serde_json::json!({
        "allocator": "jemalloc",
        "http_engine": "lean",
        "http_max_buf_bytes": 417_792,
        "http_writev": false,
        "sse_keep_alive_ms": 15_000,
        "ws_read_buffer_bytes": 2048,
        "ws_write_buffer_bytes": 0,
    });
    v["config"]["server_fault"] = fault;
    v
}

#[test]
fn version_1_documents_are_upgraded() {
    let v = version_1(serde_json::json!({"delay_us": 5, "pad_bytes": 64}));
    let r = Results::from_json(&v.to_string(), Path::new("v1.json")).unwrap();
    assert_eq!(r.schema_version, SCHEMA_VERSION);
    let info = r.config.server.as_ref().unwrap();
    assert_eq!(info.allocator, "jemalloc");
    assert_eq!(
        info.settings,
        ServerSettings {
            ws_read_buffer_bytes: 2048,
            http_writev: false,
            http_engine: HttpEngine::Lean,
            fault: ServerFault {
                delay_us: 5,
                pad_bytes: 64,
            },
            ..ServerSettings::default()
        }
    );
    assert_eq!(r.config.server_fault().pad_bytes, 64);
    assert_eq!(r.rows, sample().rows);
}

#[test]
fn documents_without_conditions_fields_still_load() {
    let mut v = version_1(serde_json::Value::Null);
    v["config"].as_object_mut().unwrap().remove("conditions");
    v["config"].as_object_mut().unwrap().remove("faults");
    v["config"].as_object_mut().unwrap().remove("stack");
    v["config"].as_object_mut().unwrap().remove("server_fault");
    v["rows"][0].as_object_mut().unwrap().remove("lost_in_gaps");
    v["rows"][0].as_object_mut().unwrap().remove("notes");
    // Made before the lean HTTP path existed: hyper answered everything.
    v["config"]["server"]
        .as_object_mut()
        .unwrap()
        .remove("http_engine");
    let r = Results::from_json(&v.to_string(), Path::new("old.json")).unwrap();
    assert!(r.config.conditions.is_empty() && r.rows[0].notes.is_empty());
    assert_eq!(r.config.faults, FaultsSpec::default());
    assert_eq!(
        r.config.stack,
        rtbench_proto::Stack::H1,
        "before stacks: plaintext HTTP/1.1"
    );
    assert!(r.config.server_fault().is_off());
    assert_eq!(
        r.config.server.unwrap().settings.http_engine,
        HttpEngine::Stock
    );
}

#[test]
fn a_bad_row_is_named_by_place_and_transport() {
    let mut v = serde_json::to_value(sample()).unwrap();
    v["rows"][0]["latency_histogram"] = "not a histogram".into();
    let err = Results::from_json(&v.to_string(), Path::new("r.json"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("row 1 (tcp row)"), "{err}");
    assert!(err.contains("latency histogram does not decode"), "{err}");
    let mut v = serde_json::to_value(sample()).unwrap();
    v["rows"][0]["transport"] = "pigeon".into();
    let err = Results::from_json(&v.to_string(), Path::new("r.json"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown transport 'pigeon'"), "{err}");
}

#[test]
fn committed_documents_load() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for file in [
        "reports/baseline/results.json",
        "reports/example/results.json",
    ] {
        let r = Results::load(&root.join(file)).unwrap();
        assert!(!r.rows.is_empty(), "{file}");
    }
}

#[test]
fn client_defaults_to_rust_and_reads_browser() {
    let mut v = serde_json::to_value(sample()).unwrap();
    assert_eq!(v["rows"][0]["client"], "rust");
    v["rows"][0].as_object_mut().unwrap().remove("client");
    let r: Results = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(r.rows[0].client, Client::Rust);
    v["rows"][0]["client"] = "browser".into();
    let r: Results = serde_json::from_value(v).unwrap();
    assert_eq!(r.rows[0].client, Client::Browser);
    assert_eq!(r.rows[0].who(), "tcp (browser)");
}

#[test]
fn server_figures_not_measured_are_absent_not_zero_and_read_back() {
    let mut r = sample();
    r.rows[0].totals.server_cpu_us = 7;
    r.rows[0].totals.server_rss_bytes = Some(1 << 20);
    let measured = r.to_json();
    let row = &measured["rows"][0];
    assert!(
        row.get("server_measured").is_none(),
        "written only when false"
    );
    assert_eq!(row["server_cpu_us_per_delivery"].as_f64(), Some(3.0));
    assert_eq!(row["totals"]["server_cpu_us"].as_u64(), Some(7));

    r.rows[0].server_measured = false;
    let blind = r.to_json();
    let row = &blind["rows"][0];
    assert_eq!(row["server_measured"].as_bool(), Some(false));
    for (parent, field) in [
        ("", "server_cpu_us_per_delivery"),
        ("/totals", "server_cpu_us"),
        ("/totals", "server_rss_bytes"),
    ] {
        let at = row.pointer(parent).unwrap();
        assert!(at.get(field).is_none(), "{parent}/{field}: {at}");
    }
    let back = Results::from_json(&blind.to_string(), Path::new("r.json")).unwrap();
    let row = &back.rows[0];
    assert!(!row.server_measured);
    assert_eq!(row.server_cpu_us_per_delivery_measured(), None);
    assert_eq!(row.totals.server_rss_bytes, None);
    // Documents written before the field read as measured.
    let old = Results::from_json(&measured.to_string(), Path::new("r.json")).unwrap();
    assert!(old.rows[0].server_measured);
    assert_eq!(old.rows[0].server_cpu_us_per_delivery_measured(), Some(3.0));
}

#[test]
fn remote_shards_and_the_latency_uncertainty_are_additive() {
    let mut v = serde_json::to_value(sample()).unwrap();
    let row = v["rows"][0].as_object().unwrap();
    assert!(
        !row.contains_key("shards"),
        "none written without remote shards"
    );
    assert!(
        !v["rows"][0]["latency_us"]
            .as_object()
            .unwrap()
            .contains_key("uncertainty_us")
    );
    let mut r = sample();
    let clock = |offset_ns, uncertainty_ns| ClockOffset {
        offset_ns,
        uncertainty_ns,
    };
    r.rows[0].shards = vec![
        ShardClock {
            index: 0,
            host: "a (10.0.0.2)".into(),
            start: clock(-1_000, 30_000),
            end: clock(-4_000, 41_000),
        },
        ShardClock {
            index: 1,
            host: "b (10.0.0.3)".into(),
            start: clock(2_000, 35_000),
            end: clock(2_500, 20_000),
        },
    ];
    r.rows[0].latency_us.uncertainty_us = max_uncertainty_us(&r.rows[0].shards);
    assert_eq!(r.rows[0].latency_us.uncertainty_us, Some(41.0));
    assert_eq!(r.rows[0].shards[0].drift_ns(), -3_000);
    let back: Results = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back.rows[0].shards, r.rows[0].shards);
    assert_eq!(back.rows[0].latency_us, r.rows[0].latency_us);
    v["rows"][0]["latency_us"]["uncertainty_us"] = 12.5.into();
    let r: Results = serde_json::from_value(v).unwrap();
    assert_eq!(r.rows[0].latency_us.uncertainty_us, Some(12.5));
    assert!(r.rows[0].shards.is_empty());
}
