//! The live page's demo publisher: `POST /demo/start` with JSON
//! `{"topic","rate_per_s","seconds","payload_bytes"}` publishes to `topic` on a schedule (event
//! `k` stamped with its scheduled time `start + k / rate`, like `/schedule`) until `seconds` have
//! passed or `POST /demo/stop`. Bounded so a page cannot load the server: at most
//! [`MAX_RATE_PER_S`] events/s for [`MAX_SECONDS`] s with [`MAX_PAYLOAD_BYTES`]-byte payloads, one
//! demo per server (a new start replaces the running one). It runs on tokio's millisecond timer:
//! a demo, not a measurement (its lateness is in the latencies the page shows).
//!
//! Both need `Content-Type: application/json` (a page on another origin cannot send that without
//! a preflight, which these paths do not answer) and pass the control guard.

use crate::error::ApiError;
use crate::params::check_topic;
use crate::state::State;
use axum::extract::State as AppState;
use axum::{Extension, Json};
use parking_lot::Mutex;
use rtbench_proto::{make_payload, mono_now_ns};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::AbortHandle;

/// Highest demo rate, events per second.
pub(crate) const MAX_RATE_PER_S: f64 = 200.0;
/// Longest demo, in seconds.
pub(crate) const MAX_SECONDS: u64 = 600;
/// Largest demo payload, in bytes.
pub(crate) const MAX_PAYLOAD_BYTES: usize = 4096;

/// What `POST /demo/start` asks for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DemoRequest {
    topic: String,
    rate_per_s: f64,
    seconds: u64,
    #[serde(default)]
    payload_bytes: usize,
}

/// What `POST /demo/start` answers: subscribe with `after` to get every demo event.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DemoStarted {
    topic: String,
    /// The topic's last sequence number before the demo's first event.
    after: u64,
    events: u64,
    start_mono_ns: u64,
}

/// The running demo, if any.
#[derive(Debug, Default)]
pub(crate) struct Demo(Mutex<Option<AbortHandle>>);

impl Demo {
    /// Stops the running demo; whether one was running.
    fn stop(&self) -> bool {
        self.0.lock().take().is_some_and(|h| {
            let running = !h.is_finished();
            h.abort();
            running
        })
    }
}

/// Checks `request` against the bounds; its event count.
fn validate(request: &DemoRequest) -> Result<u64, ApiError> {
    check_topic(&request.topic)?;
    let rate = request.rate_per_s;
    if !(rate.is_finite() && (0.1..=MAX_RATE_PER_S).contains(&rate)) {
        return Err(ApiError::bad_request(format!(
            "rate_per_s must be between 0.1 and {MAX_RATE_PER_S}, got {rate}"
        )));
    }
    if !(1..=MAX_SECONDS).contains(&request.seconds) {
        return Err(ApiError::bad_request(format!(
            "seconds must be in 1..={MAX_SECONDS}, got {}",
            request.seconds
        )));
    }
    if request.payload_bytes > MAX_PAYLOAD_BYTES {
        return Err(ApiError::bad_request(format!(
            "payload_bytes must be at most {MAX_PAYLOAD_BYTES}, got {}",
            request.payload_bytes
        )));
    }
    Ok(((rate * request.seconds as f64).floor() as u64).max(1))
}

/// `POST /demo/start`.
pub(crate) async fn start(
    AppState(state): AppState<Arc<State>>,
    Extension(demo): Extension<Arc<Demo>>,
    Json(request): Json<DemoRequest>,
) -> Result<Json<DemoStarted>, ApiError> {
    let events = validate(&request)?;
    let topic = state.hub.topic(&request.topic)?;
    // Held until the new demo is recorded, so two starts at once cannot leave one unstoppable.
    let mut running = demo.0.lock();
    if let Some(previous) = running.take() {
        previous.abort();
    }
    let period_ns = (1e9 / request.rate_per_s) as u64;
    let start_mono_ns = mono_now_ns();
    let after = topic.last_seq();
    let payload_bytes = request.payload_bytes;
    let mut shutdown = state.shutdown();
    let task = tokio::spawn(async move {
        for k in 0..events {
            let due_ns = start_mono_ns + k * period_ns;
            let wait = Duration::from_nanos(due_ns.saturating_sub(mono_now_ns()));
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = shutdown.wait() => return,
            }
            if let Err(e) = topic.publish_with(due_ns, |seq| make_payload(seq, payload_bytes)) {
                tracing::warn!("demo publisher stopped: {e}");
                return;
            }
        }
    });
    *running = Some(task.abort_handle());
    drop(running);
    Ok(Json(DemoStarted {
        topic: request.topic,
        after,
        events,
        start_mono_ns,
    }))
}

/// `POST /demo/stop`: `{"stopped":true}` when a demo was running.
pub(crate) async fn stop(Extension(demo): Extension<Arc<Demo>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "stopped": demo.stop() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(rate_per_s: f64, seconds: u64, payload_bytes: usize) -> DemoRequest {
        DemoRequest {
            topic: "live".into(),
            rate_per_s,
            seconds,
            payload_bytes,
        }
    }

    #[test]
    fn demos_are_bounded() {
        assert_eq!(validate(&request(10.0, 60, 64)).unwrap(), 600);
        assert_eq!(validate(&request(0.5, 1, 0)).unwrap(), 1);
        for bad in [
            request(MAX_RATE_PER_S * 2.0, 60, 64),
            request(f64::NAN, 60, 64),
            request(10.0, 0, 64),
            request(10.0, MAX_SECONDS + 1, 64),
            request(10.0, 60, MAX_PAYLOAD_BYTES + 1),
        ] {
            assert!(validate(&bad).is_err(), "{bad:?}");
        }
    }
}
