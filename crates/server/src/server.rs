//! Serving a [`Server`]: [`Server::run`] serves both listeners until the shutdown future resolves,
//! then ends every stream and waits (bounded) for the connections to close.

use crate::state::{Server, State};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// How long [`Server::run`] waits for open connections to end after shutdown starts.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// The two bound listeners the server accepts on.
#[derive(Debug)]
pub struct Listeners {
    /// HTTP: poll, long-poll, SSE, WebSocket, publish, schedule, metrics, settings, healthz.
    pub http: TcpListener,
    /// The raw-TCP floor (length-prefixed frames).
    pub tcp: TcpListener,
}

impl Server {
    /// Serves HTTP on `listeners.http` and the raw-TCP floor on `listeners.tcp` until `shutdown`
    /// resolves. Then it stops accepting, ends every stream (SSE streams end, WebSockets get close
    /// 1001, held long-polls are answered, raw-TCP connections are closed, publisher threads stop)
    /// and waits up to 2 s for the connections to close before returning.
    ///
    /// Accept errors (e.g. out of file descriptors) are logged and retried, never fatal. A server
    /// runs once: after its shutdown, its streams stay ended.
    pub async fn run(
        &self,
        listeners: Listeners,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (alive, mut all_closed) = mpsc::channel::<()>(1);
        let state = self.state();
        let (http_addr, tcp_addr) = (listeners.http.local_addr()?, listeners.tcp.local_addr()?);
        let loopback = http_addr.ip().is_loopback();
        state.http_loopback.store(loopback, Ordering::SeqCst);
        tokio::join!(
            expire_idle_topics(state.clone()),
            crate::http::accept_loop(listeners.http, state.clone(), alive.clone()),
            crate::tcp::accept_loop(listeners.tcp, state.clone(), alive.clone()),
            crate::webtransport::serve(http_addr, tcp_addr, state.clone(), alive.clone()),
            async {
                shutdown.await;
                state.begin_shutdown();
            },
        );
        drop(alive);
        // `recv` yields `None` once every connection (each holds a sender) has been dropped.
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, all_closed.recv()).await;
        Ok(())
    }
}

/// Frees idle topics every quarter of `--topic-idle-ttl` (between 50 ms and 10 s) until shutdown;
/// nothing when topics never expire.
async fn expire_idle_topics(state: Arc<State>) {
    let Some(ttl) = state.config.limits.topic_idle_ttl() else {
        return;
    };
    let every = (ttl / 4).clamp(Duration::from_millis(50), Duration::from_secs(10));
    let ttl_ns = u64::try_from(ttl.as_nanos()).unwrap_or(u64::MAX);
    let mut shutdown = state.shutdown();
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = shutdown.wait() => return,
        }
        let freed = state.hub.expire_idle(ttl_ns);
        if freed > 0 {
            tracing::debug!("freed {freed} idle topics");
        }
    }
}

/// Serves `server`'s HTTP endpoints on `listener` too: a cluster member's private control port,
/// which its peers reach it on (the shared port lands on any process). Stops at shutdown.
pub fn serve_control(server: &Server, listener: TcpListener) {
    let state = server.state().clone();
    // Connections here are not waited for at shutdown: the receiver is dropped at once.
    let (alive, _) = mpsc::channel::<()>(1);
    tokio::spawn(crate::http::accept_loop(listener, state, alive));
}
