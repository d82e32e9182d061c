//! A TLS test client: rustls (ring) trusting exactly the certificates it is given, offering the
//! ALPN protocols it is given, over a socket that keeps a copy of every ciphertext byte it reads so
//! a test can count TLS records.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// TLS 1.3 content type of application data records.
const APPLICATION_DATA: u8 = 23;
/// TLS record header: content type, legacy version, length.
pub const RECORD_HEADER_BYTES: usize = 5;

/// A client config trusting only `trusted` (PEM certificates) and offering `alpn`.
pub fn config(trusted: &[&str], alpn: &[&str]) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for pem in trusted {
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    Arc::new(config)
}

/// Connects to `addr` and runs the handshake, naming the server by its IP address.
pub async fn connect(addr: SocketAddr, config: Arc<ClientConfig>) -> io::Result<Tls> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let tap = Tap {
        inner: stream,
        read: Arc::default(),
    };
    let read = tap.read.clone();
    let name = ServerName::IpAddress(addr.ip().into());
    let stream = TlsConnector::from(config).connect(name, tap).await?;
    Ok(Tls { stream, read })
}

/// A TLS connection and the ciphertext it has read so far.
pub struct Tls {
    /// The connection.
    pub stream: TlsStream<Tap>,
    /// Every byte read from the socket.
    pub read: Arc<Mutex<Vec<u8>>>,
}

impl Tls {
    /// The ALPN protocol the server chose.
    pub fn alpn(&self) -> Option<Vec<u8>> {
        self.stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec)
    }

    /// Ciphertext bytes read so far.
    pub fn ciphertext_read(&self) -> usize {
        self.read.lock().unwrap().len()
    }

    /// The application-data records among the ciphertext read from offset `from` on (which must
    /// be a record boundary); panics on a truncated record.
    pub fn records_since(&self, from: usize) -> usize {
        let read = self.read.lock().unwrap();
        let (mut at, mut records) = (from, 0);
        while at < read.len() {
            let header = &read[at..at + RECORD_HEADER_BYTES];
            let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
            records += usize::from(header[0] == APPLICATION_DATA);
            at += RECORD_HEADER_BYTES + len;
        }
        assert_eq!(at, read.len(), "a record was cut");
        records
    }
}

/// A socket that copies what it reads.
pub struct Tap {
    inner: TcpStream,
    read: Arc<Mutex<Vec<u8>>>,
}

impl AsyncRead for Tap {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let read = &buf.filled()[before..];
            this.read.lock().unwrap().extend_from_slice(read);
        }
        polled
    }
}

impl AsyncWrite for Tap {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
