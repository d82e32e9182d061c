//! The gate on synthetic documents: an unchanged run passes, each kind of regression fails it,
//! and runs of different workloads are refused.

use super::*;
use rtbench_results::histogram::new_histogram;
use rtbench_results::{
    Environment, Latency, Placement, Row, RunConfig, SCHEMA_VERSION, ServerFault, ServerInfo,
    ServerSettings, Totals, Transport,
};

/// A row with the figures the gate reads; the rest zero.
fn row(transport: &str, p50_us: f64, bytes: f64, requests: f64) -> Row {
    Row {
        scenario: "dashboard".into(),
        transport: transport.parse().expect("a transport name"),
        conditions: "loopback".into(),
        clients: 20,
        rate_per_s: 50.0,
        payload_bytes: 128,
        poll_interval_ms: 100,
        events: 200,
        deliveries: 4_000,
        lost: 0,
        duplicated: 0,
        reordered: 0,
        client_errors: 0,
        reconnects: 0,
        latency_us: Latency {
            p50: p50_us,
            p99: p50_us * 4.0,
            ..Latency::default()
        },
        ratio_to_floor_p50: None,
        bytes_per_delivery: bytes,
        requests_per_delivery: requests,
        server_cpu_us_per_delivery: 10.0 + requests * 10.0,
        server_measured: true,
        client_cpu_us_per_delivery: 10.0,
        packets_per_delivery: None,
        kernel_bytes_per_delivery: None,
        meter_kernel_disagreement_pct: None,
        connections: None,
        memory_per_connection_bytes: None,
        idle_bytes_per_client_s: None,
        idle_requests_per_client_s: None,
        idle_server_cpu_us_per_client_s: None,
        memory_per_connection_at_connect_bytes: None,
        kernel_socket_memory_per_connection_bytes: None,
        room_size: 20,
        senders: 0,
        send_rate_per_s: 0.0,
        sends: 0,
        sends_lost: 0,
        spread: None,
        lost_in_gaps: 0,
        notes: Vec::new(),
        overload: Default::default(),
        totals: Totals::default(),
        client: rtbench_results::Client::Rust,
        latency_histogram: new_histogram(),
        ack: None,
        shards: Vec::new(),
    }
}

fn doc() -> Results {
    let rows = vec![
        row("tcp", 250.0, 181.0, 0.0),
        row("websocket", 300.0, 182.0, 0.0),
        row("sse", 380.0, 199.0, 0.0),
        row("long_poll", 480.0, 417.0, 0.99),
        row("short_poll", 52_000.0, 222.0, 0.2),
    ];
    Results {
        schema_version: SCHEMA_VERSION,
        tool: "rtbench 0.1.0".into(),
        command: vec!["rtbench".into(), "run".into()],
        started_at_unix_s: 1,
        environment: Environment {
            cpu_model: "cpu".into(),
            cores: 2,
            kernel: "6".into(),
            rustc: "rustc".into(),
            git_commit: "abc".into(),
            git_dirty: false,
            build_profile: "release".into(),
            placement: Placement {
                server_cpus: vec![1],
                loadgen_cpus: vec![0],
                description: String::new(),
            },
            write_cost: None,
        },
        config: RunConfig {
            scenario: "dashboard".into(),
            clients: 20,
            rate_per_s: 50.0,
            payload_bytes: 128,
            poll_interval_ms: 100,
            longpoll_timeout_ms: 30_000,
            warmup_ms: 1_000,
            window_ms: 4_000,
            tail_ms: 300,
            drain_ms: 1_000,
            transports: rows.iter().map(|r| r.transport).collect(),
            server_http: "127.0.0.1:1".into(),
            server_tcp: "127.0.0.1:2".into(),
            scenario_file: String::new(),
            scenario_description: String::new(),
            scenario_toml: String::new(),
            room_size: 20,
            send_rate_per_s: 0.0,
            sweep: Vec::new(),
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

fn row_mut<'a>(d: &'a mut Results, transport: &str) -> &'a mut Row {
    d.rows
        .iter_mut()
        .find(|r| r.transport.as_str() == transport)
        .unwrap()
}

fn failed(cmp: &Comparison) -> Vec<String> {
    cmp.regressions()
        .map(|c| format!("{} {}", c.transport, c.metric))
        .collect()
}

fn gate(current: &Results) -> Comparison {
    compare(
        &doc(),
        std::slice::from_ref(current),
        &Tolerances::default(),
    )
    .unwrap()
}

#[test]
fn an_unchanged_run_passes_and_noise_within_tolerance_passes() {
    let cmp = gate(&doc());
    assert!(cmp.passed(), "{:?}", failed(&cmp));
    assert_eq!(cmp.exit_code(), EXIT_OK);
    assert!(cmp.gated() > 20);

    // The machine got slower for everyone: ratios to the floor do not move.
    let mut slower = doc();
    for r in &mut slower.rows {
        r.latency_us.p50 *= 3.0;
        r.latency_us.p99 *= 3.0;
    }
    assert!(gate(&slower).passed());
}

#[test]
fn timing_regressions_of_the_transports_under_test_fail() {
    let mut cur = doc();
    row_mut(&mut cur, "websocket").latency_us.p50 = 300.0 * 2.5;
    let cmp = gate(&cur);
    assert_eq!(failed(&cmp), ["websocket p50 ÷ tcp"]);
    assert_eq!(cmp.exit_code(), EXIT_REGRESSION);

    // Short polling's latency is not gated, only shown.
    let mut cur = doc();
    row_mut(&mut cur, "short_poll").latency_us.p50 *= 3.0;
    assert!(gate(&cur).passed());
}

#[test]
fn cost_and_delivery_regressions_fail_tightly() {
    let mut cur = doc();
    row_mut(&mut cur, "sse").bytes_per_delivery = 199.0 + 8.0; // +4 %
    row_mut(&mut cur, "long_poll").requests_per_delivery = 1.2;
    row_mut(&mut cur, "websocket").requests_per_delivery = 0.01;
    row_mut(&mut cur, "tcp").lost = 1;
    row_mut(&mut cur, "tcp").deliveries = 3_999;
    assert_eq!(
        failed(&gate(&cur)),
        [
            "tcp lost+late+dup+reord+errors",
            "tcp deliveries",
            "websocket requests_per_delivery",
            "sse bytes_per_delivery",
            "long_poll requests_per_delivery",
        ]
    );
}

#[test]
fn improvements_pass_and_are_marked() {
    let mut cur = doc();
    row_mut(&mut cur, "sse").bytes_per_delivery = 150.0;
    let cmp = gate(&cur);
    assert!(cmp.passed());
    assert!(cmp.checks.iter().any(|c| c.verdict == Verdict::Better));
}

#[test]
fn other_workloads_and_missing_rows_are_unusable() {
    let mut cur = doc();
    cur.config.clients = 100;
    let err = compare(&doc(), &[cur], &Tolerances::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("clients: baseline 20, current 100"),
        "{err}"
    );

    let mut cur = doc();
    cur.config.stack = rtbench_results::Stack::H1Tls;
    let err = compare(&doc(), &[cur], &Tolerances::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("stack: baseline h1, current h1-tls"),
        "{err}"
    );

    let mut cur = doc();
    cur.config.server = Some(ServerInfo {
        settings: ServerSettings {
            http_engine: rtbench_results::HttpEngine::Lean,
            ..ServerSettings::default()
        },
        allocator: "jemalloc".into(),
    });
    let err = compare(&doc(), &[cur], &Tolerances::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("http_engine: baseline stock, current lean"),
        "{err}"
    );

    let mut cur = doc();
    cur.rows.pop();
    let err = compare(&doc(), &[cur], &Tolerances::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the current run has no row for dashboard/short_poll"
    );
}

#[test]
fn views_state_the_verdict_and_the_injected_fault() {
    let mut cur = doc();
    cur.config.server = Some(ServerInfo {
        settings: ServerSettings {
            fault: ServerFault {
                delay_us: 0,
                pad_bytes: 64,
            },
            ..ServerSettings::default()
        },
        allocator: "jemalloc".into(),
    });
    row_mut(&mut cur, "tcp").bytes_per_delivery += 64.0;
    let cmp = gate(&cur);
    let names = Names {
        baseline: "base.json",
        current: "cur.json",
    };
    let text = render_text(&cmp, names);
    assert!(text.contains("FAIL: 1 of"), "{text}");
    assert!(
        text.contains("regression: tcp bytes_per_delivery: 181 → 245 (+35.4%, limit ≤ +3%)"),
        "{text}"
    );
    assert!(text.contains("injected a server fault"), "{text}");
    let md = render_markdown(&cmp, names);
    assert!(
        md.starts_with("### rtbench performance gate: ❌ regression"),
        "{md}"
    );
    assert!(
        md.contains("| tcp | bytes_per_delivery | 181 | 245 | +35.4% | ≤ +3% | **REGRESSION** |"),
        "{md}"
    );
    assert!(render_text(&gate(&doc()), names).contains("PASS: none of"));
}

#[test]
fn with_several_runs_a_regression_must_show_in_every_run_and_loss_in_none() {
    let mut noisy = doc();
    row_mut(&mut noisy, "sse").latency_us.p50 *= 10.0;
    let tol = Tolerances::default();
    let cmp = compare(&doc(), &[noisy.clone(), doc()], &tol).unwrap();
    assert!(cmp.passed(), "{:?}", failed(&cmp));
    assert_eq!(cmp.runs, 2);

    let cmp = compare(&doc(), &[noisy.clone(), noisy.clone()], &tol).unwrap();
    assert_eq!(failed(&cmp), ["sse p50 ÷ tcp"]);

    let mut lossy = doc();
    row_mut(&mut lossy, "sse").lost = 2;
    let cmp = compare(&doc(), &[doc(), lossy], &tol).unwrap();
    assert_eq!(failed(&cmp), ["sse lost+late+dup+reord+errors"]);
    // Late is not lost, but it was not delivered either: the gate fails on it too.
    let mut late = doc();
    row_mut(&mut late, "sse").overload.late = 3;
    let cmp = compare(&doc(), &[doc(), late], &tol).unwrap();
    assert_eq!(failed(&cmp), ["sse lost+late+dup+reord+errors"]);
    assert_eq!(
        compare(&doc(), &[], &tol).unwrap_err(),
        Incompatible::NoCurrent
    );
}

#[test]
fn the_most_typical_run_is_chosen_as_baseline_and_never_a_lossy_one() {
    let with_ws = |factor: f64| {
        let mut d = doc();
        row_mut(&mut d, "websocket").latency_us.p50 *= factor;
        d
    };
    let runs = [with_ws(0.7), with_ws(1.0), with_ws(1.4)];
    assert_eq!(most_typical(&runs), Ok(1));

    let mut lossy = with_ws(1.0);
    row_mut(&mut lossy, "sse").lost = 1;
    assert_eq!(
        most_typical(&[with_ws(0.8), lossy.clone(), with_ws(1.4)]),
        Ok(0),
        "ln 0.8 is nearer 0 than ln 1.4; the lossy middle run is never chosen"
    );
    assert_eq!(most_typical(&[lossy]), Err(PickError::AllIncomplete));
    assert_eq!(most_typical(&[]), Err(PickError::NoRuns));

    let mut other = doc();
    other.config.rate_per_s = 10.0;
    assert!(matches!(
        most_typical(&[doc(), other]),
        Err(PickError::Incompatible(_))
    ));
}

#[test]
fn every_latency_gated_transport_has_its_p50_gated_and_no_other() {
    let rows: Vec<Row> = Transport::ALL
        .iter()
        .map(|t| row(t.as_str(), 300.0, 180.0, 0.0))
        .collect();
    let mut base = doc();
    base.config.transports = Transport::ALL.to_vec();
    base.rows = rows;
    let cmp = compare(&base, std::slice::from_ref(&base), &Tolerances::default()).unwrap();
    for t in Transport::ALL {
        let p50: Vec<&Check> = cmp
            .checks
            .iter()
            .filter(|c| c.transport == t && c.metric.starts_with("p50"))
            .collect();
        assert_eq!(p50.len(), 1, "{t}: one p50 figure");
        let gated = matches!(p50[0].rule, Rule::AtMost(_));
        assert_eq!(gated, t.spec().latency_gated, "{t}: {:?}", p50[0].rule);
        if !t.is_floor() {
            assert_eq!(p50[0].baseline, Some(1.0), "{t}: divided by its floor");
        }
    }
}

#[test]
fn a_baseline_per_stack_judges_each_stack_with_its_own() {
    use rtbench_results::Stack;
    let on = |stack: Stack, bytes_factor: f64| {
        let mut d = doc();
        d.config.stack = stack;
        for r in &mut d.rows {
            r.bytes_per_delivery *= bytes_factor;
        }
        d
    };
    let tol = Tolerances::default();
    // TLS costs 30 % more bytes: its own baseline says so, so neither stack regressed.
    let baselines = [on(Stack::H1, 1.0), on(Stack::H1Tls, 1.3)];
    let same = [on(Stack::H1Tls, 1.3), on(Stack::H1, 1.0)];
    let cmp = compare_stacks(&baselines, &same, &tol).unwrap();
    let order: Vec<(&str, usize, &[usize])> = cmp
        .iter()
        .map(|c| (c.stack.as_str(), c.baseline, &c.currents[..]))
        .collect();
    assert_eq!(order, [("h1-tls", 1, &[0][..]), ("h1", 0, &[1][..])]);
    assert_eq!(stacks::exit_code(&cmp), EXIT_OK);
    // A bytes regression on one stack fails that stack only.
    let worse = [on(Stack::H1, 1.0), on(Stack::H1Tls, 1.4)];
    let cmp = compare_stacks(&baselines, &worse, &tol).unwrap();
    assert_eq!(cmp[0].comparison.exit_code(), EXIT_OK);
    assert_eq!(cmp[1].comparison.exit_code(), EXIT_REGRESSION);
    assert_eq!(stacks::exit_code(&cmp), EXIT_REGRESSION);
    // Runs of different stacks are still never compared with each other.
    let err = compare_stacks(&baselines[..1], &same, &tol).unwrap_err();
    assert_eq!(
        err,
        Incompatible::NoBaselineForStack {
            stack: "h1-tls".into()
        }
    );
    assert!(compare(&baselines[0], &same[..1], &tol).is_err());
    let two = [on(Stack::H1, 1.0), on(Stack::H1, 1.0)];
    assert!(matches!(
        compare_stacks(&two, &same[1..], &tol),
        Err(Incompatible::BaselinesForStack { .. })
    ));
}

#[test]
fn server_cpu_that_was_not_measured_is_not_gated_and_says_so() {
    // `run --target` without `--target-pid`: the rows carry a meaningless server CPU figure.
    let mut cur = doc();
    for r in &mut cur.rows {
        r.server_measured = false;
        r.server_cpu_us_per_delivery = 1_000.0;
    }
    let cmp = gate(&cur);
    assert!(cmp.passed(), "{:?}", failed(&cmp));
    let cpu: Vec<&Check> = cmp
        .checks
        .iter()
        .filter(|c| c.metric.starts_with("srv CPU"))
        .collect();
    assert_eq!(cpu.len(), 5, "one per row, floor included");
    for c in cpu {
        assert_eq!(c.current, None, "{} {}", c.transport, c.metric);
        assert!(
            c.transport.is_floor()
                || matches!(c.rule, Rule::Info(why) if why.contains("not measured")),
            "{} {}: {:?}",
            c.transport,
            c.metric,
            c.rule
        );
    }
}
