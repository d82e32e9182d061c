//! The transports rtbench measures, each described once.
//!
//! A transport is one entry of [`Transport`] and one [`TransportSpec`] in [`SPECS`]: its name on the
//! command line and in results, the label a reader sees, its endpoint path, how its clients send
//! upstream, whether it is polled, whether it is the floor, whether its latency is gated, its colour
//! in every chart and, for the chapter's four techniques, the chapter's claim. Every other part of
//! rtbench (server routes, meter buckets, load-generator clients, report order and colours, the
//! gate, the CLI default) reads this table; no list of transport names exists outside this file.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// One way of delivering events from server to client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    /// Length-prefixed frames on a raw TCP stream: the floor no TCP-based transport can beat.
    Tcp,
    /// RFC 6455 WebSocket, one text message per event.
    WebSocket,
    /// Server-Sent Events (`text/event-stream`), one `id:`/`data:` block per event.
    Sse,
    /// HTTP long polling: the server holds each request until an event after the cursor exists.
    LongPoll,
    /// HTTP short polling: the client asks at a fixed interval; the server answers at once.
    ShortPoll,
    /// Socket.IO v5 over Engine.IO v4's WebSocket transport: one `42["e",<body>]` text message
    /// per event, emitted to a room per topic (beyond the chapter).
    SocketIo,
    /// Socket.IO v5 over Engine.IO v4's HTTP long-polling transport, Socket.IO's fallback: each
    /// `GET` answers with the packets queued since the last one (beyond the chapter).
    SocketIoPolling,
    /// WebTransport over HTTP/3 (QUIC): one unidirectional stream per subscriber carrying the
    /// canonical event bodies framed as the floor frames them (beyond the chapter).
    WebTransport,
    /// WebTransport over HTTP/3: one QUIC datagram per event, unreliable, so an event may be lost
    /// and is then counted lost (beyond the chapter).
    WebTransportDatagram,
}

/// How a transport's clients send messages upstream (chat, game and collaboration scenarios).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendPath {
    /// On the client's own event connection (a `PUB` frame, a WebSocket message).
    Inline,
    /// Over a separate HTTP `POST /publish` connection, as a browser's `fetch` would.
    HttpPublish,
}

/// Where a transport's events are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// An HTTP path on the server's HTTP listener.
    Http(&'static str),
    /// The server's raw-TCP listener (its own port).
    RawTcp,
    /// A WebTransport session path (the extended CONNECT's `:path`) on a UDP (QUIC) socket of the
    /// server's own: the HTTP listener's port number for [`Transport::WebTransport`], the
    /// raw-TCP listener's for [`Transport::WebTransportDatagram`] (UDP and TCP ports are apart).
    Quic(&'static str),
}

/// The chapter's claim about a technique (section 7.3.1's comparison table, in its Spanish words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChapterClaim {
    /// The technique as the chapter names it (`Short Polling`).
    pub technique: &'static str,
    /// The chapter's latency rating (`Alta`, `Media-Alta`, `Baja`, `Muy Baja`).
    pub latency: &'static str,
    /// The chapter's overhead rating (`Alta`, `Media`, `Baja`, `Muy Baja`).
    pub overhead: &'static str,
}

/// Everything rtbench knows about one transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportSpec {
    /// The transport this describes.
    pub transport: Transport,
    /// The fixed name used on the command line, in metrics labels and in results JSON.
    pub name: &'static str,
    /// The name a reader sees in tables and legends.
    pub label: &'static str,
    /// Where its events are served.
    pub endpoint: Endpoint,
    /// How its clients send upstream.
    pub send: SendPath,
    /// Whether clients ask at an interval (latency ≈ interval ÷ 2 by construction).
    pub polled: bool,
    /// Whether it is the floor every other row is divided by.
    pub floor: bool,
    /// Whether the regression gate holds its latency ratio to a tolerance (polled transports'
    /// latency is set by their interval, not by the code, so it is reported, not gated).
    pub latency_gated: bool,
    /// Its colour in every chart, RGB (Okabe–Ito palette, readable with colour blindness).
    pub colour: [u8; 3],
    /// The chapter's claim, for the chapter's four techniques (`None` for the floor and for
    /// transports beyond the chapter).
    pub chapter: Option<ChapterClaim>,
}

/// Every transport's spec, in [`Transport::ALL`] order (checked by a test).
pub const SPECS: [TransportSpec; 9] = [
    TransportSpec {
        transport: Transport::Tcp,
        name: "tcp",
        label: "raw TCP (floor)",
        endpoint: Endpoint::RawTcp,
        send: SendPath::Inline,
        polled: false,
        floor: true,
        latency_gated: false,
        colour: [0x44, 0x44, 0x44],
        chapter: None,
    },
    TransportSpec {
        transport: Transport::WebSocket,
        name: "websocket",
        label: "WebSocket",
        endpoint: Endpoint::Http("/ws"),
        send: SendPath::Inline,
        polled: false,
        floor: false,
        latency_gated: true,
        colour: [0x00, 0x72, 0xB2],
        chapter: Some(ChapterClaim {
            technique: "WebSockets",
            latency: "Muy Baja",
            overhead: "Muy Baja",
        }),
    },
    TransportSpec {
        transport: Transport::Sse,
        name: "sse",
        label: "SSE",
        endpoint: Endpoint::Http("/sse"),
        send: SendPath::HttpPublish,
        polled: false,
        floor: false,
        latency_gated: true,
        colour: [0x00, 0x9E, 0x73],
        chapter: Some(ChapterClaim {
            technique: "SSE",
            latency: "Baja",
            overhead: "Baja",
        }),
    },
    TransportSpec {
        transport: Transport::LongPoll,
        name: "long_poll",
        label: "long polling",
        endpoint: Endpoint::Http("/longpoll"),
        send: SendPath::HttpPublish,
        polled: false,
        floor: false,
        latency_gated: true,
        colour: [0xE6, 0x9F, 0x00],
        chapter: Some(ChapterClaim {
            technique: "Long Polling",
            latency: "Media-Alta",
            overhead: "Media",
        }),
    },
    TransportSpec {
        transport: Transport::ShortPoll,
        name: "short_poll",
        label: "short polling",
        endpoint: Endpoint::Http("/poll"),
        send: SendPath::HttpPublish,
        polled: true,
        floor: false,
        latency_gated: false,
        colour: [0xCC, 0x3D, 0x8F],
        chapter: Some(ChapterClaim {
            technique: "Short Polling",
            latency: "Alta",
            overhead: "Alta",
        }),
    },
    TransportSpec {
        transport: Transport::SocketIo,
        name: "socketio",
        label: "Socket.IO",
        endpoint: Endpoint::Http("/socket.io/"),
        send: SendPath::HttpPublish,
        polled: false,
        floor: false,
        latency_gated: true,
        colour: [0x56, 0xB4, 0xE9],
        chapter: None,
    },
    TransportSpec {
        transport: Transport::SocketIoPolling,
        name: "socketio_polling",
        label: "Socket.IO (polling)",
        endpoint: Endpoint::Http("/socket.io-polling/"),
        send: SendPath::HttpPublish,
        polled: false,
        floor: false,
        latency_gated: true,
        colour: [0xD5, 0x5E, 0x00],
        chapter: None,
    },
    TransportSpec {
        transport: Transport::WebTransport,
        name: "webtransport",
        label: "WebTransport (stream)",
        endpoint: Endpoint::Quic("/wt"),
        send: SendPath::HttpPublish,
        polled: false,
        floor: false,
        latency_gated: true,
        colour: [0xF0, 0xE4, 0x42],
        chapter: None,
    },
    TransportSpec {
        transport: Transport::WebTransportDatagram,
        name: "webtransport_datagram",
        label: "WebTransport (datagrams)",
        endpoint: Endpoint::Quic("/wt-datagram"),
        send: SendPath::HttpPublish,
        polled: false,
        floor: false,
        latency_gated: true,
        colour: [0x88, 0x44, 0xAA],
        chapter: None,
    },
];

impl Transport {
    /// Every transport, floor first, in the order rows are reported.
    pub const ALL: [Transport; 9] = [
        Transport::Tcp,
        Transport::WebSocket,
        Transport::Sse,
        Transport::LongPoll,
        Transport::ShortPoll,
        Transport::SocketIo,
        Transport::SocketIoPolling,
        Transport::WebTransport,
        Transport::WebTransportDatagram,
    ];

    /// The transports a run measures when none are named: the floor and the chapter's four
    /// techniques. Transports beyond the chapter ([`Transport::is_beyond`]) are measured when
    /// named (`--transports socketio,…`), so default runs and the committed baselines keep
    /// their rows.
    pub const DEFAULT: [Transport; 5] = [
        Transport::Tcp,
        Transport::WebSocket,
        Transport::Sse,
        Transport::LongPoll,
        Transport::ShortPoll,
    ];

    /// The transport every other row is divided by: no TCP-based transport can beat it.
    pub const FLOOR: Transport = Transport::Tcp;

    /// Its description.
    pub const fn spec(self) -> &'static TransportSpec {
        &SPECS[self as usize]
    }

    /// The fixed name used on the command line, in metrics labels and in results JSON.
    pub const fn as_str(self) -> &'static str {
        self.spec().name
    }

    /// The name a reader sees.
    pub const fn label(self) -> &'static str {
        self.spec().label
    }

    /// A dense index in [`Transport::ALL`] order, for per-transport arrays sized `ALL.len()`.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Whether this is [`Transport::FLOOR`].
    pub const fn is_floor(self) -> bool {
        self.spec().floor
    }

    /// Whether it is beyond the chapter: neither the floor nor one of the chapter's techniques.
    pub const fn is_beyond(self) -> bool {
        !self.spec().floor && self.spec().chapter.is_none()
    }

    /// Its HTTP path, if it is served on the HTTP listener.
    pub const fn http_path(self) -> Option<&'static str> {
        match self.spec().endpoint {
            Endpoint::Http(path) => Some(path),
            Endpoint::RawTcp | Endpoint::Quic(_) => None,
        }
    }

    /// Its WebTransport session path, if it is served over QUIC.
    pub const fn quic_path(self) -> Option<&'static str> {
        match self.spec().endpoint {
            Endpoint::Quic(path) => Some(path),
            Endpoint::Http(_) | Endpoint::RawTcp => None,
        }
    }

    /// Its HTTP path, for a transport known to be served over HTTP (a constant at the call site).
    ///
    /// # Panics
    /// For a transport with its own port (the raw-TCP floor, WebTransport): a programming error that every
    /// test of that call site would hit. Use [`Transport::http_path`] for a transport not known
    /// in advance.
    pub const fn path(self) -> &'static str {
        match self.spec().endpoint {
            Endpoint::Http(path) => path,
            Endpoint::RawTcp | Endpoint::Quic(_) => panic!("this transport has no HTTP path"),
        }
    }

    /// The transport served at HTTP `path`, if any.
    pub fn for_http_path(path: &str) -> Option<Transport> {
        Transport::ALL
            .into_iter()
            .find(|t| t.http_path() == Some(path))
    }

    /// Every transport's name joined with commas (`tcp,websocket,…`), in report order.
    pub fn all_names() -> String {
        let names: Vec<&str> = Transport::ALL.iter().map(|t| t.as_str()).collect();
        names.join(",")
    }

    /// [`Transport::DEFAULT`]'s names joined with commas: the command line's default list.
    pub fn default_names() -> String {
        let names: Vec<&str> = Transport::DEFAULT.iter().map(|t| t.as_str()).collect();
        names.join(",")
    }

    /// Parses a comma-separated list of names (`tcp,sse`), refusing unknown names and repeats.
    pub fn parse_list(list: &str) -> Result<Vec<Transport>, UnknownTransport> {
        let mut out: Vec<Transport> = Vec::new();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let t: Transport = name.parse()?;
            if !out.contains(&t) {
                out.push(t);
            }
        }
        if out.is_empty() {
            return Err(UnknownTransport(list.to_string()));
        }
        Ok(out)
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A transport name that is not one rtbench knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown transport '{0}' (expected one of: {names})", names = Transport::all_names())]
pub struct UnknownTransport(pub String);

impl FromStr for Transport {
    type Err = UnknownTransport;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Transport::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownTransport(s.to_string()))
    }
}

impl Serialize for Transport {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Transport {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_indices_are_dense() {
        for (i, t) in Transport::ALL.into_iter().enumerate() {
            assert_eq!(t.as_str().parse::<Transport>().unwrap(), t);
            assert_eq!(t.index(), i);
            assert_eq!(SPECS[i].transport, t, "SPECS is in ALL order");
        }
        assert!("ws".parse::<Transport>().is_err());
    }

    #[test]
    fn exactly_one_floor_and_it_is_first() {
        let floors: Vec<Transport> = Transport::ALL
            .into_iter()
            .filter(|t| t.is_floor())
            .collect();
        assert_eq!(floors, vec![Transport::FLOOR]);
        assert_eq!(Transport::ALL[0], Transport::FLOOR);
        assert!(!Transport::FLOOR.spec().latency_gated);
    }

    #[test]
    fn names_colours_and_paths_are_unique() {
        let mut names: Vec<&str> = SPECS.iter().map(|s| s.name).collect();
        let mut colours: Vec<[u8; 3]> = SPECS.iter().map(|s| s.colour).collect();
        let mut paths: Vec<&str> = Transport::ALL
            .iter()
            .filter_map(|t| t.http_path())
            .collect();
        for v in [&mut names, &mut paths] {
            let n = v.len();
            v.sort();
            v.dedup();
            assert_eq!(v.len(), n);
        }
        colours.sort();
        colours.dedup();
        assert_eq!(colours.len(), SPECS.len());
        for t in Transport::ALL {
            if let Some(p) = t.http_path() {
                assert_eq!(Transport::for_http_path(p), Some(t));
            }
        }
        assert_eq!(Transport::for_http_path("/publish"), None);
    }

    #[test]
    fn serialises_as_its_name_and_lists_parse() {
        let json = serde_json::to_string(&Transport::LongPoll).unwrap();
        assert_eq!(json, "\"long_poll\"");
        assert_eq!(
            serde_json::from_str::<Transport>(&json).unwrap(),
            Transport::LongPoll
        );
        assert!(serde_json::from_str::<Transport>("\"pigeon\"").is_err());
        assert_eq!(
            Transport::parse_list("sse, tcp,sse").unwrap(),
            vec![Transport::Sse, Transport::Tcp]
        );
        assert!(Transport::parse_list("sse,ws").is_err());
        assert!(Transport::parse_list("").is_err());
        assert_eq!(
            Transport::parse_list(&Transport::all_names()).unwrap(),
            Transport::ALL
        );
        assert_eq!(
            Transport::parse_list(&Transport::default_names()).unwrap(),
            Transport::DEFAULT
        );
    }

    #[test]
    fn the_default_is_the_floor_and_the_chapter_and_the_rest_is_beyond() {
        for t in Transport::ALL {
            assert_eq!(Transport::DEFAULT.contains(&t), !t.is_beyond(), "{t}");
        }
        assert!(Transport::SocketIo.is_beyond() && Transport::SocketIoPolling.is_beyond());
        assert!(Transport::WebTransport.is_beyond() && Transport::WebTransportDatagram.is_beyond());
        assert_eq!(Transport::WebTransport.quic_path(), Some("/wt"));
        assert_eq!(Transport::WebTransport.http_path(), None);
        assert_eq!(
            Transport::DEFAULT[..],
            Transport::ALL[..Transport::DEFAULT.len()]
        );
    }
}
