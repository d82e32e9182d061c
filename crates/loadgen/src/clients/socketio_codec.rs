//! The Engine.IO v4 / Socket.IO v5 packets the Socket.IO clients read and write, for the default
//! namespace and text packets only (the protocol documents: socket.io-protocol v5 and
//! engine.io-protocol v4).
//!
//! Engine.IO packet types are one digit: `0` open (JSON handshake), `1` close, `2` ping, `3` pong,
//! `4` message, `5` upgrade, `6` noop. A message carries a Socket.IO packet, whose type is the next
//! digit: `0` CONNECT, `1` DISCONNECT, `2` EVENT, `3` ACK, `4` CONNECT_ERROR. So a CONNECT with auth
//! is `40{"topic":"t","after":0}`, its answer `40{"sid":"…"}`, and an event `42["e",<body>]`. An
//! EVENT that asks for an acknowledgement puts its ack id between type and data,
//! `42<id>["publish","<payload>"]`, and the answer is an ACK with the same id, `43<id>[…]`. Over
//! HTTP long-polling one answer carries several packets separated by the record separator `\x1e`.
//!
//! Hand-written because the maintained client (`rust_socketio`) opens and reconnects its own
//! connections behind its API: rtbench must own each socket (to reset it, to resume with its own
//! cursor, to count its bytes as the others'), and the part it needs is this small parser.

use serde::Deserialize;
use serde_json::value::RawValue;

/// The Engine.IO pong a client answers each ping with.
pub(super) const PONG: &str = "3";
/// The event a client's acknowledged publish is emitted under (`--socketio-ack`).
pub(super) const PUBLISH_EVENT: &str = "publish";
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
    /// `43<id>[…]`: the acknowledgement of the client's emit `id`.
    Ack(u64),
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
    /// An ACK without an ack id, or whose data is not a JSON array.
    #[error("Socket.IO ACK: {0:?}")]
    Ack(String),
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
        (Some('4'), Some('3')) => ack_id(&text[2..]).map(Packet::Ack),
        (Some('4'), Some('4')) => Ok(Packet::Refused(&text[2..])),
        _ => Ok(Packet::Other),
    }
}

/// The argument of `["e",<arg>]`, byte for byte.
fn event_body(data: &str) -> Result<&[u8], CodecError> {
    let (_name, arg): (&str, &RawValue) = serde_json::from_str(data).map_err(CodecError::Event)?;
    Ok(arg.get().as_bytes())
}

/// The id of `<id>[…]`, the rest of an ACK packet of the default namespace.
fn ack_id(rest: &str) -> Result<u64, CodecError> {
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (id, data) = rest.split_at(digits);
    let bad = || CodecError::Ack(rest.chars().take(64).collect());
    let id = id.parse().map_err(|_| bad())?;
    serde_json::from_str::<Vec<&RawValue>>(data).map_err(|_| bad())?;
    Ok(id)
}

/// The EVENT packet publishing `payload` with ack id `id`: `42<id>["publish","<payload>"]`.
pub(super) fn emit_publish(id: u64, payload: &str) -> String {
    let payload = serde_json::Value::from(payload);
    format!(r#"42{id}["{PUBLISH_EVENT}",{payload}]"#)
}

/// The CONNECT packet to the default namespace with the subscription in its auth.
pub(super) fn connect(topic: &str, after: u64) -> String {
    let topic = serde_json::Value::from(topic);
    format!(r#"40{{"topic":{topic},"after":{after}}}"#)
}

/// The CONNECT packet of client `ctx`, resuming after `after`: [`connect`], or
/// [`connect_publishing`] when its acknowledged emits go to another topic than its own.
pub(super) fn connect_for(ctx: &super::ClientCtx, after: u64) -> String {
    match (&ctx.acks, &ctx.publish_to) {
        (Some(_), Some(to)) => connect_publishing(&ctx.topic, after, to),
        _ => connect(&ctx.topic, after),
    }
}

/// [`connect`] for a client whose acknowledged publishes go to `publish_to` rather than its topic.
pub(super) fn connect_publishing(topic: &str, after: u64, publish_to: &str) -> String {
    let (topic, to) = (
        serde_json::Value::from(topic),
        serde_json::Value::from(publish_to),
    );
    format!(r#"40{{"topic":{topic},"after":{after},"publish_to":{to}}}"#)
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

    // The acknowledgement examples of socket.io-protocol v5 ("Packet encoding", "Acknowledgement"):
    // `{ type: EVENT, namespace: "/", data: ["foo"], id: 12 }` is encoded `212["foo"]` and
    // `{ type: ACK, namespace: "/", data: [], id: 12 }` `312[]`; each travels in an Engine.IO
    // message, so with its `4` in front.
    #[test]
    fn acknowledged_emits_and_acks_from_the_protocol_document() {
        assert_eq!(parse("4312[]").unwrap(), Packet::Ack(12));
        assert_eq!(parse(r#"4313["bar"]"#).unwrap(), Packet::Ack(13));
        assert_eq!(emit_publish(12, "foo"), r#"4212["publish","foo"]"#);
        assert_eq!(emit_publish(0, "a\"b"), r#"420["publish","a\"b"]"#);
        assert!(parse("43[]").is_err(), "an ACK without its id");
        assert!(parse("4312").is_err(), "an ACK without its data");
        assert!(
            parse("4312{}").is_err(),
            "an ACK whose data is not an array"
        );
        assert_eq!(
            connect_publishing("t", 4, "u"),
            r#"40{"topic":"t","after":4,"publish_to":"u"}"#
        );
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
