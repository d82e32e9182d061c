//! `GET /poll?topic&after`: short polling. Answers at once with every retained event after the
//! cursor (at most [`MAX_EVENTS_PER_RESPONSE`]), possibly none.

use crate::error::ApiError;
use crate::hub::Event;
use crate::meter::ConnHandle;
use crate::params::{Params, RawQuery};
use crate::server::State;
use axum::Extension;
use axum::extract::State as AppState;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use rtbench_proto::limits::MAX_EVENTS_PER_RESPONSE;
use rtbench_proto::poll::encode_poll_response;
use std::sync::Arc;

/// `GET /poll`.
pub(crate) async fn handler(
    AppState(state): AppState<Arc<State>>,
    conn: Option<Extension<ConnHandle>>,
    query: RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::from_query(query)?;
    let topic = params.topic()?;
    let after = params.after()?;
    let (dropped, events) = state.hub.read_after(topic, after, MAX_EVENTS_PER_RESPONSE);
    Ok(poll_response(conn.as_deref(), dropped, &events))
}

/// The JSON answer of a poll or long-poll, counting its events as delivered on `conn`.
pub(crate) fn poll_response(conn: Option<&ConnHandle>, dropped: u64, events: &[Event]) -> Response {
    if let Some(conn) = conn {
        conn.0.delivered(events.len());
    }
    let body = encode_poll_response(dropped, events.iter().map(|e| &e.body[..]));
    ([(CONTENT_TYPE, "application/json")], body).into_response()
}
