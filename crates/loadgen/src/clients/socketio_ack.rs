//! Acknowledged emits (`--socketio-ack`): a Socket.IO client publishes each message as an EVENT
//! with an ack id, `42<id>["publish","<payload>"]`, and the server's ack callback answers
//! `43<id>[]` once the message is in the topic. [`PendingAcks`] numbers one session's emits and
//! matches their acks; [`AckSink`] holds a phase's counts and its ack-latency histogram (from the
//! emit's *scheduled* time, read from the payload's stamp, to the ACK's arrival, open loop like
//! every other latency of rtbench).

use crate::latency_sink::LatencySink;
use crate::upstream::stamp;
use rtbench_results::{Ack, Latency};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A phase's acknowledged emits, shared by its clients.
#[derive(Debug, Default)]
pub(crate) struct AckSink {
    /// Ack latencies, by the emit's scheduled time.
    latencies: LatencySink,
    /// Emits written with an ack id.
    emits: AtomicU64,
    /// ACK packets received.
    acks: AtomicU64,
}

impl AckSink {
    /// Sets the measured window `[from_ns, to_ns)` (emits scheduled inside it are measured).
    pub(crate) fn set_window(&self, from_ns: u64, to_ns: u64) {
        self.latencies.set_window(from_ns, to_ns);
    }

    /// Whether every emit so far has had its ack (the drain waits for them).
    pub(crate) fn all_acked(&self) -> bool {
        self.acks.load(Ordering::Relaxed) >= self.emits.load(Ordering::Relaxed)
    }

    /// What the row reports.
    pub(crate) fn to_ack(&self) -> Ack {
        let histogram = self.latencies.window_histogram();
        Ack {
            emits: self.emits.load(Ordering::Relaxed),
            acks: self.acks.load(Ordering::Relaxed),
            latency_us: Latency::from_histogram(&histogram),
            histogram,
        }
    }
}

/// One session's emits waiting for their ack. Ack ids start at 0 in every session (a new
/// Engine.IO session is a new Socket.IO socket); an emit whose session is lost is never acked and
/// stays counted in `emits` only.
#[derive(Debug)]
pub(super) struct PendingAcks {
    sink: Arc<AckSink>,
    /// The shard of the sink this client records into.
    client: usize,
    next_id: u64,
    /// Ack id → the emit's scheduled time.
    waiting: HashMap<u64, u64>,
}

impl PendingAcks {
    /// A new session's tracker for client `client`.
    pub(super) fn new(sink: Arc<AckSink>, client: u32) -> PendingAcks {
        PendingAcks {
            sink,
            client: client as usize,
            next_id: 0,
            waiting: HashMap::new(),
        }
    }

    /// Numbers the emit of `payload` (its stamp gives the scheduled time) and counts it.
    pub(super) fn emit(&mut self, payload: &str) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let t_sched_ns =
            stamp::parse(payload).map_or_else(rtbench_proto::mono_now_ns, |s| s.t_sched_ns);
        self.waiting.insert(id, t_sched_ns);
        self.sink.emits.fetch_add(1, Ordering::Relaxed);
        id
    }

    /// Counts the ACK of `id` and records its latency (an id not waiting is counted, not timed).
    pub(super) fn acked(&mut self, id: u64) {
        self.sink.acks.fetch_add(1, Ordering::Relaxed);
        if let Some(t_sched_ns) = self.waiting.remove(&id) {
            let now = rtbench_proto::mono_now_ns();
            let latency_ns = now.saturating_sub(t_sched_ns);
            self.sink
                .latencies
                .record(self.client, t_sched_ns, latency_ns);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_are_matched_by_id_and_counted_once_each() {
        let sink = Arc::new(AckSink::default());
        sink.set_window(0, u64::MAX);
        let mut pending = PendingAcks::new(sink.clone(), 3);
        let t = rtbench_proto::mono_now_ns().saturating_sub(5_000_000);
        let a = pending.emit(&stamp::encode(t, 3, 64));
        let b = pending.emit(&stamp::encode(t, 3, 64));
        assert_eq!((a, b), (0, 1));
        pending.acked(b);
        pending.acked(b);
        let ack = sink.to_ack();
        assert_eq!((ack.emits, ack.acks), (2, 2), "a duplicate ack is counted");
        assert_eq!(ack.histogram.len(), 1, "but timed once");
        assert!(ack.latency_us.p50 >= 5_000.0, "from the scheduled time");
    }
}
