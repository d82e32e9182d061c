//! The lean HTTP/1.1 path: rtbench's own responder for the three endpoints that carry events over
//! HTTP — `GET /poll`, `GET /longpoll` and `GET /sse` — with hyper serving everything else.
//!
//! Why: those connections spend their life waiting, and hyper keeps an 8 KiB read buffer and an
//! 8 KiB write buffer for every connection for its whole life (a touched 4 KiB page of each stays
//! resident), which alone breaks the 8 KiB per idle connection budget. Here a waiting connection
//! holds no buffer at all: bytes are read through a buffer on the stack and kept only while a
//! head is incomplete, and each response is built, written and freed.
//!
//! The bytes on the wire are hyper's (see [`wire`]), and every request the lean path does not take
//! (see [`head`]) — including each malformed or refused one — goes to hyper with the bytes already
//! read, so answers and errors are the same whichever side serves a connection. Once hyper has a
//! connection it keeps it. A WebSocket handshake leaves the lean path for tokio-tungstenite on the
//! same socket, without hyper (`crate::ws::serve_lean`). `--http-engine stock` sends every
//! connection to hyper instead.
//!
//! This module reads heads and writes responses; it calls no endpoint. `http.rs` runs the request
//! loop, dispatches each head to its endpoint's `serve_lean`, and does the hand-off to hyper.

pub(crate) mod head;
mod prefixed;
pub(crate) mod wire;

use crate::degrade::Delayed;
use crate::meter::{ConnHandle, ConnMeter, Metered};
use crate::refusal::{self, Limit};
use crate::state::{Shutdown, State};
use crate::tls::ConnIo;
use head::{Head, Parsed};
pub(crate) use prefixed::Prefixed;
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Poll, ready};
use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// The socket under any TLS: fault delay over the byte meter.
pub(crate) type Plain = Delayed<Metered<TcpStream>>;
/// The socket as every HTTP/1.1 connection sees it: [`Plain`], or TLS over it.
pub(crate) type Io = ConnIo<Plain>;

/// Bytes one read can take (a stack buffer, so an idle connection holds none).
const READ_CHUNK: usize = 2048;
/// Longest a refused connection is read (and discarded) before it is closed.
const LINGER: std::time::Duration = std::time::Duration::from_secs(1);
/// Most bytes a refused connection is read (and discarded) before it is closed.
const LINGER_BYTES: usize = 1 << 20;

/// What a served request leaves the connection to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Served {
    /// Answered; read the next request.
    KeepAlive,
    /// Over: the client left, a write failed, the stream ended or the server is stopping.
    Close,
    /// Not taken (e.g. a bad query): nothing was written; hyper answers it.
    Declined,
}

/// How a connection leaves the lean path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Drop the connection.
    Close,
    /// Hand it to hyper with the bytes already read ([`Conn::into_hyper_io`]).
    Hyper,
    /// A WebSocket handshake (its head, and the head's length): the connection becomes a
    /// WebSocket served by tokio-tungstenite on the socket itself (`crate::ws::serve_lean`).
    WebSocket(Box<Head>, usize),
}

/// One connection on the lean path.
pub(crate) struct Conn {
    io: Io,
    /// Bytes read but not yet consumed; empty, without allocation, while idle between requests.
    pending: Vec<u8>,
    meter: Arc<ConnMeter>,
    state: Arc<State>,
}

impl Conn {
    /// A connection on the lean path, nothing read yet.
    pub(crate) fn new(io: Io, meter: Arc<ConnMeter>, state: Arc<State>) -> Conn {
        Conn {
            io,
            pending: Vec::new(),
            meter,
            state,
        }
    }

    /// Reads until the next request is a whole head: the head the lean path takes and its length,
    /// or how the connection leaves the lean path (a request for hyper, the client gone,
    /// `shutdown` while idle between requests, a head over `--max-head-bytes` (answered 431), no
    /// request within `--idle-timeout`, or a head not finished within `--header-read-timeout` of
    /// its first byte).
    pub(crate) async fn next_request(
        &mut self,
        shutdown: &mut Shutdown,
    ) -> Result<(Head, usize), Exit> {
        let limits = &self.state.config.limits;
        let (max_head_bytes, header_timeout) =
            (limits.max_head_bytes, limits.header_read_timeout());
        let mut deadline = Instant::now() + limits.idle_timeout();
        let mut head_started = false;
        loop {
            match head::parse(&self.pending, max_head_bytes) {
                Parsed::Partial => {}
                Parsed::Lean(head, len) if head.route == head::Route::WebSocket => {
                    return Err(Exit::WebSocket(Box::new(head), len));
                }
                Parsed::Lean(head, len) => return Ok((head, len)),
                Parsed::Hyper => return Err(Exit::Hyper),
                Parsed::TooLarge => {
                    refusal::hit(Limit::MaxHeadBytes, "request head too large (431)");
                    if self
                        .write(&wire::head_too_large(max_head_bytes))
                        .await
                        .is_ok()
                    {
                        self.linger().await;
                    }
                    return Err(Exit::Close);
                }
            }
            let idle = self.pending.is_empty();
            if !idle && !head_started {
                head_started = true;
                deadline = Instant::now() + header_timeout;
            }
            let read = tokio::select! {
                read = self.read_some(true) => read,
                // Between requests a stopping server closes the connection, as hyper does.
                () = shutdown.wait(), if idle => return Err(Exit::Close),
                () = tokio::time::sleep_until(deadline) => {
                    let (limit, what) = if idle {
                        (Limit::IdleTimeout, "no request in time")
                    } else {
                        (Limit::HeaderReadTimeout, "request head not finished in time")
                    };
                    refusal::hit(limit, what);
                    return Err(Exit::Close);
                }
            };
            if !matches!(read, Ok(n) if n > 0) {
                return Err(Exit::Close);
            }
        }
    }

    /// Done with the request whose head was `len` bytes and which an endpoint `served`: `None` to
    /// read the next request, or how the connection leaves the lean path.
    pub(crate) fn finish(&mut self, served: Served, len: usize) -> Option<Exit> {
        match served {
            Served::KeepAlive => {
                self.pending.drain(..len);
                if self.pending.is_empty() {
                    self.pending = Vec::new();
                }
                None
            }
            Served::Close => Some(Exit::Close),
            Served::Declined => Some(Exit::Hyper),
        }
    }

    /// The connection's IO for hyper (or tungstenite): the bytes read but not consumed, then the
    /// socket.
    pub(crate) fn into_hyper_io(self) -> Prefixed<Io> {
        Prefixed::new(self.pending, self.io)
    }

    /// The bytes read but not yet consumed.
    pub(crate) fn pending(&self) -> &[u8] {
        &self.pending
    }

    /// The server's shared state.
    pub(crate) fn state(&self) -> &Arc<State> {
        &self.state
    }

    /// The meter handle the endpoints count deliveries on.
    pub(crate) fn handle(&self) -> ConnHandle {
        ConnHandle(self.meter.clone())
    }

    /// Counts `head` as a request of this connection (tagging the connection by its first one).
    pub(crate) fn count_request(&self, head: &Head) {
        self.meter.on_lean_request(head.path(), head.query());
    }

    /// Writes all of `bytes`.
    pub(crate) async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.io.write_all(bytes).await?;
        self.io.flush().await
    }

    /// After a refusal: ends the sending side, then reads and discards what the client still sends
    /// (at most [`LINGER_BYTES`], for at most [`LINGER`]), so closing does not reset the connection
    /// before the client has read the answer.
    async fn linger(&mut self) {
        let _ = self.io.shutdown().await;
        let _ = tokio::time::timeout(LINGER, async {
            let mut discarded = 0;
            while discarded < LINGER_BYTES {
                match self.read_some(false).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => discarded += n,
                }
            }
        })
        .await;
    }

    /// Resolves when the client closes the connection (or it fails). Bytes it sends meanwhile are
    /// kept for the next request when `keep` (up to one head's worth, then reading pauses), else
    /// discarded.
    pub(crate) async fn closed(&mut self, keep: bool) {
        loop {
            if keep && self.pending.len() > self.state.config.limits.max_head_bytes {
                std::future::pending::<()>().await;
            }
            match self.read_some(keep).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    }

    /// Reads once through a stack buffer, appending to `pending` when `keep`; returns the count
    /// (0 at end of stream). Cancel-safe: bytes are only ever taken inside one poll.
    async fn read_some(&mut self, keep: bool) -> io::Result<usize> {
        std::future::poll_fn(|cx| {
            let mut space = [MaybeUninit::<u8>::uninit(); READ_CHUNK];
            let mut buf = ReadBuf::uninit(&mut space);
            ready!(Pin::new(&mut self.io).poll_read(cx, &mut buf))?;
            if keep {
                self.pending.extend_from_slice(buf.filled());
            }
            Poll::Ready(Ok(buf.filled().len()))
        })
        .await
    }
}
