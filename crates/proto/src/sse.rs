//! Server-Sent Events framing (WHATWG HTML, "Server-sent events").
//!
//! The stream opens with `retry: 1000\n\n` (reconnect after 1 s); each event is
//! `id: <seq>\ndata: <body>\n\n`; a gap is `event: gap\ndata: {"dropped":N}\n\n`; an idle stream
//! carries a `:\n\n` comment every keep-alive interval. On HTTP/1.1 each block travels as one chunk
//! of chunked transfer encoding: `<len hex>\r\n<block>\r\n`.

/// The block the stream starts with.
pub const RETRY_PREAMBLE: &[u8] = b"retry: 1000\n\n";
/// The keep-alive comment.
pub const KEEP_ALIVE: &[u8] = b":\n\n";

/// Encodes the SSE block of one event.
pub fn encode_event(seq: u64, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 32);
    out.extend_from_slice(b"id: ");
    out.extend_from_slice(seq.to_string().as_bytes());
    out.extend_from_slice(b"\ndata: ");
    out.extend_from_slice(body);
    out.extend_from_slice(b"\n\n");
    #[cfg(feature = "extra-work-5pct")]
    extra_work();
    out
}

/// Test-only regression (feature `extra-work-5pct`): a fixed amount of useless work, about 5 % of
/// SSE's per-delivery server path in instructions, so the instruction gate can be shown to fail.
#[cfg(feature = "extra-work-5pct")]
fn extra_work() {
    /// Rounds of the loop below; calibrated against the `server_sse` benchmarks.
    const ROUNDS: u64 = 19;
    let mut acc = 0u64;
    for i in 0..ROUNDS {
        acc = std::hint::black_box(acc.wrapping_mul(31).wrapping_add(i));
    }
    std::hint::black_box(acc);
}

/// Encodes the SSE block of a gap notice.
pub fn encode_gap(dropped: u64) -> Vec<u8> {
    format!("event: gap\ndata: {{\"dropped\":{dropped}}}\n\n").into_bytes()
}

/// Bytes one block of `len` bytes takes on the wire as an HTTP/1.1 chunk (RFC 9112 §7.1).
pub fn chunked_len(len: usize) -> usize {
    format!("{len:x}").len() + 2 + len + 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_block_shape() {
        assert_eq!(encode_event(3, b"{}"), b"id: 3\ndata: {}\n\n");
        assert_eq!(chunked_len(0x1f), 2 + 2 + 0x1f + 2);
    }
}
