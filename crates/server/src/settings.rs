//! `GET /settings`: the settings the server runs with and its binary's allocator, as one JSON
//! value ([`rtbench_proto::ServerInfo`]), the same struct `rtbench serve`'s flags build.

use crate::state::State;
use axum::extract::State as AppState;
use axum::routing::get;
use axum::{Json, Router};
use rtbench_proto::{ServerInfo, paths};
use std::sync::Arc;

/// The route of `GET /settings`.
pub(crate) fn routes() -> Router<Arc<State>> {
    Router::new().route(paths::SETTINGS, get(handler))
}

/// `GET /settings`.
async fn handler(AppState(state): AppState<Arc<State>>) -> Json<ServerInfo> {
    let mut settings = state.config.clone();
    // Anyone may read this answer: it says whether a control token is set, never the token.
    settings.limits = settings.limits.redacted();
    Json(ServerInfo {
        settings,
        allocator: state.allocator.to_string(),
    })
}
