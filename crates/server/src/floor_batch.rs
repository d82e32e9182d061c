//! The raw-TCP floor's broadcast batch: the frames of a run of consecutive events, encoded once
//! and shared by every subscriber of the topic.
//!
//! The floor's fan-out task (`tcp_fanout.rs`) fills one [`FloorBatch`] per round and writes
//! [`FloorBatch::frames_after`] of it to each subscriber's socket in turn: a subscriber whose
//! cursor is inside the batch (it joined while the batch was being read) gets the suffix it still
//! needs, found by the frame offsets kept here, so nothing is encoded per subscriber. The frames are
//! [`crate::framing::tcp`]'s, one event at a time, so the bytes are exactly those of the
//! per-connection path. Public so the instruction benchmarks (`crates/instr-bench`) call the code
//! the server runs.

use crate::framing;
use crate::hub::{Event, Topic};
use bytes::BytesMut;
use rtbench_proto::limits::MAX_EVENTS_PER_RESPONSE;

/// The frames of consecutive events after a cursor, encoded once for every subscriber.
#[derive(Debug, Default)]
pub struct FloorBatch {
    /// The batch holds the events after this sequence number.
    after: u64,
    /// The events read, consecutive sequence numbers from `after + 1`.
    events: Vec<Event>,
    /// Their frames, back to back.
    out: BytesMut,
    /// Where each event's frame starts in `out`.
    offsets: Vec<usize>,
}

impl FloorBatch {
    /// An empty batch.
    pub fn new() -> Self {
        FloorBatch::default()
    }

    /// Refills the batch with the events of `topic` after `after` — at most
    /// [`MAX_EVENTS_PER_RESPONSE`] events and about `max_bytes` of bodies (at least one event) —
    /// each framed once. Returns how many events after `after` already left the ring: when that is
    /// not 0 the batch is empty, as every reader behind needs a gap notice of its own.
    pub fn fill(&mut self, topic: &Topic, after: u64, max_bytes: usize) -> u64 {
        self.after = after;
        self.events.clear();
        self.out.clear();
        self.offsets.clear();
        let dropped =
            topic.read_bounded_into(after, MAX_EVENTS_PER_RESPONSE, max_bytes, &mut self.events);
        if dropped > 0 {
            self.after = self.events.last().map_or(after, |e| e.seq);
            self.events.clear();
            return dropped;
        }
        for i in 0..self.events.len() {
            self.offsets.push(self.out.len());
            framing::tcp(&mut self.out, 0, &self.events[i..=i]);
        }
        0
    }

    /// Sequence number of the batch's last event (the cursor of a reader that has it all).
    pub fn last_seq(&self) -> u64 {
        self.events.last().map_or(self.after, |e| e.seq)
    }

    /// Whether the batch holds no event.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The frames a reader whose cursor is `cursor` still needs from this batch and how many
    /// events they carry (empty and 0 when it has them all); `None` when the reader is behind the
    /// batch (`cursor` before its first event's predecessor) and must catch up on its own.
    pub fn frames_after(&self, cursor: u64) -> Option<(&[u8], usize)> {
        let skip = usize::try_from(cursor.checked_sub(self.after)?).unwrap_or(usize::MAX);
        match self.offsets.get(skip) {
            Some(&start) => Some((&self.out[start..], self.events.len() - skip)),
            None => Some((&[], 0)),
        }
    }

    /// Frees buffers a burst grew past `keep_bytes`, so an idle topic stays small.
    pub fn release_if_larger(&mut self, keep_bytes: usize) {
        if self.out.capacity() > keep_bytes {
            *self = FloorBatch {
                after: self.after,
                ..FloorBatch::default()
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::Hub;
    use rtbench_proto::frame::decode_frame;

    fn seqs(mut bytes: BytesMut) -> Vec<u64> {
        let mut out = Vec::new();
        while let Some(frame) = decode_frame(&mut bytes).unwrap() {
            out.push(rtbench_proto::parse_body(&frame).unwrap().seq);
        }
        out
    }

    #[test]
    fn every_cursor_gets_exactly_the_frames_it_lacks() {
        let hub = Hub::new(100, 1);
        let topic = hub.topic("t").unwrap();
        for i in 0..5 {
            topic.publish(i, "p").unwrap();
        }
        let mut batch = FloorBatch::new();
        assert_eq!(batch.fill(&topic, 1, usize::MAX), 0);
        assert_eq!(batch.last_seq(), 5);
        let mut whole = BytesMut::new();
        let mut events = Vec::new();
        topic.read_after_into(1, 100, &mut events);
        framing::tcp(&mut whole, 0, &events);
        let (all, n) = batch.frames_after(1).unwrap();
        assert_eq!((all, n), (&whole[..], 4), "same bytes as one framing call");
        let (rest, n) = batch.frames_after(3).unwrap();
        assert_eq!((seqs(BytesMut::from(rest)), n), (vec![4, 5], 2));
        assert_eq!(batch.frames_after(5), Some((&[][..], 0)));
        assert_eq!(batch.frames_after(9), Some((&[][..], 0)));
        assert_eq!(batch.frames_after(0), None, "behind the batch");
    }

    #[test]
    fn a_batch_is_bounded_and_a_fallen_cursor_gets_none() {
        let hub = Hub::new(10, 1);
        let topic = hub.topic("t").unwrap();
        let payload = "x".repeat(1000);
        for i in 0..10 {
            topic.publish(i, &payload).unwrap();
        }
        let mut batch = FloorBatch::new();
        assert_eq!(batch.fill(&topic, 0, 3000), 0);
        assert_eq!(batch.last_seq(), 2, "about 3000 bytes of bodies");
        for i in 0..5 {
            topic.publish(i, &payload).unwrap();
        }
        assert_eq!(batch.fill(&topic, 2, 3000), 3, "events 3..=5 left the ring");
        assert!(batch.is_empty());
        assert_eq!(
            batch.last_seq(),
            7,
            "the next batch starts after what was read"
        );
    }
}
