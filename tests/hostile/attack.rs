//! The attacker's tools: raw sockets speaking just enough of each protocol to misbehave on
//! purpose — WebSocket frames built by hand (a client library would refuse to send them), raw-TCP
//! frames, SSE and long-poll requests that are never read.

use bytes::BytesMut;
use rtbench_proto::frame::encode_frame;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A connection with short timeouts either way, so no attack can hang a test.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    s.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
    s
}

/// Opens a WebSocket on `/ws?topic=…` by hand; returns the socket after the 101.
pub fn ws_open(addr: SocketAddr, topic: &str) -> TcpStream {
    let mut s = connect(addr);
    let head = format!(
        "GET /ws?topic={topic} HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\
         sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    let got = read_until(&mut s, b"\r\n\r\n", Duration::from_secs(3));
    assert!(got.starts_with(b"HTTP/1.1 101"), "no upgrade: {got:?}");
    s
}

/// A client WebSocket frame: FIN set, `opcode`, masked with `mask` unless `None`.
pub fn ws_frame(opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![0x80 | opcode];
    let bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(bit | n as u8),
        n if n <= 0xffff => {
            out.push(bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(m) => {
            out.extend_from_slice(&m);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ m[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// The close code of the first CLOSE frame the server sends within 3 s, if any (other frames
/// before it are skipped).
pub fn ws_close_code(s: &mut TcpStream) -> Option<u16> {
    let got = read_all(s, Duration::from_secs(3));
    let mut at = 0;
    while at + 2 <= got.len() {
        let opcode = got[at] & 0x0f;
        let (len, head) = match got[at + 1] & 0x7f {
            126 => (
                u16::from_be_bytes([*got.get(at + 2)?, *got.get(at + 3)?]) as usize,
                4,
            ),
            127 => return None,
            n => (n as usize, 2),
        };
        if opcode == 0x8 {
            let p = got.get(at + head..at + head + 2)?;
            return Some(u16::from_be_bytes([p[0], p[1]]));
        }
        at += head + len;
    }
    None
}

/// A raw-TCP frame carrying `body`.
pub fn tcp_frame(body: &[u8]) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode_frame(body, &mut out);
    out.to_vec()
}

/// Whether the server closed `s` (EOF or reset) within `within`; data it sends first is skipped.
pub fn closed_by_server(s: &mut TcpStream, within: Duration) -> bool {
    let end = Instant::now() + within;
    let mut buf = [0u8; 16 * 1024];
    while Instant::now() < end {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if is_timeout(&e) => {}
            Err(_) => return true,
        }
    }
    false
}

/// Reads until `needle` has arrived, EOF, or `within` passed.
pub fn read_until(s: &mut TcpStream, needle: &[u8], within: Duration) -> Vec<u8> {
    let end = Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < end && !crate::harness::contains(&got, needle) {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if is_timeout(&e) => {}
            Err(_) => break,
        }
    }
    got
}

/// Reads everything the server sends until EOF or `within` passed.
pub fn read_all(s: &mut TcpStream, within: Duration) -> Vec<u8> {
    read_until(s, b"\0never\0", within)
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// Opens `n` connections that send `head` and then never read.
pub fn non_readers(addr: SocketAddr, head: &[u8], n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|_| {
            let mut s = connect(addr);
            s.write_all(head).expect("send head");
            s
        })
        .collect()
}
