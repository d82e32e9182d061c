//! What every client is: the [`Subscription`] trait one module per transport implements, what a
//! client task is given ([`ClientCtx`]) and what it carries from one connection to the next
//! ([`Carry`]), and the recording of what a message or poll answer carried.

use super::reconnect::backoff;
use crate::control::Target;
use crate::error::ClientError;
use crate::http::{ReqBody, Requests};
use crate::latency_sink::LatencySink;
use crate::recorder::Recorder;
use crate::target::spec;
use rtbench_proto::Transport;
use rtbench_proto::event::{Message, parse_message};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore, mpsc, watch};

/// What a client task is given.
#[derive(Debug, Clone)]
pub struct ClientCtx {
    /// Server addresses (the delay proxy's, when conditions are emulated).
    pub target: Target,
    /// Topic to subscribe to.
    pub topic: String,
    /// Short-poll interval.
    pub poll_interval: Duration,
    /// Hold time long-poll requests ask for, milliseconds.
    pub longpoll_timeout_ms: u64,
    /// Events the client should expect (capacity hint).
    pub expected_events: usize,
    /// Sequence number of the last scheduled event; `u64::MAX` until the schedule is known.
    pub last_seq: Arc<AtomicU64>,
    /// Becomes `true` when the phase ends: the client returns what it has.
    pub stop: watch::Receiver<bool>,
    /// Where the client reports that it is connected and subscribed, or why it is not.
    pub ready: mpsc::Sender<Result<(), ClientError>>,
    /// This client's id within the phase; its own messages' stamps carry it.
    pub client_id: u32,
    /// Topic the socket's upstream messages go to instead of `topic` (inline senders only).
    pub publish_to: Option<String>,
    /// Distinct events received so far by every client of the phase (progress and drain).
    pub received: Arc<AtomicU64>,
    /// Notified to make this client abort its connection with a reset (fault injection); give each
    /// client its own ([`ClientCtx::for_client`]).
    pub reset: Arc<Notify>,
    /// Where first receipts' latencies go (`None`: not recorded, as in the idle scenario).
    pub latencies: Option<Arc<LatencySink>>,
    /// Permits to connect: a client holds one from its first connect until it is subscribed, so
    /// at most that many connect at once (`None`: no limit, as in the idle scenario, which
    /// spawns in batches).
    pub connect_gate: Option<Arc<Semaphore>>,
    /// HTTP/2 senders only: where the client hands each subscription connection it opens (and
    /// `None` when it loses one), so its publishes go as streams on it
    /// ([`crate::upstream::http::shared`]). `None`: nobody publishes on the client's connection.
    pub(crate) share: Option<Arc<watch::Sender<Option<Requests<ReqBody>>>>>,
    /// Socket.IO senders under `--socketio-ack`: where their acknowledged emits are counted and
    /// timed (`None`: the client emits nothing acknowledged).
    pub(crate) acks: Option<Arc<super::AckSink>>,
}

impl ClientCtx {
    /// Whether the client holds every scheduled event.
    pub(super) fn done(&self, rec: &Recorder) -> bool {
        rec.cursor() >= self.last_seq.load(Ordering::Relaxed)
    }

    /// A copy for one more client, with a reset handle of its own.
    pub fn for_client(&self) -> ClientCtx {
        ClientCtx {
            reset: Arc::new(Notify::new()),
            ..self.clone()
        }
    }
}

/// Why `recv` returned early.
#[derive(Debug)]
pub(super) enum RecvError {
    /// The connection is gone (closed, reset, refused, a non-2xx answer): reconnect.
    Lost(ClientError),
    /// The server sent something outside the protocol: this client stops.
    Protocol(ClientError),
}

impl From<ClientError> for RecvError {
    fn from(e: ClientError) -> Self {
        RecvError::Lost(e)
    }
}

/// A protocol violation: the client stops.
pub(super) fn protocol(e: impl ToString) -> RecvError {
    RecvError::Protocol(ClientError::Protocol(e.to_string()))
}

/// What a client carries from one connection to the next, as its real counterpart keeps it. The
/// cursor of poll, WebSocket and TCP clients is the recorder's (the last event held).
#[derive(Debug, Default)]
pub(super) struct Carry {
    /// SSE: the last `id:` dispatched, sent back as `Last-Event-ID`.
    pub(super) last_event_id: Option<String>,
    /// SSE: the reconnection time the server set with `retry:`.
    pub(super) retry: Option<Duration>,
    /// Whether the next connection is a reconnection.
    pub(super) resuming: bool,
}

/// An open subscription on one transport: what the client loop ([`super::drive`]) drives. One
/// implementation per transport, each in its own module; [`super::pick`] chooses among them.
pub(super) trait Subscription: Sized + Send + 'static {
    /// The transport it speaks.
    const TRANSPORT: Transport;
    /// Whether [`Subscription::send`] publishes on the subscription's own socket. Must agree with
    /// the transport's `SendPath` (a test checks it).
    const SENDS_INLINE: bool = false;
    /// Whether [`Subscription::send`] can publish as acknowledged emits on the subscription's own
    /// connection when the phase asks for them (`--socketio-ack`: the Socket.IO clients).
    const SENDS_ACKED: bool = false;

    /// Connects and subscribes, resuming after `cursor` (the last event held) or from `carry`.
    fn connect(
        ctx: &ClientCtx,
        carry: &Carry,
        cursor: u64,
    ) -> impl Future<Output = Result<Self, ClientError>> + Send;

    /// Waits for the next message or answer and records what it carried.
    fn recv(
        &mut self,
        ctx: &ClientCtx,
        rec: &mut Recorder,
        carry: &mut Carry,
    ) -> impl Future<Output = Result<(), RecvError>> + Send;

    /// Publishes `payload` on the subscription's own socket ([`Subscription::SENDS_INLINE`]
    /// transports, and [`Subscription::SENDS_ACKED`] ones under `--socketio-ack`; the others publish on connections of their own, [`crate::upstream::http`]).
    fn send(&mut self, _payload: &str) -> impl Future<Output = Result<(), ClientError>> + Send {
        async { Err(ClientError::NoInlineSend) }
    }

    /// HTTP/2: a handle sending requests as streams of the subscription's connection, for the
    /// client's publishes (`None`: the connection cannot be shared).
    fn share(&self) -> Option<Requests<ReqBody>> {
        None
    }

    /// Aborts the connection with a TCP reset.
    fn reset(self);

    /// Wait before reconnection attempt `attempt` (0-based): [`backoff`] unless the transport's
    /// standard says otherwise.
    fn reconnect_delay(attempt: u32, _carry: &Carry) -> Duration {
        backoff(attempt)
    }
}

/// Records one pushed message (event body or gap notice).
pub(super) fn record_message(body: &[u8], rec: &mut Recorder) -> Result<(), RecvError> {
    let body = spec::current().message(body);
    match parse_message(&body).map_err(protocol)? {
        Message::Event(ev) => rec.on_event_body(&ev, rtbench_proto::mono_now_ns()),
        Message::Gap { dropped } => rec.on_gap(dropped),
    }
    Ok(())
}

/// Records a poll or long-poll response body.
pub(super) fn record_poll_response(body: &[u8], rec: &mut Recorder) -> Result<(), RecvError> {
    let body = spec::current().batch(body);
    let batch = rtbench_proto::poll::parse_poll_response(&body).map_err(protocol)?;
    let now = rtbench_proto::mono_now_ns();
    if batch.dropped > 0 {
        rec.on_gap(batch.dropped);
    }
    for ev in &batch.events {
        rec.on_event_body(ev, now);
    }
    Ok(())
}
