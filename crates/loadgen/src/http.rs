//! One HTTP connection per client, over a socket the client owns (TLS over it on a TLS stack), with
//! hyper's low-level clients: no pool, no hidden reconnects, so each client's requests are exactly
//! what it sends. HTTP/1.1 on the `h1` stacks; HTTP/2 on the `h2` stacks (prior knowledge on
//! plaintext, ALPN `h2` over TLS), with the same calls. A connection can be
//! [reset](Conn::reset) (fault injection): it closes with a TCP reset. On HTTP/2 a connection's
//! request side can be [shared](Conn::share): a client's publishes go as streams on its
//! subscription's connection, as a browser's would.

use crate::control::Target;
use crate::error::ClientError;
use crate::stack::{self, Stream};
use bytes::Bytes;
use http_body_util::{Either, Empty, Full};
use hyper::client::conn::{http1, http2};
use hyper::upgrade::Upgraded;
use hyper::{Request, Response, body::Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A request body on a client's connection: none (`GET`, `CONNECT`) or a publish's payload. The
/// two arms keep the size hints of `Empty` and `Full`, so the bytes on the wire are theirs.
pub(crate) type ReqBody = Either<Empty<Bytes>, Full<Bytes>>;

/// No body.
fn no_body() -> ReqBody {
    Either::Left(Empty::new())
}

/// Longest an HTTP/2 WebSocket waits for the server's SETTINGS to enable extended CONNECT.
const CONNECT_PROTOCOL_WAIT: Duration = Duration::from_secs(5);

/// The request side of a connection, by HTTP version.
enum Sender<B> {
    /// HTTP/1.1: one request at a time.
    H1(http1::SendRequest<B>),
    /// HTTP/2, and whether the server has enabled extended CONNECT (RFC 8441) so far.
    H2(http2::SendRequest<B>, watch::Receiver<bool>),
}

impl<B: hyper::body::Body + Send + Unpin + 'static> Sender<B>
where
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    /// Opens the connection `stream` on the target's HTTP version; the returned task drives it.
    async fn handshake<S>(stream: S, http2: bool) -> Result<(Self, JoinHandle<()>), ClientError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let io = TokioIo::new(stream);
        if http2 {
            let (sender, conn) = http2::handshake(TokioExecutor::new(), io)
                .await
                .map_err(ClientError::Handshake)?;
            let (enabled, connect_protocol) = watch::channel(false);
            let driver = tokio::spawn(drive_h2(conn, enabled));
            return Ok((Sender::H2(sender, connect_protocol), driver));
        }
        let (sender, conn) = http1::handshake(io).await.map_err(ClientError::Handshake)?;
        Ok((
            Sender::H1(sender),
            tokio::spawn(async move { drop(conn.await) }),
        ))
    }

    /// Waits until a request can be sent.
    async fn ready(&mut self) -> Result<(), ClientError> {
        match self {
            Sender::H1(s) => s.ready().await,
            Sender::H2(s, _) => s.ready().await,
        }
        .map_err(ClientError::Closed)
    }

    /// Sends `req` (HTTP/1.1 needs its `host` header, HTTP/2 its absolute URI).
    async fn send(&mut self, req: Request<B>) -> hyper::Result<Response<Incoming>> {
        match self {
            Sender::H1(s) => s.send_request(req).await,
            Sender::H2(s, _) => s.send_request(req).await,
        }
    }
}

/// Drives an HTTP/2 connection until it closes. Meanwhile, for at most [`CONNECT_PROTOCOL_WAIT`],
/// it looks every millisecond whether the server's SETTINGS have enabled extended CONNECT and says
/// so on `enabled`: hyper runs the HTTP/2 state machine on a task of its own, so no poll of this
/// future follows the SETTINGS frame.
async fn drive_h2<C>(conn: C, enabled: watch::Sender<bool>)
where
    C: Future + ConnectProtocol,
{
    let mut conn = std::pin::pin!(conn);
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    let give_up = tokio::time::Instant::now() + CONNECT_PROTOCOL_WAIT;
    let mut looking = true;
    while looking {
        tokio::select! {
            _ = conn.as_mut() => return,
            now = tick.tick() => {
                if conn.enabled() {
                    enabled.send_replace(true);
                }
                looking = !conn.enabled() && now < give_up;
            }
        }
    }
    conn.await;
}

/// Whether an HTTP/2 connection's server has enabled extended CONNECT (RFC 8441).
trait ConnectProtocol {
    /// As the server's SETTINGS say so far.
    fn enabled(&self) -> bool;
}

impl<S, B> ConnectProtocol for http2::Connection<S, B, TokioExecutor>
where
    S: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    B: hyper::body::Body + Unpin + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn enabled(&self) -> bool {
        self.is_extended_connect_protocol_enabled()
    }
}

/// Opens a connection to `target`'s HTTP listener on its stack's HTTP version: the request side
/// and the flag that makes dropping the driver task close with a reset.
pub(crate) async fn open<B>(
    target: &Target,
) -> Result<(Requests<B>, Arc<AtomicBool>, JoinHandle<()>), ClientError>
where
    B: hyper::body::Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let addr = target.http;
    let stream = match target.http2 {
        true => stack::connect_h2(addr, target.tls).await?,
        false => stack::connect(addr, target.tls).await?,
    };
    let reset = Arc::new(AtomicBool::new(false));
    let io = ResetOnDrop {
        stream,
        reset: reset.clone(),
    };
    let (sender, driver) = Sender::handshake(io, target.http2).await?;
    let scheme = if target.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let requests = Requests {
        sender,
        host: addr.to_string(),
        origin: format!("{scheme}://{addr}"),
    };
    Ok((requests, reset, driver))
}

/// Sends requests on one connection, HTTP/1.1 or HTTP/2 alike.
pub(crate) struct Requests<B> {
    sender: Sender<B>,
    /// `host:port`, HTTP/1.1's `host` header.
    host: String,
    /// `scheme://host:port`, before the path in HTTP/2's request URI (`:scheme`, `:authority`).
    origin: String,
}

impl<B> std::fmt::Debug for Requests<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let version = match self.sender {
            Sender::H1(_) => "HTTP/1.1",
            Sender::H2(..) => "HTTP/2",
        };
        f.debug_struct("Requests")
            .field("version", &version)
            .field("origin", &self.origin)
            .finish()
    }
}

impl<B: hyper::body::Body + Send + Unpin + 'static> Requests<B>
where
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    /// HTTP/2 only: another handle on the same connection, sending its requests as streams of
    /// it (`None` on HTTP/1.1, which cannot run two requests at once).
    pub(crate) fn share(&self) -> Option<Requests<B>> {
        match &self.sender {
            Sender::H1(_) => None,
            Sender::H2(s, connect_protocol) => Some(Requests {
                sender: Sender::H2(s.clone(), connect_protocol.clone()),
                host: self.host.clone(),
                origin: self.origin.clone(),
            }),
        }
    }

    /// A request for `path_and_query` as this connection's HTTP version writes it.
    pub(crate) fn builder(
        &self,
        method: hyper::Method,
        path_and_query: &str,
    ) -> hyper::http::request::Builder {
        match self.sender {
            Sender::H1(_) => Request::builder()
                .method(method)
                .uri(path_and_query)
                .header(hyper::header::HOST, &self.host),
            Sender::H2(..) => Request::builder()
                .method(method)
                .uri(format!("{}{path_and_query}", self.origin)),
        }
    }

    /// Sends `req` once the connection can take it.
    pub(crate) async fn send(
        &mut self,
        req: Request<B>,
    ) -> Result<Response<Incoming>, ClientError> {
        self.sender.ready().await?;
        let method = match *req.method() {
            hyper::Method::POST => "POST",
            hyper::Method::CONNECT => "CONNECT",
            _ => "GET",
        };
        let path = req
            .uri()
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default();
        self.sender
            .send(req)
            .await
            .map_err(|source| ClientError::Request {
                method,
                path,
                source,
            })
    }
}

/// An open HTTP connection. Dropping it closes the socket.
pub struct Conn {
    requests: Requests<ReqBody>,
    /// Set before the driver is dropped to close with a reset instead of a FIN.
    reset: Arc<AtomicBool>,
    /// The task driving the connection; it owns the socket.
    driver: JoinHandle<()>,
}

impl Conn {
    /// Connects to `target`'s HTTP listener with TCP_NODELAY (as the server sets on its side),
    /// over TLS when the target speaks it, on its stack's HTTP version.
    pub async fn connect(target: &Target) -> Result<Conn, ClientError> {
        let (requests, reset, driver) = open(target).await?;
        Ok(Conn {
            requests,
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
        let mut req = self.requests.builder(hyper::Method::GET, path_and_query);
        if let Some((name, value)) = header {
            req = req.header(name, value);
        }
        let req = req.body(no_body()).map_err(ClientError::BadRequest)?;
        let resp = self.requests.send(req).await?;
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

    /// HTTP/2 only: opens a WebSocket on a stream of this connection with extended CONNECT (RFC
    /// 8441: `:method CONNECT`, `:protocol websocket`, no key), once the server's SETTINGS allow
    /// it; the stream's bytes once the server accepted.
    pub async fn websocket(&mut self, path_and_query: &str) -> Result<Upgraded, ClientError> {
        let Sender::H2(_, connect_protocol) = &mut self.requests.sender else {
            return Err(ClientError::Protocol(
                "extended CONNECT needs HTTP/2".into(),
            ));
        };
        match tokio::time::timeout(CONNECT_PROTOCOL_WAIT, connect_protocol.wait_for(|on| *on)).await
        {
            Ok(Ok(_)) => {}
            _ => {
                return Err(ClientError::Protocol(
                    "the server did not enable extended CONNECT (RFC 8441)".into(),
                ));
            }
        }
        let req = self
            .requests
            .builder(hyper::Method::CONNECT, path_and_query)
            .extension(hyper::ext::Protocol::from_static(
                rtbench_proto::paths::WEBSOCKET_PROTOCOL,
            ))
            .header(hyper::header::SEC_WEBSOCKET_VERSION, "13")
            .body(no_body())
            .map_err(ClientError::BadRequest)?;
        let mut resp = self.requests.send(req).await?;
        if !resp.status().is_success() {
            return Err(ClientError::Status {
                method: "CONNECT",
                path: path_and_query.to_string(),
                status: resp.status(),
            });
        }
        hyper::upgrade::on(&mut resp)
            .await
            .map_err(ClientError::Upgrade)
    }

    /// HTTP/2 only: a handle sending requests as streams of this connection, for the client's
    /// publishes. It fails its requests once this connection is gone.
    pub(crate) fn share(&self) -> Option<Requests<ReqBody>> {
        self.requests.share()
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
