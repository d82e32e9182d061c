//! The hub: every topic's bounded ring of recent events and the wake-up of the tasks waiting on it.
//!
//! Each event's canonical body ([`rtbench_proto::encode_body`]) is encoded once, at publish time;
//! every transport then shares those bytes (`Bytes` clones, no copy). Readers hold a cursor (the last
//! sequence number they saw) rather than a queue: a connection that falls behind costs nothing until
//! it reads, and if the events after its cursor have left the ring it is told how many with a gap
//! notice. That is the slow-consumer policy (`docs/measurement.md`, "Delivery checks"): server
//! memory is bounded by `max_topics` rings of at most `ring_capacity` events *and* `ring_bytes`
//! bytes, whatever the clients do, and a reader takes at most `max_bytes` of them at a time.
//!
//! Sequence numbers are checked, never wrapped: a topic whose last event carries `u64::MAX`
//! refuses further publishes ([`HubError::SequenceExhausted`]). A body larger than
//! [`MAX_EVENT_BODY_BYTES`] once JSON-escaped is refused, so every event fits every transport's
//! frame. Topics nobody uses for a while can be freed ([`Hub::expire_idle`]).
//!
//! Publishers of one topic are serialised by a per-topic mutex that is held while the body is
//! encoded; readers only take the ring's read lock for as long as it takes to clone the `Bytes`
//! handles they need, so encoding a large payload never blocks them.

use crate::rate::Gcra;
use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use rtbench_proto::limits::{MAX_EVENT_BODY_BYTES, valid_topic};
use rtbench_proto::mono_now_ns;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::watch;

/// Most bytes a streaming transport (lean SSE, raw TCP) gathers for one write, in bytes (or
/// `--batch-bytes` if smaller). A stream catches up over several writes at no cost, and a smaller
/// write keeps the buffer of a connection whose socket is full small.
pub const STREAM_WRITE_BYTES: usize = 256 * 1024;

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
    /// The topic's last event carries the largest sequence number there is.
    #[error("topic has reached the last sequence number (2^64-1): it accepts no more events")]
    SequenceExhausted,
    /// The payload, once JSON-escaped into the event body, is larger than every transport's frame
    /// limit allows.
    #[error("payload is {0} bytes once JSON-escaped; events are limited to {MAX_EVENT_BODY_BYTES}")]
    BodyTooLarge(usize),
}

/// How each topic of a hub is bounded.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    /// Most events a ring keeps.
    capacity: usize,
    /// Most bytes of bodies a ring keeps (at least the newest event is always kept).
    capacity_bytes: usize,
    /// Spaces appended to every body (an injected fault; 0 normally).
    pad_bytes: usize,
    /// Most client publishes per second per topic.
    publish_rate_per_s: u64,
}

/// A ring and the bytes of the bodies in it.
#[derive(Debug, Default)]
struct Ring {
    events: VecDeque<Event>,
    bytes: usize,
}

/// One topic: a bounded ring of its most recent events and a watch carrying its latest `seq`.
#[derive(Debug)]
pub struct Topic {
    /// Last sequence number assigned; held while a publisher encodes and appends.
    publish_lock: Mutex<u64>,
    /// The retained events, oldest first, consecutive sequence numbers.
    ring: RwLock<Ring>,
    bounds: Bounds,
    /// Latest published sequence number (0 before the first), wakes waiting readers.
    latest: watch::Sender<u64>,
    /// CLOCK_MONOTONIC ns of the last publish or read, for [`Hub::expire_idle`].
    last_active_ns: AtomicU64,
    /// The per-topic rate of client publishes.
    client_rate: Gcra,
}

impl Topic {
    fn new(bounds: Bounds) -> Self {
        Topic {
            publish_lock: Mutex::new(0),
            ring: RwLock::new(Ring::default()),
            bounds: Bounds {
                capacity: bounds.capacity.max(1),
                ..bounds
            },
            latest: watch::Sender::new(0),
            last_active_ns: AtomicU64::new(mono_now_ns()),
            client_rate: Gcra::new(bounds.publish_rate_per_s, bounds.capacity / 4),
        }
    }

    /// Publishes one event stamped `t_pub_ns` (CLOCK_MONOTONIC ns) and returns its sequence
    /// number; refused when the topic has used its last sequence number or the escaped payload is
    /// too large.
    pub fn publish(&self, t_pub_ns: u64, payload: &str) -> Result<u64, HubError> {
        self.publish_with(t_pub_ns, |_| payload.to_owned())
    }

    /// Like [`Topic::publish`], with the payload made from the sequence number the event gets.
    pub fn publish_with(
        &self,
        t_pub_ns: u64,
        payload: impl FnOnce(u64) -> String,
    ) -> Result<u64, HubError> {
        let mut last = self.publish_lock.lock();
        let seq = last.checked_add(1).ok_or(HubError::SequenceExhausted)?;
        self.append(&mut last, seq, t_pub_ns, &payload(seq))?;
        Ok(seq)
    }

    /// Appends an event whose sequence number was assigned elsewhere (the cluster's publisher,
    /// through the broker), so every process's ring holds the same numbers. `Ok(false)` for a
    /// number at or below the topic's last (a duplicate, ignored). A number past the next one
    /// empties the ring first, so the ring stays consecutive and readers behind it get a gap
    /// notice for the missing events.
    pub fn publish_at(&self, seq: u64, t_pub_ns: u64, payload: &str) -> Result<bool, HubError> {
        let mut last = self.publish_lock.lock();
        if seq <= *last {
            return Ok(false);
        }
        if seq - 1 > *last {
            *self.ring.write() = Ring::default();
        }
        self.append(&mut last, seq, t_pub_ns, payload)?;
        Ok(true)
    }

    /// Encodes and appends event `seq` under the publish lock (`last`), then wakes the readers.
    fn append(
        &self,
        last: &mut u64,
        seq: u64,
        t_pub_ns: u64,
        payload: &str,
    ) -> Result<(), HubError> {
        let body = rtbench_proto::encode_body(seq, t_pub_ns, payload);
        if body.len() > MAX_EVENT_BODY_BYTES {
            return Err(HubError::BodyTooLarge(body.len()));
        }
        let body = crate::degrade::pad_body(body, self.bounds.pad_bytes);
        self.push(Event {
            seq,
            t_pub_ns,
            body,
        });
        *last = seq;
        self.last_active_ns.store(mono_now_ns(), Ordering::Relaxed);
        self.latest.send_replace(seq);
        Ok(())
    }

    /// Appends `event`, first dropping the oldest events while the ring is over its event or byte
    /// bound (the new event itself is always kept).
    fn push(&self, event: Event) {
        let mut ring = self.ring.write();
        let bytes = event.body.len();
        while !ring.events.is_empty()
            && (ring.events.len() >= self.bounds.capacity
                || ring.bytes + bytes > self.bounds.capacity_bytes)
        {
            if let Some(old) = ring.events.pop_front() {
                ring.bytes -= old.body.len();
            }
        }
        ring.bytes += bytes;
        ring.events.push_back(event);
    }

    /// How long a client publish to this topic must wait to stay within the topic's publish rate
    /// (zero when it may go now); the wait is claimed, so callers sleep it and then publish.
    pub fn client_publish_delay_ns(&self) -> u64 {
        self.client_rate.delay_ns(mono_now_ns())
    }

    /// Makes the next published event carry `seq + 1`, if nothing was ever published to this
    /// topic; returns whether it did. A server that restarted uses it to continue a schedule's
    /// sequence numbers: readers whose cursor is below `seq` then get a gap notice for the events
    /// in between once the first event is in the ring.
    pub fn continue_after(&self, seq: u64) -> bool {
        let mut last = self.publish_lock.lock();
        if *last != 0 || !self.ring.read().events.is_empty() {
            return false;
        }
        *last = seq;
        true
    }

    /// Appends to `out` up to `max` events with `seq > cursor`, oldest first, and returns how many
    /// events after `cursor` have already left the ring (0 unless the reader fell behind).
    pub fn read_after_into(&self, cursor: u64, max: usize, out: &mut Vec<Event>) -> u64 {
        self.read_bounded_into(cursor, max, usize::MAX, out)
    }

    /// Like [`Topic::read_after_into`], stopping once the events taken hold `max_bytes` of bodies
    /// (always at least one event): how a reader's batch stays bounded in bytes.
    pub fn read_bounded_into(
        &self,
        cursor: u64,
        max: usize,
        max_bytes: usize,
        out: &mut Vec<Event>,
    ) -> u64 {
        let ring = self.ring.read();
        let Some(oldest) = ring.events.front().map(|e| e.seq) else {
            return 0;
        };
        // `oldest` is at least 1: sequence numbers start at 1 and never wrap.
        let before = oldest.saturating_sub(1);
        let dropped = before.saturating_sub(cursor);
        let skip = usize::try_from(cursor.saturating_sub(before)).unwrap_or(usize::MAX);
        let mut bytes = 0usize;
        for event in ring.events.iter().skip(skip).take(max) {
            if bytes > 0 && bytes + event.body.len() > max_bytes {
                break;
            }
            bytes += event.body.len();
            out.push(event.clone());
        }
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

    /// The sequence number the next event will get (after [`Topic::continue_after`] too), or
    /// [`HubError::SequenceExhausted`] when the topic used its last one.
    pub fn next_seq(&self) -> Result<u64, HubError> {
        self.publish_lock
            .lock()
            .checked_add(1)
            .ok_or(HubError::SequenceExhausted)
    }

    /// Sequence number of the latest event, 0 before the first.
    pub fn last_seq(&self) -> u64 {
        *self.latest.borrow()
    }

    /// Bytes of bodies the ring holds.
    pub fn ring_bytes(&self) -> usize {
        self.ring.read().bytes
    }

    /// Marks the topic as used now (a read), so it is not freed as idle.
    pub(crate) fn touch(&self) {
        self.last_active_ns.store(mono_now_ns(), Ordering::Relaxed);
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
    /// How each topic is bounded.
    bounds: Bounds,
    /// Most topics the hub creates.
    max_topics: usize,
}

impl Hub {
    /// An empty hub retaining `ring_capacity` events per topic, for at most `max_topics` topics
    /// (no byte bound on rings and no publish-rate bound until set).
    pub fn new(ring_capacity: usize, max_topics: usize) -> Self {
        Hub {
            topics: RwLock::new(HashMap::new()),
            bounds: Bounds {
                capacity: ring_capacity,
                capacity_bytes: usize::MAX,
                pad_bytes: 0,
                publish_rate_per_s: u64::MAX,
            },
            max_topics,
        }
    }

    /// The same hub with `pad_bytes` spaces appended to every event body: the padding fault of
    /// [`rtbench_proto::ServerFault::pad_bytes`], for testing the performance gate. 0 (the default)
    /// is off.
    pub fn with_body_padding(mut self, pad_bytes: usize) -> Self {
        self.bounds.pad_bytes = pad_bytes;
        self
    }

    /// The same hub with each ring also bounded to `ring_bytes` bytes of bodies.
    pub fn with_ring_bytes(mut self, ring_bytes: usize) -> Self {
        self.bounds.capacity_bytes = ring_bytes;
        self
    }

    /// The same hub with client publishes limited to `per_s` per topic
    /// ([`Topic::client_publish_delay_ns`]), bursts of up to a quarter of the ring.
    pub fn with_publish_rate(mut self, per_s: u64) -> Self {
        self.bounds.publish_rate_per_s = per_s;
        self
    }

    /// The topic named `name`, created (empty) if it does not exist yet.
    pub fn topic(&self, name: &str) -> Result<Arc<Topic>, HubError> {
        if let Some(topic) = self.get(name) {
            return Ok(topic);
        }
        let mut topics = self.topics_all(&[name])?;
        Ok(topics.remove(0))
    }

    /// The topics named `names`, created if they do not exist yet: all of them or, if the names
    /// are invalid or the new ones would exceed the topic limit, none (nothing is created).
    pub fn topics_all(&self, names: &[&str]) -> Result<Vec<Arc<Topic>>, HubError> {
        if !names.iter().all(|n| valid_topic(n)) {
            return Err(HubError::InvalidTopic);
        }
        let mut topics = self.topics.write();
        let new = names.iter().filter(|n| !topics.contains_key(**n)).count();
        if topics.len() + new > self.max_topics {
            return Err(HubError::TooManyTopics(self.max_topics));
        }
        let out = names
            .iter()
            .map(|name| {
                let topic = topics
                    .entry((*name).into())
                    .or_insert_with(|| Arc::new(Topic::new(self.bounds)));
                topic.touch();
                topic.clone()
            })
            .collect();
        Ok(out)
    }

    /// Frees every topic idle for at least `ttl_ns`: nobody holds it (no subscriber, reader or
    /// publisher) and nothing was published to or read from it. Returns how many were freed.
    pub fn expire_idle(&self, ttl_ns: u64) -> usize {
        let now = mono_now_ns();
        let mut topics = self.topics.write();
        let before = topics.len();
        topics.retain(|_, topic| {
            let idle_ns = now.saturating_sub(topic.last_active_ns.load(Ordering::Relaxed));
            Arc::strong_count(topic) > 1 || topic.latest.receiver_count() > 0 || idle_ns < ttl_ns
        });
        before - topics.len()
    }

    /// The topic named `name`, if it exists.
    pub fn get(&self, name: &str) -> Option<Arc<Topic>> {
        self.topics.read().get(name).cloned()
    }

    /// Publishes `payload` to `topic` stamped `t_pub_ns` (CLOCK_MONOTONIC ns); returns its `seq`.
    pub fn publish(&self, topic: &str, t_pub_ns: u64, payload: &str) -> Result<u64, HubError> {
        self.topic(topic)?.publish(t_pub_ns, payload)
    }

    /// Up to `max` events of `topic` after `cursor` and how many were dropped (see
    /// [`Topic::read_after`]); an unknown topic has none and is not created.
    pub fn read_after(&self, topic: &str, cursor: u64, max: usize) -> (u64, Vec<Event>) {
        self.read_bounded(topic, cursor, max, usize::MAX)
    }

    /// Like [`Hub::read_after`], at most `max_bytes` of bodies (at least one event).
    pub fn read_bounded(
        &self,
        topic: &str,
        cursor: u64,
        max: usize,
        max_bytes: usize,
    ) -> (u64, Vec<Event>) {
        let Some(topic) = self.get(topic) else {
            return (0, Vec::new());
        };
        topic.touch();
        let mut out = Vec::new();
        let dropped = topic.read_bounded_into(cursor, max, max_bytes, &mut out);
        (dropped, out)
    }

    /// Events published into the hub since it started, all topics (saturating).
    pub fn events_published(&self) -> u64 {
        self.topics
            .read()
            .values()
            .fold(0u64, |sum, t| sum.saturating_add(t.last_seq()))
    }

    /// Number of topics.
    pub fn topic_count(&self) -> usize {
        self.topics.read().len()
    }
}

#[cfg(test)]
#[path = "hub_tests.rs"]
mod tests;
