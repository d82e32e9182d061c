//! Refusals that already hold: request smuggling, malformed heads and queries, bad raw-TCP frames,
//! WebSocket protocol violations, over-size and invalid control requests. Each asserts the refusal
//! the client sees, that the server stays within a small bound (4 MiB, 4 threads), and that the
//! canary on another topic keeps receiving in order.

use crate::attack::{closed_by_server, connect, tcp_frame, ws_close_code, ws_frame, ws_open};
use crate::canary::Canary;
use crate::harness::{Addrs, Bound, MIB, Reply, Server, post_json, raw_request, request};
use std::io::Write;
use std::time::Duration;

/// Starts a server and a canary, runs `attack` under a 4 MiB / 4-thread bound, checks the canary.
fn guarded<T: Send + 'static>(attack: impl FnOnce(Addrs) -> T + Send + 'static) -> T {
    let mut server = Server::start(&[]);
    let canary = Canary::start(&server);
    std::thread::sleep(Duration::from_millis(200));
    let out = server.under_attack(
        Bound::per_connection(8, 0, 4 * MIB),
        Duration::from_secs(20),
        attack,
    );
    canary.finish();
    assert!(server.alive(), "server died: {}", server.stderr_text());
    out
}

fn text(r: &Reply) -> String {
    format!("{} {}", r.status, String::from_utf8_lossy(&r.body))
}

/// `Content-Length` with `Transfer-Encoding: chunked`, a request smuggled behind the chunked body.
fn smuggle(request_line: &str) -> String {
    format!(
        "{request_line}\r\nhost: x\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n\
         0\r\n\r\nGET /healthz HTTP/1.1\r\nhost: x\r\n\r\n"
    )
}

#[test]
fn smuggling_is_refused_or_answered_once_and_closed() {
    let replies = guarded(|a| {
        let both = [
            smuggle("POST /publish?topic=smug HTTP/1.1"),
            smuggle("GET /poll?topic=smug HTTP/1.1"),
        ];
        let bad = [
            "POST /publish?topic=smug HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\n\
             content-length: 5\r\n\r\nabcde",
            "GET /poll?topic=smug HTTP/1.1\r\nhost : x\r\n\r\n",
            "POST /publish?topic=smug HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
        ];
        (
            both.map(|raw| raw_request(a.http, raw.as_bytes())),
            bad.map(|raw| raw_request(a.http, raw.as_bytes())),
        )
    });
    // RFC 9112 §6.1: chunked wins over Content-Length, and the connection closes after the
    // response, so the request behind the body is never answered.
    for r in &replies.0 {
        let responses = r.raw.windows(9).filter(|w| w == b"HTTP/1.1 ").count();
        assert_eq!(responses, 1, "{}", text(r));
        assert!(
            crate::harness::contains(&r.raw, b"connection: close"),
            "{}",
            text(r)
        );
    }
    for r in &replies.1 {
        assert_eq!(r.status, 400, "{}", text(r));
        assert_eq!(r.raw.windows(9).filter(|w| w == b"HTTP/1.1 ").count(), 1);
    }
}

#[test]
fn bad_queries_and_control_bodies_are_400() {
    let replies = guarded(|a| {
        let long_topic = "t".repeat(65);
        let gets = [
            format!("/sse?topic={long_topic}"),
            "/poll?topic=a&after=minus-one".into(),
            "/longpoll?topic=a&timeout_ms=120001".into(),
            "/poll?topic=a%20b".into(),
        ];
        let mut replies: Vec<Reply> = gets
            .iter()
            .map(|p| request(a.http, "GET", p, b""))
            .collect();
        for body in [
            serde_json::json!({"topic":"s","rate_per_s":1e9,"payload_bytes":8,"events":1,"start_in_ms":0}),
            serde_json::json!({"topic":"s","rate_per_s":1,"payload_bytes":65537,"events":1,"start_in_ms":0}),
            serde_json::json!({"topic":"s","rate_per_s":1,"payload_bytes":8,"events":1,"start_in_ms":0,"x":1}),
        ] {
            replies.push(post_json(a.http, "/schedule", &body));
        }
        replies.push(request(
            a.http,
            "POST",
            "/publish?topic=big",
            &[b'a'; 65_537],
        ));
        replies
    });
    for r in &replies {
        assert!((400..500).contains(&r.status), "{}", text(r));
        assert!(crate::harness::contains(&r.body, b"error"), "{}", text(r));
    }
}

#[test]
fn bad_tcp_frames_close_only_that_connection() {
    let closed = guarded(|a| {
        let attacks: [Vec<u8>; 5] = [
            u32::MAX.to_be_bytes().to_vec(),
            tcp_frame(&[0xff, 0xfe, 0x00]),
            tcp_frame(b"PUB before-sub"),
            tcp_frame(b"SUB t not-a-number"),
            [tcp_frame(b"SUB t 0"), tcp_frame(b"SUB t 0")].concat(),
        ];
        attacks.map(|bytes| {
            let mut s = connect(a.tcp);
            s.write_all(&bytes).unwrap();
            closed_by_server(&mut s, Duration::from_secs(3))
        })
    });
    assert_eq!(closed, [true; 5]);
}

#[test]
fn websocket_violations_get_their_close_codes() {
    let mask = Some([1, 2, 3, 4]);
    let codes = guarded(move |a| {
        let attacks: [Vec<u8>; 6] = [
            ws_frame(0x1, b"unmasked", None),
            ws_frame(0x2, b"binary", mask),
            ws_frame(0x1, &[b'a'; 65_537], mask),
            ws_frame(0x3, b"reserved opcode", mask),
            ws_frame(0x1, &[0xc3, 0x28], mask),
            // A PING without FIN: control frames must not be fragmented.
            [vec![0x09, 0x80 | 2], vec![1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2]].concat(),
        ];
        attacks.map(|bytes| {
            let mut s = ws_open(a.http, "violations");
            let _ = s.write_all(&bytes);
            ws_close_code(&mut s)
        })
    });
    assert_eq!(
        codes,
        [1002, 1003, 1009, 1002, 1007, 1002].map(Some),
        "unmasked, binary, over-size, reserved opcode, bad UTF-8, fragmented ping"
    );
}
