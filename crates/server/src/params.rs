//! Request input shared by the endpoints: query parameters and bounded request bodies, each turned
//! into an [`ApiError`] with a JSON body when malformed (axum's own rejections are plain text).

use crate::error::ApiError;
use axum::body::Body;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::http::Uri;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use rtbench_proto::Transport;
use rtbench_proto::limits::{DEFAULT_LONGPOLL_TIMEOUT_MS, MAX_LONGPOLL_TIMEOUT_MS, valid_topic};
use serde::Deserialize;

/// Query parameters as the client sent them, parsed by [`Params`]' methods.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Params {
    topic: Option<String>,
    after: Option<String>,
    timeout_ms: Option<String>,
    transport: Option<String>,
    publish_to: Option<String>,
}

/// The query extractor every endpoint takes: its rejection is mapped by [`Params::from_query`].
pub(crate) type RawQuery = Result<Query<Params>, QueryRejection>;

impl Params {
    /// The parameters, or a 400 if the query string cannot be decoded.
    pub(crate) fn from_query(query: RawQuery) -> Result<Params, ApiError> {
        query
            .map(|Query(p)| p)
            .map_err(|r| ApiError::bad_request(format!("bad query string: {}", r.body_text())))
    }

    /// The parameters of a request target (`/path?query`), parsed exactly as [`RawQuery`] is.
    pub(crate) fn from_target(target: &str) -> Result<Params, ApiError> {
        let uri: Uri = target
            .parse()
            .map_err(|_| ApiError::bad_request("bad request target"))?;
        Params::from_query(Query::try_from_uri(&uri))
    }

    /// The required, valid `topic`.
    pub(crate) fn topic(&self) -> Result<&str, ApiError> {
        let topic = self
            .topic
            .as_deref()
            .ok_or_else(|| ApiError::bad_request("missing 'topic'"))?;
        check_topic(topic)?;
        Ok(topic)
    }

    /// The cursor `after` (default 0).
    pub(crate) fn after(&self) -> Result<u64, ApiError> {
        self.after
            .as_deref()
            .map_or(Ok(0), |v| parse_seq("after", v))
    }

    /// The optional `transport` of `/publish`: the transport whose client publishes.
    pub(crate) fn transport(&self) -> Result<Option<Transport>, ApiError> {
        self.transport
            .as_deref()
            .map(|name| {
                name.parse::<Transport>()
                    .map_err(|e| ApiError::bad_request(e.to_string()))
            })
            .transpose()
    }

    /// The optional, valid `publish_to` topic of `/ws`.
    pub(crate) fn publish_to(&self) -> Result<Option<&str>, ApiError> {
        let Some(topic) = self.publish_to.as_deref() else {
            return Ok(None);
        };
        check_topic(topic)?;
        Ok(Some(topic))
    }

    /// The long-poll hold `timeout_ms`, default and maximum from [`rtbench_proto::limits`].
    pub(crate) fn timeout_ms(&self) -> Result<u64, ApiError> {
        let Some(v) = self.timeout_ms.as_deref() else {
            return Ok(DEFAULT_LONGPOLL_TIMEOUT_MS);
        };
        let ms: u64 = v.parse().map_err(|_| {
            ApiError::bad_request(format!(
                "'timeout_ms' must be an integer in 0..={MAX_LONGPOLL_TIMEOUT_MS}, got '{}'",
                truncate(v)
            ))
        })?;
        if ms > MAX_LONGPOLL_TIMEOUT_MS {
            return Err(ApiError::bad_request(format!(
                "'timeout_ms' must be at most {MAX_LONGPOLL_TIMEOUT_MS}, got {ms}"
            )));
        }
        Ok(ms)
    }
}

/// A 400 unless `topic` is a valid topic name.
pub(crate) fn check_topic(topic: &str) -> Result<(), ApiError> {
    if valid_topic(topic) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "invalid topic '{}': 1..=64 bytes of [A-Za-z0-9_.-]",
            truncate(topic)
        )))
    }
}

/// Parses a sequence number named `name` (a query parameter or header).
pub(crate) fn parse_seq(name: &str, value: &str) -> Result<u64, ApiError> {
    value.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "'{name}' must be a sequence number (unsigned integer), got '{}'",
            truncate(value)
        ))
    })
}

/// At most 80 characters of `s`, so error messages stay one short line.
fn truncate(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out.escape_debug().to_string()
}

/// How many bytes past `limit` are read and discarded before refusing an over-size body, so the
/// 413 answer reaches a client that is still sending instead of a connection reset.
const DRAIN_BYTES: usize = 1 << 20;

/// The whole request body, or 413 if it exceeds `limit` bytes.
pub(crate) async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let mut body = body;
    let mut buf = BytesMut::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ApiError::bad_request(format!("reading the body: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total += data.len();
        if total > limit + DRAIN_BYTES {
            break;
        }
        if total <= limit {
            buf.extend_from_slice(&data);
        }
    }
    if total > limit {
        return Err(ApiError::PayloadTooLarge);
    }
    Ok(buf.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(after: &str, timeout: &str) -> Params {
        Params {
            topic: Some("t".into()),
            after: Some(after.into()),
            timeout_ms: Some(timeout.into()),
            ..Params::default()
        }
    }

    #[test]
    fn parses_and_rejects() {
        assert_eq!(params("7", "5").after().unwrap(), 7);
        assert_eq!(params("7", "5").timeout_ms().unwrap(), 5);
        assert!(params("abc", "5").after().is_err());
        assert!(params("-1", "5").after().is_err());
        assert!(params("1", "-5").timeout_ms().is_err());
        assert!(params("1", "120001").timeout_ms().is_err());
        assert_eq!(Params::default().after().unwrap(), 0);
        assert_eq!(
            Params::default().timeout_ms().unwrap(),
            DEFAULT_LONGPOLL_TIMEOUT_MS
        );
        assert!(Params::default().topic().is_err());
        assert!(check_topic(&"x".repeat(65)).is_err());
        let upstream = |transport: &str, publish_to: &str| Params {
            transport: Some(transport.into()),
            publish_to: Some(publish_to.into()),
            ..Params::default()
        };
        assert_eq!(
            upstream("sse", "a.in").transport().unwrap(),
            Some(Transport::Sse)
        );
        assert_eq!(upstream("sse", "a.in").publish_to().unwrap(), Some("a.in"));
        assert!(upstream("pigeon", "a").transport().is_err());
        assert!(upstream("sse", "a b").publish_to().is_err());
        assert_eq!(Params::default().transport().unwrap(), None);
        assert!(truncate(&"y".repeat(500)).chars().count() <= 81);
    }

    #[tokio::test]
    async fn body_limit() {
        assert_eq!(&read_body(Body::from("abc"), 3).await.unwrap()[..], b"abc");
        assert!(matches!(
            read_body(Body::from("abcd"), 3).await,
            Err(ApiError::PayloadTooLarge)
        ));
    }
}
