//! Injected degradations, off by default: a *known* regression that the CI performance gate must
//! catch (`scripts/perf-gate-selftest.sh`). Never switch one on for a measurement you report. (The
//! connection-drop endpoint, a different kind of fault, is [`crate::drop_endpoint`].)
//!
//! Two knobs of [`rtbench_proto::ServerFault`], each hooked in at exactly one place:
//! - `delay_us`: the server busy-waits this long before every write to an HTTP
//!   connection's socket (WebSocket, SSE, long poll, short poll; hooked in `http.rs`). It models a
//!   per-message CPU cost added to the transports under test. The raw-TCP floor is left alone: it
//!   is the reference every timing is divided by.
//! - `pad_bytes`: every event body gets this many spaces appended (hooked in `hub.rs`,
//!   where bodies are encoded once). JSON allows trailing whitespace, so every client still parses
//!   the event; every transport, the floor included, carries the extra bytes.

use bytes::Bytes;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};

/// Appends `pad` spaces to an encoded event body (no copy when `pad` is 0).
pub(crate) fn pad_body(body: Bytes, pad: usize) -> Bytes {
    if pad == 0 {
        return body;
    }
    let mut padded = Vec::with_capacity(body.len() + pad);
    padded.extend_from_slice(&body);
    padded.resize(body.len() + pad, b' ');
    Bytes::from(padded)
}

/// An IO that busy-waits `delay` before every write, then writes to the inner IO.
#[derive(Debug)]
pub(crate) struct Delayed<S> {
    inner: S,
    delay: Duration,
}

impl<S> Delayed<S> {
    /// Wraps `inner`; a zero `delay` adds nothing but one comparison per write.
    pub(crate) fn new(inner: S, delay_us: u64) -> Self {
        Delayed {
            inner,
            delay: Duration::from_micros(delay_us),
        }
    }

    fn spin(&self) {
        if self.delay.is_zero() {
            return;
        }
        let start = Instant::now();
        while start.elapsed() < self.delay {
            std::hint::spin_loop();
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Delayed<S> {
    rtbench_proto::forward_io!(inner: poll_read);
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Delayed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.spin();
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.spin();
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    rtbench_proto::forward_io!(inner: is_write_vectored, poll_flush, poll_shutdown);
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[test]
    fn padding_keeps_the_body_valid_json() {
        let body = rtbench_proto::encode_body(3, 7, "x");
        assert_eq!(pad_body(body.clone(), 0), body);
        let padded = pad_body(body.clone(), 5);
        assert_eq!(padded.len(), body.len() + 5);
        assert_eq!(rtbench_proto::parse_body(&padded).unwrap().seq, 3);
    }

    #[tokio::test]
    async fn delayed_writes_take_at_least_the_delay_and_pass_bytes_through() {
        let mut io = Delayed::new(Vec::new(), 2_000);
        let start = Instant::now();
        io.write_all(b"abc").await.unwrap();
        assert!(start.elapsed() >= Duration::from_millis(2));
        assert_eq!(io.inner, b"abc");
    }
}
