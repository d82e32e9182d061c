//! The load generator on the HTTP/2 stacks, against a real server on 127.0.0.1:0: `h2` (cleartext,
//! prior knowledge) and `h2-tls` (ALPN `h2` only), on both HTTP engines. Every transport delivers
//! every event — nothing lost, duplicated or reordered — with poll, long-poll and SSE and their
//! publishes on HTTP/2 (the control plane on HTTP/1.1), and the server accepts exactly one
//! connection per client: a chat client's publishes are streams of its subscription's connection,
//! as a browser's would be. A client that fell back to
//! HTTP/1.1 would fail here: over TLS the client refuses a server that did not pick `h2`, and in
//! cleartext hyper's HTTP/2 handshake needs the server to answer in HTTP/2.

mod common;

use common::small;
use rtbench_loadgen::stack::ClientTls;
use rtbench_loadgen::workload::SendTo;
use rtbench_loadgen::{Control, LoadConfig, Target, run_transport};
use rtbench_proto::Transport;
use rtbench_server::testing::TestServer;
use rtbench_server::{HttpEngine, ServerSettings, TlsSetting};
use std::time::Duration;

/// A server with `engine` (TLS when `tls`), and an HTTP/2 target for it.
async fn h2_server(engine: HttpEngine, tls: bool) -> (Target, TestServer) {
    let settings = ServerSettings {
        http_engine: engine,
        tls: if tls {
            TlsSetting::SelfSigned
        } else {
            TlsSetting::Off
        },
        ..ServerSettings::default()
    };
    let server = TestServer::start(settings).await.unwrap();
    let trust = server
        .server
        .tls_cert_pem()
        .map(|cert| ClientTls::trusting(cert).unwrap().leak());
    let target = Target::plain(server.http, server.tcp)
        .with_tls(trust)
        .with_http2(true);
    (target, server)
}

async fn delivers_everything_on_h2(config: LoadConfig, engine: HttpEngine, tls: bool) {
    let (target, server) = h2_server(engine, tls).await;
    let control = Control::new(&target).unwrap();
    let k = config.effective_room_size();
    let receivers = match config.send.as_ref().map(|s| s.to) {
        Some(SendTo::Room) => k - 1,
        _ => k,
    };
    // The chapter's transports: the Socket.IO clients speak HTTP/1.1 on every stack.
    for transport in Transport::DEFAULT {
        let what = format!("{} {transport} {engine} tls={tls}", config.scenario);
        let before = control.scrape().await.unwrap();
        let row = tokio::time::timeout(
            Duration::from_secs(30),
            run_transport(transport, &config, &target, &control),
        )
        .await
        .expect("a phase is bounded")
        .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(
            (row.lost, row.duplicated, row.reordered, row.client_errors),
            (0, 0, 0, 0),
            "{what}"
        );
        assert_eq!(row.sends_lost, 0, "{what}");
        let after = control.scrape().await.unwrap();
        let accepted = |snap: &rtbench_loadgen::control::Snapshot| {
            snap.transports[transport.index()].connections_accepted
        };
        assert_eq!(
            accepted(&after) - accepted(&before),
            config.clients,
            "{what}: one connection per client, its publishes included"
        );
        assert!(row.events > 0, "{what}: no events in the window");
        assert_eq!(row.deliveries, row.events * receivers, "{what}");
        if config.send.is_some() {
            assert!(row.sends > 0, "{what}: no sends in the window");
        }
    }
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_delivers_every_event_on_h2_and_h2_tls_on_both_engines() {
    for engine in HttpEngine::ALL {
        for tls in [false, true] {
            delivers_everything_on_h2(small("dashboard", 4, None, 50.0), engine, tls).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_publishes_and_delivers_on_h2_and_h2_tls() {
    for tls in [false, true] {
        delivers_everything_on_h2(small("chat", 6, Some(3), 5.0), HttpEngine::Lean, tls).await;
    }
}
