//! Cleartext HTTP/2 with prior knowledge (h2c, RFC 9113 §3.3) on the plain HTTP listener: a
//! connection that opens with the client preface `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` is HTTP/2 from
//! its first byte, and goes to hyper's HTTP/2 connection with whatever was already read.
//!
//! The lean path notices the preface itself (its head parser hands it over as not its own, and
//! `http.rs` checks the bytes it read); with `--http-engine stock` [`sniff`] reads just enough of a
//! new connection to tell, since hyper's HTTP/1 connection would refuse the preface. Hand-written:
//! hyper-util's auto builder does the same, but would bring a second HTTP/1 configuration path
//! and no bound on how long the first bytes may take.

use crate::lean::Prefixed;
use std::io;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// The HTTP/2 client connection preface.
pub(crate) const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Whether `buf` (non-empty) is the start of the preface, or the preface and more.
pub(crate) fn starts_preface(buf: &[u8]) -> bool {
    let n = buf.len().min(PREFACE.len());
    n > 0 && buf[..n] == PREFACE[..n]
}

/// What [`sniff`] found.
#[derive(Debug)]
pub(crate) enum Sniffed<I> {
    /// The preface (or its start, then the client stopped): HTTP/2.
    H2(Prefixed<I>),
    /// Anything else: HTTP/1.
    Http1(Prefixed<I>),
}

/// Reads `io` until its bytes are the whole preface or are not it, within `timeout` of the start;
/// the IO comes back with those bytes to read again. `Err` when the client leaves or is too slow.
pub(crate) async fn sniff<I: AsyncRead + Unpin>(
    mut io: I,
    timeout: Duration,
) -> io::Result<Sniffed<I>> {
    let mut read = Vec::new();
    let sniffing = async {
        let mut chunk = [0u8; PREFACE.len()];
        loop {
            let n = io.read(&mut chunk[..PREFACE.len() - read.len()]).await?;
            if n == 0 {
                return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
            }
            read.extend_from_slice(&chunk[..n]);
            if !starts_preface(&read) || read.len() == PREFACE.len() {
                return Ok::<bool, io::Error>(starts_preface(&read));
            }
        }
    };
    let h2 = tokio::time::timeout(timeout, sniffing)
        .await
        .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
    let io = Prefixed::new(read, io);
    Ok(if h2 {
        Sniffed::H2(io)
    } else {
        Sniffed::Http1(io)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[test]
    fn the_preface_and_its_starts_are_recognised_and_nothing_else() {
        assert!(starts_preface(PREFACE));
        assert!(starts_preface(b"PRI * HTTP/2"));
        assert!(starts_preface(&[PREFACE, b"\0\0\x12\x04"].concat()));
        assert!(!starts_preface(b""));
        assert!(!starts_preface(b"POST /publish HTTP/1.1\r\n"));
        assert!(!starts_preface(b"PRI * HTTP/1.1\r\n"));
    }

    #[tokio::test]
    async fn sniffing_tells_h2_from_http1_and_gives_every_byte_back() {
        for (sent, h2) in [
            (&[PREFACE, b"\0\0\0\x04\0\0\0\0\0"].concat()[..], true),
            (&b"GET /sse HTTP/1.1\r\n\r\n"[..], false),
        ] {
            let (mut near, far) = tokio::io::duplex(64);
            near.write_all(sent).await.unwrap();
            near.shutdown().await.unwrap();
            let sniffed = sniff(far, Duration::from_secs(5)).await.unwrap();
            let mut io = match (sniffed, h2) {
                (Sniffed::H2(io), true) | (Sniffed::Http1(io), false) => io,
                (other, _) => panic!("{sent:?} sniffed as {other:?}"),
            };
            let mut again = Vec::new();
            io.read_to_end(&mut again).await.unwrap();
            assert_eq!(again, sent);
        }
        let (_near, far) = tokio::io::duplex(64);
        let slow = sniff(far, Duration::from_millis(10)).await.unwrap_err();
        assert_eq!(slow.kind(), io::ErrorKind::TimedOut);
    }
}
