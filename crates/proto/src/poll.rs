//! The body of a short-poll or long-poll response: `{"dropped":N,"events":[BODY,BODY,...]}`.
//!
//! `events` are canonical bodies spliced in verbatim, oldest first; `dropped` counts events after the
//! request's cursor that fell out of the ring (0 normally). An empty answer is
//! `{"dropped":0,"events":[]}`. The next cursor is the last event's `seq`.

use crate::event::EventRef;
use serde::Deserialize;

/// Encodes a poll response body around already-encoded event bodies.
pub fn encode_poll_response<'a>(
    dropped: u64,
    bodies: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"{\"dropped\":");
    out.extend_from_slice(dropped.to_string().as_bytes());
    out.extend_from_slice(b",\"events\":[");
    for (i, body) in bodies.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(body);
    }
    out.extend_from_slice(b"]}");
    out
}

/// A parsed poll response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollBatch<'a> {
    /// Events lost after the request's cursor.
    pub dropped: u64,
    /// Events after the cursor, oldest first.
    #[serde(borrow)]
    pub events: Vec<EventRef<'a>>,
}

/// Parses a poll response body.
pub fn parse_poll_response(body: &[u8]) -> Result<PollBatch<'_>, crate::event::BadBody> {
    Ok(serde_json::from_slice(body)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::encode_body;

    #[test]
    fn round_trip() {
        let a = encode_body(1, 10, "a");
        let b = encode_body(2, 20, "b");
        let body = encode_poll_response(0, [&a[..], &b[..]]);
        assert_eq!(
            body.len(),
            r#"{"dropped":0,"events":[,]}"#.len() + a.len() + b.len()
        );
        let batch = parse_poll_response(&body).unwrap();
        assert_eq!(
            batch.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            [1, 2]
        );
        assert_eq!(encode_poll_response(3, []), br#"{"dropped":3,"events":[]}"#);
    }
}
