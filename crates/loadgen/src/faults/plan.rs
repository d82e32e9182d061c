//! The faults a run plans for every phase ([`FaultPlan`]): a value of the configuration, apart
//! from the machinery that injects them ([`super::FaultRun`]).

use std::time::Duration;

/// Shortest accepted time between drop rounds.
pub const MIN_DROP_EVERY: Duration = Duration::from_millis(100);
/// The faults every phase of a run gets.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultPlan {
    /// Fraction of the phase's clients whose connection is dropped in each round, 0 to 1.
    pub drop_fraction: f64,
    /// Time between drop rounds; zero for no drops.
    pub drop_every: Duration,
    /// Restart the server this long after the phase's first scheduled event.
    pub restart_server_at: Option<Duration>,
}

impl FaultPlan {
    /// Whether any fault is planned.
    pub fn is_none(&self) -> bool {
        !self.drops() && self.restart_server_at.is_none()
    }

    /// Whether connections are dropped.
    pub fn drops(&self) -> bool {
        self.drop_fraction > 0.0 && !self.drop_every.is_zero()
    }

    /// Connections dropped per round among `clients`, and how many of them the server closes in
    /// round `round` (the rest are reset by clients; an odd count alternates the extra one).
    pub fn split(&self, clients: u64, round: u64) -> (u64, u64) {
        let k = ((self.drop_fraction * clients as f64).ceil() as u64).min(clients);
        let by_server = k / 2 + (k % 2) * (round % 2);
        (k, by_server)
    }

    /// One line a person reads, or `None` when no fault is planned.
    pub fn describe(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.drops() {
            parts.push(format!(
                "{}% of connections dropped every {} (half closed by the server, half reset by clients)",
                self.drop_fraction * 100.0,
                humanize(self.drop_every)
            ));
        }
        if let Some(at) = self.restart_server_at {
            parts.push(format!("server restarted {} into each phase", humanize(at)));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// `2 s`, `500 ms`.
pub(crate) fn humanize(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}
