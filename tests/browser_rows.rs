//! Browser-hosted clients measured (`rtbench_loadgen::browser`): 3 headless-Chromium clients of
//! each HTTP transport (EventSource, WebSocket, fetch long-poll, fetch short-poll), each in a
//! browser context of its own, receive every event of a schedule in order, with no loss, gap or
//! reconnect, and hand back an HdrHistogram with one latency per delivery of the measured window:
//! warm-up and tail events are received and checked but not measured, exactly as the Rust
//! clients' rule has it. The WebSocket clients' bytes over the window, as the server's meter
//! counts them, are exactly the RFC 6455 frames of the window's events; the browser's CPU is
//! measured. With connections dropped by the server mid-run (the fault plan of
//! `--drop-fraction`), they recover on their own (EventSource with `Last-Event-ID`, the others
//! with their cursors): still every event, in order, and reconnects are counted on every
//! transport (by the pages for EventSource and WebSocket, by the server for the fetch clients,
//! whose pages do not see Chromium reopen a closed keep-alive connection). The page code's histogram encoding is the hdrhistogram crate's, value for value.
//!
//! No Chromium: skipped with the reason printed (`.ci/run` sets `RTBENCH_REQUIRE_REAL_CLIENTS=1`,
//! which makes that a failure).

mod real_clients;

use real_clients::{runs, unavailable};
use rtbench_loadgen::browser::{
    BrowserRow, BrowserSpec, ReconnectsSource, histogram_in_browser, measure,
};
use rtbench_loadgen::control::Target;
use rtbench_loadgen::{FaultPlan, LoadConfig};
use rtbench_proto::control::ScheduleResponse;
use rtbench_proto::event::body_len;
use rtbench_proto::{ServerSettings, Transport};
use rtbench_results::Client;
use rtbench_results::histogram::{MAX_LATENCY_NS, new_histogram};
use rtbench_server::testing::TestServer;
use std::time::Duration;

const CLIENTS: u64 = 3;
const PAYLOAD_BYTES: usize = 64;
const TRANSPORTS: [Transport; 4] = [
    Transport::Sse,
    Transport::WebSocket,
    Transport::LongPoll,
    Transport::ShortPoll,
];

/// 20 events/s: `warmup_ms`, `window_ms` and `tail_ms` hold a twentieth of their milliseconds
/// in events each.
fn config((warmup_ms, window_ms, tail_ms): (u64, u64, u64), faults: FaultPlan) -> LoadConfig {
    LoadConfig {
        clients: CLIENTS,
        transports: TRANSPORTS.to_vec(),
        rate_per_s: 20.0,
        payload_bytes: PAYLOAD_BYTES,
        poll_interval: Duration::from_millis(100),
        warmup: Duration::from_millis(warmup_ms),
        window: Duration::from_millis(window_ms),
        tail: Duration::from_millis(tail_ms),
        faults,
        ..LoadConfig::default()
    }
}

fn spec(topic: &str, config: LoadConfig) -> BrowserSpec {
    BrowserSpec {
        config,
        topic: topic.into(),
        grace: Duration::from_secs(10),
    }
}

/// Every row got every one of `events` on each client, in order, and measured exactly the
/// `windowed` of them its window holds: one latency each, in a row whose events are `windowed`.
fn assert_complete(rows: &[BrowserRow], config: &LoadConfig, (events, windowed): (u64, u64)) {
    let seen: Vec<Transport> = rows.iter().map(|r| r.transport).collect();
    assert_eq!(seen, TRANSPORTS);
    for row in rows {
        let t = row.transport;
        assert_eq!(row.clients as u64, CLIENTS, "{t}");
        assert_eq!(row.received, CLIENTS * events, "{t}: every event received");
        assert_eq!(row.deliveries, CLIENTS * windowed, "{t}: the window's only");
        assert_eq!(
            (row.lost, row.gaps, row.duplicated, row.reordered),
            (0, 0, 0, 0),
            "{t}"
        );
        assert_eq!(row.latency_ns.len(), CLIENTS * windowed, "{t}");
        assert!(row.latency_ns.min() > 0, "{t}");
        let results = row.to_row(config);
        assert_eq!(results.client, Client::Browser, "{t}");
        assert_eq!(results.events, windowed, "{t}");
        assert_eq!(results.deliveries, CLIENTS * windowed, "{t}");
        assert_eq!(results.reconnects, row.reconnects, "{t}");
        assert!(results.client_cpu_us_per_delivery > 0.0, "{t}: browser CPU");
    }
}

/// The sequence numbers of `schedule` scheduled inside `[from, to)`.
fn windowed_seqs(schedule: &ScheduleResponse, (from, to): (u64, u64)) -> Vec<u64> {
    (schedule.first_seq..=schedule.last_seq)
        .filter(|&seq| (from..to).contains(&schedule.t_pub_ns(seq)))
        .collect()
}

/// The bytes the server writes to one WebSocket client for the events `seqs` of `schedule`: one
/// text frame per event (RFC 6455 §5.2), unmasked from the server, its header 2 bytes up to 125
/// payload bytes and 4 up to 65,535, its payload the event's body.
fn websocket_frames_bytes(schedule: &ScheduleResponse, seqs: &[u64]) -> u64 {
    seqs.iter()
        .map(|&seq| {
            let body = body_len(seq, schedule.t_pub_ns(seq), PAYLOAD_BYTES) as u64;
            body + if body <= 125 { 2 } else { 4 }
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_clients_of_every_http_transport_get_every_event_in_order() {
    if !runs("chromium") {
        return unavailable("chromium is not installed (Debian: apt-get install chromium)");
    }
    let server = TestServer::start(ServerSettings::default()).await.unwrap();
    let target = Target::plain(server.http, server.tcp);
    // 1 s of warm-up (20 events), a 1 s window (20), a 0.5 s tail (10).
    let config = config((1_000, 1_000, 500), FaultPlan::default());
    let rows = tokio::time::timeout(
        Duration::from_secs(120),
        measure(target, &spec("b", config.clone())),
    )
    .await
    .expect("the browser run ends in time")
    .expect("the browser run");
    assert_complete(&rows, &config, (50, 20));
    for row in &rows {
        assert_eq!(row.reconnects, 0, "{}", row.transport);
        assert_eq!(row.page_reconnects, 0, "{}", row.transport);
        assert!(row.totals.bytes_to_clients > 0, "{}", row.transport);
        assert!(row.browser_processes > 1, "{}", row.transport);
    }
    // The browser's own frames are masked (RFC 6455 §5.3: a 4-byte masking key in each), but it
    // sends none in the window: its close frame comes after the phase.
    let ws = &rows[1];
    let seqs = windowed_seqs(&ws.schedule, ws.window_ns);
    assert_eq!(seqs, (21..=40).collect::<Vec<u64>>());
    assert_eq!(ws.totals.bytes_from_clients, 0);
    assert_eq!(
        ws.totals.bytes_to_clients,
        CLIENTS * websocket_frames_bytes(&ws.schedule, &seqs)
    );
    assert_eq!(ws.totals.http_requests, 0);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_clients_recover_from_dropped_connections_without_losing_an_event() {
    if !runs("chromium") {
        return unavailable("chromium is not installed (Debian: apt-get install chromium)");
    }
    let settings = ServerSettings {
        fault_endpoints: true,
        ..ServerSettings::default()
    };
    let server = TestServer::start(settings).await.unwrap();
    let target = Target::plain(server.http, server.tcp);
    // 60 events at 20/s: 3 s (0.5 s warm-up, 2 s window, 0.5 s tail); every 500 ms, half the
    // clients' connections (2 of 3) closed by the server: 5 rounds while events flow.
    let faults = FaultPlan {
        drop_fraction: 0.5,
        drop_every: Duration::from_millis(500),
        restart_server_at: None,
    };
    let config = config((500, 2_000, 500), faults);
    let rows = tokio::time::timeout(
        Duration::from_secs(180),
        measure(target, &spec("f", config.clone())),
    )
    .await
    .expect("the browser run ends in time")
    .expect("the browser run");
    assert_complete(&rows, &config, (60, 40));
    // Every transport's reconnects are counted, the fetch clients' too (the server counts them:
    // Chromium reopens a closed keep-alive connection without telling the page).
    for row in &rows {
        let t = row.transport;
        let by_server = matches!(t, Transport::LongPoll | Transport::ShortPoll);
        assert_eq!(
            row.reconnects_source == ReconnectsSource::Server,
            by_server,
            "{t}"
        );
        assert_eq!(row.drops.0, 5, "{t}: drop rounds");
        assert!(row.drops.1 > 0, "{t}: connections closed");
        assert!(
            row.reconnects > 0,
            "{t}: {} reconnects for {} closed",
            row.reconnects,
            row.drops.1
        );
    }
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_histogram_is_the_crate_histogram() {
    if !runs("chromium") {
        return unavailable("chromium is not installed (Debian: apt-get install chromium)");
    }
    // Every magnitude from 1 ns to beyond the top (clamped), bucket edges, fractions (rounded).
    let mut values: Vec<f64> = vec![0.0, 1.0, 2047.0, 2048.0, 2049.0, 4095.5, 1e9, 7e10];
    values.extend((0..2_000).map(|i| 1.0 + (f64::from(i) * 0.018).exp() * 1.7));
    let from_page = tokio::time::timeout(Duration::from_secs(60), histogram_in_browser(&values))
        .await
        .expect("in time")
        .expect("the page's histogram decodes");
    let mut expected = new_histogram();
    for v in &values {
        expected
            .record((v.round() as u64).clamp(1, MAX_LATENCY_NS))
            .unwrap();
    }
    assert_eq!(from_page.len(), values.len() as u64);
    let counts = |h: &rtbench_results::LatencyHistogram| -> Vec<(u64, u64)> {
        h.iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect()
    };
    assert_eq!(counts(&from_page), counts(&expected));
    assert_eq!(from_page.max(), expected.max());
}
