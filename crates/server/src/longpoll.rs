//! `GET /longpoll?topic&after&timeout_ms`: long polling. The request is held until an event after
//! the cursor exists, the timeout passes (answered with no events) or the server shuts down.

use crate::error::ApiError;
use crate::meter::ConnHandle;
use crate::params::{Params, RawQuery};
use crate::poll::poll_response;
use crate::server::State;
use axum::Extension;
use axum::extract::State as AppState;
use axum::response::Response;
use rtbench_proto::limits::MAX_EVENTS_PER_RESPONSE;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{Instant, sleep_until};

/// `GET /longpoll`.
pub(crate) async fn handler(
    AppState(state): AppState<Arc<State>>,
    conn: Option<Extension<ConnHandle>>,
    query: RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::from_query(query)?;
    let name = params.topic()?;
    let after = params.after()?;
    let deadline = Instant::now() + Duration::from_millis(params.timeout_ms()?);
    let topic = state.hub.topic(name)?;
    let mut shutdown = state.shutdown();
    // Subscribe before reading: a publish between the read and the wait still wakes us.
    let mut published = topic.subscribe();
    let mut events = Vec::new();
    loop {
        let dropped = topic.read_after_into(after, MAX_EVENTS_PER_RESPONSE, &mut events);
        if dropped > 0 || !events.is_empty() {
            return Ok(poll_response(conn.as_deref(), dropped, &events));
        }
        tokio::select! {
            changed = published.changed() => if changed.is_err() { break },
            () = sleep_until(deadline) => break,
            () = shutdown.wait() => break,
        }
    }
    Ok(poll_response(conn.as_deref(), 0, &[]))
}
