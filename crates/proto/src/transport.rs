//! The five transports rtbench measures, with their fixed names.

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
}

impl Transport {
    /// Every transport, floor first, in the order rows are reported.
    pub const ALL: [Transport; 5] = [
        Transport::Tcp,
        Transport::WebSocket,
        Transport::Sse,
        Transport::LongPoll,
        Transport::ShortPoll,
    ];

    /// The fixed name used on the command line, in metrics labels and in results JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::WebSocket => "websocket",
            Transport::Sse => "sse",
            Transport::LongPoll => "long_poll",
            Transport::ShortPoll => "short_poll",
        }
    }

    /// A dense index `0..5` in [`Transport::ALL`] order, for per-transport counter arrays.
    pub const fn index(self) -> usize {
        match self {
            Transport::Tcp => 0,
            Transport::WebSocket => 1,
            Transport::Sse => 2,
            Transport::LongPoll => 3,
            Transport::ShortPoll => 4,
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A transport name that is not one of the five.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown transport '{0}' (expected one of: tcp, websocket, sse, long_poll, short_poll)")]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_indices_are_dense() {
        for (i, t) in Transport::ALL.into_iter().enumerate() {
            assert_eq!(t.as_str().parse::<Transport>().unwrap(), t);
            assert_eq!(t.index(), i);
        }
        assert!("ws".parse::<Transport>().is_err());
    }
}
