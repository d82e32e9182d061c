//! The HTTP side: the router and an accept loop that serves each connection with hyper's HTTP/1
//! connection builder directly, not `axum::serve`.
//!
//! Serving the `Router` through `hyper::server::conn::http1` keeps an idle connection ~10 KiB
//! smaller than `axum::serve` (CRATES.md) and lets each connection's IO be wrapped in the byte
//! meter. The connection's meter handle goes into every request's extensions. hyper's read-buffer
//! ceiling and vectored writes come from [`crate::ServerConfig`]. Each connection starts on the
//! lean path ([`crate::lean`]), which answers the plain GETs of the event endpoints itself and
//! hands anything else to hyper.

use crate::error::ApiError;
use crate::fault::Delayed;
use crate::meter::{ConnHandle, ConnMeter, Metered};
use crate::server::{MIN_HTTP_MAX_BUF_BYTES, State};
use crate::{faults, lean, longpoll, metrics, plan, poll, publish, resume, schedule, sse, ws};
use axum::Router;
use axum::http::{Method, Uri};
use axum::routing::{get, post};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rtbench_proto::Transport;
use rtbench_proto::paths;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tower::ServiceExt;

/// Pause after a failed `accept` (e.g. EMFILE) before trying again.
pub(crate) const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The router of every HTTP endpoint, with JSON 404 and 405 answers.
pub(crate) fn app(state: Arc<State>) -> Router {
    let router = Router::new();
    let router = match state.config.fault_endpoints {
        true => router.route(paths::FAULTS_CLOSE, post(faults::handler)),
        false => router,
    };
    router
        .route(Transport::ShortPoll.path(), get(poll::handler))
        .route(Transport::LongPoll.path(), get(longpoll::handler))
        .route(Transport::Sse.path(), get(sse::handler))
        .route(Transport::WebSocket.path(), get(ws::handler))
        .route(paths::PUBLISH, post(publish::handler))
        .route(paths::SCHEDULE, post(schedule::handler))
        .route(paths::PLAN, post(plan::handler))
        .route(paths::RESUME, post(resume::handler))
        .route(paths::METRICS, get(metrics::handler))
        .route(paths::HEALTHZ, get(healthz))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
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
        let meter = state
            .faults
            .track(ConnMeter::new(state.meters.clone(), alive.clone()));
        tokio::spawn(serve_connection(
            stream,
            meter,
            router.clone(),
            state.clone(),
        ));
    }
}

/// Serves one HTTP connection: on the lean path ([`crate::lean`]) unless the server is configured
/// to give every connection to hyper.
async fn serve_connection(
    stream: TcpStream,
    meter: Arc<ConnMeter>,
    router: Router,
    state: Arc<State>,
) {
    let _ = stream.set_nodelay(true);
    let io = Delayed::new(
        Metered::tracked(stream, meter.clone()),
        state.config.fault.delay_us,
    );
    if state.config.lean_http {
        lean::serve(io, meter, router, state).await;
    } else {
        serve_hyper(io, meter, router, state).await;
    }
}

/// Serves one HTTP/1.1 connection with hyper (with upgrades) until it closes or shutdown ends it
/// gracefully.
pub(crate) async fn serve_hyper<I>(io: I, meter: Arc<ConnMeter>, router: Router, state: Arc<State>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut shutdown = state.shutdown();
    let io = TokioIo::new(io);
    let handle = ConnHandle(meter.clone());
    let service = service_fn(move |mut request: hyper::Request<Incoming>| {
        handle
            .0
            .on_request(request.uri().path(), request.uri().query());
        request.extensions_mut().insert(handle.clone());
        router.clone().oneshot(request)
    });
    let config = &state.config;
    let mut builder = http1::Builder::new();
    builder
        .header_read_timeout(None)
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
