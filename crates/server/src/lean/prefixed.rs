//! An IO that first yields bytes already read from it: how a connection the lean path has started
//! reading is handed to hyper intact.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// `inner`, with `prefix` read back before anything new.
#[derive(Debug)]
pub(crate) struct Prefixed<S> {
    prefix: Vec<u8>,
    /// How much of `prefix` has been read back.
    at: usize,
    inner: S,
}

impl<S> Prefixed<S> {
    /// `inner`, replaying `prefix` first.
    pub(crate) fn new(prefix: Vec<u8>, inner: S) -> Self {
        Prefixed {
            prefix,
            at: 0,
            inner,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.at < this.prefix.len() {
            let n = buf.remaining().min(this.prefix.len() - this.at);
            buf.put_slice(&this.prefix[this.at..this.at + n]);
            this.at += n;
            if this.at == this.prefix.len() {
                this.prefix = Vec::new();
                this.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    rtbench_proto::forward_io!(
        inner: poll_write,
        poll_write_vectored,
        is_write_vectored,
        poll_flush,
        poll_shutdown
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn replays_the_prefix_then_reads_on_and_writes_through() {
        let (mut near, far) = tokio::io::duplex(64);
        let mut io = Prefixed::new(b"GET /".to_vec(), far);
        near.write_all(b"poll").await.unwrap();
        near.shutdown().await.unwrap();
        let mut small = [0u8; 3];
        io.read_exact(&mut small).await.unwrap();
        assert_eq!(&small, b"GET");
        let mut rest = Vec::new();
        io.write_all(b"ok").await.unwrap();
        io.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b" /poll");
        let mut answer = [0u8; 2];
        near.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"ok");
    }
}
