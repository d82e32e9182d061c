//! Every transport delivers a known sequence of events to several clients with none lost,
//! duplicated or reordered, against a real server on 127.0.0.1:0, driven by the real load generator.

mod common;
use rtbench_loadgen::{Control, LoadConfig, run_transport};
use rtbench_proto::Transport;
use std::time::Duration;

fn small_config() -> LoadConfig {
    LoadConfig {
        clients: 5,
        rate_per_s: 50.0,
        payload_bytes: 64,
        poll_interval: Duration::from_millis(40),
        warmup: Duration::from_millis(200),
        window: Duration::from_millis(1_000),
        tail: Duration::from_millis(100),
        drain: Duration::from_secs(3),
        quiet: true,
        ..LoadConfig::default()
    }
}

async fn delivers_everything(transport: Transport) {
    let server = common::TestServer::start(false).await;
    let target = server.target;
    let control = Control::new(&target).unwrap();
    let config = small_config();
    let row = tokio::time::timeout(
        Duration::from_secs(30),
        run_transport(transport, &config, &target, &control),
    )
    .await
    .expect("phase is bounded")
    .expect("phase runs");
    assert_eq!(row.transport, transport);
    assert_eq!(row.events, 50, "a 1 s window at 50 events/s");
    assert_eq!(
        row.deliveries,
        5 * 50,
        "every client got every windowed event"
    );
    assert_eq!(
        (row.undelivered(), row.duplicated, row.reordered),
        (0, 0, 0)
    );
    assert_eq!(row.client_errors, 0);
    assert!(row.totals.bytes_to_clients > 0);
    match transport {
        Transport::Tcp => assert_eq!(row.totals.http_requests, 0),
        Transport::LongPoll | Transport::ShortPoll | Transport::SocketIoPolling => {
            assert!(row.totals.http_requests > 0)
        }
        // One request per client, made before the window: none inside it.
        Transport::WebSocket | Transport::Sse | Transport::SocketIo => {
            assert_eq!(row.totals.http_requests, 0)
        }
        // HTTP/3 CONNECTs are not HTTP/1.1 or HTTP/2 requests: none counted.
        Transport::WebTransport | Transport::WebTransportDatagram => {
            assert_eq!(row.totals.http_requests, 0)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_delivers_every_event() {
    delivers_everything(Transport::Tcp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_delivers_every_event() {
    delivers_everything(Transport::WebSocket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_delivers_every_event() {
    delivers_everything(Transport::Sse).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_poll_delivers_every_event() {
    delivers_everything(Transport::LongPoll).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_poll_delivers_every_event() {
    delivers_everything(Transport::ShortPoll).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socketio_delivers_every_event() {
    delivers_everything(Transport::SocketIo).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socketio_polling_delivers_every_event() {
    delivers_everything(Transport::SocketIoPolling).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webtransport_delivers_every_event() {
    delivers_everything(Transport::WebTransport).await;
}

/// Datagrams are unreliable, but on loopback at 5 clients × 50 events/s none is lost: a loss here
/// is a bug (quinn drops datagrams only when a buffer overflows), not the network.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webtransport_datagram_delivers_every_event() {
    delivers_everything(Transport::WebTransportDatagram).await;
}
