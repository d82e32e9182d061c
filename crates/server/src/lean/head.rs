//! Reading a request head: which requests the lean path serves itself and which it hands to hyper.
//!
//! The lean path takes only the plain case: `GET` of `/poll`, `/longpoll` or `/sse`, HTTP/1.1, no
//! body, no `Connection`, `Upgrade`, `Expect` or `Origin` header (a page's request: hyper adds
//! its CORS headers, see [`crate::cors`]); and a whole WebSocket handshake on `GET /ws` (HTTP/1.1,
//! no body, `Connection` naming `upgrade`, `Upgrade: websocket`, `Sec-WebSocket-Version: 13`, one
//! `Sec-WebSocket-Key`: the checks axum makes, so a handshake either side refuses is hyper's to
//! answer with axum's status and reason; `Origin` is allowed, as WebSocket has no CORS). A head longer than the server's
//! `max_head_bytes` (whatever its request) is [`Parsed::TooLarge`], answered 431 without reading
//! more. Everything else — other methods and paths, HTTP/1.0, bodies, malformed heads — goes to
//! hyper with the bytes already read, so every error and edge case keeps hyper's answer.

use axum::http::HeaderValue;
use rtbench_proto::Transport;
use rtbench_proto::paths;

/// Most header fields the lean path parses; a head with more is hyper's.
const MAX_HEADERS: usize = 32;

/// An endpoint the lean path serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// `GET /poll`.
    Poll,
    /// `GET /longpoll`.
    LongPoll,
    /// `GET /sse`.
    Sse,
    /// `GET /ws`, a WebSocket handshake.
    WebSocket,
}

/// A request the lean path serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    /// The endpoint.
    pub(crate) route: Route,
    /// The request target as sent: path and query.
    pub(crate) target: String,
    /// The `Last-Event-ID` header, if sent once.
    pub(crate) last_event_id: Option<HeaderValue>,
    /// The `Sec-WebSocket-Key` of a WebSocket handshake.
    pub(crate) ws_key: Option<HeaderValue>,
}

impl Head {
    /// The path of the target.
    pub(crate) fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }

    /// The query of the target, if any.
    pub(crate) fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }
}

/// What the bytes read so far hold.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// Not a whole head yet; read more.
    Partial,
    /// A request the lean path serves, and the length of its head in bytes.
    Lean(Head, usize),
    /// A request for hyper (or bytes hyper will refuse with its own error).
    Hyper,
    /// A head that does not end within `max_head_bytes`: answered 431, connection closed.
    TooLarge,
}

/// Whether the head at the start of `buf` ends (with its empty line) within `max_head_bytes`;
/// `true` while `buf` is not longer than that.
fn fits(buf: &[u8], max_head_bytes: usize) -> bool {
    buf.len() <= max_head_bytes || buf[..max_head_bytes].windows(4).any(|w| w == b"\r\n\r\n")
}

/// Parses the head at the start of `buf`, which may be at most `max_head_bytes` long.
pub(crate) fn parse(buf: &[u8], max_head_bytes: usize) -> Parsed {
    if !fits(buf, max_head_bytes) {
        return Parsed::TooLarge;
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let len = match request.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        _ => return Parsed::Hyper,
    };
    if request.method != Some("GET") || request.version != Some(1) {
        return Parsed::Hyper;
    }
    let Some(target) = request.path else {
        return Parsed::Hyper;
    };
    let route = match Transport::for_http_path(target.split_once('?').map_or(target, |(p, _)| p)) {
        Some(Transport::ShortPoll) => Route::Poll,
        Some(Transport::LongPoll) => Route::LongPoll,
        Some(Transport::Sse) => Route::Sse,
        Some(Transport::WebSocket) => Route::WebSocket,
        _ => return Parsed::Hyper,
    };
    let Some(fields) = Fields::read(request.headers, route == Route::WebSocket) else {
        return Parsed::Hyper;
    };
    let ws_key = match route {
        Route::WebSocket if fields.is_handshake() => fields.ws_key,
        Route::WebSocket => return Parsed::Hyper,
        _ => None,
    };
    let head = Head {
        route,
        target: target.to_owned(),
        last_event_id: fields.last_event_id,
        ws_key,
    };
    Parsed::Lean(head, len)
}

/// The header fields the lean path reads of a request it may take.
#[derive(Default)]
struct Fields {
    last_event_id: Option<HeaderValue>,
    /// `Connection` names `upgrade` (axum's test: the lower-cased value contains it).
    connection_upgrade: bool,
    /// `Upgrade: websocket` (case-insensitive).
    upgrade_websocket: bool,
    /// `Sec-WebSocket-Version: 13`.
    version_13: bool,
    ws_key: Option<HeaderValue>,
}

impl Fields {
    /// Reads `headers`; `None` when they make the request hyper's. A WebSocket handshake
    /// (`websocket`) may carry `Connection`, `Upgrade` and `Origin`; no other request may.
    fn read(headers: &[httparse::Header<'_>], websocket: bool) -> Option<Fields> {
        let mut f = Fields::default();
        for h in headers {
            let (name, value) = (h.name, h.value);
            let is = |n: &str| name.eq_ignore_ascii_case(n);
            if is("expect") || is("transfer-encoding") {
                return None;
            }
            if is("content-length") && value != b"0" {
                return None;
            }
            if !websocket && (is("connection") || is("upgrade") || is("origin")) {
                // `origin`: a page's request, answered with CORS headers by hyper (crate::cors).
                return None;
            }
            if is(paths::LAST_EVENT_ID) {
                once(&mut f.last_event_id, value)?;
            } else if is("sec-websocket-key") {
                once(&mut f.ws_key, value)?;
            } else if is("connection") {
                f.connection_upgrade |= value
                    .to_ascii_lowercase()
                    .windows(7)
                    .any(|w| w == b"upgrade");
            } else if is("upgrade") {
                f.upgrade_websocket |=
                    value.eq_ignore_ascii_case(rtbench_proto::paths::WEBSOCKET_PROTOCOL.as_bytes());
            } else if is("sec-websocket-version") {
                f.version_13 |= value == b"13";
            }
        }
        Some(f)
    }

    /// Whether these fields make a WebSocket handshake axum accepts.
    fn is_handshake(&self) -> bool {
        self.connection_upgrade
            && self.upgrade_websocket
            && self.version_13
            && self.ws_key.is_some()
    }
}

/// Sets `slot` to `value`; `None` when it was set already or `value` is not a header value.
fn once(slot: &mut Option<HeaderValue>, value: &[u8]) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(HeaderValue::from_bytes(value).ok()?);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default `max_head_bytes`.
    const MAX_HEAD_BYTES: usize = 16 * 1024;

    fn parse(buf: &[u8]) -> Parsed {
        super::parse(buf, MAX_HEAD_BYTES)
    }

    fn lean(raw: &str) -> Head {
        match parse(raw.as_bytes()) {
            Parsed::Lean(head, len) => {
                assert_eq!(len, raw.find("\r\n\r\n").unwrap() + 4);
                head
            }
            other => panic!("{raw:?} gave {other:?}"),
        }
    }

    #[test]
    fn serves_the_plain_gets_of_the_three_endpoints() {
        let h = lean("GET /poll?topic=a&after=3 HTTP/1.1\r\nhost: x\r\n\r\n");
        assert_eq!(
            (h.route, h.path(), h.query()),
            (Route::Poll, "/poll", Some("topic=a&after=3"))
        );
        assert_eq!(
            lean("GET /longpoll?topic=a HTTP/1.1\r\n\r\n").route,
            Route::LongPoll
        );
        let h = lean("GET /sse HTTP/1.1\r\nLast-Event-ID: 7\r\ncontent-length: 0\r\n\r\n");
        assert_eq!((h.route, h.query()), (Route::Sse, None));
        assert_eq!(h.last_event_id.unwrap(), "7");
        // Pipelined bytes after the head are not part of it.
        let two = "GET /poll?topic=a HTTP/1.1\r\n\r\nGET /poll";
        assert!(matches!(parse(two.as_bytes()), Parsed::Lean(_, 30)));
    }

    #[test]
    fn serves_a_whole_websocket_handshake_with_its_key() {
        let h = lean(
            "GET /ws?topic=a HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\n\
             Upgrade: WebSocket\r\nSec-WebSocket-Version: 13\r\nOrigin: http://a\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        );
        assert_eq!((h.route, h.query()), (Route::WebSocket, Some("topic=a")));
        assert_eq!(h.ws_key.unwrap(), "dGhlIHNhbXBsZSBub25jZQ==");
        // The same fields on another endpoint are hyper's.
        let sse = "GET /sse?topic=a HTTP/1.1\r\nConnection: Upgrade\r\n\r\n";
        assert_eq!(parse(sse.as_bytes()), Parsed::Hyper);
    }

    #[test]
    fn waits_for_the_rest_of_a_head() {
        assert_eq!(parse(b""), Parsed::Partial);
        assert_eq!(parse(b"GET /sse?topic=a HTTP/1.1\r\nhost"), Parsed::Partial);
    }

    #[test]
    fn hands_everything_else_to_hyper() {
        for raw in [
            "POST /poll?topic=a HTTP/1.1\r\n\r\n",
            "GET /ws?topic=a HTTP/1.1\r\n\r\n",
            "GET /ws?topic=a HTTP/1.1\r\nconnection: upgrade\r\nupgrade: websocket\r\n\
             sec-websocket-version: 12\r\nsec-websocket-key: k\r\n\r\n",
            "GET /ws?topic=a HTTP/1.1\r\nconnection: keep-alive\r\nupgrade: websocket\r\n\
             sec-websocket-version: 13\r\nsec-websocket-key: k\r\n\r\n",
            "GET /ws?topic=a HTTP/1.1\r\nconnection: upgrade\r\nupgrade: websocket\r\n\
             sec-websocket-version: 13\r\n\r\n",
            "GET /ws?topic=a HTTP/1.1\r\nconnection: upgrade\r\nupgrade: websocket\r\n\
             sec-websocket-version: 13\r\nsec-websocket-key: k\r\nsec-websocket-key: j\r\n\r\n",
            "GET /ws?topic=a HTTP/1.0\r\nconnection: upgrade\r\nupgrade: websocket\r\n\
             sec-websocket-version: 13\r\nsec-websocket-key: k\r\n\r\n",
            "GET /poll/ HTTP/1.1\r\n\r\n",
            "GET /metrics HTTP/1.1\r\n\r\n",
            "GET /poll?topic=a HTTP/1.0\r\n\r\n",
            "GET /poll?topic=a HTTP/1.1\r\nConnection: close\r\n\r\n",
            "GET /sse?topic=a HTTP/1.1\r\nupgrade: websocket\r\n\r\n",
            "GET /poll?topic=a HTTP/1.1\r\ncontent-length: 3\r\n\r\nabc",
            "GET /poll?topic=a HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n",
            "GET /poll?topic=a HTTP/1.1\r\nexpect: 100-continue\r\n\r\n",
            "GET /sse?topic=a HTTP/1.1\r\nOrigin: http://127.0.0.1:9\r\n\r\n",
            "GET /sse?topic=a HTTP/1.1\r\nlast-event-id: 1\r\nlast-event-id: 2\r\n\r\n",
            "GET\x01 / HTTP/1.1\r\n\r\n",
        ] {
            assert_eq!(parse(raw.as_bytes()), Parsed::Hyper, "{raw:?}");
        }
        let long = format!(
            "GET /poll?topic={} HTTP/1.1\r\n",
            "a".repeat(MAX_HEAD_BYTES)
        );
        assert_eq!(parse(long.as_bytes()), Parsed::TooLarge);
        let filler: String = (0..40)
            .map(|i| format!("x-{i}: {}\r\n", "a".repeat(500)))
            .collect();
        let many = format!("POST /publish HTTP/1.1\r\n{filler}\r\n");
        assert_eq!(parse(many.as_bytes()), Parsed::TooLarge, "any request");
        let pipelined = format!("GET /poll?topic=a HTTP/1.1\r\n\r\n{long}");
        assert!(matches!(parse(pipelined.as_bytes()), Parsed::Lean(_, 30)));
        let many: String = (0..=MAX_HEADERS).map(|i| format!("x{i}: y\r\n")).collect();
        let raw = format!("GET /poll?topic=a HTTP/1.1\r\n{many}\r\n");
        assert_eq!(parse(raw.as_bytes()), Parsed::Hyper);
    }
}
