//! Server-side fault injection: `POST /faults/close` closes some of a transport's open connections,
//! chosen at random, the way a crashing worker or a load balancer would: the socket is dropped
//! without any goodbye (no SSE end, no WebSocket close frame), so the client sees its stream end
//! or reset and must resume on its own.
//!
//! Only a server built with [`rtbench_proto::ServerSettings::fault_endpoints`] tracks its
//! connections ([`crate::conns`]) and serves the endpoint.

use crate::error::ApiError;
use crate::params::read_body;
use crate::state::State;
use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::State as AppState;
use axum::routing::post;
use rtbench_proto::faults::{CloseRequest, CloseResponse};
use rtbench_proto::{Transport, paths};
use std::sync::Arc;

/// Largest accepted `/faults/close` body, in bytes.
const MAX_REQUEST_BYTES: usize = 1024;

/// `POST /faults/close`, when the server serves the fault endpoints.
pub(crate) fn routes(state: &State) -> Router<Arc<State>> {
    match state.config.fault_endpoints {
        true => Router::new().route(paths::FAULTS_CLOSE, post(handler)),
        false => Router::new(),
    }
}

/// `POST /faults/close`.
/// In a cluster, what this process cannot close is asked of the others ([`crate::broker`]).
pub(crate) async fn handler(
    AppState(state): AppState<Arc<State>>,
    query: axum::extract::RawQuery,
    body: Body,
) -> Result<Json<CloseResponse>, ApiError> {
    let bytes = read_body(body, MAX_REQUEST_BYTES).await?;
    let request: CloseRequest = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid close request: {e}")))?;
    let transport: Transport =
        request
            .transport
            .parse()
            .map_err(|e: rtbench_proto::transport::UnknownTransport| {
                ApiError::bad_request(e.to_string())
            })?;
    let (closed, open) = state.faults.close(transport, request.count);
    let local = query.0.is_some_and(|q| q.split('&').any(|p| p == "local"));
    let here = CloseResponse { closed, open };
    Ok(Json(
        crate::broker::cluster_close(&state, local, request, here).await?,
    ))
}
