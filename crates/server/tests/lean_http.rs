//! The lean HTTP/1.1 path against hyper: the same answers (errors included) on both engines,
//! hand-over to hyper mid-connection, pipelining, Last-Event-ID, a client leaving a held
//! long-poll, and the end of an SSE stream at shutdown. Which engine answered is read from the
//! `rtbench_http_lean_requests_total` counter, so a lean path that silently fell back to hyper
//! would fail here.

mod common;

use common::raw::Raw;
use common::{STEP, TestServer, sample, within};
use rtbench_proto::metrics as names;
use rtbench_server::{HttpEngine, ServerSettings};
use std::time::Duration;
use tokio::io::AsyncReadExt;

async fn server(lean: bool) -> TestServer {
    let http_engine = if lean {
        HttpEngine::Lean
    } else {
        HttpEngine::Stock
    };
    TestServer::with_config(ServerSettings {
        http_engine,
        ..ServerSettings::default()
    })
    .await
}

/// Reads one response with a `content-length` body: the status line and the body.
async fn response(c: &mut Raw) -> (String, String) {
    let (status, fields, _) = c.head().await;
    let len: usize = fields
        .iter()
        .find_map(|f| f.strip_prefix("content-length: "))
        .unwrap_or_else(|| panic!("no content-length in {fields:?}"))
        .parse()
        .unwrap();
    let body = String::from_utf8(c.take(len).await).unwrap();
    (status, body)
}

/// (requests, of which lean) counted for `transport` so far.
async fn requests(s: &TestServer, transport: &str) -> (f64, f64) {
    let m = s.metrics().await;
    (
        sample(&m, names::HTTP_REQUESTS, Some(transport)),
        sample(&m, names::HTTP_LEAN_REQUESTS, Some(transport)),
    )
}

#[tokio::test]
async fn a_refused_request_gets_hypers_answer_and_the_connection_carries_on() {
    let mut answers = Vec::new();
    for lean in [true, false] {
        let s = server(lean).await;
        let mut c = Raw::connect(s.http).await;
        c.send(b"GET /poll?topic=a&after=x HTTP/1.1\r\nhost: t\r\n\r\n")
            .await;
        let refused = response(&mut c).await;
        c.send(b"GET /poll?topic=a HTTP/1.1\r\nhost: t\r\n\r\n")
            .await;
        let answered = response(&mut c).await;
        // hyper has the connection from the refusal on: neither request is the lean path's.
        assert_eq!(requests(&s, "short_poll").await, (2.0, 0.0));
        answers.push((refused, answered));
    }
    let (refused, answered) = &answers[0];
    assert_eq!(refused.0, "HTTP/1.1 400 Bad Request");
    assert!(
        refused
            .1
            .starts_with(r#"{"error":"'after' must be a sequence number"#)
    );
    assert_eq!(
        answered,
        &(
            "HTTP/1.1 200 OK".into(),
            r#"{"dropped":0,"events":[]}"#.into()
        )
    );
    assert_eq!(answers[0], answers[1], "the engines answer alike");
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    for lean in [true, false] {
        let s = server(lean).await;
        let seq = s.publish("p", "hello").await;
        let mut c = Raw::connect(s.http).await;
        c.send(
            b"GET /poll?topic=p HTTP/1.1\r\nhost: t\r\n\r\n\
              GET /longpoll?topic=p&after=1&timeout_ms=0 HTTP/1.1\r\nhost: t\r\n\r\n\
              GET /poll?topic=p&after=0 HTTP/1.1\r\nhost: t\r\n\r\n",
        )
        .await;
        let first = response(&mut c).await.1;
        assert!(first.contains(&format!(r#""seq":{seq}"#)) && first.contains("hello"));
        assert_eq!(response(&mut c).await.1, r#"{"dropped":0,"events":[]}"#);
        assert_eq!(response(&mut c).await.1, first);
        let lean_count = if lean { 3.0 } else { 0.0 };
        assert_eq!(
            requests(&s, "short_poll").await,
            (3.0, lean_count),
            "lean {lean}"
        );
    }
}

#[tokio::test]
async fn sse_resumes_after_last_event_id() {
    for lean in [true, false] {
        let s = server(lean).await;
        s.publish("r", "one").await;
        let two = s.publish("r", "two").await;
        let mut c = Raw::connect(s.http).await;
        c.send(b"GET /sse?topic=r HTTP/1.1\r\nhost: t\r\nlast-event-id: 1\r\n\r\n")
            .await;
        let (status, _, _) = c.head().await;
        assert_eq!(status, "HTTP/1.1 200 OK");
        let preamble = "D\r\nretry: 1000\n\n\r\n";
        assert_eq!(c.take(preamble.len()).await, preamble.as_bytes());
        // The next chunk is event 2: its size line, then `id: 2`.
        c.fill(20).await;
        let text = String::from_utf8_lossy(&c.buf).to_string();
        let (_, block) = text.split_once("\r\n").unwrap();
        assert!(block.starts_with(&format!("id: {two}\ndata: ")), "{text:?}");
        assert_eq!(requests(&s, "sse").await.1, if lean { 1.0 } else { 0.0 });
    }
}

#[tokio::test]
async fn a_client_leaving_a_held_long_poll_frees_the_connection() {
    let s = server(true).await;
    let open = |s: &TestServer| {
        let s = s.http;
        async move {
            let m = TestServer::metrics_at(s).await;
            sample(&m, names::CONNECTIONS_OPEN, Some("long_poll"))
        }
    };
    let mut c = Raw::connect(s.http).await;
    c.send(b"GET /longpoll?topic=h&timeout_ms=120000 HTTP/1.1\r\nhost: t\r\n\r\n")
        .await;
    within(STEP, async {
        while open(&s).await < 1.0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    drop(c);
    // Without watching the socket the hold would last its full two minutes.
    within(STEP, async {
        while open(&s).await > 0.0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn shutdown_ends_an_sse_stream_with_the_last_chunk() {
    for lean in [true, false] {
        let s = server(lean).await;
        let mut c = Raw::connect(s.http).await;
        c.send(b"GET /sse?topic=z HTTP/1.1\r\nhost: t\r\n\r\n")
            .await;
        c.head().await;
        let preamble = "D\r\nretry: 1000\n\n\r\n";
        assert_eq!(c.take(preamble.len()).await, preamble.as_bytes());
        let stopping = tokio::spawn(s.stop());
        let mut rest = Vec::new();
        within(STEP, c.stream.read_to_end(&mut rest)).await.unwrap();
        assert_eq!(rest, b"0\r\n\r\n", "lean {lean}");
        within(STEP, stopping).await.unwrap();
    }
}
