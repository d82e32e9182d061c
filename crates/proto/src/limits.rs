//! Explicit limits of the server, documented in the README. Requests over a limit get a 400 with a
//! one-line JSON error (or WebSocket close code 1009), never a panic.

/// Longest accepted topic name, in bytes. Topics are `[A-Za-z0-9_.-]+`.
pub const MAX_TOPIC_BYTES: usize = 64;
/// Largest accepted publish payload (HTTP body, WebSocket message or TCP `PUB` frame), in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
/// Most bytes the canonical event body adds around its payload string: `{"seq":` and
/// `,"t_pub_ns":` with 20 digits each, `,"payload":`, the two quotes and `}` (73 bytes), rounded up.
pub const MAX_BODY_ENVELOPE_BYTES: usize = 80;
/// Largest canonical event body the server stores and sends, in bytes: a payload of
/// [`MAX_PAYLOAD_BYTES`] *after* JSON escaping plus the envelope. A publish whose escaped body is
/// larger is refused, so one event can never grow past what every transport's client accepts
/// (a payload of control bytes escapes to 6× its size).
pub const MAX_EVENT_BODY_BYTES: usize = MAX_PAYLOAD_BYTES + MAX_BODY_ENVELOPE_BYTES;
/// Largest raw-TCP frame either side accepts, in bytes: an event body of
/// [`MAX_EVENT_BODY_BYTES`] down, a `PUB ` prefix and [`MAX_PAYLOAD_BYTES`] up; also the largest
/// WebSocket message rtbench's clients accept.
pub const MAX_FRAME_BYTES: usize = MAX_EVENT_BODY_BYTES;
/// Longest a long-poll request may ask to be held, in milliseconds.
pub const MAX_LONGPOLL_TIMEOUT_MS: u64 = 120_000;
/// Hold time of a long-poll request that names none, in milliseconds.
pub const DEFAULT_LONGPOLL_TIMEOUT_MS: u64 = 30_000;
/// Listen backlog of `rtbench serve` when the kernel's cap (`net.core.somaxconn`) cannot be
/// read; where it can, the server asks for the cap itself.
pub const DEFAULT_LISTEN_BACKLOG: u32 = 4096;
/// Events retained per topic for cursors to resume from.
pub const DEFAULT_RING_CAPACITY: usize = 65_536;
/// Most events returned by one poll or long-poll response.
pub const MAX_EVENTS_PER_RESPONSE: usize = 1_024;
/// Most events one scheduled publisher run may emit.
pub const MAX_SCHEDULED_EVENTS: u64 = 10_000_000;
/// Highest scheduled publication rate, events per second.
pub const MAX_SCHEDULE_RATE_PER_S: f64 = 1_000_000.0;
/// Lowest scheduled publication rate, events per second (one event every 100 s): a slower
/// schedule would park a publisher for years.
pub const MIN_SCHEDULE_RATE_PER_S: f64 = 0.01;
/// Most events one `POST /plan` may list.
pub const MAX_PLAN_EVENTS: usize = 500_000;
/// Latest offset a planned event may have, in nanoseconds (one hour).
pub const MAX_PLAN_OFFSET_NS: u64 = 3_600_000_000_000;
/// Largest accepted `POST /plan` body, in bytes.
pub const MAX_PLAN_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// Whether `topic` is a valid topic name: 1..=[`MAX_TOPIC_BYTES`] bytes of `[A-Za-z0-9_.-]`.
pub fn valid_topic(topic: &str) -> bool {
    !topic.is_empty()
        && topic.len() <= MAX_TOPIC_BYTES
        && topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_body_fits_every_frame() {
        let body = crate::event::encode_body(u64::MAX, u64::MAX, &"x".repeat(MAX_PAYLOAD_BYTES));
        assert!(body.len() <= MAX_EVENT_BODY_BYTES, "{}", body.len());
        const {
            assert!(
                MAX_FRAME_BYTES >= MAX_PAYLOAD_BYTES + 4,
                "PUB frames fit too"
            )
        };
    }

    #[test]
    fn topic_rules() {
        assert!(valid_topic("run-sse_1.a"));
        assert!(!valid_topic(""));
        assert!(!valid_topic("a b"));
        assert!(!valid_topic(&"x".repeat(MAX_TOPIC_BYTES + 1)));
        assert!(valid_topic(&"x".repeat(MAX_TOPIC_BYTES)));
    }
}
