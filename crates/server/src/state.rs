//! What every connection, handler and publisher thread of one server shares ([`State`]), the
//! shutdown they all watch ([`Shutdown`]), and the [`Server`] handle that owns them. Serving lives
//! in `server.rs`; this module imports no endpoint, so every endpoint can import it.

use crate::conns::Registry;
use crate::hub::Hub;
use crate::meter::Meters;
use parking_lot::Mutex;
use rtbench_proto::ServerSettings;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// Pause after a failed `accept` (e.g. EMFILE) before trying again.
pub(crate) const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The allocator `GET /settings` reports unless [`Server::with_allocator`] names another: a
/// binary that installs no `#[global_allocator]` runs on the system's.
pub const DEFAULT_ALLOCATOR: &str = "system";

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
    /// The settings the server was built with.
    pub(crate) config: ServerSettings,
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
    /// Memory allocator of the binary serving (`GET /settings` reports it).
    pub(crate) allocator: &'static str,
    /// Connections open now, both listeners (bounded by `limits.max_connections`).
    pub(crate) open_connections: AtomicUsize,
    /// Scheduled publishers running now (bounded by `limits.max_publishers`).
    pub(crate) publishers: AtomicUsize,
    /// Whether the HTTP listener is on a loopback address (control endpoints answer there without
    /// a token); set when serving starts.
    pub(crate) http_loopback: AtomicBool,
    /// The HTTP listener's TLS, when it speaks TLS (`config.tls` says where it came from).
    pub(crate) tls: Option<crate::tls::ServerTls>,
    /// The cluster's broker, when this process is one of a cluster ([`crate::broker`]).
    pub(crate) broker: std::sync::OnceLock<Arc<crate::broker::Broker>>,
}

/// One open connection counted in [`State::open_connections`]; uncounted when dropped.
#[derive(Debug)]
pub(crate) struct ConnSlot(Arc<State>);

impl Drop for ConnSlot {
    fn drop(&mut self) {
        self.0.open_connections.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One running scheduled publisher counted in [`State::publishers`]; uncounted when dropped.
#[derive(Debug)]
pub(crate) struct PublisherSlot(Arc<State>);

impl Drop for PublisherSlot {
    fn drop(&mut self) {
        self.0.publishers.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Takes one of `max` slots of `counter`; `false` when all are taken.
fn take_slot(counter: &AtomicUsize, max: usize) -> bool {
    counter
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < max).then_some(n + 1)
        })
        .is_ok()
}

impl State {
    /// A handle to wait for shutdown with.
    pub(crate) fn shutdown(&self) -> Shutdown {
        Shutdown(self.shutdown.subscribe())
    }

    /// A slot for a new connection, or `None` at `--max-connections` (the hit is logged).
    pub(crate) fn connection_slot(self: &Arc<Self>) -> Option<ConnSlot> {
        let max = self.config.limits.max_connections;
        if take_slot(&self.open_connections, max) {
            return Some(ConnSlot(self.clone()));
        }
        crate::refusal::hit(
            crate::refusal::Limit::MaxConnections,
            format_args!("{max} connections open; a new one was closed at accept"),
        );
        None
    }

    /// A slot for a new scheduled publisher, or `None` at `--max-publishers`.
    pub(crate) fn publisher_slot(self: &Arc<Self>) -> Option<PublisherSlot> {
        let max = self.config.limits.max_publishers;
        if take_slot(&self.publishers, max) {
            return Some(PublisherSlot(self.clone()));
        }
        crate::refusal::hit(
            crate::refusal::Limit::MaxPublishers,
            format_args!("{max} scheduled publishers running"),
        );
        None
    }

    /// Starts shutdown: every [`Shutdown::wait`] resolves and `stopping` reads `true`.
    pub(crate) fn begin_shutdown(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.shutdown.send_replace(true);
    }
}

/// One server: a hub and its counters, served by [`Server::run`]. Cheap to clone (a handle).
///
/// Build it first when something must happen before serving, e.g. starting a publisher:
/// ```no_run
/// # async fn demo(listeners: rtbench_server::Listeners) -> std::io::Result<()> {
/// use rtbench_server::{Server, ServerSettings, start_publisher, shutdown_signal};
/// let server = Server::new(ServerSettings::default());
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
    /// A server with an empty hub and TLS as `config.tls` asks (a certificate generated now, or
    /// read from its files); fails when the certificate cannot be made or read.
    pub fn try_new(config: ServerSettings) -> Result<Self, crate::tls::TlsError> {
        let tls = crate::tls::ServerTls::new(&config.tls)?;
        let mut server = Server::new(config);
        if let Some(tls) = tls {
            server = server.with_tls(tls);
        }
        Ok(server)
    }

    /// The same server, serving HTTP over `tls` (its settings say so). Call before serving.
    pub fn with_tls(mut self, tls: crate::tls::ServerTls) -> Self {
        if let Some(state) = Arc::get_mut(&mut self.state) {
            state.config.tls = tls.setting().clone();
            state.tls = Some(tls);
        }
        self
    }

    /// A plaintext server with an empty hub: `config.tls` is read as off (see
    /// [`Server::try_new`] and [`Server::with_tls`]), so its settings never claim TLS it lacks.
    pub fn new(mut config: ServerSettings) -> Self {
        config.tls = rtbench_proto::TlsSetting::Off;
        let state = State {
            hub: Hub::new(config.ring_capacity, config.max_topics)
                .with_body_padding(config.fault.pad_bytes)
                .with_ring_bytes(config.limits.ring_bytes)
                .with_publish_rate(config.limits.publish_rate_per_topic),
            faults: Registry::new(config.fault_endpoints),
            config,
            meters: Arc::new(Meters::default()),
            shutdown: watch::Sender::new(false),
            stopping: AtomicBool::new(false),
            scheduled_topics: Mutex::new(HashSet::new()),
            allocator: DEFAULT_ALLOCATOR,
            open_connections: AtomicUsize::new(0),
            publishers: AtomicUsize::new(0),
            http_loopback: AtomicBool::new(true),
            tls: None,
            broker: std::sync::OnceLock::new(),
        };
        Server {
            state: Arc::new(state),
        }
    }

    /// The same server, reporting `allocator` as its binary's memory allocator on
    /// `GET /settings` (a library cannot know which global allocator its binary installed). Call it
    /// before the server is cloned or run; a shared server keeps its name.
    pub fn with_allocator(mut self, allocator: &'static str) -> Self {
        if let Some(state) = Arc::get_mut(&mut self.state) {
            state.allocator = allocator;
        }
        self
    }

    /// The server's hub: publish into it or read from it directly.
    pub fn hub(&self) -> &Hub {
        &self.state.hub
    }

    /// The certificate its HTTP listener presents (PEM), when it speaks TLS: what clients trust.
    pub fn tls_cert_pem(&self) -> Option<&str> {
        self.state.tls.as_ref().map(crate::tls::ServerTls::cert_pem)
    }

    /// The settings the server was built with.
    pub fn settings(&self) -> &ServerSettings {
        &self.state.config
    }

    pub(crate) fn state(&self) -> &Arc<State> {
        &self.state
    }
}
