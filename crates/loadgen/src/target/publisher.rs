//! Client stamping (`rtbench run --target URL --stamping client`, docs/contract.md "Stamping"):
//! for a server that only relays, the load generator's publisher client stands in for the
//! server's publisher. It publishes event *k* of a fixed-rate schedule at `start + k / rate` with
//! `POST` to the target's publish URL, its payload carrying the scheduled time
//! ([`crate::upstream::stamp`]), which every receiver reads its latency from; the server's own
//! `t_pub_ns` (its arrival time) is then not used.
//!
//! A timer thread sleeps until each event is due (nanosecond timer slack, as the upstream
//! dispatcher does) and hands the due time to one task that posts the events in order on the
//! control plane's uncounted connection: the server's own publisher costs no wire bytes either,
//! so bytes per delivery compare between the two stampings. A slow answer delays the next
//! publish but never its stamp, so the delay counts in latency (open loop). Publishing stops at
//! the first refused request (the drain then reports the events as never published).

use crate::control::Control;
use crate::error::LoadError;
use crate::upstream::stamp;
use rtbench_proto::clock::sleep_until_ns;
use rtbench_proto::control::{ScheduleRequest, ScheduleResponse};
use rtbench_proto::mono_now_ns;
use std::sync::atomic::{AtomicBool, Ordering};

/// The publisher's id in its stamps: no measuring client has it, so every client records the
/// events as others' messages.
pub const PUBLISHER_CLIENT_ID: u32 = u32::MAX;

/// Whether this process's target run stamps events at the client (`--stamping client`).
static CLIENT_STAMPING: AtomicBool = AtomicBool::new(false);

/// Makes this process's fixed-rate schedules client-stamped (`--stamping client`).
pub fn set_client_stamping(on: bool) {
    CLIENT_STAMPING.store(on, Ordering::Relaxed);
}

/// Whether schedules are client-stamped in this process.
pub fn client_stamping() -> bool {
    CLIENT_STAMPING.load(Ordering::Relaxed)
}

/// Starts publishing `req`'s events from the client and answers as `POST /schedule` would: the
/// topic must be new (its first event gets seq 1, checked on the first publish by the drain's
/// count). Returns at once; the events go out in the background.
pub(crate) fn start(
    control: &Control,
    req: &ScheduleRequest,
) -> Result<ScheduleResponse, LoadError> {
    if req.rate_per_s <= 0.0 || !req.rate_per_s.is_finite() {
        return Err(LoadError::Control(format!(
            "client stamping needs a rate above 0, not {}",
            req.rate_per_s
        )));
    }
    let period_ns = (1e9 / req.rate_per_s).round() as u64;
    let start_ns = mono_now_ns() + req.start_in_ms * 1_000_000;
    let (due_tx, mut due_rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let events = req.events;
    std::thread::Builder::new()
        .name("rtbench-stamping".into())
        .spawn(move || {
            for k in 0..events {
                let due = start_ns + k * period_ns;
                sleep_until_ns(due);
                if due_tx.send(due).is_err() {
                    return;
                }
            }
        })
        .map_err(|e| LoadError::Control(format!("starting the publisher's timer: {e}")))?;
    let (control, topic, payload_bytes) = (control.clone(), req.topic.clone(), req.payload_bytes);
    tokio::spawn(async move {
        while let Some(due) = due_rx.recv().await {
            let payload = stamp::encode(due, PUBLISHER_CLIENT_ID, payload_bytes);
            if let Err(e) = control.publish(&topic, payload.into_bytes()).await {
                eprintln!("--stamping client: publishing stopped: {e}");
                return;
            }
        }
    });
    Ok(ScheduleResponse {
        topic: req.topic.clone(),
        start_mono_ns: start_ns,
        period_ns,
        first_seq: 1,
        last_seq: req.events,
    })
}
