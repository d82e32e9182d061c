//! How the load generator reaches the server on a [stack](rtbench_proto::Stack): a TCP connection,
//! with TLS over it when the server's HTTP listener speaks TLS ([`ClientTls`]). Every HTTP and
//! WebSocket connection the load generator opens — subscriptions, publish connections, the
//! control plane — goes through [`connect`], so none can skip TLS on a TLS stack.
//!
//! The client trusts exactly the certificate the server presents (its PEM, from `rtbench serve`'s
//! listening line or the test server) and nothing else, and offers ALPN `http/1.1`, or only `h2`
//! for the HTTP/2 clients ([`connect_h2`]). rustls runs on ring, passed to the config explicitly.

use crate::error::ClientError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Why a client TLS config could not be made from a certificate.
#[derive(Debug, thiserror::Error)]
pub enum TlsTrustError {
    /// The PEM holds no certificate, or a malformed one.
    #[error("server certificate PEM: {0}")]
    Pem(String),
    /// rustls refused the certificate as a trust anchor.
    #[error("server certificate: {0}")]
    Anchor(#[from] rustls::Error),
}

/// TLS towards one server: trusts only its certificate, offers ALPN `http/1.1` (or `h2`).
#[derive(Clone)]
pub struct ClientTls {
    connector: TlsConnector,
    /// The same trust, offering ALPN `h2` only.
    h2: TlsConnector,
    /// The certificates trusted, as given (a shard process builds its own handle from them).
    cert_pem: Arc<str>,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls").finish_non_exhaustive()
    }
}

impl PartialEq for ClientTls {
    /// Two handles are equal when they share one config (targets compare by address and trust).
    fn eq(&self, other: &ClientTls) -> bool {
        Arc::ptr_eq(self.connector.config(), other.connector.config())
    }
}

impl Eq for ClientTls {}

impl ClientTls {
    /// TLS trusting exactly the certificates in `cert_pem`.
    pub fn trusting(cert_pem: &str) -> Result<ClientTls, TlsTrustError> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(cert_pem.as_bytes()) {
            let cert = cert.map_err(|e| TlsTrustError::Pem(e.to_string()))?;
            roots.add(cert)?;
        }
        if roots.is_empty() {
            return Err(TlsTrustError::Pem("no certificate".into()));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        // Every client of this server shares the tickets, so a reconnect resumes (docs/stacks.md).
        let pool = crate::tls_sessions::TicketPool::new(crate::tls_sessions::TICKETS_PER_SERVER);
        config.resumption = rustls::client::Resumption::store(Arc::new(pool));
        Ok(ClientTls::from_config(config, cert_pem.into()))
    }

    /// The HTTP/1.1 connector on `config` and the `h2` one on a copy offering ALPN `h2` only; both
    /// share `config`'s session store.
    fn from_config(config: rustls::ClientConfig, cert_pem: Arc<str>) -> ClientTls {
        let mut h2 = config.clone();
        h2.alpn_protocols = vec![ALPN_H2.to_vec()];
        ClientTls {
            connector: TlsConnector::from(Arc::new(config)),
            h2: TlsConnector::from(Arc::new(h2)),
            cert_pem,
        }
    }

    /// The connector every TLS connection of this handle runs its handshake on (its config holds
    /// the session store that makes reconnects resume).
    pub fn connector(&self) -> &TlsConnector {
        &self.connector
    }

    /// The same trust and ALPN with `resumption` instead (the connect storm's own session store).
    pub fn with_resumption(&self, resumption: rustls::client::Resumption) -> ClientTls {
        let mut config = (**self.connector.config()).clone();
        config.resumption = resumption;
        ClientTls::from_config(config, self.cert_pem.clone())
    }

    /// The certificates this handle trusts, PEM, as [`ClientTls::trusting`] was given them.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }
}

impl ClientTls {
    /// This config for the rest of the process, as a [`crate::Target`] holds it (a target is
    /// `Copy`). Leaks one config (a few KiB): make one per server certificate, not per client.
    pub fn leak(self) -> &'static ClientTls {
        Box::leak(Box::new(self))
    }
}

/// A connection to the server: plaintext, or TLS over the socket.
#[derive(Debug)]
pub enum Stream {
    /// Plaintext.
    Plain(TcpStream),
    /// TLS (boxed: rustls' state is large).
    Tls(Box<TlsStream<TcpStream>>),
    /// Counted by the client-side meter of `run --target` ([`crate::target::meter`]).
    Metered(Box<crate::target::meter::Metered>),
}

impl Stream {
    /// The socket under any TLS.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref().0,
            Stream::Metered(m) => m.inner.tcp(),
        }
    }

    /// Whether this connection's TLS handshake resumed an earlier session (never, in plaintext).
    pub fn tls_resumed(&self) -> bool {
        match self {
            Stream::Plain(_) => false,
            Stream::Tls(s) => {
                s.get_ref().1.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
            }
            Stream::Metered(m) => m.inner.tls_resumed(),
        }
    }

    /// Makes closing the socket send a TCP reset (SO_LINGER 0), as a client that vanished would.
    pub fn set_zero_linger(&self) -> io::Result<()> {
        self.tcp().set_zero_linger()
    }
}

/// The ALPN name of HTTP/2 over TLS.
const ALPN_H2: &[u8] = b"h2";

/// Connects to `addr` with TCP_NODELAY (as the server sets on its side), then runs the TLS
/// handshake when `tls` is given, naming the server by its IP address.
pub async fn connect(addr: SocketAddr, tls: Option<&ClientTls>) -> Result<Stream, ClientError> {
    Ok(crate::target::meter::wrap(
        connect_unmetered(addr, tls).await?,
    ))
}

/// [`connect`], never counted by the client-side meter: the control plane's connections.
pub async fn connect_unmetered(
    addr: SocketAddr,
    tls: Option<&ClientTls>,
) -> Result<Stream, ClientError> {
    handshake(addr, tls.map(|t| &t.connector)).await
}

/// [`connect`] for an HTTP/2 client: over TLS it offers ALPN `h2` only and fails with
/// [`ClientError::NotH2`] unless the server picked it; plaintext needs nothing (prior knowledge).
pub async fn connect_h2(addr: SocketAddr, tls: Option<&ClientTls>) -> Result<Stream, ClientError> {
    let stream = handshake(addr, tls.map(|t| &t.h2)).await?;
    match &stream {
        Stream::Tls(s) if s.get_ref().1.alpn_protocol() != Some(ALPN_H2) => {
            Err(ClientError::NotH2 { addr })
        }
        _ => Ok(crate::target::meter::wrap(stream)),
    }
}

/// TCP to `addr`, then a TLS handshake through `tls` when given.
async fn handshake(addr: SocketAddr, tls: Option<&TlsConnector>) -> Result<Stream, ClientError> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(ClientError::connect(addr))?;
    stream
        .set_nodelay(true)
        .map_err(ClientError::SocketOption)?;
    let Some(tls) = tls else {
        return Ok(Stream::Plain(stream));
    };
    let name = ServerName::IpAddress(addr.ip().into());
    let stream = tls
        .connect(name, stream)
        .await
        .map_err(|source| ClientError::TlsHandshake { addr, source })?;
    Ok(Stream::Tls(Box::new(stream)))
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Stream::Metered(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Stream::Metered(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
            Stream::Metered(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
            Stream::Metered(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Stream::Metered(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Stream::Metered(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_needs_a_certificate() {
        let err = ClientTls::trusting("").unwrap_err();
        assert_eq!(err.to_string(), "server certificate PEM: no certificate");
        let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(ClientTls::trusting(garbage).is_err());
    }
}
