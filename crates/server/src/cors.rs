//! CORS on the endpoints a page on another origin uses: `GET /poll`, `/longpoll`, `/sse`,
//! `/clock` and `POST /publish` (a WebSocket handshake needs none: browsers do not apply CORS to
//! it). See `docs/browser.md`.
//!
//! A request whose `Origin` is on `--cors-origin` (pattern: `scheme://host:port`, `:*` for any
//! port, `*` for any origin) goes through tower-http's [`CorsLayer`], which answers the preflight
//! (`OPTIONS`, methods `GET`/`POST`, headers `Content-Type` and `Last-Event-ID`) and adds
//! `access-control-allow-origin` to the answer. Every other request — no `Origin` (rtbench's own
//! clients, curl), an origin not on the list, another path — is served as if this layer did not
//! exist: no CORS header, no `vary`, not one byte more. That check is this file's own because
//! [`CorsLayer`] adds `vary` to every answer, with or without `Origin`, which would change the
//! bytes every transport's row counts.
//!
//! The lean HTTP/1.1 path writes no CORS header: it hands every request carrying `Origin` to
//! hyper (see [`crate::lean::head`]), so CORS is the same whichever engine serves a connection.

use axum::http::header::{CONTENT_TYPE, ORIGIN};
use axum::http::{HeaderName, HeaderValue, Method, Request, Response};
use futures_util::future::Either;
use rtbench_proto::{Transport, paths};
use std::task::{Context, Poll};
use std::time::Duration;
use tower::{Layer, Service};
use tower_http::cors::{AllowOrigin, Cors, CorsLayer};

/// How long a browser may cache a preflight answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// A `--cors-origin` entry that is not `*` or `scheme://host[:port|:*]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--cors-origin '{0}' is not '*' or scheme://host[:port], where port may be '*'")]
pub struct BadOrigin(pub String);

/// The port part of an origin pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PortPattern {
    /// No port given: only origins without one (the scheme's default port).
    Default,
    /// This port.
    Exact(u16),
    /// `:*`: any port, or none.
    Any,
}

/// One allowed origin pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum OriginPattern {
    /// `*`: every origin.
    Any,
    /// `scheme://host[:port]`, compared without regard to ASCII case.
    Exact {
        scheme: String,
        host: String,
        port: PortPattern,
    },
}

/// Splits `scheme://host[:port]` into its parts; the port as written (`None` when absent).
fn split_origin(text: &str) -> Option<(&str, &str, Option<&str>)> {
    let (scheme, authority) = text.split_once("://")?;
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let end = v6.find(']')? + 2;
            let rest = &authority[end..];
            let port = match rest {
                "" => None,
                _ => Some(rest.strip_prefix(':')?),
            };
            (&authority[..end], port)
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let valid_host = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._[]:".contains(&b));
    let valid_scheme = !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric());
    (valid_host && valid_scheme).then_some((scheme, host, port))
}

impl OriginPattern {
    /// Parses one `--cors-origin` entry.
    fn parse(text: &str) -> Result<OriginPattern, BadOrigin> {
        if text == "*" {
            return Ok(OriginPattern::Any);
        }
        let bad = || BadOrigin(text.to_string());
        let (scheme, host, port) = split_origin(text).ok_or_else(bad)?;
        let port = match port {
            None => PortPattern::Default,
            Some("*") => PortPattern::Any,
            Some(p) => PortPattern::Exact(p.parse().map_err(|_| bad())?),
        };
        Ok(OriginPattern::Exact {
            scheme: scheme.to_ascii_lowercase(),
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// Whether the `Origin` header value `origin` matches this pattern.
    fn matches(&self, origin: &str) -> bool {
        let OriginPattern::Exact { scheme, host, port } = self else {
            return true;
        };
        let Some((o_scheme, o_host, o_port)) = split_origin(origin) else {
            return false;
        };
        let o_port = match o_port.map(str::parse::<u16>) {
            None => None,
            Some(Ok(p)) => Some(p),
            Some(Err(_)) => return false,
        };
        let port_ok = match port {
            PortPattern::Any => true,
            PortPattern::Default => o_port.is_none(),
            PortPattern::Exact(p) => o_port == Some(*p),
        };
        port_ok && scheme.eq_ignore_ascii_case(o_scheme) && host.eq_ignore_ascii_case(o_host)
    }
}

/// The origins `--cors-origin` allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginList(Vec<OriginPattern>);

impl OriginList {
    /// Parses every entry of `patterns`; the first bad one is the error.
    pub fn parse(patterns: &[String]) -> Result<OriginList, BadOrigin> {
        patterns
            .iter()
            .map(|p| OriginPattern::parse(p.trim()))
            .collect::<Result<_, _>>()
            .map(OriginList)
    }

    /// Whether a page of `origin` (an `Origin` header value) may read the endpoints.
    pub fn allows(&self, origin: &HeaderValue) -> bool {
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        self.0.iter().any(|p| p.matches(origin))
    }
}

/// Whether `path` is an endpoint with CORS.
fn has_cors(path: &str) -> bool {
    path == paths::PUBLISH
        || path == paths::CLOCK
        || [Transport::ShortPoll, Transport::LongPoll, Transport::Sse]
            .iter()
            .any(|t| t.http_path() == Some(path))
}

/// The layer on the whole router: CORS for allowed origins on [`has_cors`] paths, nothing else.
#[derive(Debug, Clone)]
pub(crate) struct CorsOnOrigin {
    origins: OriginList,
    cors: CorsLayer,
}

impl CorsOnOrigin {
    /// The layer for `patterns` (`--cors-origin`); an entry that does not parse allows nothing
    /// (`rtbench serve` refuses it before a server starts) and is logged.
    pub(crate) fn new(patterns: &[String]) -> CorsOnOrigin {
        let parsed: Vec<OriginPattern> = patterns
            .iter()
            .filter_map(|p| {
                OriginPattern::parse(p.trim())
                    .inspect_err(|e| tracing::warn!("{e}; ignored"))
                    .ok()
            })
            .collect();
        let cors = CorsLayer::new()
            // Only reached for an origin already on the list.
            .allow_origin(AllowOrigin::mirror_request())
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([CONTENT_TYPE, HeaderName::from_static(paths::LAST_EVENT_ID)])
            .max_age(PREFLIGHT_MAX_AGE);
        CorsOnOrigin {
            origins: OriginList(parsed),
            cors,
        }
    }
}

impl<S: Clone> Layer<S> for CorsOnOrigin {
    type Service = MaybeCors<S>;

    fn layer(&self, inner: S) -> MaybeCors<S> {
        MaybeCors {
            origins: self.origins.clone(),
            cors: self.cors.layer(inner.clone()),
            plain: inner,
        }
    }
}

/// The service [`CorsOnOrigin`] makes: `plain` unless CORS applies.
#[derive(Debug, Clone)]
pub(crate) struct MaybeCors<S> {
    origins: OriginList,
    cors: Cors<S>,
    plain: S,
}

impl<S, B, R> Service<Request<B>> for MaybeCors<S>
where
    S: Service<Request<B>, Response = Response<R>> + Clone,
    R: Default,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = Either<tower_http::cors::ResponseFuture<S::Future>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match self.plain.poll_ready(cx) {
            Poll::Ready(Ok(())) => self.cors.poll_ready(cx),
            other => other,
        }
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let applies = has_cors(request.uri().path())
            && request
                .headers()
                .get(ORIGIN)
                .is_some_and(|o| self.origins.allows(o));
        if applies {
            Either::Left(self.cors.call(request))
        } else {
            Either::Right(self.plain.call(request))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(patterns: &[&str]) -> OriginList {
        OriginList::parse(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn allows(list: &OriginList, origin: &str) -> bool {
        list.allows(&HeaderValue::from_str(origin).unwrap())
    }

    #[test]
    fn the_default_list_allows_loopback_pages_on_any_port_and_nothing_else() {
        let defaults = OriginList::parse(&rtbench_proto::settings::default_cors_origins()).unwrap();
        for ok in [
            "http://127.0.0.1:8000",
            "http://localhost:3000",
            "http://[::1]:9",
            "http://LOCALHOST:1",
            "http://localhost",
        ] {
            assert!(allows(&defaults, ok), "{ok}");
        }
        for refused in [
            "http://example.com",
            "https://127.0.0.1:8000",
            "http://127.0.0.2:8000",
            "http://localhost.evil.example:80",
            "http://127.0.0.1:notaport",
            "null",
            "",
        ] {
            assert!(!allows(&defaults, refused), "{refused}");
        }
    }

    #[test]
    fn exact_ports_default_ports_and_the_wildcard() {
        let l = list(&["https://app.example:8443", "http://a.example"]);
        assert!(allows(&l, "https://app.example:8443"));
        assert!(!allows(&l, "https://app.example:8444"));
        assert!(!allows(&l, "https://app.example"));
        assert!(allows(&l, "http://a.example"));
        assert!(!allows(&l, "http://a.example:8080"));
        assert!(allows(&list(&["*"]), "http://anything.example:1"));
        assert!(!allows(&list(&[]), "http://127.0.0.1:1"));
    }

    #[test]
    fn bad_patterns_are_refused() {
        for bad in [
            "localhost",
            "http://",
            "http://a:b",
            "://a",
            "http://[::1",
            "http://a b",
        ] {
            let patterns = vec![bad.to_string()];
            assert_eq!(OriginList::parse(&patterns), Err(BadOrigin(bad.into())));
        }
    }

    #[test]
    fn only_the_event_publish_and_clock_endpoints_have_cors() {
        for p in ["/poll", "/longpoll", "/sse", "/publish", "/clock"] {
            assert!(has_cors(p), "{p}");
        }
        for p in [
            "/ws",
            "/schedule",
            "/metrics",
            "/",
            "/demo/start",
            "/settings",
        ] {
            assert!(!has_cors(p), "{p}");
        }
    }
}
