//! `POST /publish?topic[&transport]`: the upstream of the HTTP transports. The body is the payload
//! (UTF-8, at most [`MAX_PAYLOAD_BYTES`]); the event is stamped with the server's monotonic clock
//! at arrival and the answer is `{"seq":N}`.
//!
//! `transport=sse|long_poll|short_poll|…` says which transport's client publishes: the connection
//! is then counted under that transport (see [`crate::meter`]) rather than `control`, so upstream
//! bytes and requests land in the transport's own row. An unknown name is a 400.
//!
//! Publishes are paced, not refused, over `--publish-rate-limit` per connection or
//! `--topic-publish-rate-limit` per topic: the answer waits until the rate allows. A topic that
//! used its last sequence number answers 409; a payload too large once JSON-escaped, 413.

use crate::error::ApiError;
use crate::meter::ConnHandle;
use crate::params::{Params, RawQuery, read_body};
use crate::rate::Gcra;
use crate::refusal::{self, Limit};
use crate::state::State;
use axum::Extension;
use axum::body::Body;
use axum::extract::State as AppState;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use rtbench_proto::limits::MAX_PAYLOAD_BYTES;
use std::sync::Arc;

/// `POST /publish`.
pub(crate) async fn handler(
    AppState(state): AppState<Arc<State>>,
    conn: Option<Extension<ConnHandle>>,
    query: RawQuery,
    body: Body,
) -> Result<Response, ApiError> {
    let params = Params::from_query(query)?;
    let topic = params.topic()?;
    params.transport()?;
    let bytes = read_body(body, MAX_PAYLOAD_BYTES).await?;
    let payload =
        std::str::from_utf8(&bytes).map_err(|_| ApiError::bad_request("payload is not UTF-8"))?;
    let topic = state.hub.topic(topic)?;
    let now = rtbench_proto::mono_now_ns();
    let conn_wait_ns = conn.map_or(0, |Extension(c)| {
        let limits = &state.config.limits;
        let burst = crate::tcp::burst(&state);
        c.0.publish_rate(|| Gcra::new(limits.publish_rate_per_conn, burst))
            .delay_ns(now)
    });
    let wait_ns = conn_wait_ns.max(topic.client_publish_delay_ns());
    if wait_ns > 0 {
        refusal::hit(Limit::PublishRate, "HTTP publisher slowed");
        tokio::time::sleep(std::time::Duration::from_nanos(wait_ns)).await;
    }
    let seq = topic
        .publish(rtbench_proto::mono_now_ns(), payload)
        .inspect_err(|e| refusal::hit(Limit::Topic, format_args!("publish refused: {e}")))?;
    Ok((
        [(CONTENT_TYPE, "application/json")],
        format!("{{\"seq\":{seq}}}"),
    )
        .into_response())
}
