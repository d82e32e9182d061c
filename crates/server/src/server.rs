//! Serving a [`Server`]: [`Server::run`] serves both listeners until the shutdown future resolves,
//! then ends every stream and waits (bounded) for the connections to close.

use crate::state::Server;
use std::future::Future;
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
        tokio::join!(
            crate::http::accept_loop(listeners.http, state.clone(), alive.clone()),
            crate::tcp::accept_loop(listeners.tcp, state.clone(), alive.clone()),
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
