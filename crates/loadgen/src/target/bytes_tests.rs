//! Bytes counted at the client's sockets ([`super::counted`]) equal the bytes rtbench's own server
//! meters for the same subscription, per transport: the count a server without a meter is
//! measured by is the count rtbench's figures are made of.

use super::wire::{self, Resume};
use rtbench_proto::metrics::{self, parse_text};
use rtbench_proto::{ServerSettings, Transport};
use rtbench_server::testing::TestServer;
use std::net::SocketAddr;
use std::time::Duration;

const EVENTS: u64 = 40;
const LIMIT: Duration = Duration::from_secs(10);

/// The server meter's `(bytes sent, bytes received)` for `t`.
async fn metered(addr: SocketAddr, t: Transport) -> (u64, u64) {
    let answer = wire::request(addr, "GET", "/metrics", Vec::new(), LIMIT)
        .await
        .unwrap();
    let samples = parse_text(std::str::from_utf8(&answer.body).unwrap());
    let find = |name: &str| {
        samples
            .iter()
            .find(|s| s.name == name && s.transport.as_deref() == Some(t.as_str()))
            .map_or(0, |s| s.value as u64)
    };
    (find(metrics::BYTES_SENT), find(metrics::BYTES_RECEIVED))
}

/// Subscribes on `t`, publishes [`EVENTS`] events one at a time (each received before the next,
/// so polls carry one event each), and returns the client's and the meter's bytes.
async fn both_counts(server: &TestServer, t: Transport) -> ((u64, u64), (u64, u64)) {
    let addr = server.http;
    let topic = format!("bytes-{}", t.as_str());
    let before = metered(addr, t).await;
    let sub = {
        let topic = topic.clone();
        tokio::spawn(async move {
            let resume = Resume {
                after: 0,
                last_event_id: false,
            };
            wire::collect(addr, t, &topic, resume, EVENTS as usize, LIMIT).await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    for i in 0..EVENTS {
        wire::publish(addr, &topic, &format!("payload-{i}"), LIMIT)
            .await
            .unwrap();
    }
    let got = sub.await.unwrap().unwrap();
    assert_eq!(got.seqs(), (1..=EVENTS).collect::<Vec<_>>(), "{t}");
    // The server has written everything the client read; give a WebSocket close a moment.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let after = metered(addr, t).await;
    (
        (got.bytes_down, got.bytes_up),
        (after.0 - before.0, after.1 - before.1),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_side_bytes_equal_the_server_meter_on_every_http_transport() {
    let server = TestServer::start(ServerSettings::default()).await.unwrap();
    for t in super::contract_transports() {
        let (client, meter) = both_counts(&server, t).await;
        assert!(client.0 > EVENTS * 30, "{t}: {client:?}");
        assert_eq!(
            client, meter,
            "{t}: client (down, up) vs meter (sent, received)"
        );
    }
}
