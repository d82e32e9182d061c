//! Cleartext HTTP/2 with prior knowledge (h2c, RFC 9113 §3.3) on the plain HTTP listener: a
//! connection that opens with the client preface `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` is HTTP/2 from
//! its first byte, and goes to hyper's HTTP/2 connection with whatever was already read.
//!
//! The lean path notices the preface itself (its head parser hands it over as not its own, and
//! `http.rs` checks the bytes it read); with `--http-engine stock` [`peek`] looks at the first
//! bytes of a new connection without reading them, since hyper's HTTP/1 connection would refuse
//! the preface. Peeking, not reading: hyper then gets the socket itself. (Reading the bytes and
//! replaying them through a wrapper cost about 10 KiB of server memory per connection, measured
//! by the idle scenario.) Hand-written: hyper-util's auto builder does the same, but would bring a
//! second HTTP/1 configuration path and no bound on how long the first bytes may take.

use std::io;
use std::time::Duration;
use tokio::net::TcpStream;

/// The HTTP/2 client connection preface.
pub(crate) const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Whether `buf` (non-empty) is the start of the preface, or the preface and more.
pub(crate) fn starts_preface(buf: &[u8]) -> bool {
    let n = buf.len().min(PREFACE.len());
    n > 0 && buf[..n] == PREFACE[..n]
}

/// How long to wait before peeking again when only the start of the preface has arrived (a peek
/// would return the same bytes at once).
const PARTIAL_PREFACE_RECHECK: Duration = Duration::from_millis(5);

/// Waits, within `timeout`, until the first bytes of `stream` are the whole preface or are not it,
/// without reading them: `true` for the preface (HTTP/2). `Err` when the client leaves first or is
/// too slow.
pub(crate) async fn peek(stream: &TcpStream, timeout: Duration) -> io::Result<bool> {
    let peeking = async {
        let mut buf = [0u8; PREFACE.len()];
        loop {
            let n = stream.peek(&mut buf).await?;
            if n == 0 {
                return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
            }
            let seen = &buf[..n];
            if !starts_preface(seen) || n == PREFACE.len() {
                return Ok(starts_preface(seen));
            }
            tokio::time::sleep(PARTIAL_PREFACE_RECHECK).await;
        }
    };
    tokio::time::timeout(timeout, peeking)
        .await
        .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
    async fn peeking_tells_h2_from_http1_and_leaves_every_byte_to_read() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let preface_in_two = [&PREFACE[..10], &PREFACE[10..], b"\0\0\0\x04\0\0\0\0\0"];
        let cases: [(&[&[u8]], bool); 2] = [
            (&preface_in_two, true),
            (&[b"GET /sse HTTP/1.1\r\n\r\n"], false),
        ];
        for (pieces, h2) in cases {
            let mut client = TcpStream::connect(addr).await.unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            for piece in pieces {
                client.write_all(piece).await.unwrap();
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            client.shutdown().await.unwrap();
            assert_eq!(peek(&server, Duration::from_secs(5)).await.unwrap(), h2);
            let mut again = Vec::new();
            server.read_to_end(&mut again).await.unwrap();
            assert_eq!(again, pieces.concat(), "nothing was consumed");
        }
        let _quiet = TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let slow = peek(&server, Duration::from_millis(10)).await.unwrap_err();
        assert_eq!(slow.kind(), io::ErrorKind::TimedOut);
    }
}
