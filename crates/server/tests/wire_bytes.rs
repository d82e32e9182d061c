//! The byte meter pinned to the protocols: one known event of `P` payload bytes, delivered to one
//! client over a raw socket, costs exactly what the specifications predict — HTTP/1.1 response heads
//! (RFC 9112) with the headers the server sends, chunked transfer coding, SSE blocks (WHATWG),
//! RFC 6455 handshake and framing, and the poll body format — and the kernel's counts (TCP_INFO
//! with the socket queues) agree with the meter to the byte.
//!
//! Every expected length is computed here from those rules, independently of the server's and
//! `rtbench-proto`'s encoders; the event is published straight into the hub with a known
//! `t_pub_ns`, so its canonical body is known in full. Each test runs on both HTTP engines (the
//! lean path and hyper) and checks which of the two answered.

mod common;

use common::raw::Raw;
use common::{STEP, sample, within};
use rtbench_proto::metrics::{self as names, Sample, parse_text};
use rtbench_server::testing::TestServer;
use rtbench_server::{HttpEngine, Server, ServerSettings};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// Payload bytes of the event every test delivers.
const P: usize = 100;
/// The event's scheduled time, chosen so its digits are known.
const T_PUB_NS: u64 = 1_000_000_007;
/// Length of an RFC 9110 IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
const IMF_FIXDATE_LEN: usize = 29;

/// A server whose hub the test publishes into directly.
struct Fixture {
    server: Server,
    /// Whether the server's lean HTTP path is on.
    lean: bool,
    http: SocketAddr,
    _running: TestServer,
}

impl Fixture {
    async fn start(lean: bool) -> Fixture {
        // No SSE keep-alive may fall between two scrapes.
        let config = ServerSettings {
            sse_keep_alive_ms: 3_600_000,
            http_engine: if lean {
                HttpEngine::Lean
            } else {
                HttpEngine::Stock
            },
            ..ServerSettings::default()
        };
        let running = TestServer::start(config).await.unwrap();
        Fixture {
            server: running.server.clone(),
            lean,
            http: running.http,
            _running: running,
        }
    }

    /// Publishes the known event into `topic`; returns its sequence number.
    fn publish(&self, topic: &str, payload: &str) -> u64 {
        self.server.hub().publish(topic, T_PUB_NS, payload).unwrap()
    }

    /// Scrapes `/metrics` over a raw connection of its own (counted as `control`).
    async fn metrics(&self) -> Vec<Sample> {
        let mut c = Raw::connect(self.http).await;
        c.send(b"GET /metrics HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n")
            .await;
        let text = within(STEP, async {
            let mut all = Vec::new();
            c.stream.read_to_end(&mut all).await.unwrap();
            String::from_utf8(all).unwrap()
        })
        .await;
        let (_, body) = text.split_once("\r\n\r\n").unwrap();
        parse_text(body)
    }
}

/// The canonical body of the known event, written out from its definition.
fn event_body(seq: u64, payload: &str) -> String {
    format!(r#"{{"seq":{seq},"t_pub_ns":{T_PUB_NS},"payload":"{payload}"}}"#)
}

/// RFC 9112 §4 and §5: `status-line CRLF *( field-line CRLF ) CRLF`, a field line being
/// `name ": " value`. `date` is an IMF-fixdate whatever its value.
fn head_len(status_line: &str, fields: &[(&str, String)]) -> usize {
    let fields: usize = fields
        .iter()
        .map(|(name, value)| {
            let value_len = if *name == "date" {
                IMF_FIXDATE_LEN
            } else {
                value.len()
            };
            name.len() + 2 + value_len + 2
        })
        .sum();
    status_line.len() + 2 + fields + 2
}

/// Asserts the received header lines are exactly `fields` (any order; the date by its shape).
fn assert_fields(got: &[String], fields: &[(&str, String)]) {
    assert_eq!(got.len(), fields.len(), "{got:?}");
    for (name, value) in fields {
        let prefix = format!("{name}: ");
        let line = got
            .iter()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {name} header in {got:?}"));
        if *name == "date" {
            assert_eq!(line.len() - prefix.len(), IMF_FIXDATE_LEN, "{line}");
            assert!(line.ends_with(" GMT"), "{line}");
        } else {
            assert_eq!(&line[prefix.len()..], value, "{name}");
        }
    }
}

/// RFC 9112 §7.1: `chunk-size(hex) CRLF chunk-data CRLF`.
fn chunk_len(data: usize) -> usize {
    format!("{data:x}").len() + 2 + data + 2
}

/// (sent, received) by the meter and by the kernel for `transport` in one scrape.
fn counts(m: &[Sample], transport: &str) -> ((f64, f64), (f64, f64)) {
    let s = |name| sample(m, name, Some(transport));
    let meter = (s(names::BYTES_SENT), s(names::BYTES_RECEIVED));
    let kernel = (
        s(names::KERNEL_BYTES_ACKED) + s(names::KERNEL_SEND_QUEUE_BYTES),
        s(names::KERNEL_BYTES_RECEIVED) - s(names::KERNEL_RECEIVE_QUEUE_BYTES),
    );
    (meter, kernel)
}

/// Asserts the window held one request of `transport`, answered by the lean path exactly when it
/// is on (every request here is one of its, the WebSocket handshake too).
fn assert_engine(f: &Fixture, before: &[Sample], after: &[Sample], transport: &str) {
    let delta = |name| sample(after, name, Some(transport)) - sample(before, name, Some(transport));
    assert_eq!(delta(names::HTTP_REQUESTS), 1.0, "{transport}");
    let lean = f.lean;
    assert_eq!(
        delta(names::HTTP_LEAN_REQUESTS),
        if lean { 1.0 } else { 0.0 },
        "{transport}, lean path on: {}",
        f.lean
    );
}

/// Asserts the window's meter delta for `transport` is `(sent, received)` and the kernel agrees.
fn assert_costs(
    before: &[Sample],
    after: &[Sample],
    transport: &str,
    sent: usize,
    received: usize,
) {
    let ((s0, r0), _) = counts(before, transport);
    let ((s1, r1), kernel) = counts(after, transport);
    assert_eq!(
        (s1 - s0, r1 - r0),
        (sent as f64, received as f64),
        "{transport} meter"
    );
    assert_eq!(kernel, (s1, r1), "{transport}: kernel and meter disagree");
    assert!(sample(after, names::KERNEL_SEGMENTS_OUT, Some(transport)) >= 2.0);
}

/// Poll and long-poll: a JSON body after a head of content-type, content-length and date.
async fn poll_costs_exactly(path: &str, transport: &str, held: bool) {
    for lean in [true, false] {
        poll_costs_exactly_on(path, transport, held, lean).await;
    }
}

async fn poll_costs_exactly_on(path: &str, transport: &str, held: bool, lean: bool) {
    let f = Fixture::start(lean).await;
    let payload = rtbench_proto::make_payload(1, P);
    let after = if held {
        0
    } else {
        f.publish("w", &payload);
        0
    };
    let request =
        format!("GET {path}?topic=w&after={after}&timeout_ms=60000 HTTP/1.1\r\nhost: t\r\n\r\n");
    let before = f.metrics().await;
    let mut c = Raw::connect(f.http).await;
    c.send(request.as_bytes()).await;
    if held {
        // The request is held until the event exists.
        within(STEP, async {
            while sample(&f.metrics().await, names::HTTP_REQUESTS, Some(transport)) < 1.0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        f.publish("w", &payload);
    }
    let (status, fields, head) = c.head().await;
    let body = format!(r#"{{"dropped":0,"events":[{}]}}"#, event_body(1, &payload));
    assert_eq!(body.len(), 23 + (7 + 1 + 12 + 10 + 12 + P + 2) + 2);
    let expected_fields = [
        ("content-type", "application/json".to_string()),
        ("content-length", body.len().to_string()),
        ("date", String::new()),
    ];
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_fields(&fields, &expected_fields);
    assert_eq!(head, head_len("HTTP/1.1 200 OK", &expected_fields));
    assert_eq!(c.take(body.len()).await, body.as_bytes());
    let after = f.metrics().await;
    assert_costs(&before, &after, transport, head + body.len(), request.len());
    assert_engine(&f, &before, &after, transport);
}

#[tokio::test]
async fn short_poll_costs_exactly_its_head_and_body() {
    poll_costs_exactly("/poll", "short_poll", false).await;
}

#[tokio::test]
async fn long_poll_answered_at_once_costs_exactly_its_head_and_body() {
    poll_costs_exactly("/longpoll", "long_poll", false).await;
}

#[tokio::test]
async fn held_long_poll_costs_exactly_its_head_and_body() {
    poll_costs_exactly("/longpoll", "long_poll", true).await;
}

#[tokio::test]
async fn sse_costs_exactly_its_head_preamble_and_chunked_event() {
    for lean in [true, false] {
        sse_costs_exactly_on(lean).await;
    }
}

async fn sse_costs_exactly_on(lean: bool) {
    let f = Fixture::start(lean).await;
    let request = "GET /sse?topic=w HTTP/1.1\r\nhost: t\r\n\r\n";
    let before = f.metrics().await;
    let mut c = Raw::connect(f.http).await;
    c.send(request.as_bytes()).await;
    let (status, fields, head) = c.head().await;
    let expected_fields = [
        ("content-type", "text/event-stream".to_string()),
        ("cache-control", "no-cache".to_string()),
        ("transfer-encoding", "chunked".to_string()),
        ("date", String::new()),
    ];
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_fields(&fields, &expected_fields);
    assert_eq!(head, head_len("HTTP/1.1 200 OK", &expected_fields));
    let preamble = "retry: 1000\n\n";
    // Hex digits are case-insensitive (RFC 9112 §7.1); hyper writes upper case.
    let first = format!("{:X}\r\n{preamble}\r\n", preamble.len());
    assert_eq!(c.take(first.len()).await, first.as_bytes());

    let payload = rtbench_proto::make_payload(1, P);
    let seq = f.publish("w", &payload);
    let block = format!("id: {seq}\ndata: {}\n\n", event_body(seq, &payload));
    let chunk = format!("{:X}\r\n{block}\r\n", block.len());
    assert_eq!(c.take(chunk.len()).await, chunk.as_bytes());
    let after = f.metrics().await;
    let sent = head + chunk_len(preamble.len()) + chunk_len(block.len());
    assert_costs(&before, &after, "sse", sent, request.len());
    assert_engine(&f, &before, &after, "sse");
}

#[tokio::test]
async fn websocket_costs_exactly_its_handshake_and_frame() {
    for lean in [true, false] {
        websocket_costs_exactly_on(lean).await;
    }
}

async fn websocket_costs_exactly_on(lean: bool) {
    let f = Fixture::start(lean).await;
    // The sample key of RFC 6455 §1.3, whose accept value the RFC gives.
    let request = "GET /ws?topic=w HTTP/1.1\r\nhost: t\r\nconnection: upgrade\r\nupgrade: websocket\r\n\
                   sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    let before = f.metrics().await;
    let mut c = Raw::connect(f.http).await;
    c.send(request.as_bytes()).await;
    let (status, fields, head) = c.head().await;
    let expected_fields = [
        ("connection", "upgrade".to_string()),
        ("upgrade", "websocket".to_string()),
        (
            "sec-websocket-accept",
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".to_string(),
        ),
        ("date", String::new()),
    ];
    assert_eq!(status, "HTTP/1.1 101 Switching Protocols");
    assert_fields(&fields, &expected_fields);
    assert_eq!(
        head,
        head_len("HTTP/1.1 101 Switching Protocols", &expected_fields)
    );

    let payload = rtbench_proto::make_payload(1, P);
    let seq = f.publish("w", &payload);
    let body = event_body(seq, &payload);
    // RFC 6455 §5.2: FIN + text opcode, then the length: 7 bits below 126, else 126 + 16 bits.
    // Server frames are unmasked.
    let mut frame = vec![0x81];
    if body.len() < 126 {
        frame.push(body.len() as u8);
    } else {
        frame.push(126);
        frame.extend_from_slice(&(body.len() as u16).to_be_bytes());
    }
    frame.extend_from_slice(body.as_bytes());
    assert_eq!(c.take(frame.len()).await, frame);
    let after = f.metrics().await;
    let header = if body.len() < 126 { 2 } else { 4 };
    assert_costs(
        &before,
        &after,
        "websocket",
        head + header + body.len(),
        request.len(),
    );
    assert_engine(&f, &before, &after, "websocket");
}
