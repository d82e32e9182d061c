//! One HTTP/1.1 connection per client, over a socket the client owns (TLS over it on a TLS stack) (hyper's low-level
//! client): no pool, no hidden reconnects, so each client's requests are exactly what it sends.
//! A connection can be [reset](Conn::reset) (fault injection): it closes with a TCP reset.

use crate::control::Target;
use crate::error::ClientError;
use crate::stack::{self, Stream};
use bytes::Bytes;
use http_body_util::Empty;
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response, body::Incoming};
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::task::JoinHandle;

/// An open HTTP/1.1 connection. Dropping it closes the socket.
pub struct Conn {
    sender: SendRequest<Empty<Bytes>>,
    host: String,
    /// Set before the driver is dropped to close with a reset instead of a FIN.
    reset: Arc<AtomicBool>,
    /// The task driving the connection; it owns the socket.
    driver: JoinHandle<()>,
}

impl Conn {
    /// Connects to `target`'s HTTP listener with TCP_NODELAY (as the server sets on its side),
    /// over TLS when the target speaks it.
    pub async fn connect(target: &Target) -> Result<Conn, ClientError> {
        let addr = target.http;
        let stream = stack::connect(addr, target.tls).await?;
        let reset = Arc::new(AtomicBool::new(false));
        let io = ResetOnDrop {
            stream,
            reset: reset.clone(),
        };
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(ClientError::Handshake)?;
        let driver = tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Conn {
            sender,
            host: addr.to_string(),
            reset,
            driver,
        })
    }

    /// Sends `GET path_and_query` and returns the response head with its streaming body.
    pub async fn get(&mut self, path_and_query: &str) -> Result<Response<Incoming>, ClientError> {
        self.get_with(path_and_query, None).await
    }

    /// Like [`Conn::get`], with one extra request header.
    pub async fn get_with(
        &mut self,
        path_and_query: &str,
        header: Option<(&str, &str)>,
    ) -> Result<Response<Incoming>, ClientError> {
        self.sender.ready().await.map_err(ClientError::Closed)?;
        let mut req = Request::get(path_and_query).header(hyper::header::HOST, &self.host);
        if let Some((name, value)) = header {
            req = req.header(name, value);
        }
        let req = req.body(Empty::new()).map_err(ClientError::BadRequest)?;
        let resp = self
            .sender
            .send_request(req)
            .await
            .map_err(|source| ClientError::Request {
                method: "GET",
                path: path_and_query.to_string(),
                source,
            })?;
        if !resp.status().is_success() {
            return Err(ClientError::Status {
                method: "GET",
                path: path_and_query.to_string(),
                status: resp.status(),
            });
        }
        Ok(resp)
    }

    /// Sends `GET path_and_query` and reads the whole body.
    pub async fn get_body(&mut self, path_and_query: &str) -> Result<Bytes, ClientError> {
        use http_body_util::BodyExt;
        let resp = self.get(path_and_query).await?;
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|source| ClientError::Body {
                what: "reading body",
                source,
            })?;
        Ok(body.to_bytes())
    }

    /// Aborts the connection with a TCP reset (SO_LINGER 0), as a client that vanished would.
    pub fn reset(self) {
        self.reset.store(true, Ordering::SeqCst);
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // The driver owns the socket: dropping it closes the socket now, with a reset if asked.
        self.driver.abort();
    }
}

/// A connection that closes with a reset when its flag is set by the time it is dropped.
pub(crate) struct ResetOnDrop {
    /// The connection.
    pub(crate) stream: Stream,
    /// Set to close with a reset.
    pub(crate) reset: Arc<AtomicBool>,
}

impl Drop for ResetOnDrop {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for ResetOnDrop {
    rtbench_proto::forward_io!(stream: poll_read);
}

impl AsyncWrite for ResetOnDrop {
    rtbench_proto::forward_io!(
        stream: poll_write,
        poll_write_vectored,
        is_write_vectored,
        poll_flush,
        poll_shutdown
    );
}
