//! Faults end to end, against a real server on 127.0.0.1:0 driven by the real load generator:
//! connections dropped mid-phase (closed by the server and reset by clients) lose, duplicate and
//! reorder nothing on any transport, and every client's reconnections are counted; a server
//! restart's lost history is counted as loss, with its reason, never hidden.

mod common;

use common::{TestServer, small_config};
use rtbench_loadgen::{Control, FaultPlan, run_transport};
use rtbench_proto::Transport;
use std::sync::Arc;
use std::time::Duration;

/// Bound on one phase, so a hang fails the test instead of stalling the suite.
const PHASE_LIMIT: Duration = Duration::from_secs(60);

async fn drops_lose_nothing(transport: Transport) {
    let server = TestServer::start(true).await;
    let control = Control::new(&server.target).unwrap();
    let mut config = small_config();
    // Half the clients every 250 ms: 6 rounds before the window ends, each closing one
    // connection from the server and resetting one from a client.
    config.faults = FaultPlan {
        drop_fraction: 0.5,
        drop_every: Duration::from_millis(250),
        restart_server_at: None,
    };
    let row = tokio::time::timeout(
        PHASE_LIMIT,
        run_transport(transport, &config, &server.target, &control),
    )
    .await
    .expect("phase is bounded")
    .expect("phase runs");
    assert_eq!(
        (row.undelivered(), row.duplicated, row.reordered),
        (0, 0, 0),
        "{}: {:?}",
        row.transport,
        row.notes
    );
    assert_eq!(row.client_errors, 0, "{:?}", row.notes);
    assert_eq!(
        row.deliveries,
        4 * 75,
        "every client got every windowed event once"
    );
    assert!(
        row.reconnects >= 6,
        "at least one client reset per round: {}",
        row.reconnects
    );
    assert!(
        row.notes.iter().any(|n| n.starts_with("6 drop rounds")),
        "{:?}",
        row.notes
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_resumes_after_drops() {
    drops_lose_nothing(Transport::Tcp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_resumes_after_drops() {
    drops_lose_nothing(Transport::WebSocket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_resumes_after_drops() {
    drops_lose_nothing(Transport::Sse).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_poll_resumes_after_drops() {
    drops_lose_nothing(Transport::LongPoll).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_poll_resumes_after_drops() {
    drops_lose_nothing(Transport::ShortPoll).await;
}

async fn restart_is_reported(transport: Transport) {
    let server = Arc::new(TestServer::start(false).await);
    let control = Control::new(&server.target)
        .unwrap()
        .with_restarter(server.clone());
    let mut config = small_config();
    config.faults.restart_server_at = Some(Duration::from_millis(800));
    let row = tokio::time::timeout(
        PHASE_LIMIT,
        run_transport(transport, &config, &server.target, &control),
    )
    .await
    .expect("phase is bounded")
    .expect("phase runs");
    // Events due between the restart and the resume were never published: every client lost
    // them, and each was told so by a gap notice.
    assert!(
        row.lost >= 4 * 5,
        "{}: at least 100 ms of events lost per client: {}",
        row.transport,
        row.lost
    );
    assert_eq!(
        row.lost_in_gaps, row.lost,
        "all of the loss announced by gap notices: {:?}",
        row.notes
    );
    assert_eq!(
        (row.duplicated, row.reordered, row.client_errors),
        (0, 0, 0),
        "{:?}",
        row.notes
    );
    assert!(
        row.reconnects >= 4,
        "every client reconnected: {}",
        row.reconnects
    );
    assert!(
        row.notes
            .iter()
            .any(|n| n.contains("server restarted") && n.contains("never published")),
        "{:?}",
        row.notes
    );
    assert!(
        row.notes
            .iter()
            .any(|n| n.contains("announced by the server's gap notices")),
        "{:?}",
        row.notes
    );
    assert!(
        row.deliveries > 0 && row.totals.bytes_to_clients > 0,
        "counters add up across the restart"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_restart_loss_is_counted_with_its_reason() {
    restart_is_reported(Transport::WebSocket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_restart_loss_is_counted_with_its_reason() {
    restart_is_reported(Transport::Sse).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_poll_restart_loss_is_counted_with_its_reason() {
    restart_is_reported(Transport::LongPoll).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socketio_resumes_after_drops() {
    drops_lose_nothing(Transport::SocketIo).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socketio_polling_resumes_after_drops() {
    drops_lose_nothing(Transport::SocketIoPolling).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webtransport_resumes_after_drops() {
    drops_lose_nothing(Transport::WebTransport).await;
}
