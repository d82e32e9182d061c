//! One client per task, one module per transport, all behind the same calls: `connect` (which
//! subscribes, resuming from what the client already holds), `recv` (which waits for the next
//! message or batch and records what it carried), `send` (WebSocket and raw TCP publish on their
//! own socket) and `reset` (which aborts the connection). The loop around them — stop when every
//! scheduled event is in and every message sent, or when told to; reconnect when the connection is
//! lost ([`reconnect`]) — is written once, here, so every transport is driven, measured and resumed
//! the same way.

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
use crate::upstream::inline::{InlineSends, next_due};
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
    /// This client's id within the phase; its own messages' stamps carry it.
    pub client_id: u32,
    /// Topic the socket's upstream messages go to instead of `topic` (WebSocket, raw TCP).
    pub publish_to: Option<String>,
    /// Distinct events received so far by every client of the phase (progress and drain).
    pub received: Arc<AtomicU64>,
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

    /// Publishes `payload` on the session's own socket: WebSocket and raw TCP only; the HTTP
    /// transports publish on connections of their own ([`crate::upstream::http`]).
    async fn send(&mut self, payload: &str) -> Result<(), String> {
        match self {
            Session::Tcp(s) => s.send(payload).await,
            Session::WebSocket(s) => s.send(payload).await,
            _ => Err("this transport publishes on connections of its own".into()),
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
    Sent(Result<(), String>),
    Recv(Result<(), RecvError>),
}

/// Runs one client of `transport` until every scheduled event arrived or the phase stops it,
/// reconnecting whenever its connection is lost.
pub async fn run(transport: Transport, ctx: ClientCtx) -> Tally {
    run_with_sends(transport, ctx, None).await
}

/// [`run`], also sending `sends` on the client's own socket as they fall due (WebSocket, raw TCP).
pub(crate) async fn run_with_sends(
    transport: Transport,
    ctx: ClientCtx,
    mut sends: Option<InlineSends>,
) -> Tally {
    let mut rec = Recorder::for_client(ctx.expected_events, ctx.client_id);
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
        let sends_over = sends.as_ref().is_none_or(InlineSends::finished);
        if ctx.done(&rec) && sends_over {
            break None;
        }
        let before = rec.first_receipts();
        let outcome = tokio::select! {
            biased;
            () = stopped(&mut stop) => Outcome::Stop,
            () = ctx.reset.notified() => Outcome::Reset,
            Some(payload) = next_due(&mut sends), if !sends_over => {
                Outcome::Sent(session.send(&payload).await)
            }
            r = session.recv(&ctx, &mut rec, &mut carry) => Outcome::Recv(r),
        };
        let got = rec.first_receipts() - before;
        if got > 0 {
            ctx.received.fetch_add(got, Ordering::Relaxed);
        }
        let why = match outcome {
            Outcome::Stop => break None,
            Outcome::Recv(Ok(())) | Outcome::Sent(Ok(())) => continue,
            Outcome::Recv(Err(RecvError::Protocol(e))) => break Some(e),
            Outcome::Recv(Err(RecvError::Lost(e))) | Outcome::Sent(Err(e)) => {
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

/// Resolves once the phase says stop (the guard `wait_for` returns must not live across a send).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Records one pushed message (event body or gap notice).
fn record_message(body: &[u8], rec: &mut Recorder) -> Result<(), RecvError> {
    match parse_message(body).map_err(|e| RecvError::Protocol(e.to_string()))? {
        Message::Event(ev) => rec.on_event_body(&ev, rtbench_proto::mono_now_ns()),
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
        rec.on_event_body(ev, now);
    }
    Ok(())
}
