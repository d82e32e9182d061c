//! WebSocket on the lean engine: tokio-tungstenite accepts on the socket itself, without hyper.
//! Checks it delivers in order (and that the lean path, not hyper, answered the handshake), that a
//! client resumes from its cursor after the server drops it, that a bad handshake gets hyper's
//! clear HTTP status while the lean engine runs, and that garbage on the socket costs no other
//! client its events.

mod common;

use common::raw::Raw;
use common::{STEP, TestServer, sample, within};
use futures_util::{SinkExt, StreamExt};
use rtbench_proto::faults::CloseRequest;
use rtbench_proto::metrics as names;
use rtbench_proto::paths;
use rtbench_server::{HttpEngine, ServerSettings};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn lean_server() -> TestServer {
    TestServer::with_config(ServerSettings {
        http_engine: HttpEngine::Lean,
        fault_endpoints: true,
        ..ServerSettings::default()
    })
    .await
}

async fn connect(server: &TestServer, query: &str) -> Ws {
    let url = server.ws_url(&format!("/ws?{query}"));
    within(STEP, tokio_tungstenite::connect_async(url))
        .await
        .unwrap()
        .0
}

/// The sequence numbers of the next `n` events `ws` receives.
async fn seqs(ws: &mut Ws, n: usize) -> Vec<u64> {
    let mut out = Vec::new();
    while out.len() < n {
        match within(STEP, ws.next()).await.unwrap().unwrap() {
            Message::Text(text) => {
                let event = rtbench_proto::parse_body(text.as_bytes()).unwrap();
                out.push(event.seq);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    out
}

/// WebSocket handshakes answered by the lean path so far.
async fn lean_handshakes(server: &TestServer) -> f64 {
    let m = server.metrics().await;
    sample(&m, names::HTTP_LEAN_REQUESTS, Some("websocket"))
}

#[tokio::test]
async fn delivers_in_order_and_publishes_up_without_hyper() {
    let server = lean_server().await;
    for i in 1..=3 {
        server.publish("o", &format!("before-{i}")).await;
    }
    let mut ws = connect(&server, "topic=o&after=0").await;
    assert_eq!(seqs(&mut ws, 3).await, [1, 2, 3]);
    for i in 4..=6 {
        server.publish("o", &format!("live-{i}")).await;
    }
    ws.send(Message::text("from-ws")).await.unwrap();
    assert_eq!(seqs(&mut ws, 4).await, [4, 5, 6, 7]);
    assert_eq!(lean_handshakes(&server).await, 1.0, "the lean path took it");
    ws.close(None).await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_dropped_client_resumes_from_its_cursor() {
    let server = lean_server().await;
    for i in 1..=2 {
        server.publish("r", &format!("e{i}")).await;
    }
    let mut ws = connect(&server, "topic=r&after=0").await;
    let first = seqs(&mut ws, 2).await;
    let close = CloseRequest {
        transport: "websocket".into(),
        count: 1,
    };
    let resp = within(
        STEP,
        common::client()
            .post(server.url(paths::FAULTS_CLOSE))
            .json(&close)
            .send(),
    )
    .await
    .unwrap();
    assert!(resp.status().is_success());
    // Dropped without a close frame: the stream ends or fails.
    let end = within(STEP, ws.next()).await;
    assert!(matches!(end, None | Some(Err(_))), "{end:?}");
    for i in 3..=4 {
        server.publish("r", &format!("e{i}")).await;
    }
    let mut again = connect(&server, &format!("topic=r&after={}", first[1])).await;
    assert_eq!(seqs(&mut again, 2).await, [3, 4], "no loss, no repeat");
    assert_eq!(lean_handshakes(&server).await, 2.0);
    server.stop().await;
}

/// Sends `request` on a fresh connection; the status line of the answer and its body.
async fn answer(server: &TestServer, request: &str) -> (String, String) {
    let mut c = Raw::connect(server.http).await;
    c.send(request.as_bytes()).await;
    let mut all = Vec::new();
    within(STEP, c.stream.read_to_end(&mut all)).await.ok();
    let text = String::from_utf8_lossy(&all).into_owned();
    let status = text.lines().next().unwrap_or_default().to_string();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string());
    (status, body.unwrap_or_default())
}

#[tokio::test]
async fn a_bad_handshake_gets_a_clear_status() {
    let server = lean_server().await;
    let head = |fields: &str| {
        format!("GET /ws?topic=b HTTP/1.1\r\nhost: t\r\nconnection: close, upgrade\r\n{fields}\r\n")
    };
    let cases = [
        // No Sec-WebSocket-Key.
        (
            head("upgrade: websocket\r\nsec-websocket-version: 13\r\n"),
            "400",
        ),
        // A version RFC 6455 does not define.
        (
            head("upgrade: websocket\r\nsec-websocket-version: 8\r\nsec-websocket-key: a2V5\r\n"),
            "400",
        ),
        // Upgrading to something else.
        (
            head("upgrade: h2c\r\nsec-websocket-version: 13\r\nsec-websocket-key: a2V5\r\n"),
            "400",
        ),
        // A whole handshake with a bad query.
        (
            "GET /ws?topic=b&after=x HTTP/1.1\r\nhost: t\r\nconnection: close, upgrade\r\n\
             upgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: a2V5\r\n\r\n"
                .to_string(),
            "400",
        ),
    ];
    for (request, code) in cases {
        let (status, body) = answer(&server, &request).await;
        assert!(
            status.starts_with(&format!("HTTP/1.1 {code} ")),
            "{request:?}: {status}"
        );
        assert!(!body.is_empty(), "{request:?}: a reason");
    }
    assert_eq!(lean_handshakes(&server).await, 0.0, "none was accepted");
    server.assert_healthy().await;
    server.stop().await;
}

#[tokio::test]
async fn garbage_after_the_handshake_costs_no_one_else() {
    let server = lean_server().await;
    let mut good = connect(&server, "topic=g&after=0").await;
    // A handshake, then bytes that are no WebSocket frame (unmasked, reserved opcode).
    let mut bad = Raw::connect(server.http).await;
    bad.send(
        b"GET /ws?topic=g HTTP/1.1\r\nhost: t\r\nconnection: upgrade\r\nupgrade: websocket\r\n\
          sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .await;
    let (status, _, _) = bad.head().await;
    assert_eq!(status, "HTTP/1.1 101 Switching Protocols");
    bad.send(&[0x8b, 0x02, 0xde, 0xad]).await;
    // The server closes it with 1002 (protocol error), then the connection ends.
    let mut rest = std::mem::take(&mut bad.buf);
    within(STEP, bad.stream.read_to_end(&mut rest)).await.ok();
    assert!(rest.len() >= 4, "a close frame: {rest:?}");
    assert_eq!(rest[0], 0x88, "close opcode");
    assert_eq!(u16::from_be_bytes([rest[2], rest[3]]), 1002);
    // Pure garbage in place of a handshake, too.
    let mut junk = Raw::connect(server.http).await;
    junk.send(&[0u8, 1, 2, 0xff, b'\r', b'\n', b'\r', b'\n'])
        .await;
    let mut ignored = Vec::new();
    within(STEP, junk.stream.read_to_end(&mut ignored))
        .await
        .ok();
    server.publish("g", "still").await;
    assert_eq!(seqs(&mut good, 1).await, [1]);
    server.assert_healthy().await;
    server.stop().await;
}
