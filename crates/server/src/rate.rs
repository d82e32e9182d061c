//! Publish-rate limiting: a GCRA (generic cell rate algorithm) token bucket, lock-free, one per
//! connection and one per topic. A publisher over its rate is *slowed*: the caller sleeps the
//! delay [`Gcra::delay_ns`] returns before publishing, and a raw-TCP or WebSocket connection reads
//! nothing meanwhile, so the back-pressure reaches the client's socket. Hand-written: the policy
//! is a dozen lines over one atomic, and the crates that do this bring their own clocks and
//! refusal semantics where rtbench needs "wait this long" on CLOCK_MONOTONIC.

use std::sync::atomic::{AtomicU64, Ordering};

/// A rate of `per_s` events per second with bursts of up to `burst` events.
#[derive(Debug)]
pub(crate) struct Gcra {
    /// Nanoseconds between events at the sustained rate (0: unlimited).
    interval_ns: u64,
    /// How far ahead of now the theoretical arrival time may run before callers wait.
    burst_ns: u64,
    /// Theoretical arrival time of the next event, CLOCK_MONOTONIC ns.
    tat_ns: AtomicU64,
}

impl Gcra {
    /// `per_s` events per second (`u64::MAX`: unlimited), bursts of `burst` events (at least 1).
    pub(crate) fn new(per_s: u64, burst: usize) -> Gcra {
        let interval_ns = if per_s == u64::MAX {
            0
        } else {
            1_000_000_000 / per_s.max(1)
        };
        let burst = u64::try_from(burst.max(1)).unwrap_or(u64::MAX);
        Gcra {
            interval_ns,
            burst_ns: interval_ns.saturating_mul(burst - 1),
            tat_ns: AtomicU64::new(0),
        }
    }

    /// Claims the next event at `now_ns` and returns how long its caller must wait before sending
    /// it, in ns (0: at once). Every call claims a slot, so concurrent callers queue up in turn.
    pub(crate) fn delay_ns(&self, now_ns: u64) -> u64 {
        if self.interval_ns == 0 {
            return 0;
        }
        let mut wait = 0;
        let _ = self
            .tat_ns
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |tat| {
                let start = tat.max(now_ns);
                wait = start.saturating_sub(now_ns.saturating_add(self.burst_ns));
                Some(start.saturating_add(self.interval_ns))
            });
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_goes_at_once_then_the_rate_holds() {
        let g = Gcra::new(1_000, 4);
        let now = 1_000_000_000;
        let waits: Vec<u64> = (0..6).map(|_| g.delay_ns(now)).collect();
        assert_eq!(waits, [0, 0, 0, 0, 1_000_000, 2_000_000]);
        // After a quiet second the burst is back.
        assert_eq!(g.delay_ns(now + 1_000_000_000), 0);
        let unlimited = Gcra::new(u64::MAX, 1);
        assert!((0..1000).all(|_| unlimited.delay_ns(now) == 0));
    }
}
