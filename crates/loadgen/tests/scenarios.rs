//! Every built-in scenario, at a small size, on every transport, against a real server on
//! 127.0.0.1:0: nothing lost, duplicated or reordered, every expected delivery made, and the
//! clients' messages counted in their transport's own row.

mod common;

use common::small;
use rtbench_loadgen::workload::SendTo;
use rtbench_loadgen::{Control, LoadConfig, Target, run_transport};
use rtbench_proto::Transport;
use rtbench_proto::transport::SendPath;
use rtbench_server::ServerSettings;
use rtbench_server::testing::TestServer;
use std::time::Duration;

async fn start_server() -> (Target, TestServer) {
    let server = TestServer::start(ServerSettings::default()).await.unwrap();
    let target = Target::plain(server.http, server.tcp);
    (target, server)
}

/// Runs `config` on every transport and checks each row.
async fn runs_cleanly_everywhere(config: LoadConfig) {
    let (target, _stop) = start_server().await;
    let control = Control::new(&target).unwrap();
    let k = config.effective_room_size();
    let sends_to = config.send.as_ref().map(|s| s.to);
    for transport in Transport::ALL {
        let row = tokio::time::timeout(
            Duration::from_secs(30),
            run_transport(transport, &config, &target, &control),
        )
        .await
        .expect("a phase is bounded")
        .unwrap_or_else(|e| panic!("{} {transport}: {e}", config.scenario));
        let what = format!("{} {transport}", config.scenario);
        assert_eq!(
            (
                row.undelivered(),
                row.duplicated,
                row.reordered,
                row.client_errors
            ),
            (0, 0, 0, 0),
            "{what}"
        );
        assert_eq!(row.sends_lost, 0, "{what}");
        assert!(row.events > 0, "{what}: no events in the window");
        // Every member receives every event of its room, except its own messages.
        let receivers = match sends_to {
            Some(SendTo::Room) => k - 1,
            _ => k,
        };
        assert_eq!(row.deliveries, row.events * receivers, "{what}");
        // Transports that publish over HTTP make requests; the others none in the window.
        let http_publish = transport.spec().send == SendPath::HttpPublish;
        if sends_to.is_some() {
            assert!(row.sends > 0, "{what}: no sends in the window");
            assert!(row.totals.bytes_from_clients > 0, "{what}");
            if http_publish {
                // SSE's only requests in the window are its clients' publishes.
                assert!(
                    row.totals.http_requests > 0,
                    "{what}: publishes not counted"
                );
            }
        }
        if !http_publish {
            assert_eq!(row.totals.http_requests, 0, "{what}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_runs_cleanly_on_every_transport() {
    runs_cleanly_everywhere(small("dashboard", 4, None, 50.0)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_run_cleanly_on_every_transport() {
    runs_cleanly_everywhere(small("notifications", 24, None, 3.0)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_runs_cleanly_on_every_transport() {
    runs_cleanly_everywhere(small("chat", 6, Some(3), 5.0)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn game_runs_cleanly_on_every_transport() {
    runs_cleanly_everywhere(small("game", 6, Some(3), 20.0)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collaboration_runs_cleanly_on_every_transport() {
    runs_cleanly_everywhere(small("collaboration", 6, None, 2.0)).await;
}

/// `--socketio-ack` on the two publishing scenarios: the Socket.IO clients publish as
/// acknowledged emits on their own connection, every member still gets every message, every emit
/// gets exactly one ack, and the row's ack histogram holds one latency per send of the window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socketio_acked_emits_get_one_ack_each_in_chat_and_game() {
    let (target, _stop) = start_server().await;
    let control = Control::new(&target).unwrap();
    for (name, rate) in [("chat", 5.0), ("game", 20.0)] {
        let mut config = small(name, 6, Some(3), rate);
        config.socketio_ack = true;
        for transport in [Transport::SocketIo, Transport::SocketIoPolling] {
            let what = format!("{name} {transport} with acks");
            let row = tokio::time::timeout(
                Duration::from_secs(30),
                run_transport(transport, &config, &target, &control),
            )
            .await
            .expect("a phase is bounded")
            .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(
                (row.undelivered(), row.duplicated, row.reordered),
                (0, 0, 0),
                "{what}"
            );
            assert_eq!((row.sends_lost, row.client_errors), (0, 0), "{what}");
            assert!(row.sends > 0, "{what}: no sends in the window");
            let ack = row.ack.as_ref().unwrap_or_else(|| panic!("{what}: no ack"));
            assert_eq!(ack.acks, ack.emits, "{what}: one ack per emit");
            assert!(ack.emits >= row.sends, "{what}: {ack:?}");
            assert_eq!(
                ack.histogram.len(),
                row.sends,
                "{what}: one latency per send"
            );
            assert!(ack.latency_us.p50 > 0.0, "{what}");
            if transport == Transport::SocketIo {
                // Emits go on the socket: no `POST /publish` in the window.
                assert_eq!(row.totals.http_requests, 0, "{what}");
            }
        }
        // Without the option: no ack field, publishes over HTTP.
        config.socketio_ack = false;
        let row = run_transport(Transport::SocketIo, &config, &target, &control)
            .await
            .unwrap();
        assert!(row.ack.is_none(), "{name}");
        assert!(row.totals.http_requests > 0, "{name}");
    }
}
