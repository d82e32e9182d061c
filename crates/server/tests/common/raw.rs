//! A raw HTTP/1.1 client socket, for tests that check bytes on the wire.

use super::{STEP, within};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A raw client socket and what it has read.
pub struct Raw {
    /// The socket.
    pub stream: TcpStream,
    /// Bytes read and not yet taken.
    pub buf: Vec<u8>,
}

impl Raw {
    /// Connects to `addr` with Nagle off.
    pub async fn connect(addr: SocketAddr) -> Raw {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Raw {
            stream,
            buf: Vec::new(),
        }
    }

    /// Writes all of `bytes`.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// Reads until `self.buf` holds at least `n` bytes.
    pub async fn fill(&mut self, n: usize) {
        within(STEP, async {
            while self.buf.len() < n {
                let mut chunk = [0u8; 4096];
                let got = self.stream.read(&mut chunk).await.unwrap();
                assert!(got > 0, "server closed early");
                self.buf.extend_from_slice(&chunk[..got]);
            }
        })
        .await;
    }

    /// Reads one response head; returns the status line, the header lines and the head's length.
    pub async fn head(&mut self) -> (String, Vec<String>, usize) {
        within(STEP, async {
            loop {
                if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8(self.buf[..end].to_vec()).unwrap();
                    self.buf.drain(..end + 4);
                    let mut lines = head.split("\r\n").map(str::to_string);
                    let status = lines.next().unwrap();
                    return (status, lines.collect(), end + 4);
                }
                let have = self.buf.len();
                self.fill(have + 1).await;
            }
        })
        .await
    }

    /// Takes exactly `n` bytes after the head.
    pub async fn take(&mut self, n: usize) -> Vec<u8> {
        self.fill(n).await;
        self.buf.drain(..n).collect()
    }
}
