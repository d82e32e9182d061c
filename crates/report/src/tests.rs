//! Which columns a run gets, and the workload line.

use crate::columns::{NOT_MEASURED, cells, columns, headers};
use crate::{render_markdown, render_table, workload_line};
use rtbench_results::*;

fn row(transport: &str) -> Row {
    let h = histogram::new_histogram();
    Row {
        scenario: "chat".into(),
        transport: transport.parse().expect("a transport name"),
        conditions: "loopback".into(),
        clients: 100,
        rate_per_s: 0.0,
        payload_bytes: 128,
        poll_interval_ms: 500,
        room_size: 10,
        senders: 0,
        send_rate_per_s: 0.0,
        events: 10,
        sends: 0,
        sends_lost: 0,
        deliveries: 90,
        lost: 0,
        duplicated: 0,
        reordered: 0,
        client_errors: 0,
        reconnects: 0,
        latency_us: Latency::default(),
        ratio_to_floor_p50: Some(1.0),
        bytes_per_delivery: 200.0,
        requests_per_delivery: 0.0,
        server_cpu_us_per_delivery: 1.0,
        server_measured: true,
        client_cpu_us_per_delivery: 1.0,
        packets_per_delivery: None,
        kernel_bytes_per_delivery: None,
        meter_kernel_disagreement_pct: None,
        connections: None,
        memory_per_connection_bytes: None,
        memory_per_connection_at_connect_bytes: None,
        lost_in_gaps: 0,
        notes: Vec::new(),
        overload: Default::default(),
        kernel_socket_memory_per_connection_bytes: None,
        idle_bytes_per_client_s: None,
        idle_requests_per_client_s: None,
        idle_server_cpu_us_per_client_s: None,
        spread: None,
        totals: Totals {
            bytes_to_clients: 9_000,
            bytes_from_clients: 900,
            ..Totals::default()
        },
        client: rtbench_results::Client::Rust,
        latency_histogram: h,
        ack: None,
        shards: Vec::new(),
    }
}

fn results(rows: Vec<Row>) -> Results {
    Results {
        schema_version: SCHEMA_VERSION,
        tool: "rtbench".into(),
        command: vec!["rtbench".into(), "run".into()],
        started_at_unix_s: 0,
        environment: Environment {
            cpu_model: "cpu".into(),
            cores: 2,
            kernel: "6".into(),
            rustc: "rustc".into(),
            git_commit: "abc".into(),
            git_dirty: false,
            build_profile: "release".into(),
            placement: Placement {
                server_cpus: vec![],
                loadgen_cpus: vec![],
                description: "not pinned".into(),
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
            server_http: String::new(),
            server_tcp: String::new(),
            scenario_file: String::new(),
            scenario_description: String::new(),
            scenario_toml: String::new(),
            room_size: 100,
            send_rate_per_s: 0.0,
            sweep: vec![],
            repeat: 1,
            server: None,
            connections: None,
            idle_window_ms: None,
            conditions: Vec::new(),
            faults: Default::default(),
            stack: Default::default(),
            target: None,
        },
        rows,
        cluster: None,
    }
}

#[test]
fn a_plain_run_has_the_core_columns() {
    let r = results(vec![row("tcp")]);
    assert_eq!(
        headers(&columns(&r)),
        [
            "transport",
            "clients",
            "deliveries",
            "lost/dup/reord",
            "p50",
            "p90",
            "p99",
            "p99.9",
            "max",
            "p50 ÷ tcp",
            "bytes/deliv",
            "req/deliv",
            "srv CPU µs/deliv",
            "cli CPU µs/deliv",
        ]
    );
    assert!(workload_line(&r).starts_with(
        "scenario dashboard: 100 clients per transport, server events 20/s, 128 B payload, \
         short-poll interval 500 ms"
    ));
    assert!(render_markdown(&r).contains("| tcp | 100 | 90 | 0/0/0 |"));
}

#[test]
fn a_target_run_says_not_measured_without_a_pid_and_shows_cpu_with_one() {
    let mut r = results(vec![row("sse")]);
    let cells_of = |r: &Results| cells(&columns(r), &r.rows[0]);
    let own = cells_of(&r);
    assert!(!own.contains(&NOT_MEASURED.to_string()), "{own:?}");
    assert_eq!(crate::target_line(&r), None);
    r.config.target = Some(rtbench_results::TargetRun {
        url: "http://127.0.0.1:8080".into(),
        stamping: "server".into(),
        bytes_counted_at: "client".into(),
        pid: None,
    });
    let blind = cells_of(&r);
    // req/deliv and srv CPU µs/deliv: never a 0 that was not measured.
    assert_eq!(
        blind[blind.len() - 3..blind.len() - 1],
        [NOT_MEASURED, NOT_MEASURED]
    );
    let line = crate::target_line(&r).unwrap();
    assert!(line.contains("server CPU and RSS not measured"), "{line}");
    assert!(render_markdown(&r).contains("server CPU and RSS not measured"));
    r.config.target.as_mut().unwrap().pid = Some(42);
    let seen = cells_of(&r);
    assert_eq!(
        seen[seen.len() - 3],
        NOT_MEASURED,
        "requests: a server-side count"
    );
    assert_eq!(
        seen[seen.len() - 2],
        own[own.len() - 2],
        "server CPU from /proc"
    );
    assert!(crate::target_line(&r).unwrap().contains("/proc/42"));
}

#[test]
fn sends_sweeps_and_repeats_add_their_columns() {
    let mut sending = row("sse");
    sending.senders = 100;
    sending.sends = 50;
    sending.sends_lost = 1;
    sending.poll_interval_ms = 250;
    sending.spread = Some(Spread {
        repeats: 3,
        latency_p50_us: MinMax {
            min: 90.0,
            max: 1_500.0,
        },
        ..Spread::default()
    });
    let mut r = results(vec![sending]);
    r.config.sweep = vec!["poll_interval=250ms,1s".into()];
    r.config.repeat = 3;
    let cols = columns(&r);
    let h = headers(&cols);
    assert_eq!(&h[..3], ["transport", "poll ms", "clients"]);
    for wanted in [
        "sends (lost)",
        "↓ B/deliv",
        "↑ B/deliv",
        "p50 min–max",
        "srv CPU min–max",
    ] {
        assert!(h.contains(&wanted), "{wanted} missing from {h:?}");
    }
    let cells = cells(&cols, &r.rows[0]);
    let at = |name| cells[h.iter().position(|x| *x == name).unwrap()].clone();
    assert_eq!(at("poll ms"), "250");
    assert_eq!(at("sends (lost)"), "50 (1)");
    assert_eq!(
        (at("↓ B/deliv"), at("↑ B/deliv")),
        ("100".into(), "10".into())
    );
    assert_eq!(at("p50 min–max"), "90.0 µs–1.50 ms");
    let line = workload_line(&r);
    assert!(line.contains("sweep poll_interval=250ms,1s"), "{line}");
    assert!(line.contains("each point 3 times"), "{line}");
    assert!(crate::render_table_view(&r, crate::View::Wide).contains("50 (1)"));
    let compact = render_table(&r);
    assert!(
        compact.contains("sends") && compact.contains("poll ms"),
        "{compact}"
    );
    for line in compact.lines() {
        assert!(line.chars().count() <= crate::table::MAX_LINE, "{line}");
    }
}

#[test]
fn every_transport_has_its_place_label_colour_and_chapter_row() {
    use crate::test_support::{row as measured, run};
    use crate::{data::Dataset, textbook, transport};
    let mut colours: Vec<String> = Vec::new();
    for (i, t) in Transport::ALL.into_iter().enumerate() {
        assert_eq!(transport::rank(t), i, "{t}: report order is Transport::ALL");
        assert_eq!(transport::label(t), t.spec().label);
        colours.push(transport::colour_hex(t));
    }
    colours.sort();
    colours.dedup();
    assert_eq!(colours.len(), Transport::ALL.len(), "one colour each");

    let rows: Vec<Row> = Transport::ALL
        .iter()
        .map(|t| measured(t.as_str(), 20.0, 500, 500.0, 180.0))
        .collect();
    let d = Dataset::new(&[run("all.json", rows.clone())]).unwrap();
    assert_eq!(d.transports, Transport::ALL);
    let table = textbook::measure(&d);
    let claimed: Vec<Transport> = Transport::ALL
        .into_iter()
        .filter(|t| t.spec().chapter.is_some())
        .collect();
    assert_eq!(table.rows.len(), claimed.len());
    let md = render_markdown(&run("all.json", rows).results);
    for t in claimed {
        let c = t.spec().chapter.unwrap();
        let row = table.rows.iter().find(|r| r.claim.transport == t).unwrap();
        assert_eq!(
            (row.claim.technique, row.claim.latency, row.claim.overhead),
            (c.technique, c.latency, c.overhead)
        );
        assert!(!row.latency.figure.is_empty(), "{t} measured");
        assert!(
            md.contains(&format!("| {} | {} |", c.technique, c.latency)),
            "{t}: {md}"
        );
    }
    assert!(table.floor.is_some(), "the floor is found");
}

#[test]
fn acked_emits_add_their_columns_and_other_rows_read_a_dash() {
    let mut h = histogram::new_histogram();
    h.record(1_500_000).unwrap();
    let mut acked = row("socketio");
    acked.ack = Some(Ack {
        emits: 40,
        acks: 40,
        latency_us: Latency::from_histogram(&h),
        histogram: h,
    });
    let r = results(vec![row("tcp"), acked]);
    let wide = headers(&columns(&r));
    let at = wide.iter().position(|h| *h == "acks/emits").unwrap();
    assert_eq!(wide[at..at + 3], ["acks/emits", "ack p50", "ack p99"]);
    assert_eq!(cells(&columns(&r), &r.rows[1])[at], "40/40");
    let compact = crate::columns::compact_columns(&r);
    let names = headers(&compact);
    let at = names.iter().position(|h| *h == "ack p50 ms").unwrap();
    assert_eq!(names[at + 1], "ack p99 ms");
    assert_eq!(cells(&compact, &r.rows[1])[at], "1.50");
    assert_eq!(cells(&compact, &r.rows[0])[at], "–");
    assert!(!headers(&columns(&results(vec![row("tcp")]))).contains(&"ack p50"));
}

#[test]
fn remote_shards_put_their_uncertainty_beside_every_latency_and_are_named() {
    let mut sse = row("sse");
    sse.latency_us.p50 = 2_270.0;
    sse.latency_us.uncertainty_us = Some(180.0);
    sse.notes.push(
        "clients split over 3 load-generator shards on other hosts; shards 0 on h0 (10.9.0.2): offset -16.1 µs ± 180.0, drift +26.1 µs"
            .into(),
    );
    let r = results(vec![sse, row("tcp")]);
    let table = render_table(&r);
    assert!(table.contains("2.27 ± 0.180"), "{table}");
    let md = render_markdown(&r);
    assert!(md.contains("| 2.27 ms ± 180 µs |"), "{md}");
    assert!(md.contains("0 on h0 (10.9.0.2): offset -16.1 µs"), "{md}");
    let html = crate::render_html(&[crate::Run {
        source: "results.json".into(),
        results: r.clone(),
    }])
    .unwrap();
    assert!(html.contains("2.27 ms ± 180 µs"), "the page too");
    let plain = results(vec![row("tcp")]);
    assert!(
        !render_markdown(&plain).contains('±'),
        "no uncertainty on the server's host"
    );
}
