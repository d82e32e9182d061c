//! The bytes of one delivery, per transport: what the server appends to a connection's output for
//! a batch of hub events (and the gap notice before it when some left the ring).
//!
//! The server's own endpoints call these functions — the raw-TCP loop, the WebSocket sender, the
//! lean HTTP path's SSE stream and poll answers — and so do the instruction benchmarks
//! (`crates/instr-bench`), which is why they are public: a benchmark of a copy would miss a
//! regression in the original. Nothing here reads a clock: the `date` of an HTTP answer is passed
//! in (the server formats it once a second), so the output is deterministic.
//!
//! The bytes themselves are `rtbench_proto`'s (frames, event bodies, SSE blocks, poll bodies);
//! this module adds the HTTP/1.1 pieces the lean path writes by hand — response heads and chunked
//! framing, byte for byte what hyper writes for the same responses (same fields, same order,
//! upper-case chunk sizes), so the wire cost of a transport does not depend on which engine served
//! it. Hyper does its own heads and chunking for the connections it serves.

use crate::hub::Event;
use bytes::{Bytes, BytesMut};
use rtbench_proto::{event, frame, poll, sse};
use std::io::Write;
use std::str::Utf8Error;

/// `Content-Type` of poll and long-poll answers.
pub const JSON: &str = "application/json";

/// Raw TCP: appends the length-prefixed frames of one batch — a gap notice first if `dropped` —
/// to `out`.
pub fn tcp(out: &mut BytesMut, dropped: u64, events: &[Event]) {
    if dropped > 0 {
        frame::encode_frame(&event::encode_gap(dropped), out);
    }
    for event in events {
        frame::encode_frame(&event.body, out);
    }
}

/// WebSocket: the payload of the TEXT message that carries `event` — exactly its canonical body.
/// `T` is the WebSocket library's text type (axum's or tungstenite's `Utf8Bytes`).
pub fn websocket_event<T: TryFrom<Bytes, Error = Utf8Error>>(event: &Event) -> T {
    // Canonical bodies are JSON text, always UTF-8; checking it is a linear scan.
    T::try_from(event.body.clone()).expect("bodies are UTF-8")
}

/// WebSocket: the payload of the TEXT gap notice `{"dropped":N}`.
pub fn websocket_gap<T: TryFrom<Bytes, Error = Utf8Error>>(dropped: u64) -> T {
    T::try_from(event::encode_gap(dropped)).expect("ASCII")
}

/// SSE on the lean path: appends the blocks of one batch — a gap block first if `dropped`, then
/// one block per event — each as one HTTP/1.1 chunk, to `out`.
pub fn sse(out: &mut Vec<u8>, dropped: u64, events: &[Event]) {
    if dropped > 0 {
        chunk(out, &sse::encode_gap(dropped));
    }
    for event in events {
        chunk(out, &sse::encode_event(event.seq, &event.body));
    }
}

/// Short and long polling on the lean path: appends the whole `200 OK` answer of one batch — head
/// (dated `date`, an IMF-fixdate) and JSON body — to `out`.
pub fn poll_answer(out: &mut Vec<u8>, dropped: u64, events: &[Event], date: &[u8]) {
    let body = poll::encode_poll_response(dropped, events.iter().map(|e| &e.body[..]));
    out.reserve(128 + body.len());
    json_head(out, body.len(), date);
    out.extend_from_slice(&body);
}

/// Appends the head of a `200 OK` JSON answer whose body is `len` bytes, dated `date`.
pub fn json_head(out: &mut Vec<u8>, len: usize, date: &[u8]) {
    let _ = write!(
        out,
        "HTTP/1.1 200 OK\r\ncontent-type: {JSON}\r\ncontent-length: {len}\r\n"
    );
    date_and_end(out, date);
}

/// Appends `data` as one chunk: its size in hex, CRLF, the data, CRLF (RFC 9112 §7.1).
pub fn chunk(out: &mut Vec<u8>, data: &[u8]) {
    let _ = write!(out, "{:X}\r\n", data.len());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Appends the `date` field (an IMF-fixdate, RFC 9110 §5.6.7) and the empty line ending the head.
pub(crate) fn date_and_end(out: &mut Vec<u8>, date: &[u8]) {
    out.extend_from_slice(b"date: ");
    out.extend_from_slice(date);
    out.extend_from_slice(b"\r\n\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::Hub;

    const DATE: &[u8] = b"Sun, 06 Nov 1994 08:49:37 GMT";

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    /// Two events, with payloads `a` and `bb`.
    fn batch() -> Vec<Event> {
        let hub = Hub::new(16, 1);
        let topic = hub.topic("t").unwrap();
        topic.publish(5, "a").unwrap();
        topic.publish(6, "bb").unwrap();
        let mut events = Vec::new();
        topic.read_after_into(0, 16, &mut events);
        events
    }

    #[test]
    fn json_head_is_hypers() {
        assert_eq!(
            text(|o| json_head(o, 25, DATE)),
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 25\r\n\
             date: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n"
        );
    }

    #[test]
    fn chunks_carry_their_size_in_upper_case_hex() {
        assert_eq!(
            text(|o| chunk(o, b"retry: 1000\n\n")),
            "D\r\nretry: 1000\n\n\r\n"
        );
        let data = vec![b'x'; 190];
        assert!(text(|o| chunk(o, &data)).starts_with("BE\r\nxx"));
    }

    #[test]
    fn a_poll_answer_is_its_head_then_the_body() {
        let events = batch();
        let body = poll::encode_poll_response(3, events.iter().map(|e| &e.body[..]));
        let mut want = Vec::new();
        json_head(&mut want, body.len(), DATE);
        want.extend_from_slice(&body);
        assert_eq!(text(|o| poll_answer(o, 3, &events, DATE)).as_bytes(), want);
        assert!(text(|o| poll_answer(o, 0, &[], DATE)).ends_with("{\"dropped\":0,\"events\":[]}"));
    }

    #[test]
    fn sse_is_one_chunk_per_block_gap_first() {
        let events = batch();
        let block = |e: &Event| {
            let body = std::str::from_utf8(&e.body).unwrap();
            format!("id: {}\ndata: {body}\n\n", e.seq)
        };
        let mut want = Vec::new();
        chunk(&mut want, b"event: gap\ndata: {\"dropped\":3}\n\n");
        chunk(&mut want, block(&events[0]).as_bytes());
        chunk(&mut want, block(&events[1]).as_bytes());
        assert_eq!(text(|o| sse(o, 3, &events)).as_bytes(), want);
        let mut one = Vec::new();
        chunk(&mut one, block(&events[1]).as_bytes());
        assert_eq!(text(|o| sse(o, 0, &events[1..])).as_bytes(), one);
    }

    #[test]
    fn tcp_is_one_frame_per_event_gap_first() {
        let events = batch();
        let mut out = BytesMut::new();
        tcp(&mut out, 3, &events);
        let mut frames = Vec::new();
        while let Some(f) = frame::decode_frame(&mut out).unwrap() {
            frames.push(f.freeze());
        }
        assert_eq!(
            frames,
            [
                event::encode_gap(3),
                events[0].body.clone(),
                events[1].body.clone()
            ]
        );
        tcp(&mut out, 0, &[]);
        assert!(out.is_empty());
    }

    #[test]
    fn websocket_texts_are_the_bodies_and_the_gap_notice() {
        use tokio_tungstenite::tungstenite::Utf8Bytes;
        let events = batch();
        let text: Utf8Bytes = websocket_event(&events[0]);
        assert_eq!(text.as_bytes(), &events[0].body[..]);
        let gap: Utf8Bytes = websocket_gap(3);
        assert_eq!(gap.as_str(), "{\"dropped\":3}");
    }
}
