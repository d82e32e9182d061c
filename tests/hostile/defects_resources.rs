//! Defects 3 and 5–9 of issue 12 (and the control token the brief adds): connections that never
//! finish their head or go idle, no connection cap, over-long heads, publisher threads parked for
//! decades, topic space used up by refused requests and never freed, a payload at the documented
//! maximum that rtbench's own clients cannot receive, publish floods that overrun every
//! subscriber's ring, and control endpoints anyone may call. The flags they start the server with
//! are the ones `docs/limits.md` lists.

use crate::attack::{closed_by_server, connect, non_readers, tcp_frame};
use crate::canary::{Canary, Subscriber};
use crate::harness::{Bound, MIB, Server, get, post_json, raw_request, request};
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

/// Connections each slow/idle test opens (the acceptance's 20,000 needs more fds than a test
/// process here may open; the behaviour is the same).
const CONNS: usize = 200;

/// Counts how many of `conns` the server has closed, giving each 20 ms.
fn count_closed(conns: &mut [TcpStream]) -> usize {
    conns
        .iter_mut()
        .filter_map(|s| closed_by_server(s, Duration::from_millis(20)).then_some(()))
        .count()
}

#[test]
fn slow_and_unfinished_heads_are_closed_after_the_header_read_timeout() {
    // The lean engine's limit: on the stock engine hyper has one timer for a slow head and an idle
    // connection, so there a head gets the longer of the two timeouts (docs/limits.md).
    let mut server = Server::start(&["--header-read-timeout", "500ms", "--http-engine", "lean"]);
    let canary = Canary::start(&server);
    let base = server.usage();
    let mut slow = non_readers(
        server.http,
        b"GET /poll?topic=a HTTP/1.1\r\nhost: x\r\n",
        CONNS,
    );
    slow.extend(non_readers(server.tcp, b"\0\0\0\x09SUB", CONNS));
    let mut trickle = connect(server.http);
    for b in b"GET /poll?topic=a HTTP/1.1\r\n".iter().take(15) {
        let _ = trickle.write_all(&[*b]);
        std::thread::sleep(Duration::from_millis(100));
    }
    server.watch(
        base,
        Bound::per_connection(2 * CONNS as u64, MIB, 4 * MIB),
        Duration::from_secs(1),
    );
    assert_eq!(
        count_closed(&mut slow),
        2 * CONNS,
        "unfinished heads left open"
    );
    assert!(
        closed_by_server(&mut trickle, Duration::from_millis(100)),
        "trickler left open"
    );
    assert!(server.usage().fds <= base.fds + 8, "fds not released");
    assert_eq!(get(server.http, "/healthz").status, 200);
    canary.finish();
}

#[test]
fn idle_connections_are_closed_after_the_idle_timeout_but_subscribers_are_not() {
    let args = ["--idle-timeout", "500ms", "--header-read-timeout", "500ms"];
    let mut server = Server::start(&args);
    let canary = Canary::start(&server);
    let base = server.usage();
    let mut idle = non_readers(server.http, b"", CONNS);
    idle.extend(non_readers(server.tcp, b"", CONNS));
    // A keep-alive connection that made one request and then went quiet.
    idle.extend(non_readers(
        server.http,
        b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n",
        1,
    ));
    server.watch(
        base,
        Bound::per_connection(2 * CONNS as u64 + 1, MIB, 4 * MIB),
        Duration::from_millis(1_500),
    );
    assert_eq!(
        count_closed(&mut idle),
        2 * CONNS + 1,
        "idle sockets left open"
    );
    assert_eq!(get(server.http, "/healthz").status, 200);
    // The canary idled on its upstream the whole time and must still be served.
    canary.finish();
}

#[test]
fn connections_over_the_cap_are_closed_and_logged() {
    let mut server = Server::start(&["--max-connections", "64"]);
    let canary = Canary::start(&server);
    let base = server.usage();
    let mut held = non_readers(server.http, b"", 100);
    server.watch(
        base,
        Bound::per_connection(64, MIB, 4 * MIB),
        Duration::from_millis(500),
    );
    let closed = count_closed(&mut held);
    assert!(
        closed >= 100 - 63,
        "only {closed} of 100 closed over a cap of 64"
    );
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        get(server.http, "/healthz").status,
        200,
        "new client not served"
    );
    canary.finish();
    assert!(
        server.stderr_text().contains("max-connections"),
        "the cap was hit silently"
    );
}

#[test]
fn heads_over_16_kib_get_431() {
    // The lean engine's limit: on the stock engine hyper bounds a head by its buffer,
    // `--http-max-buf` (docs/limits.md).
    let server = Server::start(&["--http-engine", "lean"]);
    let canary = Canary::start(&server);
    let filler: String = (0..40)
        .map(|i| format!("x-filler-{i}: {}\r\n", "a".repeat(500)))
        .collect();
    for path in ["/healthz", "/sse?topic=a", "/publish?topic=a"] {
        let raw = format!("GET {path} HTTP/1.1\r\nhost: x\r\n{filler}connection: close\r\n\r\n");
        assert_eq!(
            raw_request(server.http, raw.as_bytes()).status,
            431,
            "{path}"
        );
    }
    canary.finish();
}

#[test]
fn schedules_do_not_take_a_thread_each() {
    let mut server = Server::start(&[]);
    let canary = Canary::start(&server);
    let bound = Bound {
        rss_bytes: 8 * MIB,
        threads: 8,
        fds: 16,
    };
    server.under_attack(bound, Duration::from_secs(20), |a| {
        for i in 0..200 {
            let body = serde_json::json!({"topic": format!("slow{i}"), "rate_per_s": 1e-9,
                "payload_bytes": 8, "events": 2, "start_in_ms": 0});
            let r = post_json(a.http, "/schedule", &body);
            assert!(
                r.status == 200 || (400..500).contains(&r.status),
                "{}",
                r.status
            );
        }
    });
    canary.finish();
}

#[test]
fn refused_requests_do_not_use_up_topic_space() {
    let server = Server::start(&["--max-topics", "20"]);
    let canary = Canary::start(&server);
    let topics: Vec<String> = (0..20).map(|i| format!("plan{i}")).collect();
    let plan = serde_json::json!({"topics": topics, "payload_bytes": 8, "start_in_ms": 0,
        "events": [[0, 0]]});
    let r = post_json(server.http, "/plan", &plan);
    assert!(r.status >= 400, "21 topics over a cap of 20 accepted");
    assert_eq!(
        request(server.http, "POST", "/publish?topic=fresh1", b"x").status,
        200
    );
    for i in 0..40 {
        get(server.http, &format!("/longpoll?topic=ex{i}&timeout_ms=0"));
    }
    assert_eq!(
        request(server.http, "POST", "/publish?topic=fresh2", b"x").status,
        200
    );
    canary.finish();
}

#[test]
fn own_clients_receive_a_payload_at_the_documented_maximum() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rtbench"))
        .args([
            "run",
            "--quiet",
            "--transports",
            "tcp,websocket,sse",
            "--payload",
            "65536",
        ])
        .args([
            "--clients",
            "1",
            "--rate",
            "5",
            "--warmup",
            "200ms",
            "--window",
            "1s",
        ])
        .args([
            "--tail",
            "100ms",
            "--drain",
            "2s",
            "--out",
            dir.path().to_str().unwrap(),
        ])
        .output()
        .expect("rtbench run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results = rtbench_results::Results::load(&dir.path().join("results.json")).unwrap();
    for row in &results.rows {
        let got = (row.deliveries > 0, row.lost, row.reconnects);
        assert_eq!(got, (true, 0, 0), "{}", row.transport);
    }
}

#[test]
fn a_publish_flood_is_slowed_not_turned_into_everyones_loss() {
    const FLOOD: u64 = 6_000;
    let mut server = Server::start(&["--ring-capacity", "256", "--publish-rate-limit", "2000"]);
    let canary = Canary::start(&server);
    let victim = Subscriber::start(server.tcp, "flood");
    std::thread::sleep(Duration::from_millis(100));
    server.under_attack(
        Bound::per_connection(1, MIB, 4 * MIB),
        Duration::from_secs(15),
        |a| {
            let mut s = connect(a.tcp);
            s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
            let frame = tcp_frame(b"PUB x");
            let mut all = tcp_frame(b"SUB flooder 0 flood");
            all.extend(
                frame
                    .iter()
                    .copied()
                    .cycle()
                    .take(frame.len() * FLOOD as usize),
            );
            s.write_all(&all).expect("the flood is slowed, not refused");
        },
    );
    victim.finish(FLOOD, Duration::from_secs(5));
    canary.finish();
}

#[test]
fn idle_topics_are_freed() {
    let server = Server::start(&["--max-topics", "5", "--topic-idle-ttl", "500ms"]);
    let canary = Canary::start(&server);
    for i in 0..4 {
        let r = request(server.http, "POST", &format!("/publish?topic=old{i}"), b"x");
        assert_eq!(r.status, 200);
    }
    std::thread::sleep(Duration::from_millis(1_500));
    for i in 0..4 {
        let r = request(server.http, "POST", &format!("/publish?topic=new{i}"), b"x");
        assert_eq!(r.status, 200, "topic space not given back");
    }
    canary.finish();
}

#[test]
fn control_endpoints_need_the_token() {
    let server = Server::start(&["--control-token", "s3cret"]);
    let body = serde_json::json!({"topic": "ctl", "rate_per_s": 10.0, "payload_bytes": 8,
        "events": 1, "start_in_ms": 0})
    .to_string();
    let send = |auth: &str| {
        let raw = format!(
            "POST /schedule HTTP/1.1\r\nhost: x\r\nconnection: close\r\n{auth}\
             content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        raw_request(server.http, raw.as_bytes()).status
    };
    assert_eq!(send(""), 401);
    assert_eq!(send("authorization: Bearer wrong\r\n"), 401);
    assert_eq!(send("authorization: Bearer s3cret\r\n"), 200);
}
