//! `POST /schedule` and [`start_publisher`]: the open-loop publisher (see `docs/measurement.md`,
//! "The schedule and the clock").
//!
//! Each accepted request gets a dedicated OS thread that publishes event `k` (0-based) when
//! CLOCK_MONOTONIC reaches `start + k × period`, stamped with that *scheduled* time and carrying
//! [`make_payload`]`(seq, payload_bytes)`. A late wake-up delays one event but never shifts the
//! ones after it, and its lateness is part of the measured latency. The thread sleeps with
//! [`sleep_until_ns`] (nanosecond timer slack, not tokio's millisecond timer) and stops early when
//! the server shuts down. One scheduled publisher runs per topic at a time (409 otherwise), and at
//! most `--max-publishers` run at once (503 otherwise; `/plan` and `/schedule/resume` count too),
//! each at least [`MIN_SCHEDULE_RATE_PER_S`], so no client can park OS threads without bound. A
//! run stops early if its topic refuses an event (its last sequence number is used).
//!
//! `first_seq`/`last_seq` in the answer assume nothing else publishes to the topic during the run.

use crate::error::ApiError;
use crate::hub::Topic;
use crate::params::{check_topic, read_body};
use crate::state::{PublisherSlot, Server, State};
use axum::Json;
use axum::body::Body;
use axum::extract::State as AppState;
use rtbench_proto::clock::sleep_until_ns;
use rtbench_proto::control::{ScheduleRequest, ScheduleResponse};
use rtbench_proto::limits::{
    MAX_PAYLOAD_BYTES, MAX_SCHEDULE_RATE_PER_S, MAX_SCHEDULED_EVENTS, MIN_SCHEDULE_RATE_PER_S,
};
use rtbench_proto::{make_payload, mono_now_ns};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Longest accepted `start_in_ms`, in milliseconds.
pub const MAX_START_IN_MS: u64 = 60_000;
/// Largest accepted `/schedule` request body, in bytes.
const MAX_REQUEST_BYTES: usize = 16 * 1024;
/// Longest single sleep of the publisher thread, in ns, so it notices shutdown promptly.
const SLEEP_SLICE_NS: u64 = 50_000_000;

/// Starts an open-loop publisher on `server` as `POST /schedule` would, e.g. for a demo publisher
/// before serving. Returns when the thread is started; the events follow on their schedule.
pub fn start_publisher(
    server: &Server,
    request: ScheduleRequest,
) -> Result<ScheduleResponse, ApiError> {
    start(server.state(), request)
}

/// `POST /schedule`.
pub(crate) async fn handler(
    AppState(state): AppState<Arc<State>>,
    body: Body,
) -> Result<Json<ScheduleResponse>, ApiError> {
    let bytes = read_body(body, MAX_REQUEST_BYTES).await?;
    let request: ScheduleRequest = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid schedule request: {e}")))?;
    Ok(Json(start(&state, request)?))
}

/// Checks `request` against the limits and returns its period in nanoseconds.
fn validate(request: &ScheduleRequest) -> Result<u64, ApiError> {
    check_topic(&request.topic)?;
    let rate = request.rate_per_s;
    if !(rate.is_finite() && (MIN_SCHEDULE_RATE_PER_S..=MAX_SCHEDULE_RATE_PER_S).contains(&rate)) {
        return Err(ApiError::bad_request(format!(
            "rate_per_s must be between {MIN_SCHEDULE_RATE_PER_S} and {MAX_SCHEDULE_RATE_PER_S}, got {rate}"
        )));
    }
    if !(1..=MAX_SCHEDULED_EVENTS).contains(&request.events) {
        return Err(ApiError::bad_request(format!(
            "events must be in 1..={MAX_SCHEDULED_EVENTS}, got {}",
            request.events
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
    let period_ns = (1e9 / rate).round();
    let span_ns = (period_ns * request.events as f64) + (MAX_START_IN_MS * 1_000_000) as f64;
    if span_ns >= u64::MAX as f64 / 2.0 {
        return Err(ApiError::bad_request(
            "schedule too long: events / rate_per_s overflows",
        ));
    }
    Ok(period_ns as u64)
}

/// Validates `request`, claims its topic and starts the publisher thread.
fn start(state: &Arc<State>, request: ScheduleRequest) -> Result<ScheduleResponse, ApiError> {
    let period_ns = validate(&request)?;
    if state.stopping.load(Ordering::SeqCst) {
        return Err(ApiError::ShuttingDown);
    }
    let slot = publisher_slot(state)?;
    let topic = state.hub.topic(&request.topic)?;
    let first_seq = topic.next_seq()?;
    let last_seq = first_seq
        .checked_add(request.events - 1)
        .ok_or(crate::hub::HubError::SequenceExhausted)?;
    if !state.scheduled_topics.lock().insert(request.topic.clone()) {
        return Err(ApiError::ScheduleBusy(request.topic));
    }
    let start_mono_ns = mono_now_ns() + request.start_in_ms * 1_000_000;
    let response = ScheduleResponse {
        topic: request.topic.clone(),
        start_mono_ns,
        period_ns,
        first_seq,
        last_seq,
    };
    let run = Run {
        state: state.clone(),
        topic,
        name: request.topic,
        start_mono_ns,
        period_ns,
        events: request.events,
        payload_bytes: request.payload_bytes,
        _slot: slot,
    };
    run.spawn()?;
    Ok(response)
}

/// One scheduled publisher run; releases its topic's claim when dropped. Whoever builds one must
/// have inserted `name` into `state.scheduled_topics`.
pub(crate) struct Run {
    pub(crate) state: Arc<State>,
    pub(crate) topic: Arc<Topic>,
    pub(crate) name: String,
    /// Scheduled time of the run's first event, CLOCK_MONOTONIC ns.
    pub(crate) start_mono_ns: u64,
    pub(crate) period_ns: u64,
    pub(crate) events: u64,
    pub(crate) payload_bytes: usize,
    /// Its place among `--max-publishers`, given back when the run ends.
    pub(crate) _slot: PublisherSlot,
}

/// A place for one more scheduled publisher, or 503 at `--max-publishers`.
pub(crate) fn publisher_slot(state: &Arc<State>) -> Result<PublisherSlot, ApiError> {
    state.publisher_slot().ok_or(ApiError::TooManyPublishers(
        state.config.limits.max_publishers,
    ))
}

impl Run {
    /// Starts the run's publisher thread.
    pub(crate) fn spawn(self) -> Result<(), ApiError> {
        std::thread::Builder::new()
            .name("rtbench-publisher".into())
            .spawn(move || self.publish_all())
            .map_err(|e| ApiError::Internal(format!("cannot start the publisher thread: {e}")))?;
        Ok(())
    }

    fn publish_all(self) {
        // With a broker the events reach this hub through it, later: number them from here.
        let first_seq = self.topic.next_seq().unwrap_or(u64::MAX);
        for k in 0..self.events {
            let due_ns = self.start_mono_ns + k * self.period_ns;
            if !sleep_until_or_stop(&self.state, due_ns) {
                return;
            }
            let bytes = self.payload_bytes;
            if let Some(broker) = self.state.broker.get() {
                let seq = first_seq.saturating_add(k);
                broker.publish(&self.name, seq, due_ns, make_payload(seq, bytes));
                continue;
            }
            let published = self
                .topic
                .publish_with(due_ns, |seq| make_payload(seq, bytes));
            if let Err(e) = published {
                tracing::warn!("scheduled publisher on '{}' stopped: {e}", self.name);
                return;
            }
        }
    }
}

/// Sleeps the calling publisher thread until CLOCK_MONOTONIC reaches `due_ns`; `false` if the
/// server began shutting down first. Sleeps in slices of at most 50 ms to notice shutdown.
pub(crate) fn sleep_until_or_stop(state: &State, due_ns: u64) -> bool {
    loop {
        if state.stopping.load(Ordering::Relaxed) {
            return false;
        }
        let now = mono_now_ns();
        if now >= due_ns {
            return true;
        }
        sleep_until_ns(due_ns.min(now + SLEEP_SLICE_NS));
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        self.state.scheduled_topics.lock().remove(&self.name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(rate_per_s: f64, events: u64) -> ScheduleRequest {
        ScheduleRequest {
            topic: "t".into(),
            rate_per_s,
            payload_bytes: 8,
            events,
            start_in_ms: 0,
        }
    }

    #[test]
    fn validation() {
        assert_eq!(validate(&request(3.0, 1)).unwrap(), 333_333_333);
        assert_eq!(
            validate(&request(MAX_SCHEDULE_RATE_PER_S, 5)).unwrap(),
            1_000
        );
        for bad in [
            0.0,
            -1.0,
            f64::NAN,
            f64::INFINITY,
            MAX_SCHEDULE_RATE_PER_S * 2.0,
        ] {
            assert!(validate(&request(bad, 1)).is_err(), "rate {bad}");
        }
        assert!(validate(&request(1.0, 0)).is_err());
        assert!(validate(&request(1.0, MAX_SCHEDULED_EVENTS + 1)).is_err());
        assert!(
            validate(&request(1e-12, MAX_SCHEDULED_EVENTS)).is_err(),
            "overflow"
        );
        assert!(validate(&request(1e-300, 1)).is_err(), "overflow");
        assert!(
            validate(&request(MIN_SCHEDULE_RATE_PER_S / 2.0, 1)).is_err(),
            "a publisher parked for centuries"
        );
        let mut r = request(1.0, 1);
        r.start_in_ms = MAX_START_IN_MS + 1;
        assert!(validate(&r).is_err());
        r = request(1.0, 1);
        r.payload_bytes = MAX_PAYLOAD_BYTES + 1;
        assert!(validate(&r).is_err());
    }

    #[test]
    fn publishes_on_schedule_and_releases_the_topic() {
        let server = Server::new(Default::default());
        let mut r = request(1000.0, 3);
        r.start_in_ms = 1;
        let resp = start_publisher(&server, r.clone()).unwrap();
        assert_eq!(
            (resp.first_seq, resp.last_seq, resp.period_ns),
            (1, 3, 1_000_000)
        );
        assert!(matches!(
            start_publisher(&server, r),
            Err(ApiError::ScheduleBusy(_))
        ));
        assert_eq!(server.state().publishers.load(Ordering::SeqCst), 1);
        let topic = server.hub().topic("t").unwrap();
        for _ in 0..5_000 {
            if !server.state().scheduled_topics.lock().contains("t") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let (_, events) = topic.read_after(0, 10);
        assert_eq!(events.len(), 3);
        for e in &events {
            assert_eq!(e.t_pub_ns, resp.t_pub_ns(e.seq));
            let body = rtbench_proto::parse_body(&e.body).unwrap();
            assert_eq!(body.payload, make_payload(e.seq, 8));
        }
    }
}

#[cfg(test)]
mod bounds {
    use super::*;
    use rtbench_proto::{ServerLimits, ServerSettings};

    #[test]
    fn publishers_are_bounded_and_a_refused_schedule_creates_no_topic() {
        let settings = ServerSettings {
            limits: ServerLimits {
                max_publishers: 2,
                ..ServerLimits::default()
            },
            ..ServerSettings::default()
        };
        let server = Server::new(settings);
        let slow = |topic: &str| ScheduleRequest {
            topic: topic.into(),
            rate_per_s: 1.0,
            payload_bytes: 8,
            events: 100,
            start_in_ms: MAX_START_IN_MS,
        };
        start_publisher(&server, slow("a")).unwrap();
        start_publisher(&server, slow("b")).unwrap();
        let third = start_publisher(&server, slow("c"));
        assert!(
            matches!(third, Err(ApiError::TooManyPublishers(2))),
            "{third:?}"
        );
        assert!(
            server.hub().get("c").is_none(),
            "a refused schedule created its topic"
        );
        server.state().begin_shutdown();
        for _ in 0..5_000 {
            if server.state().publishers.load(Ordering::SeqCst) == 0 {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        panic!("publishers did not give their slots back");
    }

    #[test]
    fn a_schedule_past_the_last_sequence_number_is_refused() {
        let server = Server::new(ServerSettings::default());
        assert!(
            server
                .hub()
                .topic("t")
                .unwrap()
                .continue_after(u64::MAX - 5)
        );
        let r = ScheduleRequest {
            topic: "t".into(),
            rate_per_s: 1.0,
            payload_bytes: 8,
            events: 10,
            start_in_ms: 0,
        };
        let err = start_publisher(&server, r).unwrap_err();
        assert_eq!(err.status(), axum::http::StatusCode::CONFLICT, "{err}");
        assert!(server.state().scheduled_topics.lock().is_empty());
    }
}
