//! The one error type every HTTP endpoint answers with: a status and a one-line JSON body
//! `{"error":"..."}` ([`rtbench_proto::control::ErrorBody`]).

use crate::hub::HubError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rtbench_proto::control::ErrorBody;
use rtbench_proto::limits::MAX_PAYLOAD_BYTES;

/// Why a request was refused. Each variant maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed input: a bad query parameter, body or header (400).
    #[error("{0}")]
    BadRequest(String),
    /// No endpoint at this path (404).
    #[error("no such endpoint: {0}")]
    NotFound(String),
    /// The endpoint exists but not for this method (405).
    #[error("method {0} not allowed on this endpoint")]
    MethodNotAllowed(String),
    /// A publish body over [`MAX_PAYLOAD_BYTES`] (413).
    #[error("payload exceeds the {MAX_PAYLOAD_BYTES}-byte limit")]
    PayloadTooLarge,
    /// A scheduled publisher already runs on this topic (409).
    #[error("a scheduled publisher is already running on topic '{0}'")]
    ScheduleBusy(String),
    /// The server is shutting down (503).
    #[error("the server is shutting down")]
    ShuttingDown,
    /// `--max-publishers` scheduled publishers already run (503).
    #[error("{0} scheduled publishers are running already (--max-publishers)")]
    TooManyPublishers(usize),
    /// A control endpoint without the right token, or on a non-loopback listener with none
    /// configured (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The hub refused the topic: invalid name (400) or topic limit reached (503).
    #[error(transparent)]
    Hub(#[from] HubError),
    /// An extractor's own rejection, with its status (e.g. a non-upgrade request to `/ws`).
    #[error("{message}")]
    Rejected {
        /// Status the rejection carries.
        status: StatusCode,
        /// Its message.
        message: String,
    },
    /// The server could not do what was asked for a reason of its own (500).
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest(message.into())
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::Hub(HubError::InvalidTopic) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::ScheduleBusy(_) => StatusCode::CONFLICT,
            ApiError::ShuttingDown | ApiError::Hub(HubError::TooManyTopics(_)) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Hub(HubError::SequenceExhausted) => StatusCode::CONFLICT,
            ApiError::Hub(HubError::BodyTooLarge(_)) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Rejected { status, .. } => *status,
            ApiError::TooManyPublishers(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// `message` on one line: line breaks become spaces.
fn one_line(message: String) -> String {
    if message.contains(['\n', '\r']) {
        message.replace(['\n', '\r'], " ")
    } else {
        message
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = ErrorBody {
            error: one_line(self.to_string()),
        };
        (status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_one_line_messages() {
        assert_eq!(ApiError::bad_request("x").status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            ApiError::PayloadTooLarge.status(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(
            ApiError::from(HubError::InvalidTopic).status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            ApiError::from(HubError::TooManyTopics(1)).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(one_line("a\nb\r\nc".into()), "a b  c");
        assert_eq!(
            ApiError::from(HubError::SequenceExhausted).status(),
            StatusCode::CONFLICT
        );
        assert_eq!(
            ApiError::from(HubError::BodyTooLarge(1)).status(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
    }
}
