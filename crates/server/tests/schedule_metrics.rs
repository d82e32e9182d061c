//! The open-loop publisher, the per-transport counters and graceful shutdown.

mod common;

use bytes::BytesMut;
use common::{STEP, TestServer, client, sample, within};
use futures_util::StreamExt;
use reqwest::StatusCode;
use rtbench_proto::control::ScheduleResponse;
use rtbench_proto::frame::{decode_frame, encode_sub};
use rtbench_proto::metrics as names;
use rtbench_proto::poll::parse_poll_response;
use rtbench_proto::{encode_body, make_payload, sse};
use rtbench_server::ServerSettings;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

async fn schedule(server: &TestServer, body: serde_json::Value) -> reqwest::Response {
    within(
        STEP,
        client().post(server.url("/schedule")).json(&body).send(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn schedule_publishes_events_stamped_with_their_scheduled_time() {
    let server = TestServer::start().await;
    let body = serde_json::json!({
        "topic": "sched", "rate_per_s": 1000.0, "payload_bytes": 16, "events": 5, "start_in_ms": 0
    });
    let resp = schedule(&server, body).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let plan: ScheduleResponse = resp.json().await.unwrap();
    assert_eq!(
        (plan.first_seq, plan.last_seq, plan.period_ns),
        (1, 5, 1_000_000)
    );
    let mut events = Vec::new();
    within(STEP, async {
        while events.len() < 5 {
            let after = events.len();
            let url = server.url(&format!(
                "/longpoll?topic=sched&after={after}&timeout_ms=1000"
            ));
            let raw = client()
                .get(url)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            let batch = parse_poll_response(&raw).unwrap();
            events.extend(
                batch
                    .events
                    .iter()
                    .map(|e| (e.seq, e.t_pub_ns, e.payload.to_string())),
            );
        }
    })
    .await;
    let seqs: Vec<u64> = events.iter().map(|e| e.0).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    for (k, (seq, t_pub_ns, payload)) in events.iter().enumerate() {
        assert_eq!(*t_pub_ns, plan.start_mono_ns + k as u64 * plan.period_ns);
        assert_eq!(*t_pub_ns, plan.t_pub_ns(*seq));
        assert_eq!(*payload, make_payload(*seq, 16));
    }
}

#[tokio::test]
async fn one_scheduled_publisher_per_topic() {
    let server = TestServer::start().await;
    let body = serde_json::json!({
        "topic": "slow", "rate_per_s": 1.0, "payload_bytes": 1, "events": 100, "start_in_ms": 60000
    });
    assert_eq!(
        schedule(&server, body.clone()).await.status(),
        StatusCode::OK
    );
    common::assert_json_error(schedule(&server, body).await, StatusCode::CONFLICT).await;
    // Shutdown stops the sleeping publisher thread too.
    server.stop().await;
}

#[tokio::test]
async fn every_transport_is_counted() {
    let server = TestServer::start().await;
    server.publish("m", "x").await;
    let poll = client()
        .get(server.url("/poll?topic=m"))
        .send()
        .await
        .unwrap();
    poll.bytes().await.unwrap();
    let lp = client()
        .get(server.url("/longpoll?topic=m"))
        .send()
        .await
        .unwrap();
    lp.bytes().await.unwrap();
    let mut sse_resp = client()
        .get(server.url("/sse?topic=m"))
        .send()
        .await
        .unwrap();
    let mut sse_buf = Vec::new();
    within(STEP, async {
        while sse_buf.windows(2).filter(|w| w == b"\n\n").count() < 2 {
            sse_buf.extend_from_slice(&sse_resp.chunk().await.unwrap().unwrap());
        }
    })
    .await;
    let (mut ws, _) = within(
        STEP,
        tokio_tungstenite::connect_async(server.ws_url("/ws?topic=m")),
    )
    .await
    .unwrap();
    within(STEP, ws.next()).await.unwrap().unwrap();
    let mut tcp = TcpStream::connect(server.tcp).await.unwrap();
    let (mut sub, mut buf) = (BytesMut::new(), BytesMut::new());
    encode_sub("m", 0, &mut sub);
    tcp.write_all(&sub).await.unwrap();
    within(STEP, async {
        while decode_frame(&mut buf).unwrap().is_none() {
            tcp.read_buf(&mut buf).await.unwrap();
        }
    })
    .await;
    let m = server.metrics().await;
    for t in [
        "tcp",
        "websocket",
        "sse",
        "long_poll",
        "short_poll",
        "control",
    ] {
        assert!(
            sample(&m, names::BYTES_SENT, Some(t)) > 0.0,
            "{t} bytes sent"
        );
        assert!(
            sample(&m, names::BYTES_RECEIVED, Some(t)) > 0.0,
            "{t} bytes received"
        );
        assert!(
            sample(&m, names::CONNECTIONS_ACCEPTED, Some(t)) >= 1.0,
            "{t} accepted"
        );
    }
    for t in ["tcp", "websocket", "sse", "long_poll", "short_poll"] {
        assert_eq!(
            sample(&m, names::EVENTS_DELIVERED, Some(t)),
            1.0,
            "{t} delivered"
        );
    }
    for t in ["websocket", "sse"] {
        assert_eq!(
            sample(&m, names::CONNECTIONS_OPEN, Some(t)),
            1.0,
            "{t} open"
        );
        assert_eq!(
            sample(&m, names::HTTP_REQUESTS, Some(t)),
            1.0,
            "{t} requests"
        );
    }
    assert_eq!(sample(&m, names::HTTP_REQUESTS, Some("tcp")), 0.0);
    assert_eq!(sample(&m, names::EVENTS_PUBLISHED, None), 1.0);
    assert!(sample(&m, names::PROCESS_CPU_US, None) > 0.0);
    assert!(sample(&m, names::PROCESS_RSS_BYTES, None) > 0.0);
}

/// Reads one SSE block (through its blank line) from a stream that has nothing else pending.
async fn read_block(resp: &mut reqwest::Response) -> Vec<u8> {
    let mut block = Vec::new();
    within(STEP, async {
        while !block.ends_with(b"\n\n") {
            block.extend_from_slice(&resp.chunk().await.unwrap().expect("stream ended"));
        }
    })
    .await;
    block
}

/// Sent/received byte counters of `transport` in a scrape.
fn bytes(m: &[rtbench_proto::metrics::Sample], transport: &str) -> (f64, f64) {
    (
        sample(m, names::BYTES_SENT, Some(transport)),
        sample(m, names::BYTES_RECEIVED, Some(transport)),
    )
}

#[tokio::test]
async fn one_event_costs_exactly_its_framing() {
    // No keep-alive may fall between the two scrapes.
    let config = ServerSettings {
        sse_keep_alive_ms: 3_600_000,
        ..Default::default()
    };
    let server = TestServer::with_config(config).await;
    let mut sse_resp = client()
        .get(server.url("/sse?topic=f"))
        .send()
        .await
        .unwrap();
    assert_eq!(read_block(&mut sse_resp).await, sse::RETRY_PREAMBLE);
    let (mut ws, _) = within(
        STEP,
        tokio_tungstenite::connect_async(server.ws_url("/ws?topic=f")),
    )
    .await
    .unwrap();
    let mut tcp = TcpStream::connect(server.tcp).await.unwrap();
    let (mut sub, mut buf) = (BytesMut::new(), BytesMut::new());
    encode_sub("f", 0, &mut sub);
    tcp.write_all(&sub).await.unwrap();
    // The TCP connection is subscribed once the server has read its SUB frame.
    within(STEP, async {
        while bytes(&server.metrics().await, "tcp").1 < sub.len() as f64 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;

    let before = server.metrics().await;
    let payload = make_payload(1, 100);
    let seq = server.publish("f", &payload).await;
    let block = read_block(&mut sse_resp).await;
    let Message::Text(ws_body) = within(STEP, ws.next()).await.unwrap().unwrap() else {
        panic!("expected a text message");
    };
    let tcp_body = within(STEP, async {
        loop {
            if let Some(frame) = decode_frame(&mut buf).unwrap() {
                break frame;
            }
            tcp.read_buf(&mut buf).await.unwrap();
        }
    })
    .await;
    let after = server.metrics().await;

    let event = rtbench_proto::parse_body(ws_body.as_bytes()).unwrap();
    let body = encode_body(seq, event.t_pub_ns, &payload);
    assert_eq!(ws_body.as_bytes(), &body[..]);
    assert_eq!(&tcp_body[..], &body[..]);
    let sse_block = sse::encode_event(seq, &body);
    assert_eq!(&block[..], &sse_block[..]);

    let delta = |t: &str| {
        let (b, a) = (bytes(&before, t), bytes(&after, t));
        (a.0 - b.0, a.1 - b.1)
    };
    let expected_sse = sse::chunked_len(sse_block.len()) as f64;
    assert_eq!(delta("sse"), (expected_sse, 0.0));
    assert_eq!(
        delta("tcp"),
        (
            (rtbench_proto::frame::HEADER_BYTES + body.len()) as f64,
            0.0
        )
    );
    // RFC 6455: a server frame of 126..=65535 bytes has a 4-byte header, a smaller one 2 bytes.
    let ws_header = if body.len() < 126 { 2 } else { 4 };
    assert_eq!(delta("websocket"), ((ws_header + body.len()) as f64, 0.0));
    for t in ["sse", "tcp", "websocket"] {
        let d = sample(&after, names::EVENTS_DELIVERED, Some(t))
            - sample(&before, names::EVENTS_DELIVERED, Some(t));
        assert_eq!(d, 1.0, "{t}");
    }
}

#[tokio::test]
async fn shutdown_ends_every_stream() {
    let server = TestServer::start().await;
    let mut sse_resp = client()
        .get(server.url("/sse?topic=s"))
        .send()
        .await
        .unwrap();
    read_block(&mut sse_resp).await;
    let (mut ws, _) = within(
        STEP,
        tokio_tungstenite::connect_async(server.ws_url("/ws?topic=s")),
    )
    .await
    .unwrap();
    let url = server.url("/longpoll?topic=s&timeout_ms=120000");
    let held = tokio::spawn(async move {
        let resp = client().get(url).send().await.unwrap();
        (resp.status(), resp.bytes().await.unwrap())
    });
    let mut tcp = TcpStream::connect(server.tcp).await.unwrap();
    let mut sub = BytesMut::new();
    encode_sub("s", 0, &mut sub);
    tcp.write_all(&sub).await.unwrap();
    within(STEP, async {
        loop {
            let m = server.metrics().await;
            if sample(&m, names::HTTP_REQUESTS, Some("long_poll")) >= 1.0
                && bytes(&m, "tcp").1 >= sub.len() as f64
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;

    server.stop().await;

    assert!(
        within(STEP, sse_resp.chunk()).await.unwrap().is_none(),
        "SSE stream must end"
    );
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
    assert_eq!(close.unwrap().code, CloseCode::Away);
    let (status, body) = within(STEP, held).await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], br#"{"dropped":0,"events":[]}"#);
    let mut byte = [0u8; 1];
    assert!(matches!(
        within(STEP, tcp.read(&mut byte)).await,
        Ok(0) | Err(_)
    ));
}
