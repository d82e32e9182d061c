//! The server's settings as the load generator reads them: `GET /settings` answers
//! [`rtbench_proto::ServerInfo`]; a server from before the route answers 404, read as "no
//! settings".

use crate::error::LoadError;
use rtbench_proto::{ServerInfo, paths};

/// Reads a `GET /settings` answer: the server's settings, `None` on a 404 (a server from before
/// the route), an error on any other failure.
pub(crate) fn from_answer(
    status: hyper::StatusCode,
    text: &str,
) -> Result<Option<ServerInfo>, LoadError> {
    let path = paths::SETTINGS;
    if status == hyper::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !status.is_success() {
        return Err(LoadError::Control(format!(
            "GET {path}: {status}: {}",
            text.trim()
        )));
    }
    serde_json::from_str(text)
        .map(Some)
        .map_err(|e| LoadError::Control(format!("GET {path} answer: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_answer_tolerates_a_server_without_the_route() {
        use hyper::StatusCode;
        use rtbench_proto::{HttpEngine, ServerSettings};
        let info = ServerInfo {
            settings: ServerSettings {
                http_engine: HttpEngine::Stock,
                ws_read_buffer_bytes: 4096,
                ..ServerSettings::default()
            },
            allocator: "jemalloc".into(),
        };
        let json = serde_json::to_string(&info).unwrap();
        assert_eq!(
            from_answer(StatusCode::OK, &json).unwrap(),
            Some(info.clone())
        );
        assert_eq!(from_answer(StatusCode::NOT_FOUND, "").unwrap(), None);
        let err = from_answer(StatusCode::INTERNAL_SERVER_ERROR, "boom\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "server control request failed: GET /settings: 500 Internal Server Error: boom"
        );
        assert!(from_answer(StatusCode::OK, "{}").is_err());
    }
}
