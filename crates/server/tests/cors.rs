//! CORS on both HTTP engines: an allowed origin gets `access-control-allow-origin` on `/poll`,
//! `/longpoll`, `/sse`, `/clock` and `/publish` and an answered preflight; an origin not on the
//! list and a request without `Origin` get not one CORS byte (the heads of requests without
//! `Origin` are the same fields as before CORS existed); `/ws` never has CORS.

mod common;

use common::raw::Raw;
use common::{TestServer, sample};
use rtbench_proto::metrics as names;
use rtbench_server::{HttpEngine, ServerSettings};

const ALLOWED: &str = "http://127.0.0.1:4321";
const REFUSED: &str = "http://evil.example:4321";

async fn server(http_engine: HttpEngine) -> TestServer {
    TestServer::with_config(ServerSettings {
        http_engine,
        ..ServerSettings::default()
    })
    .await
}

/// The header lines of the answer to `request` (with `origin` as its `Origin`, if any), lower
/// case, the date's value dropped; read on a connection of its own.
async fn head_fields(s: &TestServer, request: &str, origin: Option<&str>) -> (String, Vec<String>) {
    let mut c = Raw::connect(s.http).await;
    let origin = origin.map_or(String::new(), |o| format!("origin: {o}\r\n"));
    let (line, rest) = request.split_once("\r\n").unwrap();
    c.send(format!("{line}\r\n{origin}{rest}").as_bytes()).await;
    let (status, fields, _) = c.head().await;
    let fields = fields
        .into_iter()
        .map(|f| f.to_ascii_lowercase())
        .map(|f| {
            if f.starts_with("date: ") {
                "date".into()
            } else {
                f
            }
        })
        .collect();
    (status, fields)
}

/// Each endpoint with CORS, as one raw request (long-poll not held: `timeout_ms=0`).
const REQUESTS: [&str; 5] = [
    "GET /poll?topic=c HTTP/1.1\r\nhost: t\r\n\r\n",
    "GET /longpoll?topic=c&timeout_ms=0 HTTP/1.1\r\nhost: t\r\n\r\n",
    "GET /sse?topic=c HTTP/1.1\r\nhost: t\r\n\r\n",
    "GET /clock HTTP/1.1\r\nhost: t\r\n\r\n",
    "POST /publish?topic=c HTTP/1.1\r\nhost: t\r\ncontent-length: 1\r\n\r\nx",
];

fn cors_fields(fields: &[String]) -> Vec<&String> {
    fields
        .iter()
        .filter(|f| f.starts_with("access-control-") || f.starts_with("vary"))
        .collect()
}

#[tokio::test]
async fn an_allowed_origin_reads_every_event_endpoint_on_both_engines() {
    for engine in HttpEngine::ALL {
        let s = server(engine).await;
        for request in REQUESTS {
            let (status, fields) = head_fields(&s, request, Some(ALLOWED)).await;
            assert!(
                status.starts_with("HTTP/1.1 200"),
                "{engine} {request:?}: {status}"
            );
            let allow = format!("access-control-allow-origin: {ALLOWED}");
            assert!(fields.contains(&allow), "{engine} {request:?}: {fields:?}");
        }
        s.stop().await;
    }
}

#[tokio::test]
async fn no_origin_or_a_refused_one_gets_no_cors_byte_and_no_origin_stays_lean() {
    for engine in HttpEngine::ALL {
        let s = server(engine).await;
        for request in REQUESTS {
            let (_, plain) = head_fields(&s, request, None).await;
            assert!(
                cors_fields(&plain).is_empty(),
                "{engine} {request:?}: {plain:?}"
            );
            let (_, refused) = head_fields(&s, request, Some(REFUSED)).await;
            assert_eq!(
                refused, plain,
                "{engine} {request:?}: same head as without Origin"
            );
        }
        let m = s.metrics().await;
        let lean = sample(&m, names::HTTP_LEAN_REQUESTS, Some("short_poll"));
        // Without Origin the lean engine answered the poll; with Origin, hyper did (twice).
        let expected = if engine == HttpEngine::Lean { 1.0 } else { 0.0 };
        assert_eq!(lean, expected, "{engine}");
        s.stop().await;
    }
}

#[tokio::test]
async fn preflights_are_answered_for_allowed_origins_only() {
    for engine in HttpEngine::ALL {
        let s = server(engine).await;
        let preflight = |path: &str, method: &str, headers: &str| {
            format!(
                "OPTIONS {path} HTTP/1.1\r\nhost: t\r\naccess-control-request-method: {method}\r\n\
                 access-control-request-headers: {headers}\r\n\r\n"
            )
        };
        let publish = preflight("/publish?topic=c", "POST", "content-type");
        let (status, fields) = head_fields(&s, &publish, Some(ALLOWED)).await;
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        for want in [
            format!("access-control-allow-origin: {ALLOWED}"),
            "access-control-allow-methods: get,post".into(),
            "access-control-allow-headers: content-type,last-event-id".into(),
        ] {
            assert!(fields.contains(&want), "{engine}: {want} not in {fields:?}");
        }
        let sse = preflight("/sse?topic=c", "GET", "last-event-id");
        let (status, _) = head_fields(&s, &sse, Some(ALLOWED)).await;
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        let (status, fields) = head_fields(&s, &publish, Some(REFUSED)).await;
        assert!(status.starts_with("HTTP/1.1 405"), "{engine}: {status}");
        assert!(cors_fields(&fields).is_empty(), "{fields:?}");
        s.stop().await;
    }
}

#[tokio::test]
async fn the_websocket_handshake_and_the_control_endpoints_have_no_cors() {
    // On the lean engine the handshake (Origin and all) is the lean path's, on stock hyper's.
    for engine in HttpEngine::ALL {
        let s = server(engine).await;
        let ws = "GET /ws?topic=c HTTP/1.1\r\nhost: t\r\nconnection: upgrade\r\nupgrade: websocket\r\n\
                  sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        let (status, fields) = head_fields(&s, ws, Some(ALLOWED)).await;
        assert!(status.starts_with("HTTP/1.1 101"), "{engine}: {status}");
        assert!(cors_fields(&fields).is_empty(), "{engine}: {fields:?}");
        let schedule =
            "OPTIONS /schedule HTTP/1.1\r\nhost: t\r\naccess-control-request-method: POST\r\n\r\n";
        let (status, fields) = head_fields(&s, schedule, Some(ALLOWED)).await;
        assert!(!status.starts_with("HTTP/1.1 2"), "{status}");
        assert!(cors_fields(&fields).is_empty(), "{fields:?}");
        s.stop().await;
    }
}
