//! What one client saw: every first receipt's latency, recorded at arrival into the phase's
//! [`LatencySink`] (which classifies it as warm-up, window or tail), and the sequence-number checks
//! that find lost, duplicated and reordered events in bounded memory ([`SeqSet`]; docs/measurement.md,
//! "Delivery checks"). A client's memory does not grow with the events it receives.
//!
//! An event a client published itself ([`crate::upstream::stamp`]) counts as received for the
//! sequence checks but is not a delivery: a message's latency is its send to each *other*
//! member's receipt, counted from the time the send was scheduled, which the stamp carries.
//!
//! It also keeps the gap notices that explain some of the loss, and how often the client had to
//! reconnect.

use crate::latency_sink::LatencySink;
use crate::seqset::{Insert, SeqSet};
use crate::upstream::stamp;
use rtbench_proto::EventRef;
use rtbench_proto::mono_now_ns;
use std::sync::Arc;

/// Per-client bookkeeping. Owned by one client task; its only lock is its sink shard's.
#[derive(Debug, Default)]
pub struct Recorder {
    /// Sequence numbers received (a prefix and a bounded reorder window).
    seen: SeqSet,
    /// Highest sequence number received: the cursor to resume after.
    max_seen: u64,
    /// Where first receipts' latencies go, and this client's shard in it (none: not recorded).
    sink: Option<(Arc<LatencySink>, usize)>,
    /// Receipts of an event already received.
    duplicated: u64,
    /// Receipts of an event older than one already received.
    reordered: u64,
    /// Receipts below the reorder window: given up (counted lost) or a duplicate, not known which.
    below_window: u64,
    /// Events the server said were dropped from the ring before this client read them.
    gap_dropped: u64,
    /// Distinct events received (first receipts, own messages included).
    first_receipts: u64,
    /// This client's id, as its own messages' stamps carry it.
    client_id: Option<u32>,
    /// Sequence ranges (inclusive) the server's gap notices covered, merged, oldest first.
    gap_ranges: Vec<(u64, u64)>,
    /// Numbers the reorder window left behind unreceived (lost).
    given_up: u64,
    /// Of `given_up`, numbers inside a gap notice's range.
    given_up_in_gaps: u64,
    /// Times the client opened a new connection after losing one.
    reconnects: u64,
}

/// Most distinct gap ranges a recorder keeps; later ones merge into the last (a client this far
/// behind is reported by its loss count either way).
const MAX_GAP_RANGES: usize = 1024;

impl Recorder {
    /// A recorder that checks sequence numbers but records no latency (`_events`, the events
    /// expected, is no longer needed: memory does not depend on it).
    pub fn with_capacity(_events: usize) -> Recorder {
        Recorder::default()
    }

    /// A recorder for client `client_id` that records no latency.
    pub fn for_client(_events: usize, client_id: u32) -> Recorder {
        Recorder {
            client_id: Some(client_id),
            ..Recorder::default()
        }
    }

    /// A recorder for client `client_id` recording first receipts' latencies into `sink`.
    pub fn recording_to(client_id: u32, sink: Arc<LatencySink>) -> Recorder {
        Recorder {
            client_id: Some(client_id),
            sink: Some((sink, client_id as usize)),
            ..Recorder::default()
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
        if self.mark(seq)
            && let Some((sink, shard)) = &self.sink
        {
            sink.record_receipt(*shard, t_pub_ns, now_ns);
        }
    }

    /// Marks `seq` received and checks its order; `true` on its first receipt.
    fn mark(&mut self, seq: u64) -> bool {
        let (mut given_up, mut in_gaps) = (0, 0);
        let ranges = &self.gap_ranges;
        let found = self.seen.insert(seq, |s| {
            given_up += 1;
            in_gaps += u64::from(ranges.iter().any(|&(a, b)| (a..=b).contains(&s)));
        });
        self.given_up += given_up;
        self.given_up_in_gaps += in_gaps;
        match found {
            Insert::Duplicate => {
                self.duplicated += 1;
                return false;
            }
            Insert::BelowWindow => {
                self.below_window += 1;
                self.reordered += 1;
                return false;
            }
            Insert::First => {}
        }
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
    /// Sequence numbers in `1..=last` never received. Numbers the reorder window gave up count
    /// whatever `last` is (they lie below a number received, so at or below the last event).
    pub fn lost(&self, last: u64) -> u64 {
        let seen = &self.recorder.seen;
        self.recorder.given_up + seen.missing_in(seen.window_start().max(1), last)
    }

    /// Receipts of an event already received.
    pub fn duplicated(&self) -> u64 {
        self.recorder.duplicated
    }

    /// Receipts of an event older than one already received (those below the reorder window
    /// included: see [`Tally::below_window`]).
    pub fn reordered(&self) -> u64 {
        self.recorder.reordered
    }

    /// Receipts of an event more than [`crate::seqset::REORDER_WINDOW`] numbers below the oldest
    /// one still missing: counted reordered, not delivered (and, if never received before, lost).
    pub fn below_window(&self) -> u64 {
        self.recorder.below_window
    }

    /// Events reported dropped by the server's gap notices (summed over notices).
    pub fn gap_dropped(&self) -> u64 {
        self.recorder.gap_dropped
    }

    /// Sequence numbers in `1..=last` never received that a gap notice announced as gone: the
    /// part of [`Tally::lost`] the server explained (a client behind the ring, or history a
    /// restarted server no longer had).
    pub fn lost_in_gaps(&self, last: u64) -> u64 {
        let seen = &self.recorder.seen;
        let start = seen.window_start().max(1);
        let in_window: u64 = (self.recorder.gap_ranges.iter())
            .map(|&(a, b)| seen.missing_in(a.max(start), b.min(last)))
            .sum();
        self.recorder.given_up_in_gaps + in_window
    }

    /// Of [`Tally::lost`], events after this client's cursor (its highest received) up to
    /// `published`, the last event the server published, that no gap notice announced as gone:
    /// the client was behind when the drain ended — late, not lost.
    pub fn late(&self, published: u64) -> u64 {
        let cursor = self.recorder.max_seen;
        if published <= cursor {
            return 0;
        }
        let gone: u64 = (self.recorder.gap_ranges.iter())
            .map(|&(a, b)| (b.min(published) + 1).saturating_sub(a.max(cursor + 1)))
            .sum();
        published - cursor - gone.min(published - cursor)
    }

    /// The highest sequence number received (0 when none).
    pub fn cursor(&self) -> u64 {
        self.recorder.max_seen
    }

    /// Times the client reconnected.
    pub fn reconnects(&self) -> u64 {
        self.recorder.reconnects
    }
}

#[cfg(test)]
mod tests;
