//! Bad input gets a status and a one-line JSON error (or a WebSocket close code, or a closed TCP
//! connection), and never disturbs other clients.

mod common;

use bytes::BytesMut;
use common::{STEP, TestServer, assert_json_error, client, within};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use rtbench_proto::frame::encode_sub;
use rtbench_proto::limits::{MAX_FRAME_BYTES, MAX_PAYLOAD_BYTES, MAX_TOPIC_BYTES};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// GETs `path` and asserts a JSON error with `status`, then that the server still serves others.
async fn assert_get_error(server: &TestServer, path: &str, status: StatusCode) {
    let resp = within(STEP, client().get(server.url(path)).send())
        .await
        .unwrap();
    assert_json_error(resp, status).await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn bad_cursor_is_400() {
    let server = TestServer::start().await;
    assert_get_error(&server, "/poll?topic=t&after=abc", StatusCode::BAD_REQUEST).await;
    assert_get_error(
        &server,
        "/longpoll?topic=t&after=abc",
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_get_error(&server, "/poll?topic=t&after=-1", StatusCode::BAD_REQUEST).await;
    assert_get_error(&server, "/sse?topic=t&after=abc", StatusCode::BAD_REQUEST).await;
    assert_get_error(&server, "/ws?topic=t&after=abc", StatusCode::BAD_REQUEST).await;
    let resp = client()
        .get(server.url("/sse?topic=t"))
        .header("Last-Event-ID", "nope")
        .send()
        .await
        .unwrap();
    assert_json_error(resp, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn bad_timeout_is_400() {
    let server = TestServer::start().await;
    assert_get_error(
        &server,
        "/longpoll?topic=t&timeout_ms=-5",
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_get_error(
        &server,
        "/longpoll?topic=t&timeout_ms=120001",
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_get_error(
        &server,
        "/longpoll?topic=t&timeout_ms=1e3",
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn bad_topic_is_400() {
    let server = TestServer::start().await;
    let long = "x".repeat(MAX_TOPIC_BYTES + 1);
    for endpoint in ["/poll", "/longpoll", "/sse", "/ws"] {
        assert_get_error(
            &server,
            &format!("{endpoint}?topic={long}"),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_get_error(
            &server,
            &format!("{endpoint}?topic=a%20b"),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_get_error(
            &server,
            &format!("{endpoint}?topic=a/b"),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_get_error(&server, endpoint, StatusCode::BAD_REQUEST).await;
    }
    let resp = client()
        .post(server.url("/publish?topic=%C3%A9"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_json_error(resp, StatusCode::BAD_REQUEST).await;
    // A malformed query string (duplicate parameter) is a JSON 400 too, not axum's plain text.
    assert_get_error(&server, "/poll?topic=a&topic=b", StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn bad_publish_bodies() {
    let server = TestServer::start().await;
    let url = server.url("/publish?topic=t");
    let resp = client()
        .post(&url)
        .body(vec![b'x'; MAX_PAYLOAD_BYTES + 1])
        .send()
        .await
        .unwrap();
    assert_json_error(resp, StatusCode::PAYLOAD_TOO_LARGE).await;
    server.assert_healthy().await;
    let resp = client()
        .post(&url)
        .body(vec![0xff, 0xfe])
        .send()
        .await
        .unwrap();
    assert_json_error(resp, StatusCode::BAD_REQUEST).await;
    server.assert_healthy().await;
    // Exactly at the limit is fine.
    let payload = "y".repeat(MAX_PAYLOAD_BYTES);
    assert_eq!(server.publish("t", &payload).await, 1);
}

#[tokio::test]
async fn unknown_path_and_wrong_method() {
    let server = TestServer::start().await;
    assert_get_error(&server, "/nope", StatusCode::NOT_FOUND).await;
    assert_get_error(&server, "/publish?topic=t", StatusCode::METHOD_NOT_ALLOWED).await;
    let resp = client()
        .post(server.url("/poll?topic=t"))
        .send()
        .await
        .unwrap();
    assert_json_error(resp, StatusCode::METHOD_NOT_ALLOWED).await;
    // A plain GET to /ws (no upgrade headers) is refused with JSON too.
    assert_get_error(&server, "/ws?topic=t", StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn bad_schedule_requests_are_400() {
    let server = TestServer::start().await;
    let good = serde_json::json!({
        "topic": "s", "rate_per_s": 100.0, "payload_bytes": 8, "events": 1, "start_in_ms": 0
    });
    let mut bad = vec![
        "{not json".to_string(),
        "".to_string(),
        serde_json::json!({"topic": "s"}).to_string(),
    ];
    for (field, value) in [
        ("rate_per_s", serde_json::json!(0.0)),
        ("rate_per_s", serde_json::json!(-3.0)),
        ("rate_per_s", serde_json::json!(2e6)),
        ("events", serde_json::json!(0)),
        ("events", serde_json::json!(10_000_001u64)),
        ("payload_bytes", serde_json::json!(MAX_PAYLOAD_BYTES + 1)),
        ("start_in_ms", serde_json::json!(60_001)),
        ("topic", serde_json::json!("bad topic")),
        ("surprise", serde_json::json!(1)),
    ] {
        let mut v = good.clone();
        v[field] = value;
        bad.push(v.to_string());
    }
    for body in bad {
        let resp = client()
            .post(server.url("/schedule"))
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_json_error(resp, StatusCode::BAD_REQUEST).await;
        server.assert_healthy().await;
    }
}

#[tokio::test]
async fn websocket_bad_messages_close_with_codes() {
    let server = TestServer::start().await;
    let config = WebSocketConfig::default()
        .max_message_size(Some(4 * MAX_PAYLOAD_BYTES))
        .max_frame_size(Some(4 * MAX_PAYLOAD_BYTES));
    let cases = [
        (
            Message::text("x".repeat(MAX_PAYLOAD_BYTES + 1)),
            CloseCode::Size,
        ),
        (Message::binary(vec![1, 2, 3]), CloseCode::Unsupported),
    ];
    for (message, code) in cases {
        let url = server.ws_url("/ws?topic=w");
        let (mut ws, _) = within(
            STEP,
            tokio_tungstenite::connect_async_with_config(url, Some(config), true),
        )
        .await
        .unwrap();
        ws.send(message).await.unwrap();
        let close = within(STEP, async {
            loop {
                match ws.next().await {
                    Some(Ok(Message::Close(frame))) => break frame,
                    Some(Ok(_)) => continue,
                    other => panic!("expected a close frame, got {other:?}"),
                }
            }
        })
        .await;
        assert_eq!(close.unwrap().code, code);
        server.assert_healthy().await;
    }
}

#[tokio::test]
async fn raw_tcp_bad_frames_close_the_connection() {
    let server = TestServer::start().await;
    let oversized = ((MAX_FRAME_BYTES + 1) as u32).to_be_bytes().to_vec();
    let mut sub_then_oversized = BytesMut::new();
    encode_sub("t", 0, &mut sub_then_oversized);
    sub_then_oversized.extend_from_slice(&oversized);
    let mut not_sub = BytesMut::new();
    rtbench_proto::frame::encode_pub("hello", &mut not_sub);
    let mut bad_topic = BytesMut::new();
    encode_sub("bad topic!", 0, &mut bad_topic);
    for bytes in [
        oversized,
        sub_then_oversized.to_vec(),
        not_sub.to_vec(),
        bad_topic.to_vec(),
    ] {
        let mut stream = TcpStream::connect(server.tcp).await.unwrap();
        stream.write_all(&bytes).await.unwrap();
        let mut buf = [0u8; 64];
        // EOF or a reset: either way the server closed the connection.
        let read = within(STEP, stream.read(&mut buf)).await;
        assert!(
            matches!(read, Ok(0) | Err(_)),
            "connection left open: {read:?}"
        );
        server.assert_healthy().await;
    }
}
