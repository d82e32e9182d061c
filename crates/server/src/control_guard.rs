//! Who may call the control endpoints (`/schedule`, `/plan`, `/schedule/resume`, `/faults/*`):
//! they start publishers and close connections, so they are the load generator's, not any
//! client's. With `--control-token` set, a request needs `Authorization: Bearer <token>` (401
//! otherwise), whatever the address. Without one, they answer only when the HTTP listener is on a
//! loopback address; on any other address they are off (401 naming `--control-token`).

use crate::error::ApiError;
use crate::refusal::{self, Limit};
use crate::state::State;
use axum::extract::{Request, State as AppState};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// The middleware on every control route.
pub(crate) async fn guard(
    AppState(state): AppState<Arc<State>>,
    request: Request,
    next: Next,
) -> Response {
    match check(&state, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(e) => {
            refusal::hit(
                Limit::Control,
                format_args!("{}: {e}", request.uri().path()),
            );
            e.into_response()
        }
    }
}

/// Whether a request with `headers` may use the control endpoints of `state`'s server.
fn check(state: &State, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(token) = state.config.limits.control_token.as_deref() else {
        if state.http_loopback.load(Ordering::Relaxed) {
            return Ok(());
        }
        return Err(ApiError::Unauthorized(
            "control endpoints are off on a non-loopback address unless --control-token is set"
                .into(),
        ));
    };
    let given = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if same(given.as_bytes(), token.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized(
            "control endpoints need 'Authorization: Bearer <--control-token>'".into(),
        ))
    }
}

/// `a == b`, taking the same time for every `a` of a given length (no early exit on the first
/// differing byte, so the token cannot be guessed byte by byte from response times).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtbench_proto::{ServerLimits, ServerSettings};

    fn state(token: Option<&str>, loopback: bool) -> Arc<State> {
        let settings = ServerSettings {
            limits: ServerLimits {
                control_token: token.map(String::from),
                ..ServerLimits::default()
            },
            ..ServerSettings::default()
        };
        let server = crate::Server::new(settings);
        let state = server.state().clone();
        state.http_loopback.store(loopback, Ordering::Relaxed);
        state
    }

    fn auth(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn token_or_loopback() {
        assert!(check(&state(None, true), &HeaderMap::new()).is_ok());
        assert!(
            check(&state(None, false), &HeaderMap::new()).is_err(),
            "off when remote"
        );
        let guarded = state(Some("s3cret"), true);
        assert!(
            check(&guarded, &HeaderMap::new()).is_err(),
            "token needed on loopback too"
        );
        assert!(check(&guarded, &auth("Bearer wrong")).is_err());
        assert!(check(&guarded, &auth("Bearer s3cre")).is_err());
        assert!(check(&guarded, &auth("s3cret")).is_err());
        assert!(check(&guarded, &auth("Bearer s3cret")).is_ok());
        assert!(check(&state(Some("t"), false), &auth("Bearer t")).is_ok());
    }
}
