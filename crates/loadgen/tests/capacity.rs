//! The load generator's capacity foundations against a real server on 127.0.0.1:0: each phase's
//! latency interval log is written and reads back with `hdrhistogram`'s reader, holding every
//! receipt once; a load generator starved of its thread marks its row `loadgen-bound`; the
//! capacity ramp stops at the first step that breaks a bound; and a client behind when the drain
//! ends is reported late, not lost.

use rtbench_loadgen::campaign::Campaign;
use rtbench_loadgen::capacity::{Axis, Bounds, Plan, Verdict, run_capacity};
use rtbench_loadgen::interval_log;
use rtbench_loadgen::{
    Conditions, Control, LoadConfig, Progress, Target, run_campaign_with, run_transport,
};
use rtbench_proto::Transport;
use rtbench_server::ServerSettings;
use rtbench_server::testing::ThreadedTestServer;
use std::time::Duration;

/// 4 clients, 50 events/s, 0.2 + 0.6 + 0.1 s of events (45), a generous drain.
fn small(transports: Vec<Transport>) -> LoadConfig {
    LoadConfig {
        clients: 4,
        rate_per_s: 50.0,
        payload_bytes: 64,
        poll_interval: Duration::from_millis(40),
        warmup: Duration::from_millis(200),
        window: Duration::from_millis(600),
        tail: Duration::from_millis(100),
        drain: Duration::from_secs(4),
        quiet: true,
        transports,
        ..LoadConfig::default()
    }
}

fn target(server: &ThreadedTestServer) -> Target {
    Target::plain(server.http, server.tcp)
}

#[test]
fn every_phase_writes_an_interval_log_holding_every_receipt_once() {
    let server = ThreadedTestServer::start(ServerSettings::default()).unwrap();
    let dir = std::env::temp_dir().join(format!("rtbench-capacity-hlog-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let transports = vec![Transport::Sse, Transport::WebSocket];
    let config = small(transports.clone());
    let events = config.scheduled_events();
    let campaign = Campaign {
        latency_log_dir: Some(dir.clone()),
        ..Campaign::single(config)
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let target = target(&server);
    let rows = rt
        .block_on(async {
            let control = Control::new(&target).unwrap();
            let progress = Progress::stderr(true);
            let run = run_campaign_with(&campaign, &target, &control, &progress);
            tokio::time::timeout(Duration::from_secs(60), run).await
        })
        .expect("a campaign is bounded")
        .unwrap();
    for (t, row) in transports.iter().zip(&rows) {
        assert_eq!(
            (row.undelivered(), row.duplicated, row.reordered),
            (0, 0, 0),
            "{t}"
        );
        let path = dir.join(interval_log::file_name(t.as_str(), &[]));
        let intervals = interval_log::read(&path).unwrap();
        assert!(!intervals.is_empty(), "{t}: no interval");
        assert_eq!(intervals[0].0, 0.0, "{t}: the log starts at time zero");
        let receipts: u64 = intervals.iter().map(|(_, h)| h.len()).sum();
        assert_eq!(
            receipts,
            4 * events,
            "{t}: warm-up, window and tail, each receipt once"
        );
        assert!(
            row.deliveries < receipts,
            "{t}: the row counts the window only"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The load generator's only thread is blocked most of the time by another task: its probe sees
/// the lateness and the row says the load generator, not the server, was the limit.
#[test]
fn a_starved_load_generator_marks_its_row_loadgen_bound() {
    let server = ThreadedTestServer::start(ServerSettings::default()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let target = target(&server);
    let row = rt
        .block_on(async {
            let hog = tokio::spawn(async {
                // Bounded: at most 30 s of hogging, whatever happens to the phase.
                for _ in 0..1_500 {
                    std::thread::sleep(Duration::from_millis(20));
                    tokio::task::yield_now().await;
                }
            });
            let control = Control::new(&target).unwrap();
            let config = small(vec![Transport::Sse]);
            let row = tokio::time::timeout(
                Duration::from_secs(60),
                run_transport(Transport::Sse, &config, &target, &control),
            )
            .await;
            hog.abort();
            row
        })
        .expect("a phase is bounded")
        .unwrap();
    let o = &row.overload;
    assert!(o.loadgen_bound, "{o:?}");
    assert!(o.loadgen_lag_p99_us.unwrap() > 5_000.0, "{o:?}");
    assert!(
        row.notes.iter().any(|n| n.starts_with("loadgen-bound")),
        "{:?}",
        row.notes
    );
}

/// The server busy-waits 20 ms before every write to an HTTP client (its fault knob) on its one
/// thread, so one event's fan-out to N SSE clients takes at least N × 20 ms and the last client's
/// latency grows with N: 1 or 2 clients stay far below the lightest step's p99 + 250 ms, while 40
/// clients are at least 800 ms late (writes coalesce events, never clients).
#[test]
fn the_capacity_ramp_stops_at_the_first_step_that_breaks_a_bound() {
    let mut settings = ServerSettings::default();
    settings.fault.delay_us = 20_000;
    let server = ThreadedTestServer::start(settings).unwrap();
    let target = target(&server);
    let plan = Plan {
        axis: Axis::Clients,
        steps: vec![1.0, 2.0, 40.0, 80.0],
        bisections: 0,
        bounds: Bounds::default(),
    };
    // The server busy-waits in this process: the load generator's CPU and timers share it (and
    // the machine with whatever else runs), which is not what this test is about.
    let base = LoadConfig {
        rate_per_s: 20.0,
        loadgen_lag_bound: Duration::from_secs(3_600),
        ..small(vec![Transport::Sse])
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (curve, rows) = rt
        .block_on(async {
            let control = Control::new(&target).unwrap();
            let progress = Progress::hidden();
            let search = run_capacity(Transport::Sse, &base, &plan, (&target, &control, &progress));
            tokio::time::timeout(Duration::from_secs(120), search).await
        })
        .expect("a search is bounded")
        .unwrap();
    let offered: Vec<f64> = curve.steps.iter().map(|s| s.offered).collect();
    assert_eq!(offered, [1.0, 2.0, 40.0], "{curve:#?}");
    assert_eq!(curve.steps[1].verdict, Verdict::Held, "{curve:#?}");
    assert!(
        matches!(curve.steps[2].verdict, Verdict::Broke(_)),
        "{curve:#?}"
    );
    assert_eq!(curve.capacity, Some(2.0));
    assert!(
        curve.steps.iter().all(|s| s.server_rss_bytes > Some(0)),
        "every step records the server's memory: {curve:#?}"
    );
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2].clients, 40);
}

/// Clients reach the server through the delay proxy with a 1 s round trip, so the last half second
/// of events is still on its way when the drain (cut to 1 ms) ends; the control plane does not go
/// through the proxy. Those events are late, not lost: the row counts them apart, with how far
/// behind, and `undelivered` (what the gate counts) still sees them.
#[test]
fn a_client_behind_when_the_drain_ends_is_late_not_lost() {
    let server = ThreadedTestServer::start(ServerSettings::default()).unwrap();
    let target = target(&server);
    let config = LoadConfig {
        drain: Duration::from_millis(1),
        conditions: Conditions {
            name: "slow".into(),
            rtt: Duration::from_secs(1),
            jitter: Duration::ZERO,
            bandwidth_bps: None,
        },
        ..small(vec![Transport::Sse])
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let row = rt
        .block_on(async {
            let control = Control::new(&target).unwrap();
            let phase = run_transport(Transport::Sse, &config, &target, &control);
            tokio::time::timeout(Duration::from_secs(60), phase).await
        })
        .expect("a phase is bounded")
        .unwrap();
    let o = &row.overload;
    assert_eq!(row.lost, 0, "nothing was dropped: {o:?}");
    assert_eq!(
        o.late_clients, config.clients,
        "every client was behind: {o:?}"
    );
    assert!(
        o.late_max_behind_events >= 10,
        "half a second of events at 50/s: {o:?}"
    );
    assert!(o.late >= 4 * 10, "{o:?}");
    assert_eq!(row.undelivered(), o.late + o.unpublished);
    let cell = rtbench_results::format::loss(&row);
    assert!(
        cell.starts_with("0/0/0 +") && cell.contains(" late"),
        "{cell}"
    );
}
