//! Explicit limits of the server, documented in the README. Requests over a limit get a 400 with a
//! one-line JSON error (or WebSocket close code 1009), never a panic.

/// Longest accepted topic name, in bytes. Topics are `[A-Za-z0-9_.-]+`.
pub const MAX_TOPIC_BYTES: usize = 64;
/// Largest accepted publish payload (HTTP body, WebSocket message or TCP `PUB` frame), in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
/// Largest accepted raw-TCP frame, in bytes (payload plus the `PUB ` prefix).
pub const MAX_FRAME_BYTES: usize = MAX_PAYLOAD_BYTES + 16;
/// Longest a long-poll request may ask to be held, in milliseconds.
pub const MAX_LONGPOLL_TIMEOUT_MS: u64 = 120_000;
/// Hold time of a long-poll request that names none, in milliseconds.
pub const DEFAULT_LONGPOLL_TIMEOUT_MS: u64 = 30_000;
/// Events retained per topic for cursors to resume from.
pub const DEFAULT_RING_CAPACITY: usize = 65_536;
/// Most events returned by one poll or long-poll response.
pub const MAX_EVENTS_PER_RESPONSE: usize = 1_024;
/// Most events one scheduled publisher run may emit.
pub const MAX_SCHEDULED_EVENTS: u64 = 10_000_000;
/// Highest scheduled publication rate, events per second.
pub const MAX_SCHEDULE_RATE_PER_S: f64 = 1_000_000.0;
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
    fn topic_rules() {
        assert!(valid_topic("run-sse_1.a"));
        assert!(!valid_topic(""));
        assert!(!valid_topic("a b"));
        assert!(!valid_topic(&"x".repeat(MAX_TOPIC_BYTES + 1)));
        assert!(valid_topic(&"x".repeat(MAX_TOPIC_BYTES)));
    }
}
