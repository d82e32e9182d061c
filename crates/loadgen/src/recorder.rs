//! What one client saw: every first receipt with its latency, and the sequence-number checks that
//! find lost, duplicated and reordered events (docs/measurement.md, "Delivery checks").
//!
//! An event a client published itself ([`crate::upstream::stamp`]) counts as received for the
//! sequence checks but is not a delivery: a message's latency is its send to each *other*
//! member's receipt, counted from the time the send was scheduled, which the stamp carries.
//!
//! It also keeps the gap notices that explain some of the loss, and how often the client had to
//! reconnect.

use crate::upstream::stamp;
use rtbench_proto::EventRef;
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
    /// Distinct events received (first receipts, own messages included).
    first_receipts: u64,
    /// This client's id, as its own messages' stamps carry it.
    client_id: Option<u32>,
    /// Sequence ranges (inclusive) the server's gap notices covered, merged, oldest first.
    gap_ranges: Vec<(u64, u64)>,
    /// Times the client opened a new connection after losing one.
    reconnects: u64,
}

/// Most distinct gap ranges a recorder keeps; later ones merge into the last (a client this far
/// behind is reported by its loss count either way).
const MAX_GAP_RANGES: usize = 1024;

impl Recorder {
    /// A recorder expecting about `events` events.
    pub fn with_capacity(events: usize) -> Recorder {
        Recorder {
            receipts: Vec::with_capacity(events),
            ..Recorder::default()
        }
    }

    /// A recorder for client `client_id`, expecting about `events` events.
    pub fn for_client(events: usize, client_id: u32) -> Recorder {
        Recorder {
            client_id: Some(client_id),
            ..Recorder::with_capacity(events)
        }
    }

    /// Records event `seq`, scheduled at `t_pub_ns`, parsed now.
    pub fn on_event(&mut self, seq: u64, t_pub_ns: u64) {
        self.on_event_at(seq, t_pub_ns, mono_now_ns());
    }

    /// Records a parsed event, parsed at `now_ns`: its latency counts from its sender's stamp when
    /// a client published it, else from its `t_pub_ns`; this client's own messages are marked
    /// received without a latency.
    pub fn on_event_body(&mut self, ev: &EventRef<'_>, now_ns: u64) {
        match stamp::parse(&ev.payload) {
            Some(s) if Some(s.client) == self.client_id => {
                self.mark(ev.seq);
            }
            Some(s) => self.on_event_at(ev.seq, s.t_sched_ns, now_ns),
            None => self.on_event_at(ev.seq, ev.t_pub_ns, now_ns),
        }
    }

    /// Records event `seq`, scheduled at `t_pub_ns`, parsed at `now_ns`.
    pub fn on_event_at(&mut self, seq: u64, t_pub_ns: u64, now_ns: u64) {
        if self.mark(seq) {
            self.receipts
                .push((t_pub_ns, now_ns.saturating_sub(t_pub_ns)));
        }
    }

    /// Marks `seq` received and checks its order; `true` on its first receipt.
    fn mark(&mut self, seq: u64) -> bool {
        let (word, bit) = ((seq / 64) as usize, 1u64 << (seq % 64));
        if word >= self.seen.len() {
            self.seen.resize(word + 1, 0);
        }
        if self.seen[word] & bit != 0 {
            self.duplicated += 1;
            return false;
        }
        self.seen[word] |= bit;
        if seq < self.max_seen {
            self.reordered += 1;
        }
        self.max_seen = self.max_seen.max(seq);
        self.first_receipts += 1;
        true
    }

    /// Distinct events received so far, own messages included.
    pub fn first_receipts(&self) -> u64 {
        self.first_receipts
    }

    /// Records a gap notice: the `dropped` events after the cursor were lost before this client
    /// could read them (the server's ring no longer holds them).
    pub fn on_gap(&mut self, dropped: u64) {
        self.gap_dropped += dropped;
        if dropped == 0 {
            return;
        }
        let (from, to) = (self.max_seen + 1, self.max_seen.saturating_add(dropped));
        let full = self.gap_ranges.len() >= MAX_GAP_RANGES;
        match self.gap_ranges.last_mut() {
            Some(last) if from <= last.1.saturating_add(1) || full => {
                last.1 = last.1.max(to);
            }
            _ => self.gap_ranges.push((from, to)),
        }
    }

    /// Records that the client connected again after losing its connection.
    pub fn on_reconnect(&mut self) {
        self.reconnects += 1;
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

    /// Events reported dropped by the server's gap notices (summed over notices).
    pub fn gap_dropped(&self) -> u64 {
        self.recorder.gap_dropped
    }

    /// Sequence numbers in `first..=last` never received that a gap notice announced as gone:
    /// the part of [`Tally::lost`] the server explained (a client behind the ring, or history a
    /// restarted server no longer had).
    pub fn lost_in_gaps(&self, first: u64, last: u64) -> u64 {
        let seen = &self.recorder.seen;
        self.recorder
            .gap_ranges
            .iter()
            .flat_map(|&(a, b)| a.max(first)..=b.min(last))
            .filter(|&s| {
                seen.get((s / 64) as usize)
                    .is_none_or(|w| w & (1 << (s % 64)) == 0)
            })
            .count() as u64
    }

    /// Times the client reconnected.
    pub fn reconnects(&self) -> u64 {
        self.recorder.reconnects
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

    #[test]
    fn stamped_messages_count_from_their_stamp_and_own_ones_are_not_deliveries() {
        let mut r = Recorder::for_client(4, 7);
        let other = stamp::encode(1_000, 3, 48);
        let own = stamp::encode(2_000, 7, 48);
        let pushed = rtbench_proto::make_payload(3, 48);
        for (seq, payload) in [(1, &other), (2, &own), (3, &pushed)] {
            let body = rtbench_proto::encode_body(seq, 5_000, payload);
            r.on_event_body(&rtbench_proto::parse_body(&body).unwrap(), 6_000);
        }
        assert_eq!(r.first_receipts(), 3);
        let t = r.finish(None);
        assert_eq!(t.lost(1, 3), 0);
        assert_eq!(
            t.latencies_in(0, 10_000).collect::<Vec<_>>(),
            [5_000, 1_000]
        );
    }

    #[test]
    fn gap_notices_explain_loss_once_even_when_repeated() {
        let mut r = Recorder::default();
        r.on_event_at(1, 0, 0);
        r.on_gap(3); // 2, 3, 4 gone
        r.on_gap(3); // the same notice again after a reconnect
        r.on_event_at(5, 0, 0);
        r.on_gap(2); // 6, 7 gone: adjacent, merged
        r.on_event_at(9, 0, 0);
        r.on_reconnect();
        let t = r.finish(None);
        assert_eq!(t.gap_dropped(), 8, "summed over notices");
        assert_eq!(t.lost(1, 10), 7, "2, 3, 4, 6, 7, 8, 10");
        assert_eq!(t.lost_in_gaps(1, 10), 5, "8 and 10 were never announced");
        assert_eq!(t.lost_in_gaps(3, 6), 3);
        assert_eq!(t.reconnects(), 1);
    }
}
