//! The load generator on the `h1-tls` stack, against a real TLS server on 127.0.0.1:0: every HTTP
//! transport and WebSocket (and the plaintext raw-TCP floor beside them) delivers every event —
//! nothing lost, duplicated or reordered — with the subscriptions, the HTTP publish connections,
//! WebSocket's inline sends and the control plane all over TLS; and clients that trust another
//! certificate fail to connect with a clear error.

mod common;

use common::small;
use rtbench_loadgen::stack::ClientTls;
use rtbench_loadgen::workload::SendTo;
use rtbench_loadgen::{Control, LoadConfig, Target, run_transport};
use rtbench_proto::Transport;
use rtbench_server::testing::TestServer;
use rtbench_server::{HttpEngine, ServerSettings, TlsSetting};
use std::time::Duration;

/// A TLS server with `engine`, and a target that trusts its certificate.
async fn tls_server(engine: HttpEngine) -> (Target, TestServer) {
    let settings = ServerSettings {
        http_engine: engine,
        tls: TlsSetting::SelfSigned,
        ..ServerSettings::default()
    };
    let server = TestServer::start(settings).await.unwrap();
    let cert = server.server.tls_cert_pem().unwrap();
    let tls = ClientTls::trusting(cert).unwrap().leak();
    let target = Target::plain(server.http, server.tcp).with_tls(Some(tls));
    (target, server)
}

async fn delivers_everything_over_tls(config: LoadConfig, engine: HttpEngine) {
    let (target, _server) = tls_server(engine).await;
    let control = Control::new(&target).unwrap();
    let settings = control.server_info().await.unwrap().unwrap().settings;
    assert_eq!(
        settings.tls,
        TlsSetting::SelfSigned,
        "the control plane speaks TLS"
    );
    let k = config.effective_room_size();
    let receivers = match config.send.as_ref().map(|s| s.to) {
        Some(SendTo::Room) => k - 1,
        _ => k,
    };
    for transport in Transport::ALL {
        let row = tokio::time::timeout(
            Duration::from_secs(30),
            run_transport(transport, &config, &target, &control),
        )
        .await
        .expect("a phase is bounded")
        .unwrap_or_else(|e| panic!("{} {transport} {engine}: {e}", config.scenario));
        let what = format!("{} {transport} {engine}", config.scenario);
        assert_eq!(
            (row.lost, row.duplicated, row.reordered, row.client_errors),
            (0, 0, 0, 0),
            "{what}"
        );
        assert_eq!(row.sends_lost, 0, "{what}");
        assert!(row.events > 0, "{what}: no events in the window");
        assert_eq!(row.deliveries, row.events * receivers, "{what}");
        if config.send.is_some() {
            assert!(row.sends > 0, "{what}: no sends in the window");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_delivers_every_event_over_tls_on_both_engines() {
    for engine in HttpEngine::ALL {
        delivers_everything_over_tls(small("dashboard", 4, None, 50.0), engine).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_publishes_and_delivers_over_tls() {
    delivers_everything_over_tls(small("chat", 6, Some(3), 5.0), HttpEngine::Lean).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_trust_another_certificate_fail_to_connect_clearly() {
    let (target, _server) = tls_server(HttpEngine::Lean).await;
    let control = Control::new(&target).unwrap();
    let stranger = rtbench_server::tls::CertPem::self_signed().unwrap().cert;
    let wrong = target.with_tls(Some(ClientTls::trusting(&stranger).unwrap().leak()));
    let config = small("dashboard", 2, None, 20.0);
    // The floor is TLS too, through the same connector.
    for transport in [Transport::Sse, Transport::WebSocket, Transport::Tcp] {
        let addr = if transport == Transport::Tcp {
            target.tcp
        } else {
            target.http
        };
        let err = tokio::time::timeout(
            Duration::from_secs(30),
            run_transport(transport, &config, &wrong, &control),
        )
        .await
        .expect("a phase is bounded")
        .expect_err("no client may connect");
        let message = err.to_string();
        assert!(
            message.contains(&format!(
                "TLS handshake with {addr}: invalid peer certificate"
            )),
            "{transport}: {message}"
        );
    }
    assert!(control.healthy().await, "the server serves the others");
    let wrong_control = Control::new(&wrong).unwrap();
    let err = wrong_control.scrape().await.unwrap_err().to_string();
    assert!(err.contains("invalid peer certificate"), "{err}");
}
