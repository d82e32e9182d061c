//! One connection's kill switch, pulled by `POST /faults/close` ([`crate::drop_endpoint`]) and
//! watched by the task serving the connection. A leaf: it imports nothing of the crate.

use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

/// One connection's kill switch: set once, observed by the task serving the connection.
#[derive(Debug, Default)]
pub(crate) struct KillSwitch {
    killed: AtomicBool,
    notify: Notify,
}

impl KillSwitch {
    /// Asks the connection to close.
    pub(crate) fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Whether [`KillSwitch::kill`] was called.
    pub(crate) fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    /// Resolves once [`KillSwitch::kill`] was called (at once if it already was).
    pub(crate) async fn wait(&self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.killed.load(Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }
}
