//! Reconnecting after a lost connection, as each transport's real clients do:
//!
//! - **SSE** waits the reconnection time the server set with `retry:` (rtbench's server sends
//!   1000 ms; 3 s if it sent none, as browsers default) before every attempt, then resumes with
//!   `Last-Event-ID` — what the WHATWG `EventSource` specifies.
//! - **WebSocket, raw TCP, long and short polling** have no standard delay: they try again at
//!   once, then back off exponentially from 100 ms to 2 s ([`backoff`]), and resume with their
//!   cursor (`after=`, `SUB topic after`). Libraries such as socket.io wait ~1 s by default; the
//!   choice is documented in docs/conditions.md.
//!
//! Attempts are bounded ([`MAX_ATTEMPTS`], each connect bounded by [`CONNECT_TIMEOUT`]), and the
//! phase's stop ends a reconnection at once.

use super::subscription::{Carry, ClientCtx, Subscription};
use crate::error::ClientError;
use crate::recorder::Recorder;
use std::time::Duration;
use tokio::sync::watch;

/// Most consecutive attempts before a client gives up (and ends with an error).
pub const MAX_ATTEMPTS: u32 = 60;
/// Longest one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Wait before attempt `attempt` (0-based) of a transport without a standard delay: 0, then
/// 100 ms doubling up to 2 s.
pub fn backoff(attempt: u32) -> Duration {
    match attempt {
        0 => Duration::ZERO,
        n => Duration::from_millis(100u64 << (n - 1).min(5)).min(Duration::from_secs(2)),
    }
}

/// Connects again after a lost connection (`why`); `Ok(None)` if the phase stopped first.
pub(super) async fn reconnect<S: Subscription>(
    ctx: &ClientCtx,
    carry: &Carry,
    rec: &mut Recorder,
    stop: &mut watch::Receiver<bool>,
    why: ClientError,
) -> Result<Option<S>, ClientError> {
    let mut last = why;
    for attempt in 0..MAX_ATTEMPTS {
        let wait = S::reconnect_delay(attempt, carry);
        let cursor = rec.cursor();
        let attempt_once = async {
            tokio::time::sleep(wait).await;
            tokio::time::timeout(CONNECT_TIMEOUT, S::connect(ctx, carry, cursor)).await
        };
        let result = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => return Ok(None),
            r = attempt_once => r,
        };
        match result {
            Ok(Ok(session)) => {
                rec.on_reconnect();
                return Ok(Some(session));
            }
            Ok(Err(e)) => last = e,
            Err(_) => last = ClientError::ConnectTimeout(CONNECT_TIMEOUT),
        }
    }
    Err(ClientError::GaveUp {
        attempts: MAX_ATTEMPTS,
        last: Box::new(last),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_starts_at_once_and_is_capped() {
        let ms = |n| backoff(n).as_millis();
        assert_eq!(
            [ms(0), ms(1), ms(2), ms(3), ms(5), ms(6), ms(40)],
            [0, 100, 200, 400, 1600, 2000, 2000]
        );
    }
}
