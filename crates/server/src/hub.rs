//! The hub: every topic's bounded ring of recent events and the wake-up of the tasks waiting on it.
//!
//! Each event's canonical body ([`rtbench_proto::encode_body`]) is encoded once, at publish time;
//! every transport then shares those bytes (`Bytes` clones, no copy). Readers hold a cursor (the last
//! sequence number they saw) rather than a queue: a connection that falls behind costs nothing until
//! it reads, and if the events after its cursor have left the ring it is told how many with a gap
//! notice. That is the slow-consumer policy (`docs/measurement.md`, "Delivery checks"): server
//! memory is bounded by `max_topics × ring_capacity` events, whatever the clients do.
//!
//! Publishers of one topic are serialised by a per-topic mutex that is held while the body is
//! encoded; readers only take the ring's read lock for as long as it takes to clone the `Bytes`
//! handles they need, so encoding a large payload never blocks them.

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use rtbench_proto::limits::valid_topic;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::watch;

/// One published event as the hub keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Sequence number within the topic, from 1.
    pub seq: u64,
    /// Scheduled publication time, CLOCK_MONOTONIC nanoseconds.
    pub t_pub_ns: u64,
    /// The canonical body (`{"seq":..,"t_pub_ns":..,"payload":..}`), encoded once at publish.
    pub body: Bytes,
}

/// Why the hub refused a topic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HubError {
    /// The topic name is empty, too long or has characters outside `[A-Za-z0-9_.-]`.
    #[error("invalid topic name (1..=64 bytes of [A-Za-z0-9_.-])")]
    InvalidTopic,
    /// Creating the topic would exceed the configured number of topics.
    #[error("topic limit of {0} topics reached")]
    TooManyTopics(usize),
}

/// One topic: a bounded ring of its most recent events and a watch carrying its latest `seq`.
#[derive(Debug)]
pub struct Topic {
    /// Last sequence number assigned; held while a publisher encodes and appends.
    publish_lock: Mutex<u64>,
    /// The retained events, oldest first, consecutive sequence numbers.
    ring: RwLock<VecDeque<Event>>,
    /// Most events `ring` keeps.
    capacity: usize,
    /// Latest published sequence number (0 before the first), wakes waiting readers.
    latest: watch::Sender<u64>,
    /// Spaces appended to every body: an injected fault, 0 normally
    /// ([`rtbench_proto::ServerFault`]).
    pad_bytes: usize,
}

impl Topic {
    fn new(capacity: usize, pad_bytes: usize) -> Self {
        Topic {
            publish_lock: Mutex::new(0),
            ring: RwLock::new(VecDeque::new()),
            capacity: capacity.max(1),
            latest: watch::Sender::new(0),
            pad_bytes,
        }
    }

    /// Publishes one event stamped `t_pub_ns` (CLOCK_MONOTONIC ns) and returns its sequence number.
    pub fn publish(&self, t_pub_ns: u64, payload: &str) -> u64 {
        self.publish_with(t_pub_ns, |_| payload.to_owned())
    }

    /// Like [`Topic::publish`], with the payload made from the sequence number the event gets.
    pub fn publish_with(&self, t_pub_ns: u64, payload: impl FnOnce(u64) -> String) -> u64 {
        let mut last = self.publish_lock.lock();
        let seq = *last + 1;
        let body = rtbench_proto::encode_body(seq, t_pub_ns, &payload(seq));
        let body = crate::degrade::pad_body(body, self.pad_bytes);
        {
            let mut ring = self.ring.write();
            if ring.len() >= self.capacity {
                ring.pop_front();
            }
            ring.push_back(Event {
                seq,
                t_pub_ns,
                body,
            });
        }
        *last = seq;
        self.latest.send_replace(seq);
        seq
    }

    /// Makes the next published event carry `seq + 1`, if nothing was ever published to this
    /// topic; returns whether it did. A server that restarted uses it to continue a schedule's
    /// sequence numbers: readers whose cursor is below `seq` then get a gap notice for the events
    /// in between once the first event is in the ring.
    pub fn continue_after(&self, seq: u64) -> bool {
        let mut last = self.publish_lock.lock();
        if *last != 0 || !self.ring.read().is_empty() {
            return false;
        }
        *last = seq;
        true
    }

    /// Appends to `out` up to `max` events with `seq > cursor`, oldest first, and returns how many
    /// events after `cursor` have already left the ring (0 unless the reader fell behind).
    pub fn read_after_into(&self, cursor: u64, max: usize, out: &mut Vec<Event>) -> u64 {
        let ring = self.ring.read();
        let Some(oldest) = ring.front().map(|e| e.seq) else {
            return 0;
        };
        let dropped = (oldest - 1).saturating_sub(cursor);
        let skip = cursor.saturating_sub(oldest - 1);
        let skip = usize::try_from(skip).unwrap_or(usize::MAX);
        out.extend(ring.iter().skip(skip).take(max).cloned());
        dropped
    }

    /// Up to `max` events with `seq > cursor`, oldest first, and the number of events after
    /// `cursor` that already left the ring.
    pub fn read_after(&self, cursor: u64, max: usize) -> (u64, Vec<Event>) {
        let mut out = Vec::new();
        let dropped = self.read_after_into(cursor, max, &mut out);
        (dropped, out)
    }

    /// A receiver that wakes on every publish. Subscribe *before* reading the ring, so an event
    /// published between the read and the wait still wakes the waiter.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.latest.subscribe()
    }

    /// Sequence number of the latest event, 0 before the first.
    pub fn last_seq(&self) -> u64 {
        *self.latest.borrow()
    }
}

/// Frees a reader's batch buffer that a burst grew, so an idle connection stays small.
pub(crate) fn release_if_large(batch: &mut Vec<Event>) {
    const KEEP_EVENTS: usize = 64;
    if batch.capacity() > KEEP_EVENTS {
        *batch = Vec::new();
    }
}

/// Every topic of one server.
#[derive(Debug)]
pub struct Hub {
    /// Topics by name.
    topics: RwLock<HashMap<Box<str>, Arc<Topic>>>,
    /// Events retained per topic.
    ring_capacity: usize,
    /// Most topics the hub creates.
    max_topics: usize,
    /// Spaces appended to every event body (an injected fault; 0 normally).
    pad_bytes: usize,
}

impl Hub {
    /// An empty hub retaining `ring_capacity` events per topic, for at most `max_topics` topics.
    pub fn new(ring_capacity: usize, max_topics: usize) -> Self {
        Hub {
            topics: RwLock::new(HashMap::new()),
            ring_capacity,
            max_topics,
            pad_bytes: 0,
        }
    }

    /// The same hub with `pad_bytes` spaces appended to every event body: the padding fault of
    /// [`rtbench_proto::ServerFault::pad_bytes`], for testing the performance gate. 0 (the default)
    /// is off.
    pub fn with_body_padding(mut self, pad_bytes: usize) -> Self {
        self.pad_bytes = pad_bytes;
        self
    }

    /// The topic named `name`, created (empty) if it does not exist yet.
    pub fn topic(&self, name: &str) -> Result<Arc<Topic>, HubError> {
        if let Some(topic) = self.get(name) {
            return Ok(topic);
        }
        if !valid_topic(name) {
            return Err(HubError::InvalidTopic);
        }
        let mut topics = self.topics.write();
        if let Some(topic) = topics.get(name) {
            return Ok(topic.clone());
        }
        if topics.len() >= self.max_topics {
            return Err(HubError::TooManyTopics(self.max_topics));
        }
        let topic = Arc::new(Topic::new(self.ring_capacity, self.pad_bytes));
        topics.insert(name.into(), topic.clone());
        Ok(topic)
    }

    /// The topic named `name`, if it exists.
    pub fn get(&self, name: &str) -> Option<Arc<Topic>> {
        self.topics.read().get(name).cloned()
    }

    /// Publishes `payload` to `topic` stamped `t_pub_ns` (CLOCK_MONOTONIC ns); returns its `seq`.
    pub fn publish(&self, topic: &str, t_pub_ns: u64, payload: &str) -> Result<u64, HubError> {
        Ok(self.topic(topic)?.publish(t_pub_ns, payload))
    }

    /// Up to `max` events of `topic` after `cursor` and how many were dropped (see
    /// [`Topic::read_after`]); an unknown topic has none and is not created.
    pub fn read_after(&self, topic: &str, cursor: u64, max: usize) -> (u64, Vec<Event>) {
        match self.get(topic) {
            Some(topic) => topic.read_after(cursor, max),
            None => (0, Vec::new()),
        }
    }

    /// Events published into the hub since it started, all topics.
    pub fn events_published(&self) -> u64 {
        self.topics.read().values().map(|t| t.last_seq()).sum()
    }

    /// Number of topics.
    pub fn topic_count(&self) -> usize {
        self.topics.read().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs(events: &[Event]) -> Vec<u64> {
        events.iter().map(|e| e.seq).collect()
    }

    #[test]
    fn seq_starts_at_one_and_body_is_canonical() {
        let hub = Hub::new(8, 4);
        assert_eq!(hub.publish("t", 100, "a").unwrap(), 1);
        assert_eq!(hub.publish("t", 200, "b").unwrap(), 2);
        let (dropped, events) = hub.read_after("t", 0, 10);
        assert_eq!(dropped, 0);
        assert_eq!(seqs(&events), [1, 2]);
        assert_eq!(events[1].body, rtbench_proto::encode_body(2, 200, "b"));
        assert_eq!(events[1].t_pub_ns, 200);
    }

    #[test]
    fn read_after_honours_cursor_and_max() {
        let hub = Hub::new(8, 4);
        for i in 0..5 {
            hub.publish("t", i, "x").unwrap();
        }
        assert_eq!(seqs(&hub.read_after("t", 2, 10).1), [3, 4, 5]);
        assert_eq!(seqs(&hub.read_after("t", 2, 2).1), [3, 4]);
        assert_eq!(hub.read_after("t", 5, 10), (0, vec![]));
        assert_eq!(hub.read_after("t", 99, 10), (0, vec![]));
        assert_eq!(hub.read_after("unknown", 0, 10), (0, vec![]));
        assert_eq!(hub.topic_count(), 1, "reading must not create topics");
    }

    #[test]
    fn ring_drops_oldest_and_reports_gap() {
        let hub = Hub::new(3, 4);
        for i in 0..7 {
            hub.publish("t", i, "x").unwrap();
        }
        // Ring holds 5, 6, 7. A reader at cursor 1 missed 2, 3, 4.
        let (dropped, events) = hub.read_after("t", 1, 10);
        assert_eq!((dropped, seqs(&events)), (3, vec![5, 6, 7]));
        // A reader exactly at the edge missed nothing.
        assert_eq!(hub.read_after("t", 4, 10).0, 0);
        assert_eq!(hub.read_after("t", 0, 10).0, 4);
        assert_eq!(hub.events_published(), 7);
    }

    #[test]
    fn continued_topic_reports_the_missing_history_as_a_gap() {
        let hub = Hub::new(8, 4);
        let topic = hub.topic("t").unwrap();
        assert!(topic.continue_after(10));
        assert_eq!(topic.publish(1, "x"), 11);
        assert!(
            !topic.continue_after(20),
            "only an untouched topic continues"
        );
        let (dropped, events) = topic.read_after(4, 10);
        assert_eq!((dropped, seqs(&events)), (6, vec![11]));
        assert_eq!(topic.read_after(10, 10).0, 0);
    }

    #[test]
    fn topics_are_bounded_and_validated() {
        let hub = Hub::new(4, 2);
        hub.topic("a").unwrap();
        hub.topic("b").unwrap();
        hub.topic("a").unwrap();
        assert_eq!(hub.topic("c").unwrap_err(), HubError::TooManyTopics(2));
        assert_eq!(
            Hub::new(4, 2).topic("a b").unwrap_err(),
            HubError::InvalidTopic
        );
    }

    #[test]
    fn subscribers_are_woken_by_publish() {
        let hub = Hub::new(4, 2);
        let topic = hub.topic("t").unwrap();
        let mut rx = topic.subscribe();
        assert!(!rx.has_changed().unwrap());
        let seq = topic.publish_with(5, |seq| format!("p{seq}"));
        assert!(rx.has_changed().unwrap());
        assert_eq!(*rx.borrow_and_update(), seq);
        assert_eq!(
            topic.read_after(0, 1).1[0].body,
            rtbench_proto::encode_body(1, 5, "p1")
        );
    }
}
