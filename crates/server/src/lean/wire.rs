//! The bytes the lean path writes besides one delivery's (those are [`crate::framing`]'s): the
//! SSE stream's head and last chunk, and the `date` of every head, byte for byte what hyper writes
//! for the same responses (same fields, same order), so the wire cost of a transport does not
//! depend on which of the two served it.

use std::cell::RefCell;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) use crate::framing::JSON;
/// `Content-Type` of an SSE stream.
pub(crate) const EVENT_STREAM: &str = "text/event-stream";
/// `Cache-Control` of an SSE stream.
pub(crate) const NO_CACHE: &str = "no-cache";
/// The last chunk of a chunked body, with no trailers (RFC 9112 §7.1).
pub(crate) const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// Appends the head of a `200 OK` SSE stream (chunked; it has no length).
pub(crate) fn event_stream_head(out: &mut Vec<u8>) {
    let _ = write!(
        out,
        "HTTP/1.1 200 OK\r\ncontent-type: {EVENT_STREAM}\r\ncache-control: {NO_CACHE}\r\n\
         transfer-encoding: chunked\r\n"
    );
    date_and_end(out);
}

/// The whole `101` accepting a WebSocket handshake whose key gives `accept`: axum's fields in
/// its order, then hyper's `date`.
pub(crate) fn switching_protocols(accept: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(160);
    let _ = write!(
        out,
        "HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\
         sec-websocket-accept: {accept}\r\n"
    );
    date_and_end(&mut out);
    out
}

/// The whole answer to a head over `max_head_bytes`: 431 with a JSON error, connection closed.
pub(crate) fn head_too_large(max_head_bytes: usize) -> Vec<u8> {
    let body = format!(
        "{{\"error\":\"request head exceeds the {max_head_bytes}-byte limit (--max-head-bytes)\"}}"
    );
    format!(
        "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: {JSON}\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Appends the current `date` field and the empty line ending the head.
fn date_and_end(out: &mut Vec<u8>) {
    with_date(|date| crate::framing::date_and_end(out, date));
}

thread_local! {
    /// The current second and its IMF-fixdate, formatted once per second per thread (as hyper does).
    static DATE: RefCell<(u64, Vec<u8>)> = const { RefCell::new((u64::MAX, Vec::new())) };
}

/// Calls `f` with the current second's IMF-fixdate (RFC 9110 §5.6.7).
pub(crate) fn with_date<R>(f: impl FnOnce(&[u8]) -> R) -> R {
    let now = SystemTime::now();
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    DATE.with_borrow_mut(|(cached, text)| {
        if *cached != second {
            *cached = second;
            *text = httpdate::fmt_http_date(now).into_bytes();
        }
        f(text)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framing::json_head;

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    /// The head with its date (29 bytes, `Sun, 06 Nov 1994 08:49:37 GMT`) replaced by `<date>`.
    fn undated(head: &str) -> String {
        let at = head.find("date: ").unwrap() + 6;
        let date = &head[at..at + 29];
        assert!(
            date.ends_with(" GMT") && date.as_bytes()[3] == b',',
            "{date}"
        );
        httpdate::parse_http_date(date).unwrap();
        format!("{}<date>{}", &head[..at], &head[at + 29..])
    }

    #[test]
    fn heads_are_hypers() {
        assert_eq!(
            undated(&text(|o| with_date(|date| json_head(o, 25, date)))),
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 25\r\n\
             date: <date>\r\n\r\n"
        );
        assert_eq!(
            undated(&text(event_stream_head)),
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n\
             transfer-encoding: chunked\r\ndate: <date>\r\n\r\n"
        );
    }

    #[test]
    fn the_switching_protocols_head_is_axums_on_hyper() {
        let head = String::from_utf8(switching_protocols("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")).unwrap();
        assert_eq!(
            undated(&head),
            "HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\
             sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\ndate: <date>\r\n\r\n"
        );
    }

    #[test]
    fn the_last_chunk_is_empty() {
        assert_eq!(LAST_CHUNK, b"0\r\n\r\n");
    }
}
