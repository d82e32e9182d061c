//! Upstream paths the scenarios use: `/publish?transport` counted under that transport,
//! `publish_to` on WebSocket and raw TCP, and `POST /plan` publishing on explicit times.

mod common;

use bytes::BytesMut;
use common::{STEP, TestServer, assert_json_error, client, sample, within};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use rtbench_proto::control::PlanResponse;
use rtbench_proto::frame::{decode_frame, encode_pub, encode_sub_publishing_to};
use rtbench_proto::metrics as names;
use rtbench_proto::poll::parse_poll_response;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// Sequence numbers of the events of `topic` the server holds, read with one short poll.
async fn seqs(server: &TestServer, topic: &str) -> Vec<u64> {
    let url = server.url(&format!("/poll?topic={topic}&after=0"));
    let raw = within(STEP, client().get(url).send())
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let batch = parse_poll_response(&raw).unwrap();
    batch.events.iter().map(|e| e.seq).collect()
}

/// Waits (bounded) until `topic` holds `n` events.
async fn await_events(server: &TestServer, topic: &str, n: usize) -> Vec<u64> {
    within(STEP, async {
        loop {
            let got = seqs(server, topic).await;
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
}

#[tokio::test]
async fn publish_with_transport_is_counted_under_that_transport() {
    let server = TestServer::start().await;
    let before = server.metrics().await;
    let resp = within(
        STEP,
        client()
            .post(server.url("/publish?topic=up&transport=long_poll"))
            .body("hello")
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let after = server.metrics().await;
    let delta = |name, t| sample(&after, name, Some(t)) - sample(&before, name, Some(t));
    assert_eq!(delta(names::HTTP_REQUESTS, "long_poll"), 1.0);
    assert!(delta(names::BYTES_RECEIVED, "long_poll") > "hello".len() as f64);
    assert!(delta(names::BYTES_SENT, "long_poll") > 0.0);
    assert_eq!(seqs(&server, "up").await, [1]);

    let resp = within(
        STEP,
        client()
            .post(server.url("/publish?topic=up&transport=pigeon"))
            .body("x")
            .send(),
    )
    .await
    .unwrap();
    assert_json_error(resp, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn websocket_publish_to_sends_upstream_elsewhere() {
    let server = TestServer::start().await;
    let url = server.ws_url("/ws?topic=room&after=0&publish_to=room.in");
    let (mut ws, _) = within(STEP, tokio_tungstenite::connect_async(url))
        .await
        .unwrap();
    ws.send(Message::text("input-1")).await.unwrap();
    assert_eq!(await_events(&server, "room.in", 1).await, [1]);
    assert!(seqs(&server, "room").await.is_empty(), "nothing fanned out");
    // Events of the subscribed topic still come down.
    server.publish("room", "state").await;
    let msg = within(STEP, ws.next()).await.unwrap().unwrap();
    let body = rtbench_proto::parse_body(msg.to_text().unwrap().as_bytes()).unwrap();
    assert_eq!(body.payload, "state");

    let bad = server.ws_url("/ws?topic=room&publish_to=bad%20topic");
    assert!(tokio_tungstenite::connect_async(bad).await.is_err());
}

#[tokio::test]
async fn tcp_publish_to_sends_upstream_elsewhere() {
    let server = TestServer::start().await;
    let mut stream = TcpStream::connect(server.tcp).await.unwrap();
    let mut out = BytesMut::new();
    encode_sub_publishing_to("game", 0, "game.in", &mut out);
    encode_pub("input-1", &mut out);
    encode_pub("input-2", &mut out);
    stream.write_all(&out).await.unwrap();
    assert_eq!(await_events(&server, "game.in", 2).await, [1, 2]);
    assert!(seqs(&server, "game").await.is_empty(), "nothing fanned out");
    server.publish("game", "state").await;
    let mut buf = BytesMut::new();
    let frame = within(STEP, async {
        loop {
            if let Some(frame) = decode_frame(&mut buf).unwrap() {
                return frame;
            }
            assert!(stream.read_buf(&mut buf).await.unwrap() > 0);
        }
    })
    .await;
    assert_eq!(rtbench_proto::parse_body(&frame).unwrap().payload, "state");
}

#[tokio::test]
async fn plan_publishes_to_many_topics_at_their_times() {
    let server = TestServer::start().await;
    let body = serde_json::json!({
        "topics": ["p0", "p1"], "payload_bytes": 10, "start_in_ms": 0,
        "events": [[1, 0], [0, 1_000_000], [1, 2_000_000]]
    });
    let resp = within(STEP, client().post(server.url("/plan")).json(&body).send())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let plan: PlanResponse = resp.json().await.unwrap();
    assert_eq!(plan.first_seqs, [1, 1]);
    assert_eq!(await_events(&server, "p1", 2).await, [1, 2]);
    assert_eq!(await_events(&server, "p0", 1).await, [1]);

    let unsorted = serde_json::json!({
        "topics": ["q"], "payload_bytes": 1, "start_in_ms": 0, "events": [[0, 5], [0, 1]]
    });
    let resp = within(
        STEP,
        client().post(server.url("/plan")).json(&unsorted).send(),
    )
    .await
    .unwrap();
    assert_json_error(resp, StatusCode::BAD_REQUEST).await;
}
