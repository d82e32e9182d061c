//! The bytes the lean path writes: response heads and chunked framing, byte for byte what hyper
//! writes for the same responses (same fields, same order, upper-case chunk sizes), so the wire
//! cost of a transport does not depend on which of the two served it.

use std::cell::RefCell;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// `Content-Type` of poll and long-poll answers.
pub(crate) const JSON: &str = "application/json";
/// `Content-Type` of an SSE stream.
pub(crate) const EVENT_STREAM: &str = "text/event-stream";
/// `Cache-Control` of an SSE stream.
pub(crate) const NO_CACHE: &str = "no-cache";
/// The last chunk of a chunked body, with no trailers (RFC 9112 §7.1).
pub(crate) const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// Appends the head of a `200 OK` JSON answer whose body is `len` bytes.
pub(crate) fn json_head(out: &mut Vec<u8>, len: usize) {
    let _ = write!(
        out,
        "HTTP/1.1 200 OK\r\ncontent-type: {JSON}\r\ncontent-length: {len}\r\n"
    );
    date_and_end(out);
}

/// Appends the head of a `200 OK` SSE stream (chunked; it has no length).
pub(crate) fn event_stream_head(out: &mut Vec<u8>) {
    let _ = write!(
        out,
        "HTTP/1.1 200 OK\r\ncontent-type: {EVENT_STREAM}\r\ncache-control: {NO_CACHE}\r\n\
         transfer-encoding: chunked\r\n"
    );
    date_and_end(out);
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

/// Appends `data` as one chunk: its size in hex, CRLF, the data, CRLF (RFC 9112 §7.1).
pub(crate) fn chunk(out: &mut Vec<u8>, data: &[u8]) {
    let _ = write!(out, "{:X}\r\n", data.len());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Appends the `date` field (an IMF-fixdate, RFC 9110 §5.6.7) and the empty line ending the head.
fn date_and_end(out: &mut Vec<u8>) {
    out.extend_from_slice(b"date: ");
    with_date(|date| out.extend_from_slice(date));
    out.extend_from_slice(b"\r\n\r\n");
}

thread_local! {
    /// The current second and its IMF-fixdate, formatted once per second per thread (as hyper does).
    static DATE: RefCell<(u64, Vec<u8>)> = const { RefCell::new((u64::MAX, Vec::new())) };
}

fn with_date(f: impl FnOnce(&[u8])) {
    let now = SystemTime::now();
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    DATE.with_borrow_mut(|(cached, text)| {
        if *cached != second {
            *cached = second;
            *text = httpdate::fmt_http_date(now).into_bytes();
        }
        f(text);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

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
            undated(&text(|o| json_head(o, 25))),
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
    fn chunks_carry_their_size_in_upper_case_hex() {
        assert_eq!(
            text(|o| chunk(o, b"retry: 1000\n\n")),
            "D\r\nretry: 1000\n\n\r\n"
        );
        let data = vec![b'x'; 190];
        assert!(text(|o| chunk(o, &data)).starts_with("BE\r\nxx"));
        assert_eq!(LAST_CHUNK, b"0\r\n\r\n");
    }
}
