//! The raw-TCP floor's framing: a 4-byte big-endian length, then that many bytes.
//!
//! Client → server: the first frame is `SUB <topic> <after>` (subscribe, resuming after sequence
//! number `after`, 0 for everything retained); later frames `PUB <payload>` publish. Server → client:
//! each frame is one canonical event body or a gap notice ([`crate::event`]).

use crate::limits::MAX_FRAME_BYTES;
use bytes::{BufMut, BytesMut};

/// Bytes of the length prefix.
pub const HEADER_BYTES: usize = 4;

/// Appends one frame carrying `body` to `out`.
pub fn encode_frame(body: &[u8], out: &mut BytesMut) {
    out.reserve(HEADER_BYTES + body.len());
    out.put_u32(body.len() as u32);
    out.put_slice(body);
}

/// A frame announcing more than [`MAX_FRAME_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("frame of {0} bytes exceeds the {MAX_FRAME_BYTES}-byte limit")]
pub struct FrameTooLarge(pub usize);

/// Takes one complete frame's body off the front of `buf`, if `buf` holds one.
pub fn decode_frame(buf: &mut BytesMut) -> Result<Option<BytesMut>, FrameTooLarge> {
    if buf.len() < HEADER_BYTES {
        return Ok(None);
    }
    let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    if len > MAX_FRAME_BYTES {
        return Err(FrameTooLarge(len));
    }
    if buf.len() < HEADER_BYTES + len {
        buf.reserve(HEADER_BYTES + len - buf.len());
        return Ok(None);
    }
    let _ = buf.split_to(HEADER_BYTES);
    Ok(Some(buf.split_to(len)))
}

/// A client → server command on the raw-TCP transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<'a> {
    /// Subscribe to `topic`, resuming after sequence number `after`.
    Sub {
        /// Topic name.
        topic: &'a str,
        /// Cursor: deliver events with a greater sequence number.
        after: u64,
    },
    /// Publish `payload` to the subscribed topic.
    Pub {
        /// Payload bytes (UTF-8).
        payload: &'a str,
    },
}

/// A frame that is not a valid command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadCommand {
    /// The frame is not UTF-8.
    #[error("command is not UTF-8")]
    NotUtf8,
    /// Neither `SUB` nor `PUB`, or malformed arguments.
    #[error("expected 'SUB <topic> <after>' or 'PUB <payload>'")]
    Malformed,
}

/// Encodes `SUB <topic> <after>` as a frame.
pub fn encode_sub(topic: &str, after: u64, out: &mut BytesMut) {
    encode_frame(format!("SUB {topic} {after}").as_bytes(), out);
}

/// Encodes `PUB <payload>` as a frame.
pub fn encode_pub(payload: &str, out: &mut BytesMut) {
    let mut body = Vec::with_capacity(payload.len() + 4);
    body.extend_from_slice(b"PUB ");
    body.extend_from_slice(payload.as_bytes());
    encode_frame(&body, out);
}

/// Parses one client → server frame body.
pub fn parse_command(body: &[u8]) -> Result<Command<'_>, BadCommand> {
    let text = std::str::from_utf8(body).map_err(|_| BadCommand::NotUtf8)?;
    if let Some(payload) = text.strip_prefix("PUB ") {
        return Ok(Command::Pub { payload });
    }
    let rest = text.strip_prefix("SUB ").ok_or(BadCommand::Malformed)?;
    let (topic, after) = rest.split_once(' ').ok_or(BadCommand::Malformed)?;
    let after = after.parse().map_err(|_| BadCommand::Malformed)?;
    Ok(Command::Sub { topic, after })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_across_partial_reads() {
        let mut wire = BytesMut::new();
        encode_frame(b"hello", &mut wire);
        encode_sub("t", 9, &mut wire);
        assert_eq!(wire.len(), 4 + 5 + 4 + "SUB t 9".len());
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for b in wire.iter() {
            buf.put_u8(*b);
            while let Some(f) = decode_frame(&mut buf).unwrap() {
                got.push(f);
            }
        }
        assert_eq!(&got[0][..], b"hello");
        assert_eq!(
            parse_command(&got[1]).unwrap(),
            Command::Sub {
                topic: "t",
                after: 9
            }
        );
    }

    #[test]
    fn oversized_and_malformed_are_rejected() {
        let mut buf = BytesMut::from(&((MAX_FRAME_BYTES as u32 + 1).to_be_bytes())[..]);
        assert!(decode_frame(&mut buf).is_err());
        assert_eq!(parse_command(b"NOPE"), Err(BadCommand::Malformed));
        assert_eq!(parse_command(b"SUB t x"), Err(BadCommand::Malformed));
        assert_eq!(parse_command(&[0xff]), Err(BadCommand::NotUtf8));
        assert_eq!(parse_command(b"PUB hi"), Ok(Command::Pub { payload: "hi" }));
    }
}
