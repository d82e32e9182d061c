//! One client per task, one module per transport, all behind the same two calls: `connect` (which
//! subscribes) and `recv` (which waits for the next message or batch and records what it carried).
//! The loop around them — stop when every scheduled event is in, or when told to — is written once,
//! here, so every transport is driven and measured the same way.

mod long_poll;
mod short_poll;
mod sse;
mod sse_parser;
mod tcp;
mod websocket;

pub use sse_parser::{SseBlock, SseParser};

use crate::control::Target;
use crate::recorder::{Recorder, Tally};
use rtbench_proto::Transport;
use rtbench_proto::event::{Message, parse_message};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// What a client task is given.
#[derive(Debug, Clone)]
pub struct ClientCtx {
    /// Server addresses.
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
}

impl ClientCtx {
    fn done(&self, rec: &Recorder) -> bool {
        rec.cursor() >= self.last_seq.load(Ordering::Relaxed)
    }
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
    async fn connect(transport: Transport, ctx: &ClientCtx) -> Result<Session, String> {
        Ok(match transport {
            Transport::Tcp => Session::Tcp(tcp::Session::connect(ctx).await?),
            Transport::WebSocket => Session::WebSocket(websocket::Session::connect(ctx).await?),
            Transport::Sse => Session::Sse(sse::Session::connect(ctx).await?),
            Transport::LongPoll => Session::LongPoll(long_poll::Session::connect(ctx).await?),
            Transport::ShortPoll => Session::ShortPoll(short_poll::Session::connect(ctx).await?),
        })
    }

    async fn recv(&mut self, ctx: &ClientCtx, rec: &mut Recorder) -> Result<(), String> {
        match self {
            Session::Tcp(s) => s.recv(rec).await,
            Session::WebSocket(s) => s.recv(rec).await,
            Session::Sse(s) => s.recv(rec).await,
            Session::LongPoll(s) => s.recv(ctx, rec).await,
            Session::ShortPoll(s) => s.recv(ctx, rec).await,
        }
    }
}

/// Runs one client of `transport` until every scheduled event arrived or the phase stops it.
pub async fn run(transport: Transport, ctx: ClientCtx) -> Tally {
    let mut rec = Recorder::with_capacity(ctx.expected_events);
    let mut session = match Session::connect(transport, &ctx).await {
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
        tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => break None,
            r = session.recv(&ctx, &mut rec) => if let Err(e) = r { break Some(e) },
        }
    };
    rec.finish(error)
}

/// Records one pushed message (event body or gap notice).
fn record_message(body: &[u8], rec: &mut Recorder) -> Result<(), String> {
    match parse_message(body).map_err(|e| e.to_string())? {
        Message::Event(ev) => rec.on_event(ev.seq, ev.t_pub_ns),
        Message::Gap { dropped } => rec.on_gap(dropped),
    }
    Ok(())
}

/// Records a poll or long-poll response body.
fn record_poll_response(body: &[u8], rec: &mut Recorder) -> Result<(), String> {
    let batch = rtbench_proto::poll::parse_poll_response(body).map_err(|e| e.to_string())?;
    let now = rtbench_proto::mono_now_ns();
    if batch.dropped > 0 {
        rec.on_gap(batch.dropped);
    }
    for ev in &batch.events {
        rec.on_event_at(ev.seq, ev.t_pub_ns, now);
    }
    Ok(())
}
