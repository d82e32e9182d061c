//! The raw-TCP floor's socket, plaintext or TLS: what its connection task and its topic's fan-out
//! (`tcp_fanout.rs`) share. Both only ever make non-blocking calls on it — `try_write`,
//! `try_read_buf` — and wait for readiness, so the fan-out can write a caught-up socket without a
//! task per connection.
//!
//! On a TLS stack (`--tls`) the floor is TLS too: its listener runs the same handshake as the HTTP
//! listener (same certificate, rustls on ring, bounded by `--header-read-timeout`, over the byte
//! meter so the meter counts ciphertext), then hands the connection's rustls state to this socket.
//! Why hand-written: tokio-rustls offers only `AsyncRead`/`AsyncWrite`, which need a task polling
//! them, while the fan-out writes many sockets from one task with plain non-blocking writes.
//! rustls' own non-async API ([`ServerConnection`]) does exactly that, under a short lock.
//!
//! The least work per delivery TLS allows: each connection has its own keys and sequence numbers,
//! so the frames the fan-out encoded once are encrypted once *per connection* — one `try_write`
//! seals them into one TLS record (one record per write up to 16 KiB of plaintext; rustls adds no
//! padding: 5 bytes of header, 1 of inner content type, 16 of AEAD tag, so a delivery costs its
//! plaintext frame + 22 bytes) and writes the ciphertext in the same non-blocking write. What the
//! socket does not take stays in rustls' buffer (the plaintext is accepted whole, so the frames are
//! never split across the fast and slow paths); [`FloorIo::pending`] then says so, the fan-out
//! hands the socket back as it does a partial plaintext write, and the connection task flushes the
//! rest when the socket is writable before catching up from its cursor. Plaintext sockets take the
//! same path with nothing pending, as before.

use crate::meter::{ConnMeter, Metered};
use crate::refusal::{self, Limit};
use crate::state::State;
use bytes::BytesMut;
use parking_lot::Mutex;
use rustls::ServerConnection;
use std::io::{self, ErrorKind, Read, Write};
use std::sync::Arc;
use tokio::net::TcpStream;

/// A floor connection's socket: plaintext, or TLS over the metered socket.
#[derive(Debug)]
pub(crate) enum FloorIo {
    /// Plaintext TCP.
    Plain(Metered<TcpStream>),
    /// TLS: the metered socket and the connection's rustls state (boxed: it is large).
    Tls(Metered<TcpStream>, Box<Mutex<ServerConnection>>),
}

/// The socket as rustls' `read_tls`/`write_tls` see it: non-blocking and metered.
struct Wire<'a>(&'a Metered<TcpStream>);

impl Read for Wire<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}

impl Write for Wire<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes the ciphertext `tls` holds to `socket` until it has none or the socket is full.
fn flush_tls(socket: &Metered<TcpStream>, tls: &mut ServerConnection) -> io::Result<()> {
    while tls.wants_write() {
        match tls.write_tls(&mut Wire(socket)) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl FloorIo {
    /// The metered socket under any TLS.
    fn tcp(&self) -> &Metered<TcpStream> {
        match self {
            FloorIo::Plain(s) | FloorIo::Tls(s, _) => s,
        }
    }

    /// The connection's meter.
    pub(crate) fn meter(&self) -> &ConnMeter {
        self.tcp().meter()
    }

    /// Writes what the socket takes now of `buf` without waiting; returns the bytes of `buf`
    /// taken. TLS: first writes any ciphertext still pending (`WouldBlock`, taking nothing, if the
    /// socket cannot take it all), then seals all of `buf` and writes what the socket takes.
    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        let (socket, tls) = match self {
            FloorIo::Plain(s) => return s.try_write(buf),
            FloorIo::Tls(s, tls) => (s, tls),
        };
        let mut tls = tls.lock();
        flush_tls(socket, &mut tls)?;
        if tls.wants_write() {
            return Err(ErrorKind::WouldBlock.into());
        }
        let taken = tls.writer().write(buf)?;
        flush_tls(socket, &mut tls)?;
        Ok(taken)
    }

    /// Whether bytes already taken by [`FloorIo::try_write`] still wait to be written (TLS
    /// ciphertext the socket did not take); never for plaintext.
    pub(crate) fn pending(&self) -> bool {
        match self {
            FloorIo::Plain(_) => false,
            FloorIo::Tls(_, tls) => tls.lock().wants_write(),
        }
    }

    /// Reads what has arrived into `buf` without waiting (0 at end of stream); TLS: the plaintext
    /// of the records that have arrived, `WouldBlock` while none is whole.
    pub(crate) fn try_read_buf(&self, buf: &mut BytesMut) -> io::Result<usize> {
        let (socket, tls) = match self {
            FloorIo::Plain(s) => return s.try_read_buf(buf),
            FloorIo::Tls(s, tls) => (s, tls),
        };
        let mut tls = tls.lock();
        loop {
            if let Some(n) = take_plaintext(&mut tls, buf)? {
                return Ok(n);
            }
            match tls.read_tls(&mut Wire(socket)) {
                Ok(0) => return Ok(0),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
            if let Err(e) = tls.process_new_packets() {
                // Tell the client why (the alert rustls queued), then end the connection.
                let _ = flush_tls(socket, &mut tls);
                return Err(io::Error::new(ErrorKind::InvalidData, e));
            }
        }
    }

    /// Waits until the socket may be written.
    pub(crate) async fn writable(&self) -> io::Result<()> {
        self.tcp().writable().await
    }

    /// Waits until [`FloorIo::try_read_buf`] may have something: at once when TLS holds
    /// plaintext already (e.g. a frame that came with the handshake's last flight).
    pub(crate) async fn readable(&self) -> io::Result<()> {
        if let FloorIo::Tls(_, tls) = self {
            let state = tls.lock().process_new_packets();
            if state.is_ok_and(|s| s.plaintext_bytes_to_read() > 0 || s.peer_has_closed()) {
                return Ok(());
            }
        }
        self.tcp().readable().await
    }
}

/// Moves the plaintext `tls` holds into `buf`: `Some(n)` if there was any (or the peer closed:
/// `Some(0)`), `None` when more ciphertext must be read first.
fn take_plaintext(tls: &mut ServerConnection, buf: &mut BytesMut) -> io::Result<Option<usize>> {
    let mut total = 0;
    loop {
        let start = buf.len();
        buf.resize(start + 4096, 0);
        let read = tls.reader().read(&mut buf[start..]);
        buf.truncate(start + *read.as_ref().unwrap_or(&0));
        match read {
            Ok(0) if total == 0 => return Ok(Some(0)),
            Ok(0) => return Ok(Some(total)),
            Ok(n) => total += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                return Ok((total > 0).then_some(total));
            }
            Err(e) => return Err(e),
        }
    }
}

/// The socket of a floor connection just accepted: plaintext, or — when the server speaks TLS —
/// after a TLS handshake bounded by `--header-read-timeout`. `None` (the connection is dropped)
/// when the handshake fails, times out, the server stops or a fault kills the connection.
pub(crate) async fn accept(
    socket: Metered<TcpStream>,
    meter: Arc<ConnMeter>,
    state: &State,
) -> Option<FloorIo> {
    let Some(tls) = &state.tls else {
        return Some(FloorIo::Plain(socket));
    };
    let mut shutdown = state.shutdown();
    let timeout = state.config.limits.header_read_timeout();
    let accepted = tokio::select! {
        accepted = tokio::time::timeout(timeout, tls.acceptor().accept(socket)) => accepted,
        () = shutdown.wait() => return None,
        () = meter.killed() => return None,
    };
    let (socket, connection) = match accepted {
        Ok(Ok(stream)) => stream.into_inner(),
        Ok(Err(e)) => {
            tracing::debug!("raw-TCP TLS handshake failed: {e}");
            return None;
        }
        Err(_) => {
            refusal::hit(
                Limit::HeaderReadTimeout,
                "raw-TCP TLS handshake not finished in time",
            );
            return None;
        }
    };
    Some(FloorIo::Tls(socket, Box::new(Mutex::new(connection))))
}
