//! Encode and parse of one event in each transport's framing. Every transport carries the same
//! canonical body; what differs, and what is measured here, is the framing around it: a 4-byte
//! length prefix (raw TCP), an RFC 6455 text frame (WebSocket), an `id:`/`data:` block (SSE), a
//! JSON array (short and long polling share one response shape).

use super::{PAYLOAD_BYTES, quick};
use bytes::{Bytes, BytesMut};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group};
use rtbench_loadgen::clients::SseParser;
use rtbench_proto::event::{Message, parse_message};
use rtbench_proto::{encode_body, frame, make_payload, poll, sse};
use std::hint::black_box;
use std::io::Cursor;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{Frame, FrameHeader};

const SEQ: u64 = 123_456;
const T_PUB_NS: u64 = 987_654_321_000;

fn body() -> Bytes {
    encode_body(SEQ, T_PUB_NS, &make_payload(SEQ, PAYLOAD_BYTES))
}

/// The sequence number of a parsed push message (0 for a gap notice).
fn seq_of(body: &[u8]) -> u64 {
    match parse_message(body).expect("valid body") {
        Message::Event(e) => e.seq,
        Message::Gap { .. } => 0,
    }
}

/// One WebSocket text frame as the server sends it (unmasked).
fn ws_frame(body: &Bytes, out: &mut Vec<u8>) {
    Frame::message(body.clone(), OpCode::Data(Data::Text), true)
        .format(out)
        .expect("writing to a Vec cannot fail");
}

fn encode(c: &mut Criterion) {
    let body = body();
    let mut g = c.benchmark_group("encode");
    g.throughput(Throughput::Elements(1));
    g.bench_function("body", |b| {
        let payload = make_payload(SEQ, PAYLOAD_BYTES);
        b.iter(|| encode_body(black_box(SEQ), black_box(T_PUB_NS), black_box(&payload)))
    });
    g.bench_function(BenchmarkId::new("frame", "tcp"), |b| {
        let mut out = BytesMut::with_capacity(512);
        b.iter(|| {
            out.clear();
            frame::encode_frame(black_box(&body), &mut out);
        })
    });
    g.bench_function(BenchmarkId::new("frame", "websocket"), |b| {
        let mut out = Vec::with_capacity(512);
        b.iter(|| {
            out.clear();
            ws_frame(black_box(&body), &mut out);
        })
    });
    g.bench_function(BenchmarkId::new("frame", "sse"), |b| {
        b.iter(|| sse::encode_event(black_box(SEQ), black_box(&body)))
    });
    g.bench_function(BenchmarkId::new("frame", "poll"), |b| {
        b.iter(|| poll::encode_poll_response(0, [black_box(&body[..])]))
    });
    g.finish();
}

fn parse(c: &mut Criterion) {
    let body = body();
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(1));
    g.bench_function("body", |b| b.iter(|| seq_of(black_box(&body))));

    let mut wire = BytesMut::new();
    frame::encode_frame(&body, &mut wire);
    g.bench_function(BenchmarkId::new("frame", "tcp"), |b| {
        // The copy of the wire bytes is made outside the timed part.
        b.iter_batched(
            || wire.clone(),
            |mut buf| {
                let frame = frame::decode_frame(&mut buf)
                    .expect("valid")
                    .expect("whole");
                seq_of(&frame)
            },
            BatchSize::SmallInput,
        )
    });

    let mut wire = Vec::new();
    ws_frame(&body, &mut wire);
    g.bench_function(BenchmarkId::new("frame", "websocket"), |b| {
        b.iter(|| {
            let mut cursor = Cursor::new(black_box(&wire[..]));
            let (header, len) = FrameHeader::parse(&mut cursor)
                .expect("valid")
                .expect("whole");
            assert!(header.is_final && header.mask.is_none());
            let start = cursor.position() as usize;
            let payload = &wire[start..start + len as usize];
            let text = std::str::from_utf8(payload).expect("text frames are UTF-8");
            seq_of(text.as_bytes())
        })
    });

    let block = sse::encode_event(SEQ, &body);
    g.bench_function(BenchmarkId::new("frame", "sse"), |b| {
        let mut parser = SseParser::default();
        b.iter(|| {
            parser.push(black_box(&block));
            let block = parser.next_block().expect("one whole block");
            seq_of(&block.data)
        })
    });

    let response = poll::encode_poll_response(0, [&body[..]]);
    g.bench_function(BenchmarkId::new("frame", "poll"), |b| {
        b.iter(|| {
            let batch = poll::parse_poll_response(black_box(&response)).expect("valid");
            batch.events[0].seq
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = quick();
    targets = encode, parse
}
