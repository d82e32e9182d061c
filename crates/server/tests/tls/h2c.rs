//! HTTP/2 on both listeners' forms: cleartext with prior knowledge (h2c) on the plain listener and
//! ALPN `h2` over TLS, on both HTTP engines. A client that opens with the h2c preface gets HTTP/2;
//! and an SSE delivery on HTTP/2 costs what RFC 9113 predicts: the event's bytes in one DATA frame
//! behind a 9-byte frame header (24-bit length, type, flags, 31-bit stream id) — no chunked
//! framing — plus, over TLS 1.3, 22 bytes for the one record it is written in.

use super::client::{config, connect};
use super::common::raw::Raw;
use super::common::{STEP, within};
use super::{EVENTS, TLS13_RECORD_OVERHEAD_BYTES, publish, settings, sse_bytes_sent, tls_server};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rtbench_server::HttpEngine;
use rtbench_server::testing::TestServer;
use tokio::io::{AsyncRead, AsyncWrite};

/// RFC 9113 §4.1: every frame starts with a 9-byte header.
const FRAME_HEADER_BYTES: usize = 9;

/// Opens HTTP/2 over `io` and subscribes to SSE topic `t`; the answer's body after its `retry:`,
/// and the task driving the connection.
async fn subscribe<S>(
    io: S,
    scheme: &str,
    server: &TestServer,
) -> (Incoming, tokio::task::JoinHandle<()>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(io))
            .await
            .unwrap();
    let driver = tokio::spawn(async move { drop(conn.await) });
    let uri = format!("{scheme}://{}/sse?topic=t", server.http);
    let request = hyper::Request::get(uri)
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = within(STEP, sender.send_request(request)).await.unwrap();
    assert_eq!(response.version(), hyper::Version::HTTP_2);
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    // The stream opens with the server's `retry:`.
    let first = within(STEP, body.frame()).await.unwrap().unwrap();
    let first = first.into_data().unwrap();
    assert!(first.starts_with(b"retry: "), "{first:?}");
    (body, driver)
}

/// Reads the next DATA frame's bytes of an SSE body, skipping none: each must be one whole event.
async fn next_event(body: &mut Incoming, seq: u64) -> Bytes {
    let frame = within(STEP, body.frame()).await.unwrap().unwrap();
    let data = frame.into_data().unwrap();
    let text = String::from_utf8_lossy(&data);
    assert!(text.starts_with(&format!("id: {seq}\n")), "{text:?}");
    assert!(
        text.ends_with("\n\n"),
        "one whole event per frame: {text:?}"
    );
    data
}

/// Delivers events 2..=1+EVENTS on the open stream (event 1 already read): the meter's SSE bytes
/// for them and the event bytes the client read.
async fn deliver(server: &TestServer, body: &mut Incoming, cert: Option<&str>) -> (u64, usize) {
    let before = sse_bytes_sent(server, cert).await;
    let mut events = 0;
    for seq in 2..=1 + EVENTS {
        publish(server, seq);
        events += next_event(body, seq).await.len();
    }
    (sse_bytes_sent(server, cert).await - before, events)
}

#[tokio::test]
async fn h2c_prior_knowledge_gets_http2_and_an_sse_event_costs_a_9_byte_frame_header() {
    for engine in HttpEngine::ALL {
        let server = TestServer::start(settings(engine, false)).await.unwrap();
        let raw = Raw::connect(server.http).await;
        let (mut body, driver) = subscribe(raw.stream, "http", &server).await;
        publish(&server, 1);
        next_event(&mut body, 1).await;
        let (meter, events) = deliver(&server, &mut body, None).await;
        assert_eq!(
            meter,
            (events + FRAME_HEADER_BYTES * EVENTS as usize) as u64,
            "{engine}: K × (event + 9)"
        );
        driver.abort();
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn an_sse_event_over_h2_tls_costs_its_frame_header_and_one_tls_record() {
    for engine in HttpEngine::ALL {
        let (server, cert) = tls_server(engine).await;
        let tls = connect(server.http, config(&[&cert], &["h2"]))
            .await
            .unwrap();
        assert_eq!(tls.alpn().as_deref(), Some(b"h2".as_slice()));
        let read = tls.read.clone();
        let (mut body, driver) = subscribe(tls.stream, "https", &server).await;
        publish(&server, 1);
        next_event(&mut body, 1).await;
        let mark = read.lock().unwrap().len();
        let (meter, events) = deliver(&server, &mut body, Some(&cert)).await;
        let ciphertext = (read.lock().unwrap().len() - mark) as u64;
        assert_eq!(
            meter, ciphertext,
            "{engine}: the meter counts the ciphertext"
        );
        let per_event = FRAME_HEADER_BYTES + TLS13_RECORD_OVERHEAD_BYTES;
        assert_eq!(
            meter,
            (events + per_event * EVENTS as usize) as u64,
            "{engine}: K × (event + 9 + 22)"
        );
        driver.abort();
        server.stop().await.unwrap();
    }
}
