//! The load generator's errors: why a run could not be completed ([`LoadError`]), why a
//! configuration cannot be run ([`ConfigError`]), and why a client's connection, request or
//! publish failed ([`ClientError`], one typed error for every wire the load generator speaks: raw
//! TCP, WebSocket, HTTP/1.1). Each message is one line, and is what a user, a row's notes or a
//! failed phase show.

use hyper::StatusCode;
use std::net::SocketAddr;
use std::time::Duration;
use tokio_tungstenite::tungstenite;

/// Why a run could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// One point of a sweep is unusable.
    #[error("sweep point {point}: {error}")]
    Point {
        /// The point's `key=value` label.
        point: String,
        /// What is wrong with it.
        error: ConfigError,
    },
    /// Repetitions could not be combined into one row.
    #[error("combining repetitions: {0}")]
    Combine(String),
    /// A latency interval log could not be written.
    #[error("latency interval log {path}: {source}")]
    IntervalLog {
        /// The log's path.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The server's control plane failed (schedule or metrics).
    #[error("server control request failed: {0}")]
    Control(String),
    /// The delay proxy for the network conditions could not start.
    #[error("cannot start the delay proxy: {0}")]
    Proxy(String),
    /// A load-generator shard process failed, or did not answer in time ([`crate::shard`]).
    #[error("load-generator shard {shard} of {shards}: {why}")]
    Shard {
        /// The shard's number, from 1.
        shard: u32,
        /// Shards of the phase.
        shards: u32,
        /// What went wrong.
        why: String,
    },
    /// A shard result file could not be written, read or understood ([`crate::shard::files`]).
    #[error("shard result {path}: {why}")]
    ShardFile {
        /// The file.
        path: std::path::PathBuf,
        /// What went wrong.
        why: String,
    },
    /// Shards on other hosts could not join or were lost ([`crate::shard::remote`]).
    #[error("remote shards: {0}")]
    RemoteShards(String),
    /// A phase needs more open files than a process may have.
    #[error("{0}")]
    OpenFiles(String),
    /// Clients could not connect.
    #[error("{transport}: {failed} of {clients} clients failed to connect; first error: {first}")]
    Connect {
        /// Transport of the phase.
        transport: &'static str,
        /// Clients that failed.
        failed: u64,
        /// Clients started.
        clients: u64,
        /// First error seen.
        first: String,
    },
}

/// A configuration that cannot be run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A value outside its allowed range.
    #[error("{name} must be {rule} (got {got})")]
    OutOfRange {
        /// The setting.
        name: &'static str,
        /// The rule it breaks.
        rule: String,
        /// The value given.
        got: String,
    },
}

/// A client-side failure on one connection.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The TCP connection could not be opened.
    #[error("connect {addr}: {source}")]
    Connect {
        /// Where it tried to connect.
        addr: SocketAddr,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The TLS handshake failed (e.g. the server's certificate is not the one trusted).
    #[error("TLS handshake with {addr}: {source}")]
    TlsHandshake {
        /// The server.
        addr: SocketAddr,
        /// What rustls said.
        source: std::io::Error,
    },
    /// A socket option could not be set.
    #[error("{0}")]
    SocketOption(std::io::Error),
    /// Reading from or writing to a raw socket failed (`what`: `read`, `sending SUB`, ...).
    #[error("{what}: {source}")]
    Io {
        /// The operation.
        what: &'static str,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The HTTP/1.1 handshake failed.
    #[error("HTTP handshake: {0}")]
    Handshake(hyper::Error),
    /// An accepted HTTP/2 extended CONNECT did not become a stream.
    #[error("WebSocket over HTTP/2: {0}")]
    Upgrade(hyper::Error),
    /// A TLS server did not pick HTTP/2 for a client that offered only ALPN `h2`.
    #[error("TLS handshake with {addr}: the server did not pick ALPN h2")]
    NotH2 {
        /// The server.
        addr: SocketAddr,
    },
    /// The HTTP connection closed before the next request could be sent.
    #[error("connection closed: {0}")]
    Closed(hyper::Error),
    /// A request could not be built.
    #[error("{0}")]
    BadRequest(hyper::http::Error),
    /// A request failed on the wire.
    #[error("{method} {path}: {source}")]
    Request {
        /// `GET` or `POST`.
        method: &'static str,
        /// Path and query.
        path: String,
        /// What hyper said.
        source: hyper::Error,
    },
    /// The server answered with a non-2xx status.
    #[error("{method} {path}: status {status}")]
    Status {
        /// `GET` or `POST`.
        method: &'static str,
        /// Path and query.
        path: String,
        /// The status.
        status: StatusCode,
    },
    /// A response body failed while it was read (`what`: `reading body`, `SSE stream`, ...).
    #[error("{what}: {source}")]
    Body {
        /// What was being read.
        what: &'static str,
        /// What hyper said.
        source: hyper::Error,
    },
    /// The peer ended a stream or connection (the message says which).
    #[error("{0}")]
    Ended(&'static str),
    /// The WebSocket handshake failed.
    #[error("WebSocket handshake: {0}")]
    WebSocketHandshake(tungstenite::Error),
    /// A WebSocket read failed.
    #[error("WebSocket: {0}")]
    WebSocket(tungstenite::Error),
    /// A WebSocket write failed.
    #[error("WebSocket send: {0}")]
    WebSocketSend(tungstenite::Error),
    /// The server closed the WebSocket with a close frame.
    #[error("server closed the WebSocket: {0:?}")]
    WebSocketClosed(Option<tungstenite::protocol::CloseFrame>),
    /// The server sent something outside the protocol.
    #[error("{0}")]
    Protocol(String),
    /// A send on the subscription's own socket, for a transport that publishes over HTTP.
    #[error("this transport publishes on connections of its own")]
    NoInlineSend,
    /// One connection attempt took too long.
    #[error("connect timed out after {0:?}")]
    ConnectTimeout(Duration),
    /// Not every client connected in time.
    #[error("timed out after {0:?}")]
    ReadyTimeout(Duration),
    /// The client aborted its own connection (fault injection).
    #[error("reset by the client")]
    ResetByClient,
    /// Reconnection attempts ran out.
    #[error("gave up after {attempts} reconnection attempts; last error: {last}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last attempt's error.
        last: Box<ClientError>,
    },
    /// An HTTP sender's first publish connection failed.
    #[error("publish connection: {0}")]
    PublishConnection(Box<ClientError>),
}

impl ClientError {
    /// `connect addr` failed with `source`.
    pub(crate) fn connect(addr: SocketAddr) -> impl FnOnce(std::io::Error) -> ClientError {
        move |source| ClientError::Connect { addr, source }
    }

    /// `what` failed on a raw socket.
    pub(crate) fn io(what: &'static str) -> impl FnOnce(std::io::Error) -> ClientError {
        move |source| ClientError::Io { what, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_the_ones_rows_show() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let e = ClientError::connect(addr)(refused);
        assert!(e.to_string().starts_with("connect 127.0.0.1:9: "), "{e}");
        let gave_up = ClientError::GaveUp {
            attempts: 60,
            last: Box::new(ClientError::ConnectTimeout(Duration::from_secs(10))),
        };
        assert_eq!(
            gave_up.to_string(),
            "gave up after 60 reconnection attempts; last error: connect timed out after 10s"
        );
        let status = ClientError::Status {
            method: "GET",
            path: "/poll?topic=t".into(),
            status: StatusCode::SERVICE_UNAVAILABLE,
        };
        assert_eq!(
            status.to_string(),
            "GET /poll?topic=t: status 503 Service Unavailable"
        );
        assert_eq!(
            ClientError::Ended("SSE stream ended").to_string(),
            "SSE stream ended"
        );
    }
}
