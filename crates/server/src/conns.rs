//! The connections a fault request may close: a registry of weak handles to their meters, filled
//! at accept only when the server serves the fault endpoints
//! ([`rtbench_proto::ServerSettings::fault_endpoints`]); otherwise it costs nothing per connection.

use crate::kill::KillSwitch;
use crate::meter::ConnMeter;
use parking_lot::Mutex;
use rand::seq::SliceRandom;
use rtbench_proto::Transport;
use std::sync::{Arc, Weak};

/// The connections a fault request may close. Holds weak handles only: a closed connection's entry
/// is pruned lazily, and the list never grows past twice the connections alive at the last prune.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    enabled: bool,
    conns: Mutex<Vec<Weak<ConnMeter>>>,
    /// Length after the last prune; the next prune happens at twice this (at least 1024).
    prune_at: Mutex<usize>,
}

impl Registry {
    /// A registry that tracks connections only when `enabled`.
    pub(crate) fn new(enabled: bool) -> Self {
        Registry {
            enabled,
            ..Registry::default()
        }
    }

    /// Wraps a new connection's meter, giving it a kill switch and tracking it when enabled.
    pub(crate) fn track(&self, meter: ConnMeter) -> Arc<ConnMeter> {
        if !self.enabled {
            return Arc::new(meter);
        }
        let meter = Arc::new(meter.with_kill_switch(Arc::new(KillSwitch::default())));
        let mut conns = self.conns.lock();
        let mut prune_at = self.prune_at.lock();
        if conns.len() >= (*prune_at).max(1024) {
            conns.retain(|w| w.strong_count() > 0);
            *prune_at = conns.len() * 2;
        }
        conns.push(Arc::downgrade(&meter));
        meter
    }

    /// Kills up to `count` random live connections of `transport`; returns (closed, open).
    pub(crate) fn close(&self, transport: Transport, count: u64) -> (u64, u64) {
        let mut live: Vec<Arc<ConnMeter>> = self
            .conns
            .lock()
            .iter()
            .filter_map(Weak::upgrade)
            .filter(|m| m.bucket_index() == Some(transport.index()) && !m.is_killed())
            .collect();
        let open = live.len() as u64;
        live.shuffle(&mut rand::rng());
        let closed = live
            .iter()
            .take(count as usize)
            .inspect(|m| m.kill())
            .count();
        (closed as u64, open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meter::Meters;
    use tokio::sync::mpsc;

    #[tokio::test]
    async fn closes_only_the_asked_transport_and_at_most_count() {
        let registry = Registry::new(true);
        let meters = Arc::new(Meters::default());
        let (alive, _rx) = mpsc::channel(1);
        let conns: Vec<_> = (0..5)
            .map(|i| {
                let m = registry.track(ConnMeter::new(meters.clone(), alive.clone()));
                let t = if i < 3 {
                    Transport::Sse
                } else {
                    Transport::Tcp
                };
                m.tag(t.index());
                m
            })
            .collect();
        assert_eq!(registry.close(Transport::Sse, 2), (2, 3));
        assert_eq!(conns.iter().filter(|m| m.is_killed()).count(), 2);
        assert!(conns[3..].iter().all(|m| !m.is_killed()));
        // Already killed connections are not counted as open again.
        assert_eq!(registry.close(Transport::Sse, 5), (1, 1));
        // A killed connection's waiter resolves at once.
        tokio::time::timeout(std::time::Duration::from_secs(1), conns[0].killed())
            .await
            .expect("killed resolves");
    }

    #[test]
    fn disabled_registry_tracks_nothing() {
        let registry = Registry::new(false);
        let (alive, _rx) = mpsc::channel(1);
        let m = registry.track(ConnMeter::new(Arc::new(Meters::default()), alive));
        m.tag(Transport::Sse.index());
        assert_eq!(registry.close(Transport::Sse, 1), (0, 0));
    }
}
