//! Where a phase's clients record latencies as events arrive: a few shards, each holding the
//! measured window's histogram and the current interval's (docs/measurement.md, "Where the
//! latency histogram lives").
//!
//! A receipt is classified at arrival by its scheduled time: inside the window `[from, to)` it is
//! recorded into its shard's window histogram at once; warm-up and tail receipts are not. Every
//! receipt, whatever its scheduled time, also goes into the shard's interval histogram, which the
//! interval log ([`crate::interval_log`]) takes once a second. Memory is the shards' histograms
//! (about 136 KiB each at rtbench's precision), whatever the number of clients or events; shards
//! only spread the lock. The window is known once the phase's time zero is; a receipt that
//! arrives before (none should: events start [`crate::workload`]'s lead time later) waits in its
//! shard until [`LatencySink::set_window`] classifies it.
//!
//! A shard on another host ([`crate::shard`]) reads its own clock on receipt while events carry
//! the server's: [`LatencySink::set_clock_offset`] gives the sink that clock's offset to the
//! server's, and [`LatencySink::record_receipt`] adds it before subtracting (0 on the server's
//! host, where every process shares one CLOCK_MONOTONIC).

use parking_lot::Mutex;
use rtbench_results::histogram::{LatencyHistogram, new_histogram};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Shards of a phase's sink: enough that clients on different threads rarely share a lock.
pub const SHARDS: usize = 8;

/// One shard's histograms.
#[derive(Debug)]
struct Shard {
    /// Receipts scheduled inside the window.
    window: LatencyHistogram,
    /// Every receipt since the interval log last took this one.
    interval: LatencyHistogram,
    /// `(t_sched_ns, latency_ns)` of receipts that arrived before the window was known.
    pending: Vec<(u64, u64)>,
}

/// A phase's latency histograms, shared by its clients.
#[derive(Debug)]
pub struct LatencySink {
    /// Window start, CLOCK_MONOTONIC ns.
    from_ns: AtomicU64,
    /// Window end (exclusive); 0 until the window is known.
    to_ns: AtomicU64,
    /// The server's clock minus this process's, ns ([`LatencySink::set_clock_offset`]).
    clock_offset_ns: AtomicI64,
    /// The shards.
    shards: Box<[Mutex<Shard>]>,
}

impl Default for LatencySink {
    fn default() -> Self {
        LatencySink::new()
    }
}

impl LatencySink {
    /// An empty sink whose window is not known yet.
    pub fn new() -> LatencySink {
        let shard = || {
            Mutex::new(Shard {
                window: new_histogram(),
                interval: new_histogram(),
                pending: Vec::new(),
            })
        };
        LatencySink {
            from_ns: AtomicU64::new(0),
            to_ns: AtomicU64::new(0),
            clock_offset_ns: AtomicI64::new(0),
            shards: (0..SHARDS).map(|_| shard()).collect(),
        }
    }

    /// Sets the measured window `[from_ns, to_ns)` and classifies receipts that arrived before.
    pub fn set_window(&self, from_ns: u64, to_ns: u64) {
        self.from_ns.store(from_ns, Ordering::Relaxed);
        self.to_ns.store(to_ns.max(1), Ordering::Release);
        for shard in self.shards.iter() {
            let mut s = shard.lock();
            for (t, latency_ns) in std::mem::take(&mut s.pending) {
                if (from_ns..to_ns).contains(&t) {
                    s.window.saturating_record(latency_ns.max(1));
                }
            }
        }
    }

    /// Sets the server's clock minus this process's, nanoseconds: receipts are read on this
    /// process's clock, events are stamped on the server's.
    pub fn set_clock_offset(&self, offset_ns: i64) {
        self.clock_offset_ns.store(offset_ns, Ordering::Relaxed);
    }

    /// Records the first receipt, at `now_ns` on this process's clock, of an event the server
    /// scheduled at `t_sched_ns` on its own: the latency is `now_ns` plus the clock offset minus
    /// `t_sched_ns` (0 when the correction makes it negative).
    pub fn record_receipt(&self, shard: usize, t_sched_ns: u64, now_ns: u64) {
        let offset = self.clock_offset_ns.load(Ordering::Relaxed);
        let now_server = now_ns.saturating_add_signed(offset);
        self.record(shard, t_sched_ns, now_server.saturating_sub(t_sched_ns));
    }

    /// Records the first receipt of an event scheduled at `t_sched_ns`, `latency_ns` late, into
    /// shard `shard` (any number; taken modulo the shards).
    pub fn record(&self, shard: usize, t_sched_ns: u64, latency_ns: u64) {
        let mut s = self.shards[shard % SHARDS].lock();
        s.interval.saturating_record(latency_ns.max(1));
        // Read under the lock: `set_window` stores, then takes every lock to classify.
        let to = self.to_ns.load(Ordering::Acquire);
        if to == 0 {
            s.pending.push((t_sched_ns, latency_ns));
        } else if (self.from_ns.load(Ordering::Relaxed)..to).contains(&t_sched_ns) {
            s.window.saturating_record(latency_ns.max(1));
        }
    }

    /// The window's latencies, every shard merged.
    pub fn window_histogram(&self) -> LatencyHistogram {
        self.merged(|s| &mut s.window, false)
    }

    /// Every receipt since the last call, every shard merged; the shards' interval histograms
    /// start again empty.
    pub fn take_interval(&self) -> LatencyHistogram {
        self.merged(|s| &mut s.interval, true)
    }

    /// Merges one histogram of every shard, resetting them when `reset`.
    fn merged(
        &self,
        pick: fn(&mut Shard) -> &mut LatencyHistogram,
        reset: bool,
    ) -> LatencyHistogram {
        let mut all = new_histogram();
        for shard in self.shards.iter() {
            let mut s = shard.lock();
            let h = pick(&mut s);
            // Same bounds and precision: adding cannot fail.
            let _ = all.add(&*h);
            if reset {
                h.reset();
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_are_corrected_by_the_clock_offset() {
        let sink = LatencySink::new();
        sink.set_window(0, 1_000_000);
        sink.record_receipt(0, 5_000, 6_000); // same clock: 1 µs
        sink.set_clock_offset(-500);
        sink.record_receipt(1, 5_000, 9_000); // this clock 500 ns ahead: 3.5 µs
        sink.set_clock_offset(2_000);
        sink.record_receipt(2, 5_000, 4_000); // 2 µs behind: read 1 µs early, 1 µs late
        let w = sink.window_histogram();
        assert_eq!(w.len(), 3);
        assert_eq!(w.min(), 1_000);
        assert!(w.equivalent(w.max(), 3_500), "{}", w.max());
        assert_eq!(w.count_at(1_000), 2);
    }

    #[test]
    fn classifies_by_scheduled_time_even_before_the_window_is_known() {
        let sink = LatencySink::new();
        sink.record(0, 150, 7); // before the window is known: pending
        sink.set_window(100, 200);
        sink.record(3, 50, 1_000); // warm-up
        sink.record(11, 199, 20); // inside
        sink.record(5, 200, 30); // tail
        let w = sink.window_histogram();
        assert_eq!(w.len(), 2);
        assert_eq!((w.min(), w.max()), (7, 20));
        assert_eq!(
            sink.take_interval().len(),
            4,
            "every receipt is in the interval"
        );
        assert_eq!(
            sink.take_interval().len(),
            0,
            "taken: the next one starts empty"
        );
        assert_eq!(
            sink.window_histogram().len(),
            2,
            "the window is never reset"
        );
    }
}
