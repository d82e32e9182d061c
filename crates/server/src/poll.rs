//! `GET /poll?topic&after`: short polling. Answers at once with every retained event after the
//! cursor (at most [`MAX_EVENTS_PER_RESPONSE`] and `--batch-bytes` of bodies, at least one),
//! possibly none. Polling an unknown topic creates nothing.

use crate::error::ApiError;
use crate::framing;
use crate::hub::Event;
use crate::lean::head::Head;
use crate::lean::{Conn, Served, wire};
use crate::meter::ConnHandle;
use crate::params::{Params, RawQuery};
use crate::state::State;
use axum::Extension;
use axum::extract::State as AppState;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use rtbench_proto::Transport;
use rtbench_proto::limits::MAX_EVENTS_PER_RESPONSE;
use rtbench_proto::poll::encode_poll_response;
use std::sync::Arc;

/// This transport's HTTP route: `GET` of its path in the transport spec.
pub(crate) fn routes() -> axum::Router<Arc<State>> {
    axum::Router::new().route(Transport::ShortPoll.path(), axum::routing::get(handler))
}

/// `GET /poll` through hyper.
pub(crate) async fn handler(
    AppState(state): AppState<Arc<State>>,
    conn: Option<Extension<ConnHandle>>,
    query: RawQuery,
) -> Result<Response, ApiError> {
    let (dropped, events) = answer(&state, Params::from_query(query)?)?;
    Ok(poll_response(conn.as_deref(), dropped, &events))
}

/// `GET /poll` on the lean path.
pub(crate) async fn serve_lean(conn: &mut Conn, head: &Head) -> Served {
    let Ok((dropped, events)) =
        Params::from_target(&head.target).and_then(|p| answer(conn.state(), p))
    else {
        return Served::Declined;
    };
    conn.count_request(head);
    write_lean(conn, dropped, &events).await
}

/// The events a poll with `params` asks for, and how many after its cursor left the ring.
fn answer(state: &State, params: Params) -> Result<(u64, Vec<Event>), ApiError> {
    let topic = params.topic()?;
    let after = params.after()?;
    let batch_bytes = state.config.limits.batch_bytes;
    Ok(state
        .hub
        .read_bounded(topic, after, MAX_EVENTS_PER_RESPONSE, batch_bytes))
}

/// The JSON body of a poll or long-poll answer, counting its events as delivered on `conn`.
fn poll_body(conn: Option<&ConnHandle>, dropped: u64, events: &[Event]) -> Bytes {
    if let Some(conn) = conn {
        conn.0.delivered(events.len());
    }
    encode_poll_response(dropped, events.iter().map(|e| &e.body[..])).into()
}

/// The answer of a poll or long-poll through hyper, counting its events as delivered on `conn`.
pub(crate) fn poll_response(conn: Option<&ConnHandle>, dropped: u64, events: &[Event]) -> Response {
    let body = poll_body(conn, dropped, events);
    ([(CONTENT_TYPE, wire::JSON)], body).into_response()
}

/// Writes the answer of a poll or long-poll on the lean path, counting its events as delivered.
pub(crate) async fn write_lean(conn: &mut Conn, dropped: u64, events: &[Event]) -> Served {
    conn.handle().0.delivered(events.len());
    let mut out = Vec::new();
    wire::with_date(|date| framing::poll_answer(&mut out, dropped, events, date));
    match conn.write(&out).await {
        Ok(()) => Served::KeepAlive,
        Err(_) => Served::Close,
    }
}
