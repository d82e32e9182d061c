//! Each transport delivers exactly the published events, in order, as the same canonical bodies.

mod common;

use bytes::BytesMut;
use common::{STEP, TestServer, client, payloads, within};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use rtbench_proto::frame::{decode_frame, encode_pub, encode_sub};
use rtbench_proto::poll::{encode_poll_response, parse_poll_response};
use rtbench_proto::{encode_body, sse};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

const TOPIC: &str = "chat.room-1";

/// Starts a server and publishes "a", "b", "c" to [`TOPIC`].
async fn server_with_three_events() -> TestServer {
    let server = TestServer::start().await;
    for (i, p) in ["a", "b", "c"].into_iter().enumerate() {
        assert_eq!(server.publish(TOPIC, p).await, i as u64 + 1);
    }
    server
}

/// The canonical bodies the hub holds, as a poll answers them (re-encoded from the parsed JSON).
async fn poll_bodies(server: &TestServer, path: &str) -> (Vec<u8>, Vec<Vec<u8>>) {
    let resp = within(STEP, client().get(server.url(path)).send())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let raw = resp.bytes().await.unwrap().to_vec();
    let batch = parse_poll_response(&raw).unwrap();
    assert_eq!(batch.dropped, 0);
    let bodies = batch
        .events
        .iter()
        .map(|e| encode_body(e.seq, e.t_pub_ns, &e.payload).to_vec())
        .collect::<Vec<_>>();
    (raw, bodies)
}

#[tokio::test]
async fn short_poll_returns_the_three_events() {
    let server = server_with_three_events().await;
    let (raw, bodies) = poll_bodies(&server, &format!("/poll?topic={TOPIC}&after=0")).await;
    assert_eq!(payloads(&bodies), ["a", "b", "c"]);
    assert_eq!(raw, encode_poll_response(0, bodies.iter().map(|b| &b[..])));
    let (_, rest) = poll_bodies(&server, &format!("/poll?topic={TOPIC}&after=2")).await;
    assert_eq!(payloads(&rest), ["c"]);
    let (raw, none) = poll_bodies(&server, &format!("/poll?topic={TOPIC}&after=3")).await;
    assert!(none.is_empty());
    assert_eq!(raw, br#"{"dropped":0,"events":[]}"#);
}

#[tokio::test]
async fn long_poll_returns_the_three_events_at_once() {
    let server = server_with_three_events().await;
    let path = format!("/longpoll?topic={TOPIC}&after=0&timeout_ms=60000");
    let (_, bodies) = poll_bodies(&server, &path).await;
    assert_eq!(payloads(&bodies), ["a", "b", "c"]);
}

#[tokio::test]
async fn long_poll_is_held_until_an_event_is_published() {
    let server = server_with_three_events().await;
    let url = server.url(&format!("/longpoll?topic={TOPIC}&after=3&timeout_ms=60000"));
    let held = tokio::spawn(async move { client().get(url).send().await.unwrap().bytes().await });
    // Wait until the request has reached the server, then publish.
    within(STEP, async {
        loop {
            let m = server.metrics().await;
            if common::sample(&m, rtbench_proto::metrics::HTTP_REQUESTS, Some("long_poll")) >= 1.0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(
        !held.is_finished(),
        "a long-poll with nothing after its cursor must be held"
    );
    server.publish(TOPIC, "d").await;
    let raw = within(STEP, held).await.unwrap().unwrap();
    let batch = parse_poll_response(&raw).unwrap();
    assert_eq!(batch.events.iter().map(|e| e.seq).collect::<Vec<_>>(), [4]);
    assert_eq!(batch.events[0].payload, "d");
}

#[tokio::test]
async fn long_poll_times_out_with_no_events() {
    let server = server_with_three_events().await;
    let (raw, none) = poll_bodies(
        &server,
        &format!("/longpoll?topic={TOPIC}&after=3&timeout_ms=1"),
    )
    .await;
    assert!(none.is_empty());
    assert_eq!(raw, br#"{"dropped":0,"events":[]}"#);
}

/// Reads SSE bytes from `resp` until `blocks` blank-line-terminated blocks have arrived.
async fn read_sse_blocks(resp: &mut reqwest::Response, blocks: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    within(STEP, async {
        while buf.windows(2).filter(|w| w == b"\n\n").count() < blocks {
            buf.extend_from_slice(&resp.chunk().await.unwrap().expect("stream ended early"));
        }
    })
    .await;
    buf
}

#[tokio::test]
async fn sse_streams_the_three_events() {
    let server = server_with_three_events().await;
    let (_, bodies) = poll_bodies(&server, &format!("/poll?topic={TOPIC}")).await;
    let mut resp = within(
        STEP,
        client()
            .get(server.url(&format!("/sse?topic={TOPIC}")))
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    assert_eq!(resp.headers()["cache-control"], "no-cache");
    let got = read_sse_blocks(&mut resp, 4).await;
    let mut expected = sse::RETRY_PREAMBLE.to_vec();
    for (i, body) in bodies.iter().enumerate() {
        expected.extend(sse::encode_event(i as u64 + 1, body));
    }
    assert_eq!(got, expected);
}

#[tokio::test]
async fn sse_resumes_after_last_event_id() {
    let server = server_with_three_events().await;
    let url = server.url(&format!("/sse?topic={TOPIC}&after=0"));
    let req = client().get(url).header("Last-Event-ID", "2");
    let mut resp = within(STEP, req.send()).await.unwrap();
    let got = read_sse_blocks(&mut resp, 2).await;
    let text = String::from_utf8(got).unwrap();
    assert!(
        text.starts_with("retry: 1000\n\nid: 3\ndata: {\"seq\":3,"),
        "{text}"
    );
}

#[tokio::test]
async fn websocket_streams_the_three_events_and_publishes_text() {
    let server = server_with_three_events().await;
    let (_, bodies) = poll_bodies(&server, &format!("/poll?topic={TOPIC}")).await;
    let url = server.ws_url(&format!("/ws?topic={TOPIC}&after=0"));
    let (mut ws, _) = within(STEP, tokio_tungstenite::connect_async(url))
        .await
        .unwrap();
    let mut got = Vec::new();
    while got.len() < 3 {
        match within(STEP, ws.next()).await.unwrap().unwrap() {
            Message::Text(t) => got.push(t.as_bytes().to_vec()),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(got, bodies);
    ws.send(Message::text("from-ws")).await.unwrap();
    let Message::Text(echo) = within(STEP, ws.next()).await.unwrap().unwrap() else {
        panic!("expected the published event back");
    };
    let event = rtbench_proto::parse_body(echo.as_bytes()).unwrap();
    assert_eq!((event.seq, event.payload.as_ref()), (4, "from-ws"));
    ws.send(Message::Ping("hi".into())).await.unwrap();
    match within(STEP, ws.next()).await.unwrap().unwrap() {
        Message::Pong(data) => assert_eq!(&data[..], b"hi"),
        other => panic!("expected a pong, got {other:?}"),
    }
    // A client-initiated close completes the handshake: the server replies, then ends.
    ws.close(None).await.unwrap();
    within(STEP, async {
        while let Some(message) = ws.next().await {
            assert!(matches!(message, Ok(Message::Close(_))), "{message:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn raw_tcp_streams_the_three_events_and_publishes() {
    let server = server_with_three_events().await;
    let (_, bodies) = poll_bodies(&server, &format!("/poll?topic={TOPIC}")).await;
    let mut stream = TcpStream::connect(server.tcp).await.unwrap();
    let mut out = BytesMut::new();
    encode_sub(TOPIC, 0, &mut out);
    stream.write_all(&out).await.unwrap();
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    within(STEP, async {
        while got.len() < 3 {
            while let Some(frame) = decode_frame(&mut buf).unwrap() {
                got.push(frame.to_vec());
            }
            if got.len() < 3 {
                assert!(stream.read_buf(&mut buf).await.unwrap() > 0, "closed early");
            }
        }
    })
    .await;
    assert_eq!(got, bodies);
    out.clear();
    encode_pub("from-tcp", &mut out);
    stream.write_all(&out).await.unwrap();
    let frame = within(STEP, async {
        loop {
            if let Some(frame) = decode_frame(&mut buf).unwrap() {
                break frame;
            }
            assert!(stream.read_buf(&mut buf).await.unwrap() > 0, "closed early");
        }
    })
    .await;
    let event = rtbench_proto::parse_body(&frame).unwrap();
    assert_eq!((event.seq, event.payload.as_ref()), (4, "from-tcp"));
}

#[tokio::test]
async fn a_reader_behind_the_ring_gets_a_gap() {
    let config = rtbench_server::ServerSettings {
        ring_capacity: 2,
        ..Default::default()
    };
    let server = TestServer::with_config(config).await;
    for p in ["a", "b", "c", "d"] {
        server.publish(TOPIC, p).await;
    }
    let resp = client()
        .get(server.url(&format!("/poll?topic={TOPIC}")))
        .send()
        .await
        .unwrap();
    let raw = resp.bytes().await.unwrap();
    let batch = parse_poll_response(&raw).unwrap();
    assert_eq!(batch.dropped, 2);
    assert_eq!(
        batch.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [3, 4]
    );
    let mut resp = client()
        .get(server.url(&format!("/sse?topic={TOPIC}")))
        .send()
        .await
        .unwrap();
    let text = String::from_utf8(read_sse_blocks(&mut resp, 3).await).unwrap();
    assert!(
        text.contains("event: gap\ndata: {\"dropped\":2}\n\nid: 3\n"),
        "{text}"
    );
}
