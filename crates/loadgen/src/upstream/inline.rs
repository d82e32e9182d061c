//! Sends made from a WebSocket or raw-TCP client's own receive loop, on its own socket.
//!
//! The loop waits on the next due message and on the next received one at once; receiving on
//! those two transports is cancel-safe, so a due message interrupts the wait, is written, and
//! the wait resumes. Writing a small message to a socket does not wait for any reply.

use super::stamp;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc::UnboundedReceiver;

/// The messages one client sends on its own socket.
#[derive(Debug)]
pub struct InlineSends {
    dues: UnboundedReceiver<u64>,
    client: u32,
    payload_bytes: usize,
    finished: bool,
    /// Messages of the phase handed out so far; the caller writes each before it can stop.
    sent: Arc<AtomicU64>,
}

impl InlineSends {
    /// Sends of `client`, `payload_bytes` each, due when `dues` yields their scheduled times;
    /// each one handed out is counted in `sent`.
    pub(crate) fn new(
        dues: UnboundedReceiver<u64>,
        client: u32,
        payload_bytes: usize,
        sent: Arc<AtomicU64>,
    ) -> Self {
        InlineSends {
            dues,
            client,
            payload_bytes,
            finished: false,
            sent,
        }
    }

    /// The payload of the next message once it is due; `None` when no more will come.
    /// Cancel-safe.
    pub async fn next(&mut self) -> Option<String> {
        match self.dues.recv().await {
            Some(t_sched_ns) => {
                self.sent.fetch_add(1, Ordering::Relaxed);
                Some(stamp::encode(t_sched_ns, self.client, self.payload_bytes))
            }
            None => {
                self.finished = true;
                None
            }
        }
    }

    /// Whether every message has been handed out.
    pub fn finished(&self) -> bool {
        self.finished
    }
}

/// The next due payload of `sends`, or never if there are none (for a `select!` arm).
pub async fn next_due(sends: &mut Option<InlineSends>) -> Option<String> {
    match sends {
        Some(s) => s.next().await,
        None => std::future::pending().await,
    }
}
