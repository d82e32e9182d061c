//! WebTransport over HTTP/3 clients (`wtransport`): a session opened with an extended CONNECT to
//! the row's path with `?topic=<topic>&after=<last seq held>`, on a QUIC connection of its own
//! (its own UDP socket, as a browser's `new WebTransport(url)` opens one per session unless
//! pooled). Two rows:
//!
//! - [`Stream`] (`webtransport`): the server opens one unidirectional stream and writes every event
//!   on it framed as the raw-TCP floor frames them ([`rtbench_proto::frame`]); the client reads the
//!   stream and decodes the frames.
//! - [`Datagrams`] (`webtransport_datagram`): one QUIC datagram per event (or gap notice), the body
//!   alone. A datagram lost on the way is never resent: the recorder counts it lost.
//!
//! After a lost session (closed, killed, refused) the client opens a new one with `after=` the
//! last event it holds. The server's certificate is self-signed: the client skips its validation
//! (`dangerous-configuration`), which is safe here only because every target is loopback
//! ([`crate::target::loopback_addr`] refuses any other host). A reset (fault injection) closes
//! the QUIC connection at once with an application close, QUIC's nearest to a TCP reset.

use super::subscription::{Carry, ClientCtx, RecvError, Subscription, protocol, record_message};
use crate::error::ClientError;
use crate::recorder::Recorder;
use bytes::BytesMut;
use rtbench_proto::Transport;
use rtbench_proto::frame::decode_frame;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use wtransport::{ClientConfig, Connection, Endpoint, RecvStream, VarInt};

/// Interval of the client's QUIC PINGs, under the server's 30 s idle timeout, so an idle
/// session (the idle scenario) stays open.
const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// Longest a session's handshake may take. A TCP connect to a closed port is refused at once;
/// QUIC over UDP hears nothing back (quinn ignores ICMP), so without a bound a client of a server
/// that is down would wait for QUIC's 30 s idle timeout.
const HANDSHAKE_LIMIT: Duration = Duration::from_secs(5);

/// A QUIC connection carrying one WebTransport session.
struct Session {
    conn: Connection,
    _endpoint: Endpoint<wtransport::endpoint::endpoint_side::Client>,
}

/// Opens `row`'s session for `ctx`'s topic after `after`.
async fn open(ctx: &ClientCtx, row: Transport, after: u64) -> Result<Session, ClientError> {
    let addr = match row {
        Transport::WebTransportDatagram => ctx.target.tcp,
        _ => ctx.target.http,
    };
    let path = row.quic_path().unwrap_or("/");
    let local: IpAddr = match addr {
        SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
        SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
    };
    let config = ClientConfig::builder()
        .with_bind_address(SocketAddr::new(local, 0))
        .with_no_cert_validation()
        .keep_alive_interval(Some(KEEP_ALIVE))
        .build();
    let endpoint = Endpoint::client(config).map_err(ClientError::io("WebTransport endpoint"))?;
    let url = format!("https://{addr}{path}?topic={}&after={after}", ctx.topic);
    let failed = ClientError::io("WebTransport connect");
    let conn = match tokio::time::timeout(HANDSHAKE_LIMIT, endpoint.connect(url)).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => return Err(failed(std::io::Error::other(e))),
        Err(_) => return Err(failed(std::io::ErrorKind::TimedOut.into())),
    };
    Ok(Session {
        conn,
        _endpoint: endpoint,
    })
}

impl Session {
    fn reset(self) {
        self.conn.close(VarInt::from_u32(0), b"reset");
    }
}

/// The `webtransport` row's client: events read off one unidirectional stream.
pub(super) struct Stream {
    session: Session,
    stream: RecvStream,
    buf: BytesMut,
}

impl Subscription for Stream {
    const TRANSPORT: Transport = Transport::WebTransport;

    async fn connect(ctx: &ClientCtx, _carry: &Carry, after: u64) -> Result<Stream, ClientError> {
        let session = open(ctx, Self::TRANSPORT, after).await?;
        let stream = session
            .conn
            .accept_uni()
            .await
            .map_err(|e| ClientError::io("WebTransport stream")(std::io::Error::other(e)))?;
        Ok(Stream {
            session,
            stream,
            buf: BytesMut::with_capacity(8192),
        })
    }

    async fn recv(
        &mut self,
        _ctx: &ClientCtx,
        rec: &mut Recorder,
        _carry: &mut Carry,
    ) -> Result<(), RecvError> {
        let n = self
            .stream
            .read_buf(&mut self.buf)
            .await
            .map_err(ClientError::io("read"))?;
        if n == 0 {
            return Err(ClientError::Ended("WebTransport stream ended").into());
        }
        while let Some(frame) = decode_frame(&mut self.buf).map_err(protocol)? {
            record_message(&frame, rec)?;
        }
        Ok(())
    }

    fn reset(self) {
        self.session.reset();
    }
}

/// The `webtransport_datagram` row's client: one event per datagram.
pub(super) struct Datagrams {
    session: Session,
}

impl Subscription for Datagrams {
    const TRANSPORT: Transport = Transport::WebTransportDatagram;

    async fn connect(
        ctx: &ClientCtx,
        _carry: &Carry,
        after: u64,
    ) -> Result<Datagrams, ClientError> {
        let session = open(ctx, Self::TRANSPORT, after).await?;
        Ok(Datagrams { session })
    }

    async fn recv(
        &mut self,
        _ctx: &ClientCtx,
        rec: &mut Recorder,
        _carry: &mut Carry,
    ) -> Result<(), RecvError> {
        let datagram = self
            .session
            .conn
            .receive_datagram()
            .await
            .map_err(|e| ClientError::io("WebTransport datagram")(std::io::Error::other(e)))?;
        record_message(&datagram.payload(), rec)
    }

    fn reset(self) {
        self.session.reset();
    }
}
