//! The server as a whole: its configuration, its shared state, and [`Server::run`], which serves
//! both listeners until the shutdown future resolves, then ends every stream and waits (bounded) for
//! the connections to close.

use crate::fault::Fault;
use crate::faults::Registry;
use crate::hub::Hub;
use crate::meter::Meters;
use parking_lot::Mutex;
use rtbench_proto::limits::DEFAULT_RING_CAPACITY;
use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

/// How long [`Server::run`] waits for open connections to end after shutdown starts.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// Tunables of the server. `Default` gives the values rtbench measures with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Events retained per topic for cursors to resume from, in events.
    pub ring_capacity: usize,
    /// Most topics the hub creates; requests for a new topic beyond it get a 503, in topics.
    pub max_topics: usize,
    /// Silence after which an SSE stream sends a keep-alive comment, as a duration.
    pub sse_keep_alive: Duration,
    /// Read buffer of each WebSocket connection, in bytes (tungstenite's default is 128 KiB).
    pub ws_read_buffer_bytes: usize,
    /// Write buffer target of each WebSocket connection, in bytes (0: write every message at once).
    pub ws_write_buffer_bytes: usize,
    /// Largest read buffer hyper lets an HTTP/1 connection grow to, in bytes (hyper's
    /// `max_buf_size`; at least [`MIN_HTTP_MAX_BUF_BYTES`]). Its initial buffer is a fixed 8 KiB.
    pub http_max_buf_bytes: usize,
    /// Whether hyper writes HTTP/1 responses with vectored writes (`writev`) rather than
    /// flattening head and body into one buffer.
    pub http_writev: bool,
    /// Serve the plain GETs of `/poll`, `/longpoll` and `/sse` with rtbench's lean HTTP/1.1
    /// responder, which holds no buffer while a connection waits (`true`), or give every
    /// connection to hyper (`false`). Both write the same bytes.
    pub lean_http: bool,
    /// Serve `POST /faults/close` and track connections for it (fault injection; off by default).
    pub fault_endpoints: bool,
    /// Injected degradations for testing the performance gate; off by default ([`Fault`]).
    pub fault: Fault,
}

/// Smallest accepted [`ServerConfig::http_max_buf_bytes`] (hyper's own minimum), in bytes.
pub const MIN_HTTP_MAX_BUF_BYTES: usize = 8192;
/// Largest accepted buffer setting of [`ServerConfig`], in bytes.
pub const MAX_BUFFER_SETTING_BYTES: usize = 64 * 1024 * 1024;
/// Smallest accepted [`ServerConfig::ws_read_buffer_bytes`], in bytes.
pub const MIN_WS_READ_BUFFER_BYTES: usize = 256;

/// A [`ServerConfig`] value outside its accepted range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} must be between {min} and {max} (got {got})")]
pub struct BadSetting {
    /// The setting, as its flag names it.
    pub name: &'static str,
    /// Smallest accepted value.
    pub min: usize,
    /// Largest accepted value.
    pub max: usize,
    /// The value given.
    pub got: usize,
}

impl ServerConfig {
    /// Checks every buffer setting, so a bad value is refused before a server starts (hyper and
    /// tungstenite would panic on some of them).
    pub fn validate(&self) -> Result<(), BadSetting> {
        let checks = [
            (
                "ws read buffer",
                self.ws_read_buffer_bytes,
                MIN_WS_READ_BUFFER_BYTES,
            ),
            ("ws write buffer", self.ws_write_buffer_bytes, 0),
            (
                "http max buffer",
                self.http_max_buf_bytes,
                MIN_HTTP_MAX_BUF_BYTES,
            ),
        ];
        for (name, got, min) in checks {
            if !(min..=MAX_BUFFER_SETTING_BYTES).contains(&got) {
                return Err(BadSetting {
                    name,
                    min,
                    max: MAX_BUFFER_SETTING_BYTES,
                    got,
                });
            }
        }
        Ok(())
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            ring_capacity: DEFAULT_RING_CAPACITY,
            max_topics: 10_000,
            sse_keep_alive: Duration::from_secs(15),
            ws_read_buffer_bytes: 1024,
            ws_write_buffer_bytes: 0,
            http_max_buf_bytes: 8192 + 4096 * 100,
            http_writev: true,
            lean_http: true,
            fault_endpoints: false,
            fault: Fault::default(),
        }
    }
}

/// The two bound listeners the server accepts on.
#[derive(Debug)]
pub struct Listeners {
    /// HTTP: poll, long-poll, SSE, WebSocket, publish, schedule, metrics, healthz.
    pub http: TcpListener,
    /// The raw-TCP floor (length-prefixed frames).
    pub tcp: TcpListener,
}

/// A shutdown that every long-lived task can wait on.
#[derive(Debug, Clone)]
pub(crate) struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// Resolves once shutdown has started (at once if it already has).
    pub(crate) async fn wait(&mut self) {
        // An error means the sender is gone, which also means the server is gone.
        let _ = self.0.wait_for(|stopping| *stopping).await;
    }

    /// Whether shutdown has started.
    pub(crate) fn is_set(&self) -> bool {
        *self.0.borrow()
    }
}

/// What every connection, handler and publisher thread of one server shares.
#[derive(Debug)]
pub(crate) struct State {
    /// The configuration the server was built with.
    pub(crate) config: ServerConfig,
    /// Topics and their rings.
    pub(crate) hub: Hub,
    /// Per-transport counters.
    pub(crate) meters: Arc<Meters>,
    /// Flipped to `true` once when shutdown starts.
    shutdown: watch::Sender<bool>,
    /// The same, for OS threads that cannot await.
    pub(crate) stopping: AtomicBool,
    /// Topics that have a scheduled publisher running.
    pub(crate) scheduled_topics: Mutex<HashSet<String>>,
    /// Connections fault requests may close (empty unless `config.fault_endpoints`).
    pub(crate) faults: Registry,
}

impl State {
    /// A handle to wait for shutdown with.
    pub(crate) fn shutdown(&self) -> Shutdown {
        Shutdown(self.shutdown.subscribe())
    }

    fn begin_shutdown(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.shutdown.send_replace(true);
    }
}

/// One server: a hub and its counters, served by [`Server::run`]. Cheap to clone (a handle).
///
/// Build it first when something must happen before serving, e.g. starting a publisher:
/// ```no_run
/// # async fn demo(listeners: rtbench_server::Listeners) -> std::io::Result<()> {
/// use rtbench_server::{Server, ServerConfig, start_publisher, shutdown_signal};
/// let server = Server::new(ServerConfig::default());
/// let request = rtbench_proto::control::ScheduleRequest {
///     topic: "demo".into(), rate_per_s: 10.0, payload_bytes: 64, events: 600, start_in_ms: 0,
/// };
/// start_publisher(&server, request).expect("valid request");
/// server.run(listeners, shutdown_signal()).await
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Server {
    state: Arc<State>,
}

impl Server {
    /// A server with an empty hub.
    pub fn new(config: ServerConfig) -> Self {
        let state = State {
            hub: Hub::new(config.ring_capacity, config.max_topics)
                .with_body_padding(config.fault.pad_bytes),
            faults: Registry::new(config.fault_endpoints),
            config,
            meters: Arc::new(Meters::default()),
            shutdown: watch::Sender::new(false),
            stopping: AtomicBool::new(false),
            scheduled_topics: Mutex::new(HashSet::new()),
        };
        Server {
            state: Arc::new(state),
        }
    }

    /// The server's hub: publish into it or read from it directly.
    pub fn hub(&self) -> &Hub {
        &self.state.hub
    }

    pub(crate) fn state(&self) -> &Arc<State> {
        &self.state
    }

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
        let state = &self.state;
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
