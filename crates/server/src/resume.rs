//! `POST /schedule/resume`: continue an interrupted schedule on a server that restarted.
//!
//! A restarted server lost its ring. The load generator asks it to publish the rest of the original
//! schedule, keeping the original sequence numbers and scheduled times, so cursors clients hold stay
//! meaningful. The topic must be untouched on this server; its first event is `from_seq`, so a client
//! whose cursor is older is told by a gap notice how many events it will never get: the restart's
//! lost history is reported to the client, and so counted, never hidden.

use crate::error::ApiError;
use crate::params::{check_topic, read_body};
use crate::schedule::{Run, publisher_slot};
use crate::state::State;
use axum::Json;
use axum::body::Body;
use axum::extract::State as AppState;
use axum::http::StatusCode;
use rtbench_proto::control::ScheduleResponse;
use rtbench_proto::faults::ResumeRequest;
use rtbench_proto::limits::{MAX_PAYLOAD_BYTES, MAX_SCHEDULED_EVENTS};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Largest accepted request body, in bytes.
const MAX_REQUEST_BYTES: usize = 16 * 1024;

/// `POST /schedule/resume`.
pub(crate) async fn handler(
    AppState(state): AppState<Arc<State>>,
    body: Body,
) -> Result<Json<ScheduleResponse>, ApiError> {
    let bytes = read_body(body, MAX_REQUEST_BYTES).await?;
    let request: ResumeRequest = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid resume request: {e}")))?;
    Ok(Json(resume(&state, request)?))
}

/// Checks the request's ranges.
fn validate(r: &ResumeRequest) -> Result<(), ApiError> {
    check_topic(&r.topic)?;
    let ordered = 1 <= r.first_seq && r.first_seq <= r.from_seq && r.from_seq <= r.last_seq;
    if !ordered || r.last_seq - r.first_seq >= MAX_SCHEDULED_EVENTS {
        return Err(ApiError::bad_request(
            "need 1 <= first_seq <= from_seq <= last_seq, at most 10000000 events",
        ));
    }
    if r.period_ns == 0 || r.payload_bytes > MAX_PAYLOAD_BYTES {
        return Err(ApiError::bad_request(format!(
            "period_ns must be > 0 and payload_bytes at most {MAX_PAYLOAD_BYTES}"
        )));
    }
    r.period_ns
        .checked_mul(r.last_seq - r.first_seq)
        .and_then(|span| span.checked_add(r.start_mono_ns))
        .ok_or_else(|| ApiError::bad_request("schedule too long: times overflow"))?;
    Ok(())
}

/// Claims the topic, continues its sequence at `from_seq` and starts the publisher thread.
fn resume(state: &Arc<State>, r: ResumeRequest) -> Result<ScheduleResponse, ApiError> {
    validate(&r)?;
    if state.stopping.load(Ordering::SeqCst) {
        return Err(ApiError::ShuttingDown);
    }
    let slot = publisher_slot(state)?;
    let topic = state.hub.topic(&r.topic)?;
    if !state.scheduled_topics.lock().insert(r.topic.clone()) {
        return Err(ApiError::ScheduleBusy(r.topic));
    }
    let run = Run {
        state: state.clone(),
        topic: topic.clone(),
        name: r.topic.clone(),
        start_mono_ns: r.t_pub_ns(r.from_seq),
        period_ns: r.period_ns,
        events: r.last_seq - r.from_seq + 1,
        payload_bytes: r.payload_bytes,
        _slot: slot,
    };
    // From here `run` owns the claim: dropping it on an early return releases the topic.
    if !topic.continue_after(r.from_seq - 1) {
        return Err(ApiError::Rejected {
            status: StatusCode::CONFLICT,
            message: format!("topic '{}' already has events on this server", r.topic),
        });
    }
    run.spawn()?;
    Ok(ScheduleResponse {
        topic: r.topic,
        start_mono_ns: r.start_mono_ns,
        period_ns: r.period_ns,
        first_seq: r.first_seq,
        last_seq: r.last_seq,
    })
}
