//! Defects 1–4 and 10 of issue 12, reproduced at small sizes: sequence-number wrap, whole-backlog
//! copies for slow SSE/TCP/long-poll consumers, rings bounded by count instead of bytes, escaping
//! that multiplies an event, and an unlimited WebSocket write buffer — each fixed by a limit of
//! `docs/limits.md` (checked sequence numbers, `--batch-bytes`, `--ring-bytes`,
//! `MAX_EVENT_BODY_BYTES`, `--ws-max-write-buffer`). Each bounds the server at 1 MiB per
//! attacking connection (plus 4 MiB slack) and keeps a canary. The watchdog kills the server as
//! soon as a bound breaks, so a regression fails fast instead of eating gigabytes.
use crate::attack::{non_readers, read_all, ws_frame, ws_open};
use crate::canary::Canary;
use crate::harness::{
    Bound, MIB, Server, contains, get, post_json, request, schedule, wait_published,
};
use rtbench_proto::limits::MAX_FRAME_BYTES;
use std::io::Write;
use std::time::Duration;

/// Events of 64 KiB in the backlog the slow-consumer tests read: 13 MB in the ring.
const BACKLOG_EVENTS: u64 = 200;
/// Payload bytes of those events.
const BIG_PAYLOAD: u64 = 64 * 1024;

/// Resumes topic `wrap` at sequence number 2^64−1, publishes once (wrapping to 0 on the current
/// server), subscribes with `open` from `after=0`, and asserts the subscriber got at most a few
/// events' worth of bytes in 1 s — not the endless stream of duplicates — or the resume was refused.
fn seq_wrap(engine: &str, websocket: bool) {
    let mut server = Server::start(&["--http-engine", engine]);
    let canary = Canary::start(&server);
    let got = server.under_attack(
        Bound::per_connection(1, MIB, 4 * MIB),
        Duration::from_secs(10),
        move |a| {
            let max = u64::MAX;
            let resume = serde_json::json!({"topic": "wrap", "payload_bytes": 16,
                "start_mono_ns": 0, "period_ns": 1, "first_seq": max, "from_seq": max,
                "last_seq": max});
            let r = post_json(a.http, "/schedule/resume", &resume);
            if (400..500).contains(&r.status) {
                return 0;
            }
            std::thread::sleep(Duration::from_millis(100));
            let r = request(a.http, "POST", "/publish?topic=wrap", b"once");
            if (400..500).contains(&r.status) {
                return 0;
            }
            let mut s = if websocket {
                ws_open(a.http, "wrap&after=0")
            } else {
                let head = b"GET /sse?topic=wrap&after=0 HTTP/1.1\r\nhost: x\r\n\r\n";
                non_readers(a.http, head, 1).remove(0)
            };
            read_all(&mut s, Duration::from_secs(1)).len()
        },
    );
    assert!(got < 4096, "{got} bytes for at most two events: duplicates");
    canary.finish();
}

#[test]
fn seq_wrap_lean_sse_is_refused_or_bounded() {
    seq_wrap("lean", false);
}

#[test]
fn seq_wrap_hyper_sse_is_refused_or_bounded() {
    seq_wrap("hyper", false);
}

#[test]
fn seq_wrap_websocket_is_refused_or_bounded() {
    seq_wrap("lean", true);
}

/// Fills topic `big` with the backlog, then opens `conns` connections sending `head` from
/// `after=0` that never read, and holds them 1.5 s under a 1 MiB-per-connection bound.
fn slow_consumers(extra: &[&str], conns: usize, head: &'static [u8], tcp: bool) {
    let mut server = Server::start(extra);
    schedule(&server, "big", 10_000.0, BIG_PAYLOAD, BACKLOG_EVENTS);
    wait_published(&server, "big", BACKLOG_EVENTS);
    let canary = Canary::start(&server);
    server.under_attack(
        Bound::per_connection(conns as u64, MIB, 4 * MIB),
        Duration::from_secs(10),
        move |a| {
            let held = non_readers(if tcp { a.tcp } else { a.http }, head, conns);
            std::thread::sleep(Duration::from_millis(1_500));
            drop(held);
        },
    );
    canary.finish();
}

#[test]
fn slow_sse_subscribers_hold_at_most_1_mib_each_lean() {
    let head = b"GET /sse?topic=big&after=0 HTTP/1.1\r\nhost: x\r\n\r\n";
    slow_consumers(&["--http-engine", "lean"], 8, head, false);
}

#[test]
fn slow_sse_subscribers_hold_at_most_1_mib_each_hyper() {
    let head = b"GET /sse?topic=big&after=0 HTTP/1.1\r\nhost: x\r\n\r\n";
    slow_consumers(&["--http-engine", "hyper"], 8, head, false);
}

#[test]
fn slow_websocket_subscribers_hold_at_most_1_mib_each() {
    let head = b"GET /ws?topic=big&after=0 HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\n\
        connection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        sec-websocket-version: 13\r\n\r\n";
    slow_consumers(&[], 8, head, false);
}

#[test]
fn slow_longpoll_consumers_hold_at_most_1_mib_each() {
    let head = b"GET /longpoll?topic=big&after=0 HTTP/1.1\r\nhost: x\r\n\r\n";
    slow_consumers(&[], 8, head, false);
}

#[test]
fn slow_tcp_consumers_hold_at_most_1_mib_each() {
    slow_consumers(&[], 8, b"\0\0\0\x09SUB big 0", true);
}

#[test]
fn ring_is_bounded_by_bytes_and_readers_see_the_gap() {
    let mut server = Server::start(&["--ring-bytes", "4194304"]);
    let base = server.usage();
    schedule(&server, "big", 10_000.0, BIG_PAYLOAD, BACKLOG_EVENTS);
    wait_published(&server, "big", BACKLOG_EVENTS);
    let bound = Bound::per_connection(0, 0, 4 * MIB + 4 * MIB);
    server.watch(base, bound, Duration::from_millis(100));
    let r = get(server.http, "/poll?topic=big&after=0");
    assert_eq!(r.status, 200);
    assert!(!contains(&r.body, b"\"dropped\":0,"), "no gap reported");
}

#[test]
fn escaping_cannot_grow_an_event_past_the_frame_limit() {
    let mut server = Server::start(&[]);
    let canary = Canary::start(&server);
    let (status, event_bytes) = server.under_attack(
        Bound::per_connection(1, MIB, 4 * MIB),
        Duration::from_secs(10),
        |a| {
            let r = request(a.http, "POST", "/publish?topic=esc", &[0x01; 65_536]);
            let poll = get(a.http, "/poll?topic=esc&after=0");
            (r.status, poll.body.len())
        },
    );
    if status == 200 {
        assert!(
            event_bytes <= MAX_FRAME_BYTES + 64,
            "stored as {event_bytes} bytes"
        );
    } else {
        assert!((400..500).contains(&status), "{status}");
    }
    canary.finish();
}

#[test]
fn pings_from_a_non_reader_do_not_queue_pongs_without_bound() {
    let mut server = Server::start(&[]);
    let canary = Canary::start(&server);
    server.under_attack(
        Bound::per_connection(1, MIB, 4 * MIB),
        Duration::from_secs(20),
        |a| {
            let mut s = ws_open(a.http, "pings");
            let ping = ws_frame(0x9, &[b'p'; 125], Some([9, 8, 7, 6]));
            let batch: Vec<u8> = ping
                .iter()
                .copied()
                .cycle()
                .take(ping.len() * 1_000)
                .collect();
            for _ in 0..200 {
                // A write that times out or fails means the server pushed back or closed: fine.
                if s.write_all(&batch).is_err() {
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(500));
        },
    );
    canary.finish();
}
