//! The HTTP listener over TLS (`rtbench serve --tls`): ALPN picks HTTP/1.1 or HTTP/2 as the client
//! offers, a client that does not trust the certificate fails with a clear error, bad handshakes
//! (plaintext, truncated) are closed while other clients are served, and an SSE delivery over TLS
//! costs what TLS 1.3 predicts on top of the plaintext bytes: 22 bytes per record (5-byte header,
//! 1 inner content-type byte, 16-byte AEAD tag), by the server's meter and by the client's count
//! of the ciphertext it read. Every test runs on both HTTP engines where the engine matters.

mod client;
#[path = "../common/mod.rs"]
mod common;
mod floor;
mod h2_hostile;
mod h2c;

use client::{Tls, config, connect};
use common::raw::Raw;
use common::{STEP, sample, within};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rtbench_proto::metrics::{self as names, parse_text};
use rtbench_server::testing::TestServer;
use rtbench_server::{HttpEngine, ServerLimits, ServerSettings, TlsSetting};
use std::net::SocketAddr;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// TLS 1.3 bytes per record on top of its content: 5-byte header, 1-byte inner content type,
/// 16-byte AEAD tag (AES-GCM and ChaCha20-Poly1305 alike).
const TLS13_RECORD_OVERHEAD_BYTES: usize = 5 + 1 + 16;
/// Events each delivery test measures.
const EVENTS: u64 = 4;

fn settings(engine: HttpEngine, tls: bool) -> ServerSettings {
    ServerSettings {
        http_engine: engine,
        // No SSE keep-alive may fall between two measurements.
        sse_keep_alive_ms: 3_600_000,
        tls: if tls {
            TlsSetting::SelfSigned
        } else {
            TlsSetting::Off
        },
        limits: ServerLimits {
            header_read_timeout_ms: 500,
            ..ServerLimits::default()
        },
        ..ServerSettings::default()
    }
}

async fn tls_server(engine: HttpEngine) -> (TestServer, String) {
    let server = TestServer::start(settings(engine, true)).await.unwrap();
    let cert = server.server.tls_cert_pem().unwrap().to_string();
    assert_eq!(server.server.settings().tls, TlsSetting::SelfSigned);
    (server, cert)
}

/// Sends one HTTP/1.1 request with `connection: close` and reads the whole answer.
async fn request_close<S: AsyncRead + AsyncWrite + Unpin>(io: &mut S, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n");
    within(STEP, async {
        io.write_all(request.as_bytes()).await.unwrap();
        let mut all = Vec::new();
        // rustls reports a peer that closes without close_notify as an error, after the data.
        let _ = io.read_to_end(&mut all).await;
        String::from_utf8(all).unwrap()
    })
    .await
}

/// `GET /healthz` over a new HTTP/1.1-over-TLS connection trusting `cert`: the answer.
async fn healthz_h1(addr: SocketAddr, cert: &str) -> String {
    let mut tls = within(STEP, connect(addr, config(&[cert], &["http/1.1"])))
        .await
        .unwrap();
    request_close(&mut tls.stream, "/healthz").await
}

fn assert_ok(answer: &str) {
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nok"), "{answer}");
}

#[tokio::test]
async fn alpn_gives_http11_to_an_http11_client_and_h2_to_an_h2_client() {
    for engine in HttpEngine::ALL {
        let (server, cert) = tls_server(engine).await;
        let mut h1 = connect(server.http, config(&[&cert], &["http/1.1"]))
            .await
            .unwrap();
        assert_eq!(h1.alpn().as_deref(), Some(b"http/1.1".as_slice()));
        assert_ok(&request_close(&mut h1.stream, "/healthz").await);

        let h2 = connect(server.http, config(&[&cert], &["h2"]))
            .await
            .unwrap();
        assert_eq!(h2.alpn().as_deref(), Some(b"h2".as_slice()), "{engine}");
        let (mut sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(h2.stream))
                .await
                .unwrap();
        let driver = tokio::spawn(conn);
        let uri = format!("https://{}/healthz", server.http);
        let request = hyper::Request::get(uri).body(Empty::<bytes::Bytes>::new());
        let response = within(STEP, sender.send_request(request.unwrap()))
            .await
            .unwrap();
        assert_eq!(response.version(), hyper::Version::HTTP_2);
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"ok");
        driver.abort();
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_certificate_fails_clearly_and_others_are_served() {
    let (server, cert) = tls_server(HttpEngine::Lean).await;
    let stranger = rtbench_server::tls::CertPem::self_signed().unwrap().cert;
    for trusted in [vec![], vec![stranger.as_str()]] {
        let refused = within(STEP, connect(server.http, config(&trusted, &["http/1.1"]))).await;
        let err = refused
            .err()
            .expect("an untrusted certificate must fail the handshake");
        let message = err.to_string();
        // No roots: UnknownIssuer; another self-signed certificate of the same name: BadSignature.
        assert!(
            message.starts_with("invalid peer certificate: "),
            "{message}"
        );
        assert_ok(&healthz_h1(server.http, &cert).await);
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn plaintext_and_truncated_handshakes_are_closed_and_others_are_served() {
    for engine in HttpEngine::ALL {
        let (server, cert) = tls_server(engine).await;
        // A client already connected keeps being served throughout.
        let mut steady = connect(server.http, config(&[&cert], &["http/1.1"]))
            .await
            .unwrap();

        let mut plain = Raw::connect(server.http).await;
        let answer = request_close(&mut plain.stream, "/healthz").await;
        assert!(!answer.contains("HTTP/1.1"), "plaintext answered: {answer}");

        // The first half of a real ClientHello, then silence: closed at the handshake timeout.
        let hello = client_hello(server.http);
        let mut truncated = Raw::connect(server.http).await;
        truncated.send(&hello[..hello.len() / 2]).await;
        let mut rest = Vec::new();
        let read = within(STEP, truncated.stream.read_to_end(&mut rest)).await;
        assert!(read.is_err() || rest.is_empty(), "{rest:?}");

        // Half a hello, then the client leaves: nothing to do but close.
        let mut gone = Raw::connect(server.http).await;
        gone.send(&hello[..10]).await;
        drop(gone);

        assert_ok(&request_close(&mut steady.stream, "/healthz").await);
        assert_ok(&healthz_h1(server.http, &cert).await);
        server.stop().await.unwrap();
    }
}

/// A ClientHello as rustls writes it for `addr`.
fn client_hello(addr: SocketAddr) -> Vec<u8> {
    let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
    let mut conn = rustls::ClientConnection::new(config(&[], &["http/1.1"]), name).unwrap();
    let mut hello = Vec::new();
    conn.write_tls(&mut hello).unwrap();
    assert!(hello.len() > 100, "a whole hello");
    hello
}

/// One known event, published straight into the hub so every run delivers the same bytes.
fn publish(server: &TestServer, seq: u64) {
    let at = server
        .server
        .hub()
        .publish("t", 1_000_000_007, "p".repeat(100).as_str())
        .unwrap();
    assert_eq!(at, seq);
}

/// Bytes the server's meter counts as written to SSE sockets.
async fn sse_bytes_sent(server: &TestServer, tls_cert: Option<&str>) -> u64 {
    let text = match tls_cert {
        None => {
            let mut raw = Raw::connect(server.http).await;
            request_close(&mut raw.stream, "/metrics").await
        }
        Some(cert) => {
            let mut tls = connect(server.http, config(&[cert], &["http/1.1"]))
                .await
                .unwrap();
            request_close(&mut tls.stream, "/metrics").await
        }
    };
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    sample(&parse_text(body), names::BYTES_SENT, Some("sse")) as u64
}

/// Reads plaintext from `io` into `got` until it ends an SSE event's chunk for `seq`.
async fn read_event<S: AsyncRead + Unpin>(io: &mut S, got: &mut Vec<u8>, seq: u64) {
    let id = format!("id: {seq}\n");
    within(STEP, async {
        loop {
            let text = String::from_utf8_lossy(got);
            if text.contains(&id) && text.ends_with("\n\n\r\n") {
                return;
            }
            let mut chunk = [0u8; 4096];
            let n = io.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the stream ended");
            got.extend_from_slice(&chunk[..n]);
        }
    })
    .await;
}

/// Delivers events 2..=1+EVENTS over an open SSE stream (event 1 already read); returns the
/// server meter's SSE bytes for them and the plaintext the client read.
async fn deliver<S: AsyncRead + Unpin>(
    server: &TestServer,
    io: &mut S,
    cert: Option<&str>,
) -> (u64, usize) {
    let before = sse_bytes_sent(server, cert).await;
    let mut plain = Vec::new();
    for seq in 2..=1 + EVENTS {
        publish(server, seq);
        read_event(io, &mut plain, seq).await;
    }
    (sse_bytes_sent(server, cert).await - before, plain.len())
}

const SSE_REQUEST: &[u8] = b"GET /sse?topic=t HTTP/1.1\r\nhost: t\r\n\r\n";

#[tokio::test]
async fn an_sse_delivery_over_tls_costs_the_plaintext_bytes_plus_22_per_record() {
    for engine in HttpEngine::ALL {
        // Plaintext: the meter's bytes per delivery are the bytes the client reads.
        let server = TestServer::start(settings(engine, false)).await.unwrap();
        let mut raw = Raw::connect(server.http).await;
        raw.send(SSE_REQUEST).await;
        publish(&server, 1);
        read_event(&mut raw.stream, &mut Vec::new(), 1).await;
        let (plain_meter, plain_read) = deliver(&server, &mut raw.stream, None).await;
        assert_eq!(plain_meter, plain_read as u64, "{engine}");
        server.stop().await.unwrap();

        // TLS: the same events, counted in ciphertext.
        let (server, cert) = tls_server(engine).await;
        let mut tls: Tls = connect(server.http, config(&[&cert], &["http/1.1"]))
            .await
            .unwrap();
        tls.stream.write_all(SSE_REQUEST).await.unwrap();
        publish(&server, 1);
        read_event(&mut tls.stream, &mut Vec::new(), 1).await;
        let mark = tls.ciphertext_read();
        let (tls_meter, tls_plain) = deliver(&server, &mut tls.stream, Some(&cert)).await;
        let records = tls.records_since(mark);
        let ciphertext = (tls.ciphertext_read() - mark) as u64;
        assert_eq!(
            tls_plain, plain_read,
            "{engine}: the same plaintext either way"
        );
        assert_eq!(
            tls_meter, ciphertext,
            "{engine}: the meter counts the ciphertext"
        );
        assert_eq!(
            records as u64, EVENTS,
            "{engine}: one write, so one record, per delivery"
        );
        assert_eq!(
            tls_meter,
            plain_meter + (TLS13_RECORD_OVERHEAD_BYTES * records) as u64,
            "{engine}: plaintext + 22 bytes per record"
        );
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn the_settings_say_tls_is_on_and_where_the_certificate_came_from() {
    let (server, cert) = tls_server(HttpEngine::Lean).await;
    let mut tls = connect(server.http, config(&[&cert], &["http/1.1"]))
        .await
        .unwrap();
    let answer = request_close(&mut tls.stream, "/settings").await;
    let (_, body) = answer.split_once("\r\n\r\n").unwrap();
    let info: rtbench_proto::ServerInfo = serde_json::from_str(body).unwrap();
    assert_eq!(info.settings.tls, TlsSetting::SelfSigned);
    server.stop().await.unwrap();

    let plain = TestServer::start(settings(HttpEngine::Lean, false))
        .await
        .unwrap();
    assert_eq!(plain.server.settings().tls, TlsSetting::Off);
    assert!(plain.server.tls_cert_pem().is_none());
    plain.stop().await.unwrap();
}

#[tokio::test]
async fn over_max_connections_a_tls_client_is_closed_without_a_plaintext_answer() {
    let server = TestServer::start(ServerSettings {
        limits: ServerLimits {
            max_connections: 1,
            ..ServerLimits::default()
        },
        ..settings(HttpEngine::Lean, true)
    })
    .await
    .unwrap();
    let cert = server.server.tls_cert_pem().unwrap().to_string();
    let mut first = connect(server.http, config(&[&cert], &["http/1.1"]))
        .await
        .unwrap();
    let mut over = Raw::connect(server.http).await;
    let mut got = Vec::new();
    let _ = within(STEP, over.stream.read_to_end(&mut got)).await;
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
    assert_ok(&request_close(&mut first.stream, "/healthz").await);
    server.stop().await.unwrap();
}
