//! `POST /publish?topic[&transport]`: the upstream of the HTTP transports. The body is the payload
//! (UTF-8, at most [`MAX_PAYLOAD_BYTES`]); the event is stamped with the server's monotonic clock
//! at arrival and the answer is `{"seq":N}`.
//!
//! `transport=sse|long_poll|short_poll|…` says which transport's client publishes: the connection
//! is then counted under that transport (see [`crate::meter`]) rather than `control`, so upstream
//! bytes and requests land in the transport's own row. An unknown name is a 400.

use crate::error::ApiError;
use crate::params::{Params, RawQuery, read_body};
use crate::state::State;
use axum::body::Body;
use axum::extract::State as AppState;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use rtbench_proto::limits::MAX_PAYLOAD_BYTES;
use std::sync::Arc;

/// `POST /publish`.
pub(crate) async fn handler(
    AppState(state): AppState<Arc<State>>,
    query: RawQuery,
    body: Body,
) -> Result<Response, ApiError> {
    let params = Params::from_query(query)?;
    let topic = params.topic()?;
    params.transport()?;
    let bytes = read_body(body, MAX_PAYLOAD_BYTES).await?;
    let payload =
        std::str::from_utf8(&bytes).map_err(|_| ApiError::bad_request("payload is not UTF-8"))?;
    let seq = state
        .hub
        .publish(topic, rtbench_proto::mono_now_ns(), payload)?;
    Ok((
        [(CONTENT_TYPE, "application/json")],
        format!("{{\"seq\":{seq}}}"),
    )
        .into_response())
}
