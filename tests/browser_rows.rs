//! Browser-hosted clients measured (`rtbench_loadgen::browser`): 3 headless-Chromium clients of
//! each HTTP transport (EventSource, WebSocket, fetch long-poll, fetch short-poll), each in a
//! browser context of its own, receive every event of a schedule in order, with no loss, gap or
//! reconnect, and hand back one latency sample per delivery. With connections closed by the
//! server mid-run, they recover on their own (EventSource with `Last-Event-ID`, the others with
//! their cursors): still every event, in order, and the reconnects are counted.
//!
//! No Chromium: skipped with the reason printed (`.ci/run` sets `RTBENCH_REQUIRE_REAL_CLIENTS=1`,
//! which makes that a failure).

mod real_clients;

use real_clients::{runs, unavailable};
use rtbench_loadgen::browser::{BrowserRow, BrowserSpec, measure};
use rtbench_loadgen::control::{Control, Target};
use rtbench_proto::{ServerSettings, Transport};
use rtbench_server::testing::TestServer;
use std::time::Duration;

const CLIENTS: usize = 3;
const TRANSPORTS: [Transport; 4] = [
    Transport::Sse,
    Transport::WebSocket,
    Transport::LongPoll,
    Transport::ShortPoll,
];

fn spec(topic: &str, events: u64) -> BrowserSpec {
    BrowserSpec {
        clients: CLIENTS,
        transports: TRANSPORTS.to_vec(),
        topic: topic.into(),
        events,
        rate_per_s: 20.0,
        payload_bytes: 64,
        grace: Duration::from_secs(10),
    }
}

/// Every row got every event of `events` on each client, in order, one latency each.
fn assert_complete(rows: &[BrowserRow], events: u64) {
    let seen: Vec<Transport> = rows.iter().map(|r| r.transport).collect();
    assert_eq!(seen, TRANSPORTS);
    for row in rows {
        let t = row.transport;
        assert_eq!(row.clients, CLIENTS, "{t}");
        assert_eq!(row.deliveries, CLIENTS as u64 * events, "{t}");
        assert_eq!((row.lost, row.gaps, row.out_of_order), (0, 0, 0), "{t}");
        assert_eq!(row.latency_us.len(), CLIENTS as u64 * events, "{t}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_clients_of_every_http_transport_get_every_event_in_order() {
    if !runs("chromium") {
        return unavailable("chromium is not installed (Debian: apt-get install chromium)");
    }
    let server = TestServer::start(ServerSettings::default()).await.unwrap();
    let target = Target::plain(server.http, server.tcp);
    let rows = tokio::time::timeout(Duration::from_secs(120), measure(target, &spec("b", 40)))
        .await
        .expect("the browser run ends in time")
        .expect("the browser run");
    assert_complete(&rows, 40);
    for row in &rows {
        assert_eq!(row.reconnects, 0, "{}", row.transport);
    }
    server.stop().await.unwrap();
}

/// Connections of `transport` open on the server (`POST /faults/close` of none).
async fn open_connections(target: &Target, transport: Transport) -> u64 {
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{}/faults/close", target.http))
        .json(&serde_json::json!({ "transport": transport.as_str(), "count": 0 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["open"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_clients_recover_from_closed_connections_without_losing_an_event() {
    if !runs("chromium") {
        return unavailable("chromium is not installed (Debian: apt-get install chromium)");
    }
    let settings = ServerSettings {
        fault_endpoints: true,
        ..ServerSettings::default()
    };
    let server = TestServer::start(settings).await.unwrap();
    let target = Target::plain(server.http, server.tcp);
    let control = Control::new(&target).unwrap();
    // 160 events at 20/s: 8 s once every page is open. Once every client's SSE and WebSocket
    // connection is open, closes one of each every 500 ms for 3 s: while events flow, well before
    // any client is done (a connection closed just as its client finishes is not reopened).
    let faults = async {
        // Bounded: 60 s. Also shows each browser client's connection is counted under its own
        // transport, one each (a browser client sharing a pool would be counted as another's).
        for t in TRANSPORTS {
            let mut open = 0;
            for _ in 0..600 {
                open = open_connections(&target, t).await;
                if open >= CLIENTS as u64 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert_eq!(open, CLIENTS as u64, "{t} connections counted as such");
        }
        let mut closed = [0u64; 2];
        for _ in 0..6 {
            for (i, t) in [Transport::Sse, Transport::WebSocket]
                .into_iter()
                .enumerate()
            {
                closed[i] += control.close_connections(t, 1).await.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        closed
    };
    let spec = spec("f", 160);
    let run = tokio::time::timeout(Duration::from_secs(120), measure(target, &spec));
    let (rows, closed) = tokio::join!(run, faults);
    let rows = rows
        .expect("the browser run ends in time")
        .expect("the browser run");
    assert_complete(&rows, 160);
    assert!(closed.iter().all(|&c| c > 0), "closed {closed:?}");
    for (row, closed) in rows.iter().zip(closed) {
        assert!(
            row.reconnects >= closed,
            "{}: {} reconnects for {closed} closed",
            row.transport,
            row.reconnects
        );
    }
    server.stop().await.unwrap();
}
