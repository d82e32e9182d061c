//! WebTransport over HTTP/3, served by `wtransport` (on quinn), as two rows, each on a UDP socket
//! of its own so every QUIC datagram's bytes belong to one row:
//!
//! - `webtransport`: on UDP at the HTTP listener's address (the same port number, as HTTP/3 shares
//!   `https`' port). The server opens ONE unidirectional stream per session and writes on it the
//!   canonical event bodies (and gap notices) framed exactly as the raw-TCP floor frames them
//!   ([`rtbench_proto::frame`]: a 4-byte big-endian length, then the body), back to back.
//! - `webtransport_datagram`: on UDP at the raw-TCP listener's address. One QUIC datagram per
//!   event, carrying the body alone (a datagram has its own boundaries). Datagrams are never
//!   retransmitted: one lost on the way, or dropped by quinn's send or receive buffer, is lost,
//!   and the client counts it lost. An event larger than the session's datagram size is sent as
//!   a gap notice `{"dropped":1}` instead, so the client counts it lost too.
//!
//! A client opens a session with an extended CONNECT to the row's path with the query
//! `topic=<topic>&after=<last seq held>`, as the other transports' `after=` (resume after a lost
//! session: nothing is lost on the stream row while the ring holds the missed events). A bad query
//! or topic gets a 404/403, a session over `--max-connections` a 429. A fault-injection kill
//! (`POST /faults/close`) and shutdown close the QUIC connection; the client resumes.
//!
//! Bytes are counted at the UDP socket ([`MeteredUdp`] wraps quinn's tokio socket): every
//! datagram sent or received, handshakes, acknowledgements, keep-alives and closes included,
//! credited to the socket's row. The server's certificate is a self-signed one made at start
//! (`wtransport::Identity::self_signed`, 14 days, as WebTransport's certificate hashes require).

use crate::hub::{Event, Topic, release_if_large};
use crate::meter::{ConnMeter, Meters};
use crate::params::Params;
use crate::state::{ConnSlot, State};
use bytes::BytesMut;
use quinn::udp::{RecvMeta, Transmit};
use quinn::{AsyncUdpSocket, Runtime, TokioRuntime, UdpPoller};
use rtbench_proto::Transport;
use rtbench_proto::event::encode_gap;
use rtbench_proto::frame::encode_frame;
use rtbench_proto::limits::MAX_EVENTS_PER_RESPONSE;
use std::fmt;
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use wtransport::endpoint::{IncomingSessionFuture, SessionRequest};
use wtransport::{Connection, Identity, VarInt};

/// Keep-alive the server asks of nobody: the client sends PINGs (see the client); a session
/// silent for this long is closed by QUIC's idle timeout.
const MAX_IDLE: Duration = Duration::from_secs(30);

/// Serves both WebTransport rows until shutdown: `webtransport` on UDP at `http`'s address,
/// `webtransport_datagram` on UDP at `tcp`'s. A row whose socket cannot be bound is logged and
/// not served (its clients fail to connect; nothing else stops).
pub(crate) async fn serve(
    http: SocketAddr,
    tcp: SocketAddr,
    state: Arc<State>,
    alive: mpsc::Sender<()>,
) {
    tokio::join!(
        serve_row(Transport::WebTransport, http, state.clone(), alive.clone()),
        serve_row(Transport::WebTransportDatagram, tcp, state, alive),
    );
}

/// Accepts `row`'s sessions on UDP `addr` until shutdown.
async fn serve_row(row: Transport, addr: SocketAddr, state: Arc<State>, alive: mpsc::Sender<()>) {
    let endpoint = match endpoint(addr, row, state.meters.clone()) {
        Ok(endpoint) => endpoint,
        Err(e) => {
            tracing::warn!("{row}: cannot serve WebTransport on udp {addr}: {e}");
            return;
        }
    };
    let mut shutdown = state.shutdown();
    loop {
        let incoming = tokio::select! {
            incoming = endpoint.accept() => match incoming {
                Some(incoming) => incoming,
                None => return,
            },
            () = shutdown.wait() => break,
        };
        tokio::spawn(session(incoming, row, state.clone(), alive.clone()));
    }
    endpoint.close(quinn::VarInt::from_u32(0), b"shutdown");
}

/// A quinn endpoint with wtransport's HTTP/3 server configuration on a metered UDP socket.
fn endpoint(addr: SocketAddr, row: Transport, meters: Arc<Meters>) -> io::Result<quinn::Endpoint> {
    let identity = Identity::self_signed(["localhost", "127.0.0.1", "::1"])
        .map_err(|e| io::Error::other(e.to_string()))?;
    let config = wtransport::ServerConfig::builder()
        .with_bind_address(addr)
        .with_identity(identity)
        .max_idle_timeout(Some(MAX_IDLE))
        .map_err(|e| io::Error::other(e.to_string()))?
        .build();
    let socket = std::net::UdpSocket::bind(addr)?;
    socket.set_nonblocking(true)?;
    let inner = TokioRuntime.wrap_udp_socket(socket)?;
    let metered = Arc::new(MeteredUdp {
        inner,
        meters,
        bucket: row.index(),
    });
    quinn::Endpoint::new_with_abstract_socket(
        config.quic_endpoint_config().clone(),
        Some(config.quic_config().clone()),
        metered,
        Arc::new(TokioRuntime),
    )
}

/// What a session asked for in its CONNECT's query.
struct Subscribe {
    topic: String,
    after: u64,
}

/// Reads `topic` and `after` from a CONNECT `:path`.
fn subscribe_of(path: &str) -> Option<Subscribe> {
    let params = Params::from_target(path).ok()?;
    Some(Subscribe {
        topic: params.topic().ok()?.to_string(),
        after: params.after().ok()?,
    })
}

/// One session: handshake, admission, then events until it ends, is killed or the server stops.
async fn session(
    incoming: quinn::Incoming,
    row: Transport,
    state: Arc<State>,
    alive: mpsc::Sender<()>,
) {
    let Ok(request) = IncomingSessionFuture::with_quic_incoming(incoming).await else {
        return;
    };
    let Some(admitted) = admit(request, row, &state).await else {
        return;
    };
    let Admitted {
        conn,
        sub,
        topic,
        slot,
    } = admitted;
    let meter = state
        .faults
        .track(ConnMeter::new(state.meters.clone(), alive));
    meter.tag(row.index());
    let mut shutdown = state.shutdown();
    let feed = Feed::new(topic, sub.after, state.config.limits.batch_bytes);
    let delivered = &state.meters.buckets[row.index()].events_delivered;
    let delivery = async {
        match row {
            Transport::WebTransportDatagram => datagrams(&conn, feed, delivered).await,
            _ => stream(&conn, feed, delivered).await,
        }
    };
    tokio::select! {
        _ = delivery => {}
        () = meter.killed() => {}
        () = shutdown.wait() => {}
        _ = conn.closed() => {}
    }
    conn.close(VarInt::from_u32(0), b"");
    drop(slot);
}

/// An accepted session.
struct Admitted {
    conn: Connection,
    sub: Subscribe,
    topic: Arc<Topic>,
    slot: ConnSlot,
}

/// Answers the CONNECT: a 404 for another path or a bad query, a 429 over `--max-connections`, a
/// 403 for a topic the hub refuses; else accepts it.
async fn admit(request: SessionRequest, row: Transport, state: &Arc<State>) -> Option<Admitted> {
    let path = request.path();
    let ours = path.split('?').next() == row.quic_path();
    let Some(sub) = subscribe_of(path).filter(|_| ours) else {
        request.not_found().await;
        return None;
    };
    let Some(slot) = state.connection_slot() else {
        request.too_many_requests().await;
        return None;
    };
    let Ok(topic) = state.hub.topic(&sub.topic) else {
        request.forbidden().await;
        return None;
    };
    let conn = request.accept().await.ok()?;
    Some(Admitted {
        conn,
        sub,
        topic,
        slot,
    })
}

/// The stream row: opens one unidirectional stream and writes every event after the cursor on
/// it, floor-framed, waiting for new ones; returns when the stream or connection fails.
async fn stream(conn: &Connection, mut feed: Feed, delivered: &AtomicU64) -> Option<()> {
    let mut out = conn.open_uni().await.ok()?.await.ok()?;
    let mut buf = BytesMut::new();
    loop {
        let (dropped, events) = feed.next().await?;
        if dropped > 0 {
            encode_frame(&encode_gap(dropped), &mut buf);
        }
        for event in events {
            encode_frame(&event.body, &mut buf);
        }
        delivered.fetch_add(events.len() as u64, Ordering::Relaxed);
        out.write_all(&buf).await.ok()?;
        buf.clear();
    }
}

/// The datagram row: sends every event after the cursor as one datagram each (a gap notice for
/// an event larger than the datagram size), waiting for new ones; returns when the connection
/// fails.
async fn datagrams(conn: &Connection, mut feed: Feed, delivered: &AtomicU64) -> Option<()> {
    loop {
        let (dropped, events) = feed.next().await?;
        if dropped > 0 {
            conn.send_datagram(encode_gap(dropped)).ok()?;
        }
        let max = conn.max_datagram_size().unwrap_or(0);
        for event in events {
            if event.body.len() <= max {
                conn.send_datagram(event.body.clone()).ok()?;
                delivered.fetch_add(1, Ordering::Relaxed);
            } else {
                conn.send_datagram(encode_gap(1)).ok()?;
            }
        }
    }
}

/// One session's read position in its topic: bounded batches of the events after its cursor.
struct Feed {
    topic: Arc<Topic>,
    published: watch::Receiver<u64>,
    cursor: u64,
    batch_bytes: usize,
    batch: Vec<Event>,
}

impl Feed {
    /// Reads `topic` after `after`, at most `batch_bytes` of bodies per batch.
    fn new(topic: Arc<Topic>, after: u64, batch_bytes: usize) -> Feed {
        let mut published = topic.subscribe();
        published.borrow_and_update();
        Feed {
            topic,
            published,
            cursor: after,
            batch_bytes,
            batch: Vec::new(),
        }
    }

    /// The next batch (events left the ring before it, and the events), waiting for one; `None`
    /// when the topic's publisher side is gone.
    async fn next(&mut self) -> Option<(u64, &[Event])> {
        loop {
            self.batch.clear();
            let dropped = self.topic.read_bounded_into(
                self.cursor,
                MAX_EVENTS_PER_RESPONSE,
                self.batch_bytes,
                &mut self.batch,
            );
            if let Some(last) = self.batch.last() {
                self.cursor = last.seq;
                return Some((dropped, &self.batch));
            }
            release_if_large(&mut self.batch);
            self.published.changed().await.ok()?;
        }
    }
}

/// quinn's tokio UDP socket, counting every datagram's bytes into one row's bucket.
pub(crate) struct MeteredUdp {
    inner: Arc<dyn AsyncUdpSocket>,
    meters: Arc<Meters>,
    bucket: usize,
}

impl fmt::Debug for MeteredUdp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MeteredUdp")
            .field("bucket", &self.bucket)
            .finish_non_exhaustive()
    }
}

impl AsyncUdpSocket for MeteredUdp {
    fn create_io_poller(self: Arc<Self>) -> Pin<Box<dyn UdpPoller>> {
        self.inner.clone().create_io_poller()
    }

    fn try_send(&self, transmit: &Transmit) -> io::Result<()> {
        self.inner.try_send(transmit)?;
        let bucket = &self.meters.buckets[self.bucket];
        // A GSO batch's `contents` holds all of its segments.
        let bytes = transmit.contents.len() as u64;
        bucket.bytes_sent.fetch_add(bytes, Ordering::Relaxed);
        Ok(())
    }

    fn poll_recv(
        &self,
        cx: &mut Context,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> Poll<io::Result<usize>> {
        let n = std::task::ready!(self.inner.poll_recv(cx, bufs, meta))?;
        let bucket = &self.meters.buckets[self.bucket];
        // A GRO batch's `len` covers all of its segments.
        let bytes: usize = meta[..n].iter().map(|m| m.len).sum();
        bucket
            .bytes_received
            .fetch_add(bytes as u64, Ordering::Relaxed);
        Poll::Ready(Ok(n))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn max_transmit_segments(&self) -> usize {
        self.inner.max_transmit_segments()
    }

    fn max_receive_segments(&self) -> usize {
        self.inner.max_receive_segments()
    }

    fn may_fragment(&self) -> bool {
        self.inner.may_fragment()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_paths_give_topic_and_cursor() {
        let sub = subscribe_of("/wt?topic=news&after=42").unwrap();
        assert_eq!((sub.topic.as_str(), sub.after), ("news", 42));
        assert_eq!(subscribe_of("/wt?topic=news").unwrap().after, 0);
        assert!(subscribe_of("/wt?after=1").is_none());
        assert!(subscribe_of("/wt?topic=bad%20name").is_none());
        assert!(subscribe_of("/wt?topic=t&after=x").is_none());
    }
}
