//! Instruction counts of the load generator's per-delivery path, per transport: the bytes the
//! server sent for 10 events are read, parsed, sequence-checked and their latency recorded at
//! arrival into the phase's sharded latency sink, both by the real [`Recorder`] (gungraun on
//! callgrind; `scripts/instr-gate.sh` gates them). Setup (encoding the server's bytes, the recorder, the histogram, and one event received
//! before the measured ten so buffers are warm, as in a running client) is not counted.
//! Benchmark ids end in `_<deliveries>`: the gate divides by it for "per delivery".
//!
//! The code measured is the real code through public APIs: `rtbench_proto`'s frame, event and poll
//! parsers, the load generator's [`SseParser`] and [`Recorder`], tungstenite's WebSocket reader
//! (what tokio-tungstenite runs), the load generator's `LatencySink` (shard lock and histograms). The client's own glue (the private
//! `record_message`, four lines) is restated; HTTP response parsing by hyper is not included.
// gungraun's macros generate public items without docs.
#![allow(missing_docs)]

use bytes::BytesMut;
use gungraun::{library_benchmark, library_benchmark_group, main};
use rtbench_loadgen::clients::SseParser;
use rtbench_loadgen::latency_sink::LatencySink;
use rtbench_loadgen::recorder::Recorder;
use rtbench_proto::event::{Message as Pushed, parse_message};
use rtbench_proto::{encode_body, frame, make_payload, poll, sse};
use std::sync::Arc;

use std::hint::black_box;
use std::io::Cursor;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocket};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// Events (deliveries) per benchmark.
const EVENTS: usize = 10;
/// Payload bytes per event (the CI profile's `--payload 128`).
const PAYLOAD_BYTES: usize = 128;
/// `t_pub_ns` of the first event; each next one is 20 ms later.
const T0_NS: u64 = 1_234_567_890_123;
/// A fixed receipt time, so every latency is the same figure in every run.
const NOW_NS: u64 = T0_NS + 10_000_000_000;

/// The canonical bodies of events 1..=`events`.
fn bodies(events: usize) -> Vec<bytes::Bytes> {
    (1..=events as u64)
        .map(|seq| {
            encode_body(
                seq,
                T0_NS + seq * 20_000_000,
                &make_payload(seq, PAYLOAD_BYTES),
            )
        })
        .collect()
}

/// A client's bookkeeping: its recorder, which records each first receipt's latency into the
/// phase's sharded sink as the load generator's clients do (the window covers every event).
struct Client {
    rec: Recorder,
}

fn client() -> Client {
    let sink = Arc::new(LatencySink::new());
    sink.set_window(0, u64::MAX);
    Client {
        rec: Recorder::recording_to(1, sink),
    }
}

impl Client {
    /// Records one pushed message (the client's `record_message`), then its latency.
    fn record(&mut self, body: &[u8]) {
        match parse_message(body).expect("valid body") {
            Pushed::Event(ev) => {
                self.rec.on_event_body(&ev, NOW_NS);
            }
            Pushed::Gap { dropped } => self.rec.on_gap(dropped),
        }
    }
}

/// A client that already received event 1 (warm), and the bodies of events 2..=`events` + 1.
fn warm(events: usize) -> (Vec<bytes::Bytes>, Client) {
    let mut all = bodies(events + 1);
    let mut c = client();
    c.record(&all.remove(0));
    (all, c)
}

fn tcp_wire(events: usize) -> (BytesMut, Client) {
    let (bodies, c) = warm(events);
    let mut wire = BytesMut::new();
    for body in bodies {
        frame::encode_frame(&body, &mut wire);
    }
    (wire, c)
}

// Raw TCP client: length-prefixed frames off the read buffer, each parsed and recorded.
#[library_benchmark]
#[bench::messages_10(args = (EVENTS), setup = tcp_wire)]
fn loadgen_tcp((mut buf, mut c): (BytesMut, Client)) -> Client {
    while let Some(body) = frame::decode_frame(&mut buf).expect("valid frame") {
        c.record(&body);
    }
    c
}

fn ws_wire(events: usize) -> (WebSocket<Cursor<Vec<u8>>>, Client) {
    let mut server = WebSocket::from_raw_socket(Cursor::new(Vec::new()), Role::Server, None);
    for body in bodies(events + 1) {
        let text = Utf8Bytes::try_from(body).expect("UTF-8");
        server.write(Message::Text(text)).expect("in memory");
    }
    server.flush().expect("in memory");
    let wire = server.into_inner().into_inner();
    let mut ws = WebSocket::from_raw_socket(Cursor::new(wire), Role::Client, None);
    let mut c = client();
    match ws.read().expect("event 1") {
        Message::Text(text) => c.record(text.as_bytes()),
        other => panic!("unexpected {other:?}"),
    }
    (ws, c)
}

// WebSocket client: tungstenite reads each TEXT message, which is parsed and recorded.
#[library_benchmark]
#[bench::messages_10(args = (EVENTS), setup = ws_wire)]
fn loadgen_websocket((mut ws, mut c): (WebSocket<Cursor<Vec<u8>>>, Client)) -> Client {
    for _ in 0..EVENTS {
        match ws.read().expect("a message") {
            Message::Text(text) => c.record(text.as_bytes()),
            other => panic!("unexpected {other:?}"),
        }
    }
    c
}

fn sse_wire(events: usize) -> (Vec<u8>, Client) {
    let (bodies, c) = warm(events);
    let mut wire = Vec::new();
    for (seq, body) in (2..).zip(bodies) {
        wire.extend_from_slice(&sse::encode_event(seq, &body));
    }
    (wire, c)
}

// SSE client: the stream's bytes through [`SseParser`], each block's data parsed and recorded.
#[library_benchmark]
#[bench::messages_10(args = (EVENTS), setup = sse_wire)]
fn loadgen_sse((wire, mut c): (Vec<u8>, Client)) -> Client {
    let mut parser = SseParser::default();
    parser.push(&wire);
    while let Some(block) = parser.next_block() {
        c.record(&block.data);
        black_box(block.id);
    }
    c
}

fn poll_wire(events: usize) -> (Vec<u8>, Client) {
    let (bodies, c) = warm(events);
    let wire = poll::encode_poll_response(0, bodies.iter().map(|b| &b[..]));
    (wire, c)
}

// Long- and short-poll client: one response of 10 events parsed, each recorded.
#[library_benchmark]
#[bench::messages_10(args = (EVENTS), setup = poll_wire)]
fn loadgen_poll((wire, mut c): (Vec<u8>, Client)) -> Client {
    let batch = poll::parse_poll_response(&wire).expect("valid response");
    for ev in &batch.events {
        c.rec.on_event_body(ev, NOW_NS);
    }
    c
}

library_benchmark_group!(
    name = loadgen_delivery;
    benchmarks = loadgen_tcp, loadgen_websocket, loadgen_sse, loadgen_poll
);

main!(library_benchmark_groups = loadgen_delivery);
