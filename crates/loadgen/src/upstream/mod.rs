//! Clients' upstream messages, open loop (docs/measurement.md, "The schedule and the clock").
//!
//! One *dispatcher* OS thread per phase walks every client message of the schedule in time order,
//! sleeps with nanosecond timer slack until each one is due (tokio's timer would add up to a
//! millisecond of lateness to every message) and hands the scheduled time to the sending client.
//! It never waits for a send to finish, so a slow send never moves the schedule; the message is
//! stamped with its scheduled time ([`stamp`]), and lateness counts in its latency.
//!
//! WebSocket and raw-TCP clients send on their own socket, from their receive loop
//! ([`inline::InlineSends`]); HTTP clients (SSE, long poll, short poll) publish with
//! `POST /publish?transport=<theirs>` on connections of their own ([`http`]), a few at a time so
//! sends are never serialised behind replies — on HTTP/2, as streams of their subscription's
//! connection ([`http::shared`]).

pub(crate) mod http;
pub(crate) mod inline;
pub mod stamp;

use rtbench_proto::clock::sleep_until_ns;
use rtbench_proto::mono_now_ns;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::mpsc::UnboundedSender;

/// Longest single sleep of the dispatcher, so it notices the end of the phase promptly.
const SLEEP_SLICE_NS: u64 = 50_000_000;

/// Starts the dispatcher: from `start_ns` on, sends each `(offset, client)` message's scheduled
/// time to `dues[client]` when it is due. Ends after the last message or once `stop` is set;
/// dropping the senders then tells every client its sends are over.
pub(crate) fn dispatch(
    sends: Arc<[(u64, u32)]>,
    start_ns: u64,
    dues: Vec<Option<UnboundedSender<u64>>>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("rtbench-dispatch".into())
        .spawn(move || {
            for &(offset, client) in sends.iter() {
                let due = start_ns + offset;
                if !sleep_until_or_stop(due, &stop) {
                    return;
                }
                if let Some(Some(tx)) = dues.get(client as usize) {
                    let _ = tx.send(due);
                }
            }
        })
}

/// Sleeps until `due_ns`; `false` if `stop` was set first.
fn sleep_until_or_stop(due_ns: u64, stop: &AtomicBool) -> bool {
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let now = mono_now_ns();
        if now >= due_ns {
            return true;
        }
        sleep_until_ns(due_ns.min(now + SLEEP_SLICE_NS));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatches_in_order_on_time_then_closes() {
        let (tx0, mut rx0) = tokio::sync::mpsc::unbounded_channel();
        let (tx1, mut rx1) = tokio::sync::mpsc::unbounded_channel();
        let start = mono_now_ns() + 1_000_000;
        let sends: Arc<[(u64, u32)]> = vec![(0, 1), (2_000_000, 0), (3_000_000, 1)].into();
        let stop = Arc::new(AtomicBool::new(false));
        dispatch(sends, start, vec![Some(tx0), Some(tx1)], stop)
            .unwrap()
            .join()
            .unwrap();
        assert!(mono_now_ns() >= start + 3_000_000);
        assert_eq!(rx0.try_recv(), Ok(start + 2_000_000));
        assert_eq!(rx1.try_recv(), Ok(start));
        assert_eq!(rx1.try_recv(), Ok(start + 3_000_000));
        assert!(rx0.try_recv().is_err() && rx1.try_recv().is_err());
    }

    #[test]
    fn stops_when_told() {
        let stop = Arc::new(AtomicBool::new(true));
        let sends: Arc<[(u64, u32)]> = vec![(60_000_000_000, 0)].into();
        let t = dispatch(sends, mono_now_ns(), vec![None], stop).unwrap();
        t.join().unwrap();
    }
}
