//! Browser-hosted clients measured (`rtbench_loadgen::browser`): 3 headless-Chromium clients of
//! each HTTP transport (EventSource, WebSocket, fetch long-poll, fetch short-poll), each in a
//! browser context of its own, receive every event of a 40-event schedule in order, with no
//! loss, gap or reconnect, and hand back one latency sample per delivery.
//!
//! No Chromium: skipped with the reason printed (`.ci/run` sets `RTBENCH_REQUIRE_REAL_CLIENTS=1`,
//! which makes that a failure).

mod real_clients;

use real_clients::{runs, unavailable};
use rtbench_loadgen::browser::{BrowserSpec, measure};
use rtbench_loadgen::control::Target;
use rtbench_proto::{ServerSettings, Transport};
use rtbench_server::testing::TestServer;
use std::time::Duration;

const CLIENTS: usize = 3;
const EVENTS: u64 = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_clients_of_every_http_transport_get_every_event_in_order() {
    if !runs("chromium") {
        return unavailable("chromium is not installed (Debian: apt-get install chromium)");
    }
    let server = TestServer::start(ServerSettings::default()).await.unwrap();
    let transports = vec![
        Transport::Sse,
        Transport::WebSocket,
        Transport::LongPoll,
        Transport::ShortPoll,
    ];
    let spec = BrowserSpec {
        clients: CLIENTS,
        transports: transports.clone(),
        topic: "browser-rows".into(),
        events: EVENTS,
        rate_per_s: 20.0,
        payload_bytes: 64,
        grace: Duration::from_secs(10),
    };
    let target = Target {
        http: server.http,
        tcp: server.tcp,
    };
    let rows = tokio::time::timeout(Duration::from_secs(120), measure(target, &spec))
        .await
        .expect("the browser run ends in time")
        .expect("the browser run");
    let seen: Vec<Transport> = rows.iter().map(|r| r.transport).collect();
    assert_eq!(seen, transports);
    for row in &rows {
        let t = row.transport;
        assert_eq!(row.clients, CLIENTS, "{t}");
        assert_eq!(row.deliveries, CLIENTS as u64 * EVENTS, "{t}");
        assert_eq!((row.lost, row.gaps, row.out_of_order), (0, 0, 0), "{t}");
        assert_eq!(row.reconnects, 0, "{t}");
        assert_eq!(row.latency_us.len(), CLIENTS as u64 * EVENTS, "{t}");
    }
    server.stop().await.unwrap();
}
