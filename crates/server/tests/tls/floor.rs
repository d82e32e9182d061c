//! The raw-TCP floor on a TLS server: its listener speaks TLS with the HTTP listener's
//! certificate, delivers in order, costs each delivery its plaintext frame (4-byte length + body)
//! plus one TLS 1.3 record's 22 bytes — by the meter, by the client's ciphertext and by the
//! kernel — and a client that does not trust the certificate, or speaks plaintext, fails alone.

use super::client::{Tls, config, connect};
use super::common::raw::Raw;
use super::common::{STEP, sample, within};
use super::{EVENTS, TLS13_RECORD_OVERHEAD_BYTES, request_close, settings, tls_server};
use bytes::BytesMut;
use rtbench_proto::frame::{HEADER_BYTES, decode_frame, encode_pub, encode_sub};
use rtbench_proto::metrics::{self as names, Sample, parse_text};
use rtbench_server::HttpEngine;
use rtbench_server::testing::TestServer;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// The payload of every event here.
const PAYLOAD_BYTES: usize = 100;
/// Its scheduled time, so its digits are known.
const T_PUB_NS: u64 = 1_000_000_007;

/// A `/metrics` scrape over TLS.
async fn scrape(server: &TestServer, cert: &str) -> Vec<Sample> {
    let mut tls = connect(server.http, config(&[cert], &["http/1.1"]))
        .await
        .unwrap();
    let text = request_close(&mut tls.stream, "/metrics").await;
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    parse_text(body)
}

/// The floor's bytes to clients by the meter and by the kernel (acked + still queued).
fn floor_sent(m: &[Sample]) -> (u64, u64) {
    let s = |name| sample(m, name, Some("tcp")) as u64;
    let kernel = s(names::KERNEL_BYTES_ACKED) + s(names::KERNEL_SEND_QUEUE_BYTES);
    (s(names::BYTES_SENT), kernel)
}

fn publish(server: &TestServer, seq: u64) {
    let payload = "p".repeat(PAYLOAD_BYTES);
    let at = server
        .server
        .hub()
        .publish("f", T_PUB_NS, &payload)
        .unwrap();
    assert_eq!(at, seq);
}

/// Reads the next frame's body (plaintext) from `io`.
async fn next_frame<S: AsyncRead + Unpin>(io: &mut S, buf: &mut BytesMut) -> BytesMut {
    within(STEP, async {
        loop {
            if let Some(frame) = decode_frame(buf).unwrap() {
                return frame;
            }
            let n = io.read_buf(buf).await.unwrap();
            assert!(n > 0, "the floor closed the connection");
        }
    })
    .await
}

/// A TLS floor subscriber to topic `f` from the start.
async fn subscriber(server: &TestServer, cert: &str) -> Tls {
    let mut tls = within(STEP, connect(server.tcp, config(&[cert], &[])))
        .await
        .unwrap();
    let mut sub = BytesMut::new();
    encode_sub("f", 0, &mut sub);
    tls.stream.write_all(&sub).await.unwrap();
    tls
}

fn seq_of(frame: &[u8]) -> u64 {
    rtbench_proto::parse_body(frame).unwrap().seq
}

#[tokio::test]
async fn the_tls_floor_delivers_in_order_at_its_frame_plus_one_record_each() {
    let (server, cert) = tls_server(HttpEngine::Stock).await;
    let mut tls = subscriber(&server, &cert).await;
    let mut buf = BytesMut::new();
    publish(&server, 1);
    assert_eq!(seq_of(&next_frame(&mut tls.stream, &mut buf).await), 1);
    let mark = tls.ciphertext_read();
    let before = floor_sent(&scrape(&server, &cert).await);
    let mut plaintext = 0;
    for seq in 2..=1 + EVENTS {
        publish(&server, seq);
        let frame = next_frame(&mut tls.stream, &mut buf).await;
        assert_eq!(seq_of(&frame), seq, "in order");
        assert_eq!(
            frame.len(),
            rtbench_proto::event::body_len(seq, T_PUB_NS, PAYLOAD_BYTES)
        );
        plaintext += HEADER_BYTES + frame.len();
    }
    let after = floor_sent(&scrape(&server, &cert).await);
    let meter = after.0 - before.0;
    let ciphertext = (tls.ciphertext_read() - mark) as u64;
    let records = tls.records_since(mark);
    assert_eq!(records as u64, EVENTS, "one record per delivery");
    assert_eq!(meter, ciphertext, "the meter counts the ciphertext");
    assert_eq!(
        meter,
        (plaintext + TLS13_RECORD_OVERHEAD_BYTES * records) as u64,
        "each delivery: its frame + 22"
    );
    assert_eq!(after.1, after.0, "the kernel counts what the meter counts");

    // Up the same connection: a PUB frame is published, and comes back down.
    let mut up = BytesMut::new();
    encode_pub("from-tls", &mut up);
    tls.stream.write_all(&up).await.unwrap();
    let frame = next_frame(&mut tls.stream, &mut buf).await;
    let event = rtbench_proto::parse_body(&frame).unwrap();
    assert_eq!(
        (event.seq, event.payload.as_ref()),
        (2 + EVENTS, "from-tls")
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_untrusting_or_plaintext_floor_client_fails_alone() {
    let (server, cert) = tls_server(HttpEngine::Stock).await;
    let mut steady = subscriber(&server, &cert).await;
    let mut buf = BytesMut::new();
    publish(&server, 1);
    assert_eq!(seq_of(&next_frame(&mut steady.stream, &mut buf).await), 1);

    let other = rtbench_server::tls::CertPem::self_signed().unwrap().cert;
    let refused = within(STEP, connect(server.tcp, config(&[&other], &[]))).await;
    let err = refused.err().expect("an untrusted certificate is refused");
    assert!(
        err.to_string().contains("invalid peer certificate"),
        "{err}"
    );

    // A plaintext SUB to the TLS floor: no event comes back, the connection closes.
    let mut plain = Raw::connect(server.tcp).await;
    let mut sub = BytesMut::new();
    encode_sub("f", 0, &mut sub);
    plain.send(&sub).await;
    let mut got = Vec::new();
    let _ = within(STEP, plain.stream.read_to_end(&mut got)).await;
    assert!(
        !String::from_utf8_lossy(&got).contains("\"seq\""),
        "{got:?}"
    );

    publish(&server, 2);
    assert_eq!(seq_of(&next_frame(&mut steady.stream, &mut buf).await), 2);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_plaintext_server_keeps_a_plaintext_floor() {
    let server = TestServer::start(settings(HttpEngine::Stock, false))
        .await
        .unwrap();
    let mut raw = Raw::connect(server.tcp).await;
    let mut sub = BytesMut::new();
    encode_sub("f", 0, &mut sub);
    raw.send(&sub).await;
    publish(&server, 1);
    let mut buf = BytesMut::new();
    assert_eq!(seq_of(&next_frame(&mut raw.stream, &mut buf).await), 1);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_tls_floor_client_that_reads_late_gets_every_event_once_in_order() {
    // More ciphertext than the socket buffers hold, so writes stop part-way and the rest waits
    // in rustls until the client reads.
    const LATE_EVENTS: u64 = 6_000;
    let server = TestServer::start(rtbench_server::ServerSettings {
        ring_capacity: 10_000,
        ..settings(HttpEngine::Stock, true)
    })
    .await
    .unwrap();
    let cert = server.server.tls_cert_pem().unwrap().to_string();
    let mut tls = subscriber(&server, &cert).await;
    let mut buf = BytesMut::new();
    publish(&server, 1);
    assert_eq!(seq_of(&next_frame(&mut tls.stream, &mut buf).await), 1);
    let payload = "q".repeat(1000);
    for seq in 2..=LATE_EVENTS {
        let at = server
            .server
            .hub()
            .publish("f", T_PUB_NS, &payload)
            .unwrap();
        assert_eq!(at, seq);
    }
    for seq in 2..=LATE_EVENTS {
        assert_eq!(seq_of(&next_frame(&mut tls.stream, &mut buf).await), seq);
    }
    server.stop().await.unwrap();
}
