//! WebTransport over HTTP/3, end to end with a `wtransport` client on loopback: the stream row
//! carries exactly the floor's frames of the canonical event bodies; the datagram row one body per
//! datagram; admission answers bad paths and full servers; and the UDP socket's meter counts the
//! handshake and, per event, the event's frame plus at most one QUIC packet's overhead, bounded
//! from RFC 9000 and RFC 9001 (not from a previous run), and agrees to the byte with the client's
//! own per-connection UDP counts.
//!
//! Expected bytes are built here from the rules (`docs/architecture.md`'s canonical body, the
//! floor's 4-byte big-endian length), not by the server's code; events are published straight
//! into the hub with a known `t_pub_ns`.

mod common;

use common::{STEP, TestServer, sample, within};
use rtbench_proto::metrics as names;
use rtbench_server::{ServerLimits, ServerSettings};
use std::net::SocketAddr;
use std::time::Duration;
use wtransport::{ClientConfig, Connection, Endpoint};

/// Payload bytes of each event.
const P: usize = 100;
/// The events' scheduled time, chosen so its digits are known.
const T_PUB_NS: u64 = 1_000_000_007;

/// RFC 9000 §14.1: a client's datagrams carrying Initial packets, and a server's carrying
/// ack-eliciting Initial packets, are at least 1,200 bytes.
const MIN_INITIAL_DATAGRAM: f64 = 1200.0;
/// RFC 9000 §17.3.1: a 1-RTT (short header) packet's header is 1 byte, a destination connection
/// ID of 0 to 20 bytes, and a packet number of 1 to 4 bytes.
const SHORT_HEADER: (usize, usize) = (1 + 1, 1 + 20 + 4);
/// RFC 9000 §19.8: a STREAM frame's header is its type byte, the stream ID (a 1-8 byte varint),
/// the offset (absent at 0, else a 1-8 byte varint) and the length (absent, or 1-8 bytes).
const STREAM_FRAME_HEADER: (usize, usize) = (1 + 1, 1 + 8 + 8 + 8);
/// RFC 9001 §5.3: every TLS 1.3 AEAD QUIC uses adds a 16-byte tag.
const AEAD_TAG: usize = 16;

fn event_body(seq: u64, payload: &str) -> String {
    format!(r#"{{"seq":{seq},"t_pub_ns":{T_PUB_NS},"payload":"{payload}"}}"#)
}

/// The floor's frame of `body`: its length as 4 bytes big-endian, then the body.
fn floor_frame(body: &str) -> Vec<u8> {
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(body.as_bytes());
    out
}

/// Publishes event `i` to `topic` in the hub; returns its body.
fn publish(server: &TestServer, topic: &str, i: u64) -> String {
    let payload = rtbench_proto::make_payload(i, P);
    let seq = server
        .server
        .hub()
        .publish(topic, T_PUB_NS, &payload)
        .unwrap();
    event_body(seq, &payload)
}

/// Opens a session on `addr` at `path_and_query`, accepting the self-signed certificate.
async fn connect(addr: SocketAddr, path_and_query: &str) -> Result<Connection, String> {
    let config = ClientConfig::builder()
        .with_bind_address(([127, 0, 0, 1], 0).into())
        .with_no_cert_validation()
        .build();
    let endpoint = Endpoint::client(config).unwrap();
    within(
        STEP,
        endpoint.connect(format!("https://{addr}{path_and_query}")),
    )
    .await
    .map_err(|e| e.to_string())
}

/// Reads exactly `n` bytes off the session's one unidirectional stream.
async fn read_exactly(stream: &mut wtransport::RecvStream, n: usize) -> Vec<u8> {
    let mut got = vec![0; n];
    within(STEP, stream.read_exact(&mut got)).await.unwrap();
    got
}

/// (sent, received) bytes the meter holds for `transport`.
async fn metered(server: &TestServer, transport: &str) -> (f64, f64) {
    let m = server.metrics().await;
    (
        sample(&m, names::BYTES_SENT, Some(transport)),
        sample(&m, names::BYTES_RECEIVED, Some(transport)),
    )
}

#[tokio::test]
async fn stream_carries_exactly_the_floor_frames_of_the_event_bodies() {
    let server = TestServer::start().await;
    let bodies: Vec<String> = (1..=5).map(|i| publish(&server, "wts", i)).collect();
    let conn = connect(server.http, "/wt?topic=wts&after=0").await.unwrap();
    let mut stream = within(STEP, conn.accept_uni()).await.unwrap();
    let expected: Vec<u8> = bodies.iter().flat_map(|b| floor_frame(b)).collect();
    assert_eq!(read_exactly(&mut stream, expected.len()).await, expected);
    // Resuming after 3 gives exactly events 4 and 5, on a new session.
    let conn = connect(server.http, "/wt?topic=wts&after=3").await.unwrap();
    let mut stream = within(STEP, conn.accept_uni()).await.unwrap();
    let expected: Vec<u8> = bodies[3..].iter().flat_map(|b| floor_frame(b)).collect();
    assert_eq!(read_exactly(&mut stream, expected.len()).await, expected);
    let next = publish(&server, "wts", 6);
    assert_eq!(
        read_exactly(&mut stream, floor_frame(&next).len()).await,
        floor_frame(&next)
    );
}

#[tokio::test]
async fn datagram_row_sends_each_body_alone_in_one_datagram() {
    let server = TestServer::start().await;
    let bodies: Vec<String> = (1..=3).map(|i| publish(&server, "wtd", i)).collect();
    let conn = connect(server.tcp, "/wt-datagram?topic=wtd&after=0")
        .await
        .unwrap();
    for body in &bodies {
        let datagram = within(STEP, conn.receive_datagram()).await.unwrap();
        assert_eq!(&datagram.payload()[..], body.as_bytes());
    }
}

#[tokio::test]
async fn bad_paths_and_a_full_server_are_refused() {
    let server = TestServer::with_config(ServerSettings {
        limits: ServerLimits {
            max_connections: 1,
            ..ServerLimits::default()
        },
        ..ServerSettings::default()
    })
    .await;
    // Each row answers only its own path, and needs a valid topic.
    assert!(connect(server.http, "/wt-datagram?topic=t").await.is_err());
    assert!(connect(server.tcp, "/wt?topic=t").await.is_err());
    assert!(connect(server.http, "/wt?topic=bad%20topic").await.is_err());
    let first = connect(server.http, "/wt?topic=t").await.unwrap();
    assert!(
        connect(server.http, "/wt?topic=t").await.is_err(),
        "over --max-connections"
    );
    // Once the first session is gone, its slot is free again: the refusal was the limit's.
    first.close(wtransport::VarInt::from_u32(0), b"");
    for _ in 0..100 {
        if connect(server.http, "/wt?topic=t").await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the slot was never freed");
}

#[tokio::test]
async fn meter_counts_the_handshake_and_one_quic_packet_per_event() {
    let server = TestServer::start().await;
    let conn = connect(server.http, "/wt?topic=wtm").await.unwrap();
    let mut stream = within(STEP, conn.accept_uni()).await.unwrap();
    let (sent, received) = metered(&server, "webtransport").await;
    assert!(
        sent >= MIN_INITIAL_DATAGRAM && received >= MIN_INITIAL_DATAGRAM,
        "the handshake is counted before any event: sent {sent}, received {received}"
    );
    // The first event settles the connection's post-handshake traffic; the second is measured.
    let first = floor_frame(&publish(&server, "wtm", 1));
    read_exactly(&mut stream, first.len()).await;
    let before = settled(&server, 0.0).await;
    let frame = floor_frame(&publish(&server, "wtm", 2));
    assert_eq!(read_exactly(&mut stream, frame.len()).await, frame);
    let per_event = (settled(&server, before + frame.len() as f64).await - before) as usize;
    let least = frame.len() + SHORT_HEADER.0 + STREAM_FRAME_HEADER.0 + AEAD_TAG;
    let most = frame.len() + SHORT_HEADER.1 + STREAM_FRAME_HEADER.1 + AEAD_TAG;
    assert!(
        (least..=most).contains(&per_event),
        "one event of {} frame bytes cost {per_event} bytes at the socket, not {least}..={most}",
        frame.len()
    );
    // The other end's own count (quinn's per-connection UDP statistics on the client) agrees to
    // the byte, both ways, once what is in flight has landed (loopback: nothing is lost).
    let mut both = ((0.0, 0.0), (0.0, 0.0));
    for _ in 0..100 {
        let stats = conn.quic_connection().stats();
        let client = (stats.udp_rx.bytes as f64, stats.udp_tx.bytes as f64);
        both = (metered(&server, "webtransport").await, client);
        if both.0 == both.1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        both.0, both.1,
        "server (sent, received) vs client (received, sent)"
    );
}

/// The `webtransport` row's bytes sent once they reach `at_least` (bounded: the meter counts a
/// datagram just after the kernel took it, so the client may read it a moment before).
async fn settled(server: &TestServer, at_least: f64) -> f64 {
    for _ in 0..100 {
        let (sent, _) = metered(server, "webtransport").await;
        if sent >= at_least {
            return sent;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    metered(server, "webtransport").await.0
}
