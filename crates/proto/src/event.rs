//! The canonical event body: the same bytes on every transport.
//!
//! `{"seq":42,"t_pub_ns":123456789,"payload":"..."}` — sequence number within the topic, scheduled
//! publication time in CLOCK_MONOTONIC nanoseconds, and the payload as a JSON string. The server
//! encodes it once per event at publish time; each transport only adds its framing.
//!
//! A client that fell behind the topic's ring receives a *gap* instead: `{"dropped":N}`, meaning `N`
//! events after its cursor are gone. It is counted as loss, never hidden (docs/model.md, "Delivery semantics").

use bytes::Bytes;
use serde::Deserialize;
use std::borrow::Cow;

/// Characters generated payloads are made of: printable, needing no escape in JSON or SSE.
const PAYLOAD_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A deterministic payload of exactly `len` ASCII bytes for event `seq`: identical for every
/// transport, different from one event to the next, and free of characters any framing escapes.
pub fn make_payload(seq: u64, len: usize) -> String {
    let offset = (seq % PAYLOAD_ALPHABET.len() as u64) as usize;
    (0..len)
        .map(|i| PAYLOAD_ALPHABET[(offset + i) % PAYLOAD_ALPHABET.len()] as char)
        .collect()
}

/// Encodes the canonical body of one event. `payload` is escaped as a JSON string (generated
/// payloads need no escaping, so their body is `payload.len() + envelope` bytes exactly).
pub fn encode_body(seq: u64, t_pub_ns: u64, payload: &str) -> Bytes {
    let mut out = Vec::with_capacity(payload.len() + 64);
    out.extend_from_slice(b"{\"seq\":");
    out.extend_from_slice(seq.to_string().as_bytes());
    out.extend_from_slice(b",\"t_pub_ns\":");
    out.extend_from_slice(t_pub_ns.to_string().as_bytes());
    out.extend_from_slice(b",\"payload\":");
    serde_json::to_writer(&mut out, payload).expect("writing a str to a Vec cannot fail");
    out.push(b'}');
    Bytes::from(out)
}

/// Encodes the gap notice `{"dropped":N}`.
pub fn encode_gap(dropped: u64) -> Bytes {
    Bytes::from(format!("{{\"dropped\":{dropped}}}"))
}

/// One event as a client parsed it, borrowing from the received bytes where it can.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventRef<'a> {
    /// Sequence number within the topic, from 1.
    pub seq: u64,
    /// Scheduled publication time, CLOCK_MONOTONIC nanoseconds.
    pub t_pub_ns: u64,
    /// The payload.
    #[serde(borrow)]
    pub payload: Cow<'a, str>,
}

/// What a client can receive on a push transport: an event, or a gap notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message<'a> {
    /// One event.
    Event(EventRef<'a>),
    /// `dropped` events after the client's cursor fell out of the ring and are gone.
    Gap {
        /// Number of events lost.
        dropped: u64,
    },
}

/// A body that is neither an event nor a gap notice.
#[derive(Debug, thiserror::Error)]
#[error("malformed event body: {0}")]
pub struct BadBody(#[from] serde_json::Error);

/// Parses a canonical event body.
pub fn parse_body(body: &[u8]) -> Result<EventRef<'_>, BadBody> {
    Ok(serde_json::from_slice(body)?)
}

/// Parses what a push transport delivered: an event body or a gap notice.
pub fn parse_message(body: &[u8]) -> Result<Message<'_>, BadBody> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Gap {
        dropped: u64,
    }
    if body.starts_with(b"{\"dropped\"") {
        let gap: Gap = serde_json::from_slice(body)?;
        return Ok(Message::Gap {
            dropped: gap.dropped,
        });
    }
    Ok(Message::Event(parse_body(body)?))
}

/// Bytes the canonical body of an event with a generated payload of `payload_bytes` takes.
pub fn body_len(seq: u64, t_pub_ns: u64, payload_bytes: usize) -> usize {
    r#"{"seq":,"t_pub_ns":,"payload":""}"#.len()
        + seq.to_string().len()
        + t_pub_ns.to_string().len()
        + payload_bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_round_trips_and_has_predicted_length() {
        let p = make_payload(7, 128);
        assert_eq!(p.len(), 128);
        let body = encode_body(7, 1_234_567, &p);
        assert_eq!(body.len(), body_len(7, 1_234_567, 128));
        let ev = parse_body(&body).unwrap();
        assert_eq!(
            (ev.seq, ev.t_pub_ns, ev.payload.as_ref()),
            (7, 1_234_567, p.as_str())
        );
    }

    #[test]
    fn payloads_differ_by_seq_and_escape_safely() {
        assert_ne!(make_payload(1, 16), make_payload(2, 16));
        let body = encode_body(1, 2, "quote\" newline\n");
        assert_eq!(parse_body(&body).unwrap().payload, "quote\" newline\n");
    }

    #[test]
    fn gap_is_parsed_as_gap() {
        assert_eq!(
            parse_message(&encode_gap(5)).unwrap(),
            Message::Gap { dropped: 5 }
        );
        assert!(matches!(
            parse_message(&encode_body(1, 2, "x")).unwrap(),
            Message::Event(_)
        ));
        assert!(parse_message(b"{\"seq\":1}").is_err());
    }
}
