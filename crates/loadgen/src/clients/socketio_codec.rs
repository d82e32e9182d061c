//! The Engine.IO v4 / Socket.IO v5 packets the Socket.IO clients read and write, for the default
//! namespace and text packets only (the protocol documents: socket.io-protocol v5 and
//! engine.io-protocol v4).
//!
//! Engine.IO packet types are one digit: `0` open (JSON handshake), `1` close, `2` ping, `3` pong,
//! `4` message, `5` upgrade, `6` noop. A message carries a Socket.IO packet, whose type is the next
//! digit: `0` CONNECT, `1` DISCONNECT, `2` EVENT, `3` ACK, `4` CONNECT_ERROR. So a CONNECT with auth
//! is `40{"topic":"t","after":0}`, its answer `40{"sid":"…"}`, and an event `42["e",<body>]`. Over
//! HTTP long-polling one answer carries several packets separated by the record separator `\x1e`.
//!
//! Hand-written because the maintained client (`rust_socketio`) opens and reconnects its own
//! connections behind its API: rtbench must own each socket (to reset it, to resume with its own
//! cursor, to count its bytes as the others'), and the part it needs is this small parser.

use serde::Deserialize;
use serde_json::value::RawValue;

/// The Engine.IO pong a client answers each ping with.
pub(super) const PONG: &str = "3";
/// Separates packets in one HTTP long-polling payload.
pub(super) const RECORD_SEPARATOR: char = '\x1e';

/// One Engine.IO packet, as far as a subscriber cares.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Packet<'a> {
    /// `0{…}`: the handshake, with the session id.
    Open {
        /// The Engine.IO session id (`sid`).
        sid: String,
    },
    /// `2`: the server's heartbeat; answer [`PONG`].
    Ping,
    /// `40{…}`: the namespace accepted the CONNECT.
    Connected,
    /// `42["e",<body>]`: an event; the body (or gap notice) is the JSON of its one argument.
    Event(&'a [u8]),
    /// `1` (Engine.IO close) or `41` (Socket.IO DISCONNECT): the server ended the session.
    Closed,
    /// `44{…}`: the namespace refused the CONNECT.
    Refused(&'a str),
    /// Anything else (noop, upgrade, other Socket.IO packets): ignored.
    Other,
}

/// Why a packet could not be read.
#[derive(Debug, thiserror::Error)]
pub(super) enum CodecError {
    /// The open packet's handshake is not the JSON Engine.IO v4 sends.
    #[error("Engine.IO open packet: {0}")]
    Open(serde_json::Error),
    /// An EVENT's data is not a JSON array of the event name and one argument.
    #[error("Socket.IO event: {0}")]
    Event(serde_json::Error),
}

/// The handshake fields a client reads.
#[derive(Deserialize)]
struct Handshake {
    sid: String,
}

/// Reads one Engine.IO packet (a WebSocket text message, or one record of a polling payload).
pub(super) fn parse(text: &str) -> Result<Packet<'_>, CodecError> {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some('0'), _) => {
            let hs: Handshake = serde_json::from_str(&text[1..]).map_err(CodecError::Open)?;
            Ok(Packet::Open { sid: hs.sid })
        }
        (Some('1'), _) | (Some('4'), Some('1')) => Ok(Packet::Closed),
        (Some('2'), _) => Ok(Packet::Ping),
        (Some('4'), Some('0')) => Ok(Packet::Connected),
        (Some('4'), Some('2')) => event_body(&text[2..]).map(Packet::Event),
        (Some('4'), Some('4')) => Ok(Packet::Refused(&text[2..])),
        _ => Ok(Packet::Other),
    }
}

/// The argument of `["e",<arg>]`, byte for byte.
fn event_body(data: &str) -> Result<&[u8], CodecError> {
    let (_name, arg): (&str, &RawValue) = serde_json::from_str(data).map_err(CodecError::Event)?;
    Ok(arg.get().as_bytes())
}

/// The CONNECT packet to the default namespace with the subscription in its auth.
pub(super) fn connect(topic: &str, after: u64) -> String {
    let topic = serde_json::Value::from(topic);
    format!(r#"40{{"topic":{topic},"after":{after}}}"#)
}

/// The packets of one HTTP long-polling payload.
pub(super) fn split_payload(body: &str) -> impl Iterator<Item = &str> {
    body.split(RECORD_SEPARATOR).filter(|p| !p.is_empty())
}

/// Engine.IO's two transports (its names on the wire, not rtbench's row names).
#[derive(Debug, Clone, Copy)]
pub(super) enum EngineTransport {
    /// `transport=websocket`.
    WebSocket,
    /// `transport=polling`.
    Polling,
}

/// The query of an Engine.IO v4 request on `transport`, for session `sid` once there is one.
pub(super) fn query(transport: EngineTransport, sid: Option<&str>) -> String {
    let base = match transport {
        EngineTransport::WebSocket => "EIO=4&transport=websocket",
        EngineTransport::Polling => "EIO=4&transport=polling",
    };
    match sid {
        Some(sid) => format!("{base}&sid={sid}"),
        None => base.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Examples from the protocol documents (engine.io-protocol v4, socket.io-protocol v5).
    #[test]
    fn packets_from_the_protocol_documents_parse() {
        let open = r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
        assert_eq!(
            parse(open).unwrap(),
            Packet::Open {
                sid: "lv_VI97HAXpY6yYWAAAC".into()
            }
        );
        assert_eq!(parse("2").unwrap(), Packet::Ping);
        assert_eq!(parse("1").unwrap(), Packet::Closed);
        assert_eq!(parse("41").unwrap(), Packet::Closed);
        assert_eq!(
            parse(r#"40{"sid":"wZX3oN0bSVIhsaknAAAI"}"#).unwrap(),
            Packet::Connected
        );
        assert_eq!(
            parse(r#"44{"message":"Not authorized"}"#).unwrap(),
            Packet::Refused(r#"{"message":"Not authorized"}"#)
        );
        assert_eq!(parse("6").unwrap(), Packet::Other);
        let body = r#"{"seq":3,"t_pub_ns":9,"payload":"x\"y"}"#;
        let event = format!(r#"42["e",{body}]"#);
        assert_eq!(parse(&event).unwrap(), Packet::Event(body.as_bytes()));
        assert!(parse(r#"42["e""#).is_err());
        assert!(parse("0{}").is_err());
    }

    #[test]
    fn connect_carries_the_cursor_and_payloads_split_on_the_record_separator() {
        assert_eq!(connect("t-1", 41), r#"40{"topic":"t-1","after":41}"#);
        let payload = "40{\"sid\":\"a\"}\x1e42[\"e\",{}]\x1e2";
        let packets: Vec<&str> = split_payload(payload).collect();
        assert_eq!(packets, ["40{\"sid\":\"a\"}", "42[\"e\",{}]", "2"]);
        assert_eq!(
            query(EngineTransport::Polling, Some("s")),
            "EIO=4&transport=polling&sid=s"
        );
        assert_eq!(
            query(EngineTransport::WebSocket, None),
            "EIO=4&transport=websocket"
        );
    }
}
