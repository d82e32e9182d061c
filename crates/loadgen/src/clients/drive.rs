//! The client loop, written once for every [`Subscription`]: connect, then wait for whichever
//! comes first — the phase's stop, a reset (fault injection), an inline send falling due, or the
//! next message — and reconnect when the connection is lost. On HTTP/2 it hands each connection to
//! the client's sender, which publishes on it ([`crate::upstream::http::shared`]).

use super::reconnect;
use super::subscription::{Carry, ClientCtx, RecvError, Subscription};
use crate::error::ClientError;
use crate::http::{ReqBody, Requests};
use crate::recorder::{Recorder, Tally};
use crate::upstream::inline::{InlineSends, next_due};
use std::sync::atomic::Ordering;
use tokio::sync::watch;

/// What ended one wait of the client loop.
enum Outcome {
    Stop,
    Reset,
    Sent(Result<(), ClientError>),
    Recv(Result<(), RecvError>),
}

/// Runs one client on subscription `S` until every scheduled event arrived (and every inline send
/// went out) or the phase stops it, reconnecting whenever its connection is lost.
pub(super) async fn drive<S: Subscription>(
    ctx: ClientCtx,
    mut sends: Option<InlineSends>,
) -> Tally {
    let mut rec = match &ctx.latencies {
        Some(sink) => Recorder::recording_to(ctx.client_id, sink.clone()),
        None => Recorder::for_client(ctx.expected_events, ctx.client_id),
    };
    let mut carry = Carry::default();
    // Held until subscribed (or refused); a closed gate never happens, so an error means no gate.
    let permit = match &ctx.connect_gate {
        Some(gate) => gate.clone().acquire_owned().await.ok(),
        None => None,
    };
    let connected = S::connect(&ctx, &carry, 0).await;
    drop(permit);
    let mut session = match connected {
        Ok(s) => {
            hand_over(&ctx, s.share());
            let _ = ctx.ready.send(Ok(())).await;
            s
        }
        Err(e) => {
            let why = e.to_string();
            let _ = ctx.ready.send(Err(e)).await;
            return rec.finish(Some(why));
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
                hand_over(&ctx, None);
                drop(session);
                e
            }
            Outcome::Reset => {
                hand_over(&ctx, None);
                session.reset();
                ClientError::ResetByClient
            }
        };
        carry.resuming = true;
        match reconnect::reconnect::<S>(&ctx, &carry, &mut rec, &mut stop, why).await {
            Ok(Some(s)) => {
                hand_over(&ctx, s.share());
                session = s;
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    hand_over(&ctx, None);
    rec.finish(error.map(|e| e.to_string()))
}

/// Tells the client's HTTP/2 sender, if it has one, which connection its publishes go on now.
fn hand_over(ctx: &ClientCtx, conn: Option<Requests<ReqBody>>) {
    if let Some(share) = &ctx.share {
        share.send_replace(conn);
    }
}

/// Resolves once the phase says stop (the guard `wait_for` returns must not live across a send).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
