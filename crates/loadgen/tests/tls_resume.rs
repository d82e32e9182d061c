//! TLS session resumption on reconnect (`docs/stacks.md`, connection cost): every client of a run
//! shares one client config, so a client that reconnects resumes its TLS 1.3 session with a
//! ticket the server gave an earlier connection — a PSK handshake with no Certificate and no
//! CertificateVerify message, shorter by what the protocol predicts. Sized for the clients: more
//! clients reconnect resumed than rustls' default stores hold (8 tickets per server on the
//! client, 256 sessions on the server).

use rtbench_loadgen::stack::{self, ClientTls, Stream};
use rtbench_server::testing::TestServer;
use rtbench_server::{ServerSettings, TlsSetting};
use rustls::HandshakeKind;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// Clients that connect, then reconnect: more than rustls' default server cache (256 sessions)
/// can resume, with two tickets per connection.
const CLIENTS: usize = 300;
/// The bound on each step.
const STEP: Duration = Duration::from_secs(10);

async fn tls_server() -> (TestServer, &'static ClientTls) {
    let settings = ServerSettings {
        tls: TlsSetting::SelfSigned,
        ..ServerSettings::default()
    };
    let server = TestServer::start(settings).await.unwrap();
    let tls = ClientTls::trusting(server.server.tls_cert_pem().unwrap())
        .unwrap()
        .leak();
    (server, tls)
}

/// Asks `/healthz` on `stream` and reads the answer to the end: the tickets the server sends after
/// the handshake are read (and stored) on the way.
async fn healthz<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S) {
    let request = b"GET /healthz HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n";
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    // rustls reports a peer that closes without close_notify as an error, after the data.
    let _ = stream.read_to_end(&mut answer).await;
    assert!(answer.starts_with(b"HTTP/1.1 200 OK\r\n"));
}

/// Connects through the load generator's connector: the stream and how its handshake went.
async fn connect(addr: SocketAddr, tls: &ClientTls) -> (Stream, HandshakeKind) {
    let stream = tokio::time::timeout(STEP, stack::connect(addr, Some(tls)))
        .await
        .unwrap()
        .unwrap();
    let Stream::Tls(tls_stream) = &stream else {
        panic!("a TLS stream");
    };
    let kind = tls_stream.get_ref().1.handshake_kind().unwrap();
    (stream, kind)
}

#[tokio::test]
async fn every_client_of_a_run_reconnects_resumed() {
    let (server, tls) = tls_server().await;
    // All connect before any reads its tickets, as a run's clients subscribe at once.
    let mut first = Vec::new();
    for _ in 0..CLIENTS {
        let (stream, kind) = connect(server.http, tls).await;
        assert_eq!(kind, HandshakeKind::Full);
        first.push(stream);
    }
    for mut stream in first {
        tokio::time::timeout(STEP, healthz(&mut stream))
            .await
            .unwrap();
    }
    // All reconnect before any reads its new tickets, as after a mass drop.
    let mut resumed = 0;
    let mut second = Vec::new();
    for _ in 0..CLIENTS {
        let (stream, kind) = connect(server.http, tls).await;
        resumed += usize::from(kind == HandshakeKind::Resumed);
        second.push(stream);
    }
    assert_eq!(resumed, CLIENTS, "every reconnect resumes");
    for mut stream in second {
        tokio::time::timeout(STEP, healthz(&mut stream))
            .await
            .unwrap();
    }
}

/// A socket that counts the bytes read from and written to it.
struct Counted {
    inner: TcpStream,
    read: usize,
    written: usize,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.read += buf.filled().len() - before;
        poll
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = poll {
            self.written += n;
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// One handshake through `tls`' connector: its kind and the bytes the server sent for it.
async fn handshake_bytes(addr: SocketAddr, tls: &ClientTls) -> (HandshakeKind, usize) {
    let socket = TcpStream::connect(addr).await.unwrap();
    let counted = Counted {
        inner: socket,
        read: 0,
        written: 0,
    };
    let name = ServerName::IpAddress(addr.ip().into());
    let mut stream = tokio::time::timeout(STEP, tls.connector().connect(name, counted))
        .await
        .unwrap()
        .unwrap();
    let (counted, conn) = stream.get_ref();
    let result = (conn.handshake_kind().unwrap(), counted.read);
    assert!(counted.written > 0);
    tokio::time::timeout(STEP, healthz(&mut stream))
        .await
        .unwrap();
    result
}

#[tokio::test]
async fn a_resumed_handshake_is_shorter_by_the_certificate_and_its_signature() {
    let (server, tls) = tls_server().await;
    let cert_der_bytes = CertificateDer::pem_slice_iter(tls.cert_pem().as_bytes())
        .next()
        .unwrap()
        .unwrap()
        .len();
    let (full_kind, full) = handshake_bytes(server.http, tls).await;
    let (resumed_kind, resumed) = handshake_bytes(server.http, tls).await;
    assert_eq!(
        (full_kind, resumed_kind),
        (HandshakeKind::Full, HandshakeKind::Resumed)
    );
    // A full TLS 1.3 server flight carries, beyond a resumed one's, a Certificate message (4-byte
    // handshake header, 1-byte context length, 3-byte list length, 3-byte certificate length, the
    // DER, 2-byte extensions length) and a CertificateVerify (4-byte header, 2-byte scheme, 2-byte
    // length, an ECDSA P-256 DER signature of 8 to 72 bytes); a resumed ServerHello carries the
    // 6-byte pre_shared_key extension the full one lacks. Each message may be a record of its own
    // (22 bytes each under TLS 1.3).
    let certificate = 4 + 1 + 3 + 3 + cert_der_bytes + 2;
    let (verify_min, verify_max) = (4 + 2 + 2 + 8, 4 + 2 + 2 + 72);
    let psk_extension = 6;
    let least = certificate + verify_min - psk_extension;
    let most = certificate + verify_max + 2 * 22 - psk_extension;
    let saved = full - resumed;
    assert!(
        (least..=most).contains(&saved),
        "full {full} B, resumed {resumed} B: saved {saved} B, predicted {least}..={most}"
    );
}
