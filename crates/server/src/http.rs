//! The HTTP side: the router and an accept loop that serves each connection with hyper's HTTP/1
//! connection builder directly, not `axum::serve`.
//!
//! Serving the `Router` through `hyper::server::conn::http1` keeps an idle connection ~10 KiB
//! smaller than `axum::serve` (see `docs/measurement.md`) and lets each connection's IO be wrapped
//! in the byte meter. The connection's meter handle goes into every request's extensions. hyper's
//! read-buffer ceiling and vectored writes come from [`rtbench_proto::ServerSettings`]. Each
//! connection starts on the lean path ([`crate::lean`]), which reads the plain GETs of the event
//! endpoints; this module dispatches them to their endpoint and hands anything else to hyper.
//!
//! With `--tls` ([`crate::tls`]) each connection first runs its TLS handshake over the metered
//! socket (so the meter counts ciphertext); ALPN `h2` goes to hyper's HTTP/2 connection, anything
//! else continues as above over the TLS stream. A plaintext connection that opens with the HTTP/2
//! preface (h2c prior knowledge, [`crate::h2c`]) goes to the same HTTP/2 connection, on both
//! engines.
//!
//! Each transport's file exports its own routes; [`app`] merges them for every transport of
//! [`Transport::ALL`] that has an HTTP path.

use crate::cors::CorsOnOrigin;
use crate::degrade::Delayed;
use crate::error::ApiError;
use crate::lean::head::{Head, Route};
use crate::lean::{Conn, Exit, Io, Plain};
use crate::meter::{ConnHandle, ConnMeter, Metered};
use crate::refusal::{self, Limit};
use crate::state::{ACCEPT_BACKOFF, State};
use crate::tls::{ConnIo, ServerTls};
use crate::{
    clock, control_guard, drop_endpoint, longpoll, metrics, page, plan, poll, publish, resume,
    schedule, settings, socketio, sse, ws,
};
use axum::Router;
use axum::http::{Method, Uri};
use axum::routing::{get, post};
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rtbench_proto::settings::MIN_HTTP_MAX_BUF_BYTES;
use rtbench_proto::{HttpEngine, Transport, paths};
use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tower::ServiceExt;

/// The routes of `transport`'s HTTP endpoint, from its own file (none for the raw-TCP floor and
/// WebTransport, which have sockets of their own). A `match`, so a new transport must say where it is served.
fn transport_routes(transport: Transport, state: &Arc<State>) -> Router<Arc<State>> {
    match transport {
        Transport::SocketIo | Transport::SocketIoPolling => socketio::routes(state, transport),
        Transport::ShortPoll => poll::routes(),
        Transport::LongPoll => longpoll::routes(),
        Transport::Sse => sse::routes(),
        Transport::WebSocket => ws::routes(),
        Transport::Tcp | Transport::WebTransport | Transport::WebTransportDatagram => Router::new(),
    }
}

/// The router of every HTTP endpoint, with JSON 404 and 405 answers.
pub(crate) fn app(state: Arc<State>) -> Router {
    let transports = Transport::ALL.into_iter().fold(Router::new(), |router, t| {
        router.merge(transport_routes(t, &state))
    });
    // The load generator's endpoints, behind the control guard (token, or loopback only).
    let control = Router::new()
        .merge(drop_endpoint::routes(&state))
        .route(paths::SCHEDULE, post(schedule::handler))
        .route(paths::PLAN, post(plan::handler))
        .route(paths::RESUME, post(resume::handler))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            control_guard::guard,
        ));
    transports
        .merge(control)
        .merge(settings::routes())
        .route(paths::PUBLISH, post(publish::handler))
        .route(paths::METRICS, get(metrics::handler))
        .route(paths::HEALTHZ, get(healthz))
        .route(paths::CLOCK, get(clock::handler))
        .merge(page::routes(&state))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(CorsOnOrigin::new(&state.config.cors_origins))
        .with_state(state)
}

/// `GET /healthz`.
async fn healthz() -> &'static str {
    "ok"
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(uri.path().to_string())
}

async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

/// Accepts HTTP connections until shutdown; each connection holds a clone of `alive`.
pub(crate) async fn accept_loop(listener: TcpListener, state: Arc<State>, alive: mpsc::Sender<()>) {
    let router = app(state.clone());
    let mut shutdown = state.shutdown();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("http accept failed: {e}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = shutdown.wait() => return,
        };
        let Some(slot) = state.connection_slot() else {
            // Over --max-connections: a 503 if the socket takes it at once, then closed. Over TLS
            // a plaintext answer would be garbage to the client: closed at once.
            if state.tls.is_none() {
                let _ = stream.try_write(OVER_CAPACITY);
            }
            continue;
        };
        let meter = state
            .faults
            .track(ConnMeter::new(state.meters.clone(), alive.clone()));
        let (router, state) = (router.clone(), state.clone());
        tokio::spawn(async move {
            serve_connection(stream, meter, router, state).await;
            drop(slot);
        });
    }
}

/// The whole answer to a connection over `--max-connections`.
const OVER_CAPACITY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
    content-length: 52\r\nconnection: close\r\n\r\n{\"error\":\"too many connections (--max-connections)\"}";

/// Serves one HTTP connection: over TLS when the listener speaks it (HTTP/2 when ALPN chose
/// `h2`), then on the lean path ([`crate::lean`]) unless the server is configured to give every
/// connection to hyper.
async fn serve_connection(
    stream: TcpStream,
    meter: Arc<ConnMeter>,
    router: Router,
    state: Arc<State>,
) {
    let _ = stream.set_nodelay(true);
    // The stock engine tells h2c from HTTP/1.1 by peeking, so hyper gets the socket unwrapped.
    let h2c = match (&state.tls, state.config.http_engine) {
        (None, HttpEngine::Stock) => match peek_h2c(&stream, &meter, &state).await {
            Some(h2c) => h2c,
            None => return,
        },
        _ => false,
    };
    let io = Delayed::new(
        Metered::tracked(stream, meter.clone()),
        state.config.fault.delay_us,
    );
    let io = match &state.tls {
        None => ConnIo::Plain(io),
        Some(tls) => match handshake(tls, io, &meter, &state).await {
            Some(Alpn::Http1(tls)) => ConnIo::Tls(tls),
            Some(Alpn::H2(tls)) => return serve_h2(tls, meter, router, state).await,
            None => return,
        },
    };
    match state.config.http_engine {
        HttpEngine::Lean => serve_lean(io, meter, router, state).await,
        HttpEngine::Stock if h2c => serve_h2(io, meter, router, state).await,
        HttpEngine::Stock => serve_hyper(io, meter, router, state).await,
    }
}

/// `--http-engine stock` on the plaintext listener: whether the connection opens with the h2c
/// preface ([`crate::h2c::peek`], bounded like hyper's wait for a first head); `None` (the
/// connection is dropped) when the client leaves or is too slow, the server stops or a fault
/// kills the connection.
async fn peek_h2c(stream: &TcpStream, meter: &ConnMeter, state: &State) -> Option<bool> {
    let limits = &state.config.limits;
    let timeout = limits.header_read_timeout().max(limits.idle_timeout());
    let mut shutdown = state.shutdown();
    let peeked = tokio::select! {
        peeked = crate::h2c::peek(stream, timeout) => peeked,
        () = shutdown.wait() => return None,
        () = meter.killed() => return None,
    };
    peeked
        .map_err(|e| tracing::debug!("http connection ended before its first request: {e}"))
        .ok()
}

/// A finished TLS handshake, by the protocol ALPN chose.
enum Alpn {
    /// `http/1.1`, or no ALPN at all.
    Http1(Box<TlsStream<Plain>>),
    /// `h2`.
    H2(Box<TlsStream<Plain>>),
}

/// Runs the server side of a TLS handshake on `io`, bounded by `--header-read-timeout`; `None`
/// (the connection is dropped) when it fails, times out, the server stops or a fault kills it.
async fn handshake(tls: &ServerTls, io: Plain, meter: &ConnMeter, state: &State) -> Option<Alpn> {
    let mut shutdown = state.shutdown();
    let timeout = state.config.limits.header_read_timeout();
    let accepted = tokio::select! {
        accepted = tokio::time::timeout(timeout, tls.acceptor().accept(io)) => accepted,
        () = shutdown.wait() => return None,
        () = meter.killed() => return None,
    };
    let stream = match accepted {
        Ok(Ok(stream)) => Box::new(stream),
        Ok(Err(e)) => {
            tracing::debug!("TLS handshake failed: {e}");
            return None;
        }
        Err(_) => {
            refusal::hit(
                Limit::HeaderReadTimeout,
                "TLS handshake not finished in time",
            );
            return None;
        }
    };
    let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
    Some(if h2 {
        Alpn::H2(stream)
    } else {
        Alpn::Http1(stream)
    })
}

/// Serves one HTTP connection on the lean path while its requests are the plain GETs of the event
/// endpoints, then (if ever) by hyper for the rest of its life.
async fn serve_lean(io: Io, meter: Arc<ConnMeter>, router: Router, state: Arc<State>) {
    let plain = matches!(io, ConnIo::Plain(_));
    let mut conn = Conn::new(io, meter.clone(), state.clone());
    let (exit, first) = tokio::select! {
        exit = lean_requests(&mut conn) => exit,
        // Fault injection: drop the connection mid-whatever, as a crashing worker would.
        () = meter.killed() => return,
    };
    let conn = match exit {
        Exit::Close => return,
        Exit::Hyper => conn,
        // Back with nothing written when the query is refused: hyper answers it.
        Exit::WebSocket(head, len) => match ws::serve_lean(conn, &head, len).await {
            Ok(()) => return,
            Err(conn) => conn,
        },
    };
    // A plaintext connection that opens with the h2c preface is HTTP/2 (prior knowledge).
    let h2c = plain && first && crate::h2c::starts_preface(conn.pending());
    let io = conn.into_hyper_io();
    // Boxed: the hyper connection's state is large, and only a handed-over connection needs it.
    match h2c {
        true => Box::pin(serve_h2(io, meter, router, state)).await,
        false => Box::pin(serve_hyper(io, meter, router, state)).await,
    }
}

/// The lean path's request loop: each head read goes to its endpoint until one is not the lean
/// path's to answer or the connection is over. Says how it left, and whether that was at the
/// connection's first request.
async fn lean_requests(conn: &mut Conn) -> (Exit, bool) {
    let mut shutdown = conn.state().shutdown();
    let mut first = true;
    loop {
        let (head, len) = match conn.next_request(&mut shutdown).await {
            Ok(request) => request,
            Err(exit) => return (exit, first),
        };
        first = false;
        let served = serve_lean_request(conn, &head).await;
        if let Some(exit) = conn.finish(served, len) {
            return (exit, false);
        }
    }
}

/// Answers one request the lean path took, by its endpoint.
async fn serve_lean_request(conn: &mut Conn, head: &Head) -> crate::lean::Served {
    match head.route {
        Route::Poll => poll::serve_lean(conn, head).await,
        Route::LongPoll => longpoll::serve_lean(conn, head).await,
        Route::Sse => sse::serve_lean(conn, head).await,
        // `Conn::next_request` hands a handshake over as `Exit::WebSocket`, never here.
        Route::WebSocket => crate::lean::Served::Declined,
    }
}

/// The service hyper calls for each request of a connection: counts the request on the
/// connection's meter (tagging the connection by its first), hands the meter to the handler and
/// routes.
fn metered_service(
    meter: &Arc<ConnMeter>,
    router: Router,
) -> impl hyper::service::Service<
    hyper::Request<Incoming>,
    Response = axum::response::Response,
    Error = Infallible,
    Future = impl Future<Output = Result<axum::response::Response, Infallible>> + Send + 'static,
> + Clone
+ Send
+ 'static {
    let handle = ConnHandle(meter.clone());
    service_fn(move |mut request: hyper::Request<Incoming>| {
        handle
            .0
            .on_request(request.uri().path(), request.uri().query());
        request.extensions_mut().insert(handle.clone());
        router.clone().oneshot(request)
    })
}

/// Serves one HTTP/1.1 connection with hyper (with upgrades) until it closes or shutdown ends it
/// gracefully.
async fn serve_hyper<I>(io: I, meter: Arc<ConnMeter>, router: Router, state: Arc<State>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut shutdown = state.shutdown();
    let io = TokioIo::new(io);
    let service = metered_service(&meter, router);
    let config = &state.config;
    let mut builder = http1::Builder::new();
    // hyper cannot tell an idle keep-alive connection from a slow head: both wait for a head, so
    // connections hyper serves get the longer of the two timeouts.
    let limits = &config.limits;
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout().max(limits.idle_timeout()))
        .writev(config.http_writev)
        // hyper asserts the minimum; a config that skipped `validate` must not panic here.
        .max_buf_size(config.http_max_buf_bytes.max(MIN_HTTP_MAX_BUF_BYTES));
    let mut conn = pin!(builder.serve_connection(io, service).with_upgrades());
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = shutdown.wait() => {
            // Idle connections close now; in-flight responses end because their handlers watch
            // the same shutdown (SSE ends, long-polls answer).
            conn.as_mut().graceful_shutdown();
            conn.await
        }
        // Fault injection: drop the connection mid-whatever, as a crashing worker would.
        () = meter.killed() => return,
    };
    if let Err(e) = result {
        tracing::debug!("http connection ended with error: {e}");
    }
}

/// Serves one HTTP/2 connection (TLS with ALPN `h2`, or h2c prior knowledge) with hyper's
/// defaults — at most 200 concurrent streams, its reset-flood and pending-accept limits — until it
/// closes or shutdown ends it gracefully. Extended CONNECT (RFC 8441) is on: WebSocket runs on a
/// stream of the connection.
async fn serve_h2<I>(io: I, meter: Arc<ConnMeter>, router: Router, state: Arc<State>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut shutdown = state.shutdown();
    let service = metered_service(&meter, router);
    let mut builder = http2::Builder::new(TokioExecutor::new());
    builder.timer(TokioTimer::new()).enable_connect_protocol();
    let mut conn = pin!(builder.serve_connection(TokioIo::new(io), service));
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = shutdown.wait() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
        () = meter.killed() => return,
    };
    if let Err(e) = result {
        tracing::debug!("http/2 connection ended with error: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_over_capacity_answer_is_a_whole_503_with_its_length() {
        let text = std::str::from_utf8(OVER_CAPACITY).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "));
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
        assert!(body.contains("--max-connections"));
        serde_json::from_str::<serde_json::Value>(body).unwrap();
    }
}
