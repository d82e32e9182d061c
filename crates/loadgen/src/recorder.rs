//! What one client saw: every first receipt with its latency, and the sequence-number checks that
//! find lost, duplicated and reordered events (DESIGN §6).

use rtbench_proto::mono_now_ns;

/// Per-client bookkeeping. Owned by one client task; no locks.
#[derive(Debug, Default)]
pub struct Recorder {
    /// Bit `seq` set once event `seq` was received.
    seen: Vec<u64>,
    /// Highest sequence number received: the cursor to resume after.
    max_seen: u64,
    /// `(t_pub_ns, latency_ns)` of every first receipt.
    receipts: Vec<(u64, u64)>,
    /// Receipts of an event already received.
    duplicated: u64,
    /// Receipts of an event older than one already received.
    reordered: u64,
    /// Events the server said were dropped from the ring before this client read them.
    gap_dropped: u64,
}

impl Recorder {
    /// A recorder expecting about `events` events.
    pub fn with_capacity(events: usize) -> Recorder {
        Recorder {
            receipts: Vec::with_capacity(events),
            ..Recorder::default()
        }
    }

    /// Records event `seq`, scheduled at `t_pub_ns`, parsed now.
    pub fn on_event(&mut self, seq: u64, t_pub_ns: u64) {
        self.on_event_at(seq, t_pub_ns, mono_now_ns());
    }

    /// Records event `seq`, scheduled at `t_pub_ns`, parsed at `now_ns`.
    pub fn on_event_at(&mut self, seq: u64, t_pub_ns: u64, now_ns: u64) {
        let (word, bit) = ((seq / 64) as usize, 1u64 << (seq % 64));
        if word >= self.seen.len() {
            self.seen.resize(word + 1, 0);
        }
        if self.seen[word] & bit != 0 {
            self.duplicated += 1;
            return;
        }
        self.seen[word] |= bit;
        if seq < self.max_seen {
            self.reordered += 1;
        }
        self.max_seen = self.max_seen.max(seq);
        self.receipts
            .push((t_pub_ns, now_ns.saturating_sub(t_pub_ns)));
    }

    /// Records a gap notice: `dropped` events were lost before this client could read them.
    pub fn on_gap(&mut self, dropped: u64) {
        self.gap_dropped += dropped;
    }

    /// The highest sequence number received (0 before any): the cursor to resume after.
    pub fn cursor(&self) -> u64 {
        self.max_seen
    }

    /// Ends recording.
    pub fn finish(self, error: Option<String>) -> Tally {
        Tally {
            recorder: self,
            error,
        }
    }
}

/// A client's final account.
#[derive(Debug)]
pub struct Tally {
    recorder: Recorder,
    /// Why the client stopped early, if it did.
    pub error: Option<String>,
}

impl Tally {
    /// Sequence numbers in `first..=last` never received.
    pub fn lost(&self, first: u64, last: u64) -> u64 {
        let seen = &self.recorder.seen;
        (first..=last)
            .filter(|&s| {
                seen.get((s / 64) as usize)
                    .is_none_or(|w| w & (1 << (s % 64)) == 0)
            })
            .count() as u64
    }

    /// Receipts of an event already received.
    pub fn duplicated(&self) -> u64 {
        self.recorder.duplicated
    }

    /// Receipts of an event older than one already received.
    pub fn reordered(&self) -> u64 {
        self.recorder.reordered
    }

    /// Events reported dropped by the server's gap notices.
    pub fn gap_dropped(&self) -> u64 {
        self.recorder.gap_dropped
    }

    /// Latencies (ns) of first receipts whose scheduled time lies in `[from_ns, to_ns)`.
    pub fn latencies_in(&self, from_ns: u64, to_ns: u64) -> impl Iterator<Item = u64> + '_ {
        self.recorder
            .receipts
            .iter()
            .filter(move |(t, _)| (from_ns..to_ns).contains(t))
            .map(|&(_, l)| l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_loss_duplicates_and_reordering() {
        let mut r = Recorder::default();
        for (seq, now) in [(1, 110), (2, 220), (2, 230), (4, 440), (3, 350)] {
            r.on_event_at(seq, seq * 100, now);
        }
        assert_eq!(r.cursor(), 4);
        let t = r.finish(None);
        assert_eq!(t.duplicated(), 1);
        assert_eq!(t.reordered(), 1);
        assert_eq!(t.lost(1, 6), 2);
        assert_eq!(t.latencies_in(200, 400).collect::<Vec<_>>(), [20, 50]);
    }
}
