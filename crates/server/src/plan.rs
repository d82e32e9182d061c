//! `POST /plan` and [`start_plan`]: the open-loop publisher on an explicit plan (see
//! `docs/measurement.md`, "The schedule and the clock").
//!
//! A plan lists events as `(topic index, offset)`: one OS thread walks them in order, sleeps
//! (nanosecond timer slack, see [`crate::schedule`]) until each one's scheduled time
//! `start + offset`, and publishes it to its topic stamped with that *scheduled* time, carrying
//! [`make_payload`]`(seq, payload_bytes)`. A late wake-up delays one event but never shifts the
//! ones after it. This is what a fixed rate on one topic cannot express: many rooms, each with its
//! own times, and Poisson arrivals. Every topic of a plan is claimed like a `/schedule` topic
//! (409 while another publisher runs on it); the thread stops early when the server shuts down.
//!
//! `first_seqs` in the answer assume nothing else publishes to the topics during the run.

use crate::error::ApiError;
use crate::hub::Topic;
use crate::params::{check_topic, read_body};
use crate::schedule::{MAX_START_IN_MS, sleep_until_or_stop};
use crate::state::{Server, State};
use axum::Json;
use axum::body::Body;
use axum::extract::State as AppState;
use rtbench_proto::control::{PlanRequest, PlanResponse};
use rtbench_proto::limits::{
    MAX_PAYLOAD_BYTES, MAX_PLAN_EVENTS, MAX_PLAN_OFFSET_NS, MAX_PLAN_REQUEST_BYTES,
};
use rtbench_proto::{make_payload, mono_now_ns};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Starts a plan on `server` as `POST /plan` would. Returns when the thread is started; the events
/// follow on their schedule.
pub fn start_plan(server: &Server, request: PlanRequest) -> Result<PlanResponse, ApiError> {
    start(server.state(), request)
}

/// `POST /plan`.
pub(crate) async fn handler(
    AppState(state): AppState<Arc<State>>,
    body: Body,
) -> Result<Json<PlanResponse>, ApiError> {
    let bytes = read_body(body, MAX_PLAN_REQUEST_BYTES).await?;
    let request: PlanRequest = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid plan request: {e}")))?;
    Ok(Json(start(&state, request)?))
}

/// Checks `request` against the limits.
fn validate(request: &PlanRequest) -> Result<(), ApiError> {
    if request.topics.is_empty() {
        return Err(ApiError::bad_request("a plan needs at least one topic"));
    }
    let mut seen = HashSet::with_capacity(request.topics.len());
    for topic in &request.topics {
        check_topic(topic)?;
        if !seen.insert(topic.as_str()) {
            return Err(ApiError::bad_request(format!(
                "topic '{topic}' is listed twice"
            )));
        }
    }
    let events = &request.events;
    if !(1..=MAX_PLAN_EVENTS).contains(&events.len()) {
        return Err(ApiError::bad_request(format!(
            "a plan lists 1..={MAX_PLAN_EVENTS} events, got {}",
            events.len()
        )));
    }
    if let Some((i, _)) = events
        .iter()
        .find(|(i, _)| *i as usize >= request.topics.len())
    {
        return Err(ApiError::bad_request(format!(
            "event names topic index {i}, but the plan has {} topics",
            request.topics.len()
        )));
    }
    if events.windows(2).any(|w| w[1].1 < w[0].1) {
        return Err(ApiError::bad_request("events must be sorted by offset"));
    }
    let last = events.last().map_or(0, |e| e.1);
    if last > MAX_PLAN_OFFSET_NS {
        return Err(ApiError::bad_request(format!(
            "offsets must be at most {MAX_PLAN_OFFSET_NS} ns, got {last}"
        )));
    }
    if request.payload_bytes > MAX_PAYLOAD_BYTES {
        return Err(ApiError::bad_request(format!(
            "payload_bytes must be at most {MAX_PAYLOAD_BYTES}, got {}",
            request.payload_bytes
        )));
    }
    if request.start_in_ms > MAX_START_IN_MS {
        return Err(ApiError::bad_request(format!(
            "start_in_ms must be at most {MAX_START_IN_MS}, got {}",
            request.start_in_ms
        )));
    }
    Ok(())
}

/// Validates `request`, claims its topics and starts the publisher thread.
fn start(state: &Arc<State>, request: PlanRequest) -> Result<PlanResponse, ApiError> {
    validate(&request)?;
    if state.stopping.load(Ordering::SeqCst) {
        return Err(ApiError::ShuttingDown);
    }
    let slot = crate::schedule::publisher_slot(state)?;
    // All the plan's topics or none: a refused plan creates nothing.
    let names: Vec<&str> = request.topics.iter().map(String::as_str).collect();
    let topics = state.hub.topics_all(&names)?;
    let first_seqs = topics
        .iter()
        .map(|t| t.next_seq())
        .collect::<Result<Vec<_>, _>>()?;
    {
        let mut claimed = state.scheduled_topics.lock();
        if let Some(busy) = request.topics.iter().find(|t| claimed.contains(*t)) {
            return Err(ApiError::ScheduleBusy(busy.clone()));
        }
        claimed.extend(request.topics.iter().cloned());
    }
    let start_mono_ns = mono_now_ns() + request.start_in_ms * 1_000_000;

    // From here on the claims are released when `run` is dropped, also if the thread cannot start.
    let run = PlanRun {
        state: state.clone(),
        topics,
        names: request.topics,
        start_mono_ns,
        payload_bytes: request.payload_bytes,
        events: request.events,
        _slot: slot,
    };
    std::thread::Builder::new()
        .name("rtbench-plan".into())
        .spawn(move || run.publish_all())
        .map_err(|e| ApiError::Internal(format!("cannot start the publisher thread: {e}")))?;
    Ok(PlanResponse {
        start_mono_ns,
        first_seqs,
    })
}

/// One plan being published; releases its topics' claims when dropped.
struct PlanRun {
    state: Arc<State>,
    topics: Vec<Arc<Topic>>,
    names: Vec<String>,
    start_mono_ns: u64,
    payload_bytes: usize,
    events: Vec<(u32, u64)>,
    /// Its place among `--max-publishers`, given back when the plan ends.
    _slot: crate::state::PublisherSlot,
}

impl PlanRun {
    fn publish_all(self) {
        let bytes = self.payload_bytes;
        // With a broker the events reach this hub through it, later: number them from here.
        let mut next: Vec<u64> = (self.topics.iter())
            .map(|t| t.next_seq().unwrap_or(u64::MAX))
            .collect();
        for &(index, offset_ns) in &self.events {
            let due_ns = self.start_mono_ns + offset_ns;
            if !sleep_until_or_stop(&self.state, due_ns) {
                return;
            }
            let i = index as usize;
            if let Some(broker) = self.state.broker.get() {
                let seq = next[i];
                next[i] = seq.saturating_add(1);
                broker.publish(&self.names[i], seq, due_ns, make_payload(seq, bytes));
                continue;
            }
            let topic = &self.topics[i];
            // A topic at its last sequence number skips the plan's remaining events for it.
            let _ = topic.publish_with(due_ns, |seq| make_payload(seq, bytes));
        }
    }
}

impl Drop for PlanRun {
    fn drop(&mut self) {
        let mut claimed = self.state.scheduled_topics.lock();
        for name in &self.names {
            claimed.remove(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(events: Vec<(u32, u64)>) -> PlanRequest {
        PlanRequest {
            topics: vec!["a".into(), "b".into()],
            payload_bytes: 8,
            start_in_ms: 1,
            events,
        }
    }

    #[test]
    fn validation() {
        assert!(validate(&request(vec![(0, 0), (1, 5), (0, 5)])).is_ok());
        assert!(validate(&request(vec![])).is_err(), "no events");
        assert!(
            validate(&request(vec![(2, 0)])).is_err(),
            "index out of range"
        );
        assert!(
            validate(&request(vec![(0, 5), (1, 4)])).is_err(),
            "unsorted"
        );
        assert!(validate(&request(vec![(0, MAX_PLAN_OFFSET_NS + 1)])).is_err());
        let mut r = request(vec![(0, 0)]);
        r.topics = vec!["a".into(), "a".into()];
        assert!(validate(&r).is_err(), "duplicate topic");
        r.topics = vec!["bad topic".into()];
        assert!(validate(&r).is_err(), "invalid topic");
        r = request(vec![(0, 0)]);
        r.payload_bytes = MAX_PAYLOAD_BYTES + 1;
        assert!(validate(&r).is_err());
    }

    #[test]
    fn publishes_each_event_at_its_time_to_its_topic_and_releases_topics() {
        let server = Server::new(Default::default());
        let plan = request(vec![(0, 0), (1, 1_000_000), (0, 2_000_000)]);
        let resp = start_plan(&server, plan.clone()).unwrap();
        assert_eq!(resp.first_seqs, [1, 1]);
        assert!(matches!(
            start_plan(&server, plan),
            Err(ApiError::ScheduleBusy(_))
        ));
        for _ in 0..5_000 {
            if server.state().scheduled_topics.lock().is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let (_, a) = server.hub().read_after("a", 0, 10);
        let (_, b) = server.hub().read_after("b", 0, 10);
        let times = |events: &[crate::hub::Event]| {
            events
                .iter()
                .map(|e| e.t_pub_ns - resp.start_mono_ns)
                .collect::<Vec<_>>()
        };
        assert_eq!(times(&a), [0, 2_000_000]);
        assert_eq!(times(&b), [1_000_000]);
        let body = rtbench_proto::parse_body(&a[1].body).unwrap();
        assert_eq!(body.payload, make_payload(2, 8));
    }
}
