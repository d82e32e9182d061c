//! Instruction counts of the server's per-delivery path, per transport, at a fan-out of 1 and 100,
//! and of the publish path (gungraun on Valgrind's callgrind; `scripts/instr-gate.sh` gates them).
//!
//! Each benchmark is one wake-up of every subscriber of a topic that holds one new event: the hub
//! read ([`Topic::read_after_into`] or [`Hub::read_after`]), the transport's framing, and the write
//! of the framed bytes into an in-memory sink — for the raw-TCP floor, one round of its topic's
//! fan-out instead: one read and framing for all ([`FloorBatch::fill`]) and one write each (the kernel's copy is not user-space work and is not
//! counted by callgrind anyway). Setup (hub, topic, the published event, warmed buffers) is not
//! counted. Benchmark ids end in `_<deliveries>`: the gate divides by it for "per delivery".
//!
//! The code measured is the real code, called through public APIs: the hub, and each transport's
//! framing of one delivery in `rtbench_server::framing` (the floor's in
//! `rtbench_server::floor_batch`) — the very functions the server's
//! endpoints call (raw-TCP frames, WebSocket texts, the lean path's SSE chunks and poll answers) —
//! then tungstenite's WebSocket writer with the server's buffer settings. What is restated here is
//! only the thin per-connection loop around them (clear, read after the cursor, frame, advance the
//! cursor, write), with the buffers kept or taken as the server keeps or takes them; the date of a
//! poll answer is fixed (the server formats it once a second). Not included: the request parsing
//! of the polled transports and the per-connection delivery counter (both server-private).
// gungraun's macros generate public items without docs.
#![allow(missing_docs)]

use gungraun::{library_benchmark, library_benchmark_group, main};
use rtbench_proto::limits::{DEFAULT_RING_CAPACITY, MAX_EVENTS_PER_RESPONSE};
use rtbench_proto::{ServerSettings, make_payload};
use rtbench_server::floor_batch::FloorBatch;
use rtbench_server::framing;
use rtbench_server::hub::{Event, Hub, STREAM_WRITE_BYTES, Topic};
use std::hint::black_box;
use std::io::{Read, Write};
use std::sync::Arc;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocket, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// The topic every benchmark uses.
const TOPIC: &str = "room-1";
/// Payload bytes of the benchmarked event (the CI profile's `--payload 128`).
const PAYLOAD_BYTES: usize = 128;
/// A fixed `t_pub_ns`, so the body's length never varies.
const T_PUB_NS: u64 = 1_234_567_890_123;
/// The `date` field of a poll answer (fixed: the server formats it once a second, not per answer).
const DATE: &[u8] = b"Sun, 06 Nov 1994 08:49:37 GMT";
/// Events published in the publish benchmark.
const PUBLISHED: usize = 10;

/// A socket stand-in: takes every byte written, never has anything to read.
#[derive(Debug, Default)]
struct Sink;

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(black_box(buf).len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Read for Sink {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(std::io::ErrorKind::WouldBlock.into())
    }
}

/// One subscriber's connection state, as the server keeps it between wake-ups.
struct Conn {
    cursor: u64,
    batch: Vec<Event>,
    ws: Option<WebSocket<Sink>>,
}

/// A hub whose topic holds one new event, and `fanout` subscribers that have not read it.
struct Fixture {
    hub: Hub,
    topic: Arc<Topic>,
    conns: Vec<Conn>,
    sink: Sink,
    /// The raw-TCP fan-out's batch, kept between rounds as the server keeps it.
    floor: FloorBatch,
}

fn fixture(fanout: usize, websocket: bool) -> Fixture {
    let hub = Hub::new(DEFAULT_RING_CAPACITY, 16);
    let topic = hub.topic(TOPIC).expect("valid topic");
    topic
        .publish(T_PUB_NS, &make_payload(1, PAYLOAD_BYTES))
        .expect("a fresh topic accepts an event");
    let settings = ServerSettings::default();
    let config = WebSocketConfig::default()
        .read_buffer_size(settings.ws_read_buffer_bytes)
        .write_buffer_size(settings.ws_write_buffer_bytes);
    // Warmed as the server's is after its first round: the same fill, buffers kept.
    let mut floor = FloorBatch::new();
    floor.fill(&topic, 0, STREAM_WRITE_BYTES);
    let conns = (0..fanout)
        .map(|_| Conn {
            cursor: 0,
            batch: Vec::with_capacity(64),
            ws: websocket.then(|| WebSocket::from_raw_socket(Sink, Role::Server, Some(config))),
        })
        .collect();
    Fixture {
        hub,
        topic,
        conns,
        sink: Sink,
        floor,
    }
}

fn plain(fanout: usize) -> Fixture {
    fixture(fanout, false)
}

fn websocket(fanout: usize) -> Fixture {
    fixture(fanout, true)
}

// Raw TCP (`tcp_fanout.rs` `write_round`): the topic's fan-out reads the new event and frames it
// once ([`FloorBatch::fill`]), then writes every caught-up subscriber the frames after its cursor
// ([`FloorBatch::frames_after`]), one write each.
#[library_benchmark]
#[bench::fanout_1(args = (1), setup = plain)]
#[bench::fanout_100(args = (100), setup = plain)]
fn server_tcp(mut f: Fixture) -> Fixture {
    let after = f.conns.first().map_or(0, |c| c.cursor);
    f.floor.fill(&f.topic, after, STREAM_WRITE_BYTES);
    let last = f.floor.last_seq();
    for c in &mut f.conns {
        if let Some((frames, events)) = f.floor.frames_after(c.cursor)
            && events > 0
        {
            f.sink.write_all(frames).expect("sink");
            c.cursor = last;
        }
    }
    f
}

// WebSocket (`ws.rs` `send_new_events`): one TEXT message per event through tungstenite, flushed.
#[library_benchmark]
#[bench::fanout_1(args = (1), setup = websocket)]
#[bench::fanout_100(args = (100), setup = websocket)]
fn server_websocket(mut f: Fixture) -> Fixture {
    for c in &mut f.conns {
        c.batch.clear();
        let dropped = f
            .topic
            .read_after_into(c.cursor, MAX_EVENTS_PER_RESPONSE, &mut c.batch);
        let ws = c.ws.as_mut().expect("websocket fixture");
        if dropped > 0 {
            let gap: Utf8Bytes = framing::websocket_gap(dropped);
            ws.write(Message::Text(gap)).expect("sink");
        }
        for e in &c.batch {
            let text: Utf8Bytes = framing::websocket_event(e);
            ws.write(Message::Text(text)).expect("sink");
            c.cursor = e.seq;
        }
        ws.flush().expect("sink");
    }
    f
}

// SSE on the lean path (`sse.rs` `Feed::ready_chunks` + `serve_lean`): one chunk per event block,
// into a buffer taken for the write (a waiting stream holds none).
#[library_benchmark]
#[bench::fanout_1(args = (1), setup = plain)]
#[bench::fanout_100(args = (100), setup = plain)]
fn server_sse(mut f: Fixture) -> Fixture {
    for c in &mut f.conns {
        c.batch.clear();
        let dropped = f
            .topic
            .read_after_into(c.cursor, MAX_EVENTS_PER_RESPONSE, &mut c.batch);
        let mut out = Vec::new();
        framing::sse(&mut out, dropped, &c.batch);
        c.cursor = c.batch.last().map_or(c.cursor, |e| e.seq);
        f.sink.write_all(&out).expect("sink");
    }
    f
}

/// The answer of a poll or long poll (`poll.rs` `write_lean`): head and JSON body, one write.
fn answer(sink: &mut Sink, dropped: u64, events: &[Event]) {
    let mut out = Vec::new();
    framing::poll_answer(&mut out, dropped, events, DATE);
    sink.write_all(&out).expect("sink");
}

// Long polling (`longpoll.rs` `Hold`): topic lookup and watch subscription per request, the read,
// the answer.
#[library_benchmark]
#[bench::fanout_1(args = (1), setup = plain)]
#[bench::fanout_100(args = (100), setup = plain)]
fn server_long_poll(mut f: Fixture) -> Fixture {
    for c in &mut f.conns {
        let topic = f.hub.topic(TOPIC).expect("valid topic");
        let published = topic.subscribe();
        let mut events = Vec::new();
        let dropped = topic.read_after_into(c.cursor, MAX_EVENTS_PER_RESPONSE, &mut events);
        drop(published);
        answer(&mut f.sink, dropped, &events);
        c.cursor = events.last().map_or(c.cursor, |e| e.seq);
    }
    f
}

// Short polling (`poll.rs` `answer`): the hub read by topic name, the answer.
#[library_benchmark]
#[bench::fanout_1(args = (1), setup = plain)]
#[bench::fanout_100(args = (100), setup = plain)]
fn server_short_poll(mut f: Fixture) -> Fixture {
    for c in &mut f.conns {
        let (dropped, events) = f.hub.read_after(TOPIC, c.cursor, MAX_EVENTS_PER_RESPONSE);
        answer(&mut f.sink, dropped, &events);
        c.cursor = events.last().map_or(c.cursor, |e| e.seq);
    }
    f
}

/// A hub with its topic created and the payloads of [`PUBLISHED`] events made.
fn publisher(events: usize) -> (Hub, Vec<String>) {
    let hub = Hub::new(DEFAULT_RING_CAPACITY, 16);
    hub.topic(TOPIC).expect("valid topic");
    let payloads = (1..=events as u64)
        .map(|seq| make_payload(seq, PAYLOAD_BYTES))
        .collect();
    (hub, payloads)
}

// The publish path (`publish.rs`): topic lookup, body encoding once, ring append, wake-up.
#[library_benchmark]
#[bench::events_10(args = (PUBLISHED), setup = publisher)]
fn server_publish((hub, payloads): (Hub, Vec<String>)) -> Hub {
    for (i, payload) in payloads.iter().enumerate() {
        black_box(
            hub.publish(TOPIC, T_PUB_NS + i as u64, payload)
                .expect("valid topic"),
        );
    }
    hub
}

library_benchmark_group!(
    name = server_delivery;
    benchmarks = server_tcp, server_websocket, server_sse, server_long_poll, server_short_poll,
        server_publish
);

main!(library_benchmark_groups = server_delivery);
