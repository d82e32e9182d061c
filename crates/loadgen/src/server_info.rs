//! The server's settings as the load generator reads them: `GET /settings` answers
//! [`rtbench_proto::ServerInfo`]; a server from before the route answers 404, read as "no
//! settings". Also the one conversion to the shape results record today.

use crate::error::LoadError;
use rtbench_proto::{ServerInfo, paths};

/// Reads a `GET /settings` answer: the server's settings, `None` on a 404 (a server from before
/// the route), an error on any other failure.
pub(crate) fn from_answer(
    status: reqwest::StatusCode,
    text: &str,
) -> Result<Option<ServerInfo>, LoadError> {
    let path = paths::SETTINGS;
    if status == reqwest::StatusCode::NOT_FOUND {
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

/// The server's settings in the shape results record them today (`rtbench_results::ServerSettings`).
/// The one conversion between the two types, to go when results record
/// [`rtbench_proto::ServerSettings`] itself.
pub fn results_settings(info: &ServerInfo) -> rtbench_results::ServerSettings {
    let s = &info.settings;
    rtbench_results::ServerSettings {
        ws_read_buffer_bytes: s.ws_read_buffer_bytes as u64,
        ws_write_buffer_bytes: s.ws_write_buffer_bytes as u64,
        http_max_buf_bytes: s.http_max_buf_bytes as u64,
        http_writev: s.http_writev,
        http_engine: s.http_engine.as_str().to_string(),
        sse_keep_alive_ms: s.sse_keep_alive_ms,
        allocator: info.allocator.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_answer_tolerates_a_server_without_the_route() {
        use reqwest::StatusCode;
        use rtbench_proto::{HttpEngine, ServerSettings};
        let info = ServerInfo {
            settings: ServerSettings {
                http_engine: HttpEngine::Hyper,
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

        let recorded = results_settings(&info);
        assert_eq!(
            (
                recorded.http_engine.as_str(),
                recorded.ws_read_buffer_bytes,
                recorded.allocator.as_str(),
                recorded.http_writev,
            ),
            ("hyper", 4096, "jemalloc", info.settings.http_writev)
        );
        assert_eq!(
            recorded.http_max_buf_bytes,
            info.settings.http_max_buf_bytes as u64
        );
        assert_eq!(recorded.sse_keep_alive_ms, info.settings.sse_keep_alive_ms);
    }
}
