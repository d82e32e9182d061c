//! TLS on the HTTP listener (`rtbench serve --tls`): the certificate — generated at start with
//! rcgen for 127.0.0.1, localhost and ::1, or read from PEM files — the rustls server config, and
//! the IO a connection is served over ([`ConnIo`]).
//!
//! One crypto provider, ring, is passed to the config explicitly (`builder_with_provider`); the
//! workspace never enables aws-lc-rs, so rustls never has two providers to choose from (which
//! makes it panic at start). ALPN offers `h2`, then `http/1.1` ([`TLS_ALPN`]).
//!
//! TLS sits *above* the byte meter: the meter wraps the `TcpStream`, TLS wraps the meter, so the
//! meter counts ciphertext — records, handshakes and alerts — exactly what the kernel counts.

use rtbench_proto::TlsSetting;
use rtbench_proto::settings::TLS_ALPN;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::ServerSessionMemoryCache;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::TlsAcceptor;

/// TLS 1.3 sessions the server remembers for resumption (stateful tickets: the client holds a
/// 32-byte ticket, the server the session). rustls sends two tickets per connection, so this is
/// enough for 32,768 clients to reconnect resumed; an entry is about 150 bytes, held only once
/// used, so a full cache is about 10 MiB of the server's memory (counted in its RSS, as a
/// production server's would be). rustls' default is 256.
pub const SESSION_CACHE_ENTRIES: usize = 65_536;

/// The names a generated certificate is valid for.
pub const SELF_SIGNED_NAMES: [&str; 3] = ["127.0.0.1", "localhost", "::1"];

/// Why the listener's TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rcgen could not generate the self-signed certificate.
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// A PEM file could not be read or holds nothing usable.
    #[error("{what} '{path}': {reason}")]
    Pem {
        /// Which file: "certificate" or "private key".
        what: &'static str,
        /// Its path.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// rustls refused the certificate and key (e.g. a key that does not match the certificate).
    #[error("the certificate and key do not make a TLS config: {0}")]
    Config(#[from] rustls::Error),
}

/// A certificate and its private key, both PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertPem {
    /// The certificate chain, leaf first.
    pub cert: String,
    /// The private key.
    pub key: String,
}

impl CertPem {
    /// A new self-signed certificate for [`SELF_SIGNED_NAMES`] (ECDSA P-256).
    pub fn self_signed() -> Result<CertPem, TlsError> {
        let names = SELF_SIGNED_NAMES.map(String::from).to_vec();
        let certified = rcgen::generate_simple_self_signed(names)?;
        Ok(CertPem {
            cert: certified.cert.pem(),
            key: certified.signing_key.serialize_pem(),
        })
    }

    /// The certificate and key read from the PEM files `cert` and `key`.
    pub fn read(cert: &str, key: &str) -> Result<CertPem, TlsError> {
        let read = |what, path: &str| {
            std::fs::read_to_string(path).map_err(|e| TlsError::Pem {
                what,
                path: path.to_string(),
                reason: e.to_string(),
            })
        };
        Ok(CertPem {
            cert: read("certificate", cert)?,
            key: read("private key", key)?,
        })
    }
}

/// The HTTP listener's TLS: the acceptor, the setting it came from and its certificate.
#[derive(Clone)]
pub struct ServerTls {
    acceptor: TlsAcceptor,
    setting: TlsSetting,
    cert_pem: String,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("setting", &self.setting)
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    /// The TLS `setting` asks for: `None` when it is off; a certificate generated now for
    /// [`TlsSetting::SelfSigned`]; the files' for [`TlsSetting::Files`].
    pub fn new(setting: &TlsSetting) -> Result<Option<ServerTls>, TlsError> {
        let pem = match setting {
            TlsSetting::Off => return Ok(None),
            TlsSetting::SelfSigned => CertPem::self_signed()?,
            TlsSetting::Files { cert, key } => CertPem::read(cert, key)?,
        };
        ServerTls::from_pem(&pem, setting.clone()).map(Some)
    }

    /// TLS with `pem`'s certificate and key, recorded in the settings as `setting`.
    pub fn from_pem(pem: &CertPem, setting: TlsSetting) -> Result<ServerTls, TlsError> {
        let chain = CertificateDer::pem_slice_iter(pem.cert.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem_error("certificate", &setting, e.to_string()))?;
        if chain.is_empty() {
            return Err(pem_error("certificate", &setting, "no certificate".into()));
        }
        let key = PrivateKeyDer::from_pem_slice(pem.key.as_bytes())
            .map_err(|e| pem_error("private key", &setting, e.to_string()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = TLS_ALPN.iter().map(|p| p.as_bytes().to_vec()).collect();
        config.session_storage = ServerSessionMemoryCache::new(SESSION_CACHE_ENTRIES);
        Ok(ServerTls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            setting,
            cert_pem: pem.cert.clone(),
        })
    }

    /// The certificate clients should trust, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Where the certificate came from, as the settings record it.
    pub fn setting(&self) -> &TlsSetting {
        &self.setting
    }

    /// The acceptor each connection's handshake runs on.
    pub(crate) fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}

/// A [`TlsError::Pem`] for `what` of `setting`.
fn pem_error(what: &'static str, setting: &TlsSetting, reason: String) -> TlsError {
    let path = match setting {
        TlsSetting::Files { cert, key } => if what == "certificate" { cert } else { key }.clone(),
        _ => "(generated)".to_string(),
    };
    TlsError::Pem { what, path, reason }
}

/// A connection's IO: the metered socket as is, or TLS over it.
pub(crate) enum ConnIo<S> {
    /// Plaintext.
    Plain(S),
    /// TLS over `S` (boxed: rustls' state is large, and a plaintext connection should not carry
    /// its size).
    Tls(Box<tokio_rustls::server::TlsStream<S>>),
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for ConnIo<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ConnIo::Plain(s) => Pin::new(s).poll_read(cx, buf),
            ConnIo::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for ConnIo<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ConnIo::Plain(s) => Pin::new(s).poll_write(cx, buf),
            ConnIo::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ConnIo::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            ConnIo::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            ConnIo::Plain(s) => s.is_write_vectored(),
            ConnIo::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ConnIo::Plain(s) => Pin::new(s).poll_flush(cx),
            ConnIo::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ConnIo::Plain(s) => Pin::new(s).poll_shutdown(cx),
            ConnIo::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_certificate_makes_a_config_and_bad_pem_is_a_clear_error() {
        let tls = ServerTls::new(&TlsSetting::SelfSigned).unwrap().unwrap();
        assert!(tls.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(tls.setting(), &TlsSetting::SelfSigned);
        assert!(ServerTls::new(&TlsSetting::Off).unwrap().is_none());
        let missing = TlsSetting::Files {
            cert: "/nonexistent/cert.pem".into(),
            key: "/nonexistent/key.pem".into(),
        };
        let err = ServerTls::new(&missing).unwrap_err().to_string();
        assert!(
            err.starts_with("certificate '/nonexistent/cert.pem': "),
            "{err}"
        );
        let mut pem = CertPem::self_signed().unwrap();
        pem.key = CertPem::self_signed().unwrap().key;
        let err = ServerTls::from_pem(&pem, TlsSetting::SelfSigned).unwrap_err();
        assert!(
            matches!(err, TlsError::Config(_)),
            "a key of another certificate: {err}"
        );
        pem.cert = "not pem".into();
        let err = ServerTls::from_pem(&pem, TlsSetting::SelfSigned).unwrap_err();
        assert!(err.to_string().contains("no certificate"), "{err}");
    }
}
