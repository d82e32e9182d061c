//! Fuzz target of the lean HTTP/1.1 request-head parser, through the socket: it is private to the
//! server crate, so heads built from the grammar's pieces and arbitrary bytes go to a real
//! `rtbench serve --http-engine lean`. Whatever arrives, the server answers with a well-formed
//! status line, closes, or keeps waiting for the rest of the head — and never panics or dies; a
//! canary keeps receiving throughout.

use crate::canary::Canary;
use crate::fuzz_parsers::fuzz;
use crate::harness::{Server, get};
use proptest::prelude::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// One request head: grammar pieces and raw bytes.
fn head() -> impl Strategy<Value = Vec<u8>> {
    let method = prop_oneof![
        Just("GET"),
        Just("POST"),
        Just("HEAD"),
        Just("get"),
        Just("G ET"),
        Just("")
    ];
    let path = prop_oneof![
        Just("/poll?topic=a"),
        Just("/sse?topic=a&after=1"),
        Just("/longpoll?topic=a&timeout_ms=0"),
        Just("/poll?topic=a&after=18446744073709551616"),
        Just("/sse?topic=%zz"),
        Just("*"),
        Just(""),
    ];
    let version = prop_oneof![
        Just("HTTP/1.1"),
        Just("HTTP/1.0"),
        Just("HTTP/2.0"),
        Just("HTTP/1.1 x"),
        Just("")
    ];
    let header = prop_oneof![
        Just("host: x".to_string()),
        Just("last-event-id: 3".to_string()),
        Just("last-event-id: -1".to_string()),
        Just("transfer-encoding: chunked".to_string()),
        Just("content-length: 3".to_string()),
        Just("connection: close".to_string()),
        Just(" folded".to_string()),
        Just("x:".to_string()),
        "[ -~]{0,40}",
    ];
    let eol = prop_oneof![Just("\r\n"), Just("\n"), Just("\r")];
    (
        method,
        path,
        version,
        prop::collection::vec((header, eol.clone()), 0..6),
        eol,
        prop::collection::vec(any::<u8>(), 0..32),
        any::<bool>(),
    )
        .prop_map(|(m, p, v, hs, end, raw, raw_first)| {
            let mut out = format!("{m} {p} {v}\r\n").into_bytes();
            for (h, e) in hs {
                out.extend_from_slice(format!("{h}{e}").as_bytes());
            }
            out.extend_from_slice(end.as_bytes());
            if raw_first {
                [raw, out].concat()
            } else {
                [out, raw].concat()
            }
        })
}

/// Sends `head`; true if what comes back (within 100 ms) is nothing yet, a close, or a response
/// whose first line is a well-formed HTTP/1.x status line (hyper answers HTTP/1.0 in kind).
fn answered_sanely(addr: SocketAddr, head: &[u8]) -> bool {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return false;
    };
    s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    let _ = s.write_all(head);
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let end = Instant::now() + Duration::from_millis(100);
    while Instant::now() < end && got.len() < 12 {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    got.is_empty()
        || (got.len() >= 12
            && (got.starts_with(b"HTTP/1.1 ") || got.starts_with(b"HTTP/1.0 "))
            && got[9..12].iter().all(u8::is_ascii_digit))
}

#[test]
fn fuzz_lean_request_heads_through_the_socket() {
    let mut server = Server::start(&["--http-engine", "lean"]);
    let canary = Canary::start(&server);
    let http = server.http;
    fuzz("lean head parser", head(), |h| {
        prop_assert!(
            answered_sanely(http, &h),
            "bad answer to {:?}",
            String::from_utf8_lossy(&h)
        );
        Ok(())
    });
    assert_eq!(get(server.http, "/healthz").status, 200);
    canary.finish();
    assert!(server.alive(), "server died");
    let stderr = server.stderr_text();
    assert!(!stderr.contains("panicked"), "{stderr}");
}
