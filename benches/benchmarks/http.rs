//! Just enough HTTP/1.1 over a raw `TcpStream` for the delivery benchmarks: a GET, a response
//! with `Content-Length`, and a chunked body read chunk by chunk. Raw, so nothing but the server
//! and the wire stands between a publish and the client's parse.

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends `GET path` on a kept-alive connection.
pub async fn get(stream: &mut TcpStream, path: &str) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("request sent");
}

/// Reads more bytes into `buf`; the server must not close the connection mid-benchmark.
async fn fill(stream: &mut TcpStream, buf: &mut BytesMut) {
    let n = stream.read_buf(buf).await.expect("read");
    assert!(n > 0, "server closed the connection");
}

/// Reads a response head off `buf` (reading more as needed) and returns its `Content-Length`
/// (`None` for a chunked body).
pub async fn read_head(stream: &mut TcpStream, buf: &mut BytesMut) -> Option<usize> {
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        fill(stream, buf).await;
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    assert!(
        head.starts_with("http/1.1 200"),
        "unexpected response: {head}"
    );
    buf.advance(end);
    head.lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map(|v| v.trim().parse().expect("numeric Content-Length"))
}

/// Reads a whole response with a `Content-Length` body and returns the body.
pub async fn read_response(stream: &mut TcpStream, buf: &mut BytesMut) -> BytesMut {
    let len = read_head(stream, buf).await.expect("a Content-Length body");
    while buf.len() < len {
        fill(stream, buf).await;
    }
    buf.split_to(len)
}

/// Reads until `buf` holds one whole chunk of a chunked body and returns its data.
pub async fn read_chunk(stream: &mut TcpStream, buf: &mut BytesMut) -> BytesMut {
    loop {
        if let Some(line_end) = buf.windows(2).position(|w| w == b"\r\n") {
            let size = std::str::from_utf8(&buf[..line_end])
                .ok()
                .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok())
                .expect("chunk size line");
            if buf.len() >= line_end + 2 + size + 2 {
                buf.advance(line_end + 2);
                let data = buf.split_to(size);
                buf.advance(2);
                return data;
            }
        }
        fill(stream, buf).await;
    }
}
