//! [`forward_io!`]: the pass-through methods of an IO wrapper, so a wrapper around a tokio
//! `AsyncRead`/`AsyncWrite` writes only the methods it changes (a byte meter counts in
//! `poll_read`/`poll_write`, a fault delay spins before writes) and forwards the rest to its inner
//! IO unchanged.
//!
//! Forwarding every method matters: `AsyncWrite`'s default `poll_write_vectored` writes only the
//! first buffer and its default `is_write_vectored` says `false`, so a wrapper that forgot them
//! would silently turn hyper's `writev` of head and body into two writes — different packets for
//! the same bytes. Hand-written as a `macro_rules!` because the forwarding is between a field and
//! `Self` of the caller's type, which no crate's derive covers for tokio's traits; it expands at
//! the call site, so this crate needs no tokio (the caller's `::tokio` is used).

/// Writes forwarding methods of tokio's `AsyncRead`/`AsyncWrite` to the field `$field`, inside
/// the caller's `impl` block. Name each method to forward: `poll_read` (in an `AsyncRead` impl),
/// or `poll_write`, `poll_write_vectored`, `is_write_vectored`, `poll_flush`, `poll_shutdown` (in
/// an `AsyncWrite` impl). The field's type must be `Unpin`.
///
/// ```ignore
/// impl<S: AsyncWrite + Unpin> AsyncWrite for Delayed<S> {
///     fn poll_write(/* spin, then write */) { … }
///     fn poll_write_vectored(/* spin, then write vectored */) { … }
///     rtbench_proto::forward_io!(inner: is_write_vectored, poll_flush, poll_shutdown);
/// }
/// ```
#[macro_export]
macro_rules! forward_io {
    ($field:ident: $($method:ident),+ $(,)?) => {
        $( $crate::forward_io!(@one $field $method); )+
    };
    (@one $field:ident poll_read) => {
        fn poll_read(
            mut self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
            buf: &mut ::tokio::io::ReadBuf<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            ::tokio::io::AsyncRead::poll_read(::std::pin::Pin::new(&mut self.$field), cx, buf)
        }
    };
    (@one $field:ident poll_write) => {
        fn poll_write(
            mut self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
            buf: &[u8],
        ) -> ::std::task::Poll<::std::io::Result<usize>> {
            ::tokio::io::AsyncWrite::poll_write(::std::pin::Pin::new(&mut self.$field), cx, buf)
        }
    };
    (@one $field:ident poll_write_vectored) => {
        fn poll_write_vectored(
            mut self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
            bufs: &[::std::io::IoSlice<'_>],
        ) -> ::std::task::Poll<::std::io::Result<usize>> {
            ::tokio::io::AsyncWrite::poll_write_vectored(
                ::std::pin::Pin::new(&mut self.$field),
                cx,
                bufs,
            )
        }
    };
    (@one $field:ident is_write_vectored) => {
        fn is_write_vectored(&self) -> bool {
            ::tokio::io::AsyncWrite::is_write_vectored(&self.$field)
        }
    };
    (@one $field:ident poll_flush) => {
        fn poll_flush(
            mut self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            ::tokio::io::AsyncWrite::poll_flush(::std::pin::Pin::new(&mut self.$field), cx)
        }
    };
    (@one $field:ident poll_shutdown) => {
        fn poll_shutdown(
            mut self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            ::tokio::io::AsyncWrite::poll_shutdown(::std::pin::Pin::new(&mut self.$field), cx)
        }
    };
}

#[cfg(test)]
mod tests {
    use std::io::{self, IoSlice};
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

    /// An inner writer that records each call, vectored or not.
    #[derive(Default)]
    struct Recorder {
        calls: Vec<(&'static str, usize)>,
    }

    impl AsyncWrite for Recorder {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.calls.push(("write", buf.len()));
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            let n = bufs.iter().map(|b| b.len()).sum();
            self.calls.push(("writev", n));
            Poll::Ready(Ok(n))
        }
        fn is_write_vectored(&self) -> bool {
            true
        }
        fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.calls.push(("flush", 0));
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.calls.push(("shutdown", 0));
            Poll::Ready(Ok(()))
        }
    }

    /// A wrapper that changes nothing, written with the macro only.
    struct Through<S> {
        inner: S,
    }

    impl<S: AsyncWrite + Unpin> AsyncWrite for Through<S> {
        crate::forward_io!(
            inner: poll_write,
            poll_write_vectored,
            is_write_vectored,
            poll_flush,
            poll_shutdown
        );
    }

    impl<S: AsyncRead + Unpin> AsyncRead for Through<S> {
        crate::forward_io!(inner: poll_read);
    }

    #[tokio::test]
    async fn every_method_reaches_the_inner_io_and_writev_stays_vectored() {
        let mut io = Through {
            inner: Recorder::default(),
        };
        assert!(io.is_write_vectored());
        let bufs = [IoSlice::new(b"head"), IoSlice::new(b"body")];
        assert_eq!(io.write_vectored(&bufs).await.unwrap(), 8);
        io.write_all(b"abc").await.unwrap();
        io.flush().await.unwrap();
        io.shutdown().await.unwrap();
        let expected = [("writev", 8), ("write", 3), ("flush", 0), ("shutdown", 0)];
        assert_eq!(io.inner.calls, expected);
    }

    #[tokio::test]
    async fn reads_pass_through() {
        use tokio::io::AsyncReadExt;
        let mut io = Through {
            inner: &b"bytes"[..],
        };
        let mut out = String::new();
        io.read_to_string(&mut out).await.unwrap();
        assert_eq!(out, "bytes");
    }
}
