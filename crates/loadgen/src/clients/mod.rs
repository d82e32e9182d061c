//! One client per task, one module per transport, all behind the same calls: `connect` (which
//! subscribes, resuming from what the client already holds), `recv` (which waits for the next
//! message or batch and records what it carried) and `reset` (which aborts the connection).
//! The loop around them — stop when every scheduled event is in or when told to, reconnect when
//! the connection is lost ([`reconnect`]) — is written once, here, so every transport is driven,
//! measured and resumed the same way.

mod long_poll;
mod reconnect;
mod short_poll;
mod sse;
mod sse_parser;
mod tcp;
mod websocket;

pub use reconnect::{MAX_ATTEMPTS, backoff};
pub use sse_parser::{SseBlock, SseParser};

use crate::control::Target;
use crate::recorder::{Recorder, Tally};
use rtbench_proto::Transport;
use rtbench_proto::event::{Message, parse_message};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};

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
    pub ready: mpsc::Sender<Result<(), String>>,
    /// Notified to make this client abort its connection with a reset (fault injection); give each
    /// client its own ([`ClientCtx::for_client`]).
    pub reset: Arc<Notify>,
}

impl ClientCtx {
    fn done(&self, rec: &Recorder) -> bool {
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
enum RecvError {
    /// The connection is gone (closed, reset, refused, a non-2xx answer): reconnect.
    Lost(String),
    /// The server sent something outside the protocol: this client stops.
    Protocol(String),
}

impl From<String> for RecvError {
    fn from(e: String) -> Self {
        RecvError::Lost(e)
    }
}

/// What a client carries from one connection to the next, as its real counterpart keeps it. The
/// cursor of poll, WebSocket and TCP clients is the recorder's (the last event held).
#[derive(Debug, Default)]
struct Carry {
    /// SSE: the last `id:` dispatched, sent back as `Last-Event-ID`.
    last_event_id: Option<String>,
    /// SSE: the reconnection time the server set with `retry:`.
    retry: Option<Duration>,
    /// Whether the next connection is a reconnection.
    resuming: bool,
}

/// An open subscription on one transport.
enum Session {
    Tcp(tcp::Session),
    WebSocket(websocket::Session),
    Sse(sse::Session),
    LongPoll(long_poll::Session),
    ShortPoll(short_poll::Session),
}

impl Session {
    async fn connect(
        transport: Transport,
        ctx: &ClientCtx,
        carry: &Carry,
        cursor: u64,
    ) -> Result<Session, String> {
        Ok(match transport {
            Transport::Tcp => Session::Tcp(tcp::Session::connect(ctx, cursor).await?),
            Transport::WebSocket => {
                Session::WebSocket(websocket::Session::connect(ctx, cursor).await?)
            }
            Transport::Sse => Session::Sse(sse::Session::connect(ctx, carry).await?),
            Transport::LongPoll => Session::LongPoll(long_poll::Session::connect(ctx).await?),
            Transport::ShortPoll => {
                Session::ShortPoll(short_poll::Session::connect(ctx, carry.resuming).await?)
            }
        })
    }

    async fn recv(
        &mut self,
        ctx: &ClientCtx,
        rec: &mut Recorder,
        carry: &mut Carry,
    ) -> Result<(), RecvError> {
        match self {
            Session::Tcp(s) => s.recv(rec).await,
            Session::WebSocket(s) => s.recv(rec).await,
            Session::Sse(s) => s.recv(rec, carry).await,
            Session::LongPoll(s) => s.recv(ctx, rec).await,
            Session::ShortPoll(s) => s.recv(ctx, rec).await,
        }
    }

    /// Aborts the connection with a TCP reset.
    fn reset(self) {
        match self {
            Session::Tcp(s) => s.reset(),
            Session::WebSocket(s) => s.reset(),
            Session::Sse(s) => s.reset(),
            Session::LongPoll(s) => s.reset(),
            Session::ShortPoll(s) => s.reset(),
        }
    }
}

/// What ended one wait of the client loop.
enum Outcome {
    Stop,
    Reset,
    Recv(Result<(), RecvError>),
}

/// Runs one client of `transport` until every scheduled event arrived or the phase stops it,
/// reconnecting whenever its connection is lost.
pub async fn run(transport: Transport, ctx: ClientCtx) -> Tally {
    let mut rec = Recorder::with_capacity(ctx.expected_events);
    let mut carry = Carry::default();
    let mut session = match Session::connect(transport, &ctx, &carry, 0).await {
        Ok(s) => {
            let _ = ctx.ready.send(Ok(())).await;
            s
        }
        Err(e) => {
            let _ = ctx.ready.send(Err(e.clone())).await;
            return rec.finish(Some(e));
        }
    };
    let mut stop = ctx.stop.clone();
    let error = loop {
        if ctx.done(&rec) {
            break None;
        }
        let outcome = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => Outcome::Stop,
            () = ctx.reset.notified() => Outcome::Reset,
            r = session.recv(&ctx, &mut rec, &mut carry) => Outcome::Recv(r),
        };
        let why = match outcome {
            Outcome::Stop => break None,
            Outcome::Recv(Ok(())) => continue,
            Outcome::Recv(Err(RecvError::Protocol(e))) => break Some(e),
            Outcome::Recv(Err(RecvError::Lost(e))) => {
                drop(session);
                e
            }
            Outcome::Reset => {
                session.reset();
                "reset by the client".to_string()
            }
        };
        carry.resuming = true;
        match reconnect::reconnect(transport, &ctx, &carry, &mut rec, &mut stop, why).await {
            Ok(Some(s)) => session = s,
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    rec.finish(error)
}

/// Records one pushed message (event body or gap notice).
fn record_message(body: &[u8], rec: &mut Recorder) -> Result<(), RecvError> {
    match parse_message(body).map_err(|e| RecvError::Protocol(e.to_string()))? {
        Message::Event(ev) => rec.on_event(ev.seq, ev.t_pub_ns),
        Message::Gap { dropped } => rec.on_gap(dropped),
    }
    Ok(())
}

/// Records a poll or long-poll response body.
fn record_poll_response(body: &[u8], rec: &mut Recorder) -> Result<(), RecvError> {
    let batch = rtbench_proto::poll::parse_poll_response(body)
        .map_err(|e| RecvError::Protocol(e.to_string()))?;
    let now = rtbench_proto::mono_now_ns();
    if batch.dropped > 0 {
        rec.on_gap(batch.dropped);
    }
    for ev in &batch.events {
        rec.on_event_at(ev.seq, ev.t_pub_ns, now);
    }
    Ok(())
}
