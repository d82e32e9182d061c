//! The server's settings as one value: what `rtbench serve`'s flags build, what `rtbench run`
//! hands its server child, what the server answers on `GET /settings`, and what results record.
//! One struct end to end, so a setting cannot change shape between the command line and a report.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::limits::DEFAULT_RING_CAPACITY;

/// The server stack every HTTP connection runs on (`docs/stacks.md`, "Engines").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HttpEngine {
    /// axum on hyper for every endpoint, and tokio-tungstenite over hyper's upgrade for
    /// WebSocket: the stack a production service deploys. Results written before the engines
    /// were renamed call it `hyper`.
    #[default]
    #[serde(alias = "hyper")]
    Stock,
    /// rtbench's own HTTP/1.1 responder for `GET /poll`, `/longpoll` and `/sse` (it holds no
    /// buffer while a connection waits) and tokio-tungstenite accepting WebSocket directly on the
    /// socket, with no hyper; anything else goes to hyper.
    Lean,
}

impl HttpEngine {
    /// Both engines, default first.
    pub const ALL: [HttpEngine; 2] = [HttpEngine::Stock, HttpEngine::Lean];

    /// The name used on the command line and in results.
    pub const fn as_str(self) -> &'static str {
        match self {
            HttpEngine::Stock => "stock",
            HttpEngine::Lean => "lean",
        }
    }
}

impl fmt::Display for HttpEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An engine name that is not `stock` (or its old name `hyper`) or `lean`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown HTTP engine '{0}' (expected stock or lean)")]
pub struct UnknownEngine(pub String);

impl FromStr for HttpEngine {
    type Err = UnknownEngine;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "hyper" {
            return Ok(HttpEngine::Stock);
        }
        HttpEngine::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| UnknownEngine(s.to_string()))
    }
}

/// Degradations the server injects so the regression gate can be shown to catch them; all 0 for
/// a real measurement. Never switch one on for a figure you report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerFault {
    /// Busy-wait before each write to an HTTP transport's socket, in microseconds (0: off).
    pub delay_us: u64,
    /// Spaces appended to every event body, in bytes (0: off).
    pub pad_bytes: usize,
}

impl ServerFault {
    /// Whether no fault is injected.
    pub fn is_off(&self) -> bool {
        *self == ServerFault::default()
    }
}

/// Smallest accepted [`ServerSettings::http_max_buf_bytes`] (hyper's own minimum), in bytes.
pub const MIN_HTTP_MAX_BUF_BYTES: usize = 8192;
/// Largest accepted buffer setting of [`ServerSettings`], in bytes.
pub const MAX_BUFFER_SETTING_BYTES: usize = 64 * 1024 * 1024;
/// Smallest accepted [`ServerSettings::ws_read_buffer_bytes`], in bytes.
pub const MIN_WS_READ_BUFFER_BYTES: usize = 256;

/// Everything that configures a server: buffers, limits, the HTTP engine, fault injection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSettings {
    /// Events retained per topic for cursors to resume from, in events.
    pub ring_capacity: usize,
    /// Most topics the hub creates; requests for a new topic beyond it get a 503, in topics.
    pub max_topics: usize,
    /// Silence after which an SSE stream sends a keep-alive comment, in milliseconds.
    pub sse_keep_alive_ms: u64,
    /// Read buffer of each WebSocket connection, in bytes (tungstenite's default is 128 KiB).
    pub ws_read_buffer_bytes: usize,
    /// Write buffer target of each WebSocket connection, in bytes (0: write every message at once).
    pub ws_write_buffer_bytes: usize,
    /// Largest read buffer hyper lets an HTTP/1 connection grow to, in bytes (hyper's
    /// `max_buf_size`; at least [`MIN_HTTP_MAX_BUF_BYTES`]). Its initial buffer is a fixed 8 KiB.
    pub http_max_buf_bytes: usize,
    /// Whether hyper writes HTTP/1 responses with vectored writes (`writev`).
    pub http_writev: bool,
    /// The server stack: `stock` (axum on hyper, tungstenite over hyper's upgrade) or `lean`.
    pub http_engine: HttpEngine,
    /// Serve `POST /faults/close` and track connections for it (fault injection).
    pub fault_endpoints: bool,
    /// Injected degradations (off for a real measurement).
    pub fault: ServerFault,
    /// What one client may cost the server (`docs/limits.md`). Absent in results written before
    /// the limits existed: read as the defaults.
    #[serde(default)]
    pub limits: ServerLimits,
    /// Whether the HTTP listener speaks TLS, and with which certificate (`docs/stacks.md`).
    /// Absent in results written before TLS existed: read as off.
    #[serde(default)]
    pub tls: TlsSetting,
    /// Origins whose pages may read the event endpoints and publish (CORS, `docs/browser.md`):
    /// `scheme://host:port`, `:*` for any port, or `*` for any origin. Absent in results written
    /// before it existed: read as [`default_cors_origins`].
    #[serde(default = "default_cors_origins")]
    pub cors_origins: Vec<String>,
}

/// The protocols a TLS listener offers by ALPN, preferred first: HTTP/2, then HTTP/1.1.
pub const TLS_ALPN: [&str; 2] = ["h2", "http/1.1"];

/// Whether the HTTP listener speaks TLS, and where its certificate comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum TlsSetting {
    /// Plaintext HTTP (`http://`, `ws://`).
    #[default]
    Off,
    /// TLS with a certificate the server generated at start for 127.0.0.1, localhost and ::1.
    SelfSigned,
    /// TLS with a certificate chain and private key read from PEM files.
    Files {
        /// Path of the PEM certificate chain, leaf first.
        cert: String,
        /// Path of the PEM private key.
        key: String,
    },
}

impl TlsSetting {
    /// Whether the listener speaks TLS.
    pub fn is_on(&self) -> bool {
        *self != TlsSetting::Off
    }
}

/// The origins allowed by default: pages served from loopback, on any port.
pub fn default_cors_origins() -> Vec<String> {
    ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
        .map(String::from)
        .to_vec()
}

/// The server's limits against hostile or broken clients: each bounds what one connection, topic
/// or request may cost, so no client can crash the server or cost the others their events. The
/// defaults are far above what `rtbench run`'s workloads use, so they never change a measurement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerLimits {
    /// Bytes of event bodies one topic's ring keeps; the oldest leave first, in bytes.
    pub ring_bytes: usize,
    /// Bytes of events one connection reads from a ring for one write or one poll answer (at
    /// least one event), in bytes.
    pub batch_bytes: usize,
    /// Most bytes a WebSocket connection may queue for a client that does not read, in bytes;
    /// past it the server stops reading that connection's frames and then closes it.
    pub ws_max_write_buffer_bytes: usize,
    /// Most connections open at once, both listeners; more are answered 503 (HTTP) or closed.
    pub max_connections: usize,
    /// Longest a client may take to send a whole request head (HTTP) or its `SUB` frame (raw
    /// TCP), in milliseconds.
    pub header_read_timeout_ms: u64,
    /// Longest an HTTP connection may stay open with no request in progress, in milliseconds.
    pub idle_timeout_ms: u64,
    /// Most events one connection may publish per second (raw-TCP `PUB`, WebSocket messages,
    /// `POST /publish`); a faster client is slowed, not refused.
    pub publish_rate_per_conn: u64,
    /// Most events clients together may publish to one topic per second; the server's own
    /// scheduled publisher is not counted.
    pub publish_rate_per_topic: u64,
    /// A topic with no subscriber, no publisher and no publish for this long is freed, in
    /// milliseconds (0: never).
    pub topic_idle_ttl_ms: u64,
    /// Most scheduled publishers (`/schedule`, `/plan`, `/schedule/resume`) running at once.
    pub max_publishers: usize,
    /// Longest request head accepted, in bytes; a longer one is answered 431.
    pub max_head_bytes: usize,
    /// When set, the control endpoints (`/schedule`, `/plan`, `/schedule/resume`, `/faults/*`)
    /// need `Authorization: Bearer <token>`. Unset, they answer only on a loopback listener.
    pub control_token: Option<String>,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            ring_bytes: 64 * 1024 * 1024,
            batch_bytes: 1024 * 1024,
            ws_max_write_buffer_bytes: 1024 * 1024,
            max_connections: 50_000,
            header_read_timeout_ms: 10_000,
            idle_timeout_ms: 60_000,
            publish_rate_per_conn: 10_000,
            publish_rate_per_topic: 100_000,
            topic_idle_ttl_ms: 300_000,
            max_publishers: 64,
            max_head_bytes: 16 * 1024,
            control_token: None,
        }
    }
}

impl ServerLimits {
    /// The header-read timeout.
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.header_read_timeout_ms)
    }

    /// The idle timeout.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms)
    }

    /// The topic idle time-to-live, `None` when topics are never freed.
    pub fn topic_idle_ttl(&self) -> Option<Duration> {
        (self.topic_idle_ttl_ms > 0).then(|| Duration::from_millis(self.topic_idle_ttl_ms))
    }

    /// The same limits with the control token hidden, for answers anyone may read.
    pub fn redacted(&self) -> ServerLimits {
        ServerLimits {
            control_token: self.control_token.as_ref().map(|_| "<set>".to_string()),
            ..self.clone()
        }
    }

    /// Checks every limit is in its accepted range.
    fn validate(&self, ws_write_buffer_bytes: usize) -> Result<(), BadSetting> {
        let ms = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        let min_ws = ws_write_buffer_bytes + 2 * crate::limits::MAX_FRAME_BYTES;
        let checks = [
            ("ring-bytes", self.ring_bytes, 1, usize::MAX),
            ("batch-bytes", self.batch_bytes, 1, MAX_BUFFER_SETTING_BYTES),
            (
                "ws-max-write-buffer",
                self.ws_max_write_buffer_bytes,
                min_ws,
                usize::MAX,
            ),
            ("max-connections", self.max_connections, 1, usize::MAX),
            (
                "header-read-timeout (ms)",
                ms(self.header_read_timeout_ms),
                1,
                86_400_000,
            ),
            ("idle-timeout (ms)", ms(self.idle_timeout_ms), 1, 86_400_000),
            (
                "publish-rate-limit",
                ms(self.publish_rate_per_conn),
                1,
                1_000_000_000,
            ),
            (
                "topic-publish-rate-limit",
                ms(self.publish_rate_per_topic),
                1,
                1_000_000_000,
            ),
            ("max-publishers", self.max_publishers, 1, 100_000),
            (
                "max-head-bytes",
                self.max_head_bytes,
                1024,
                MAX_BUFFER_SETTING_BYTES,
            ),
        ];
        for (name, got, min, max) in checks {
            if !(min..=max).contains(&got) {
                return Err(BadSetting {
                    name,
                    min,
                    max,
                    got,
                });
            }
        }
        if self.control_token.as_deref() == Some("") {
            return Err(BadSetting {
                name: "control-token (bytes)",
                min: 1,
                max: usize::MAX,
                got: 0,
            });
        }
        Ok(())
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            ring_capacity: DEFAULT_RING_CAPACITY,
            max_topics: 10_000,
            sse_keep_alive_ms: 15_000,
            ws_read_buffer_bytes: 1024,
            ws_write_buffer_bytes: 0,
            http_max_buf_bytes: 8192 + 4096 * 100,
            http_writev: true,
            http_engine: HttpEngine::Stock,
            fault_endpoints: false,
            fault: ServerFault::default(),
            limits: ServerLimits::default(),
            tls: TlsSetting::Off,
            cors_origins: default_cors_origins(),
        }
    }
}

/// A [`ServerSettings`] value outside its accepted range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} must be between {min} and {max} (got {got})")]
pub struct BadSetting {
    /// The setting, as its flag names it.
    pub name: &'static str,
    /// Smallest accepted value.
    pub min: usize,
    /// Largest accepted value.
    pub max: usize,
    /// The value given.
    pub got: usize,
}

impl ServerSettings {
    /// The SSE keep-alive period.
    pub fn sse_keep_alive(&self) -> Duration {
        Duration::from_millis(self.sse_keep_alive_ms)
    }

    /// Checks every buffer setting, so a bad value is refused before a server starts (hyper and
    /// tungstenite would panic on some of them).
    pub fn validate(&self) -> Result<(), BadSetting> {
        let checks = [
            (
                "ws read buffer",
                self.ws_read_buffer_bytes,
                MIN_WS_READ_BUFFER_BYTES,
            ),
            ("ws write buffer", self.ws_write_buffer_bytes, 0),
            (
                "http max buffer",
                self.http_max_buf_bytes,
                MIN_HTTP_MAX_BUF_BYTES,
            ),
        ];
        for (name, got, min) in checks {
            if !(min..=MAX_BUFFER_SETTING_BYTES).contains(&got) {
                return Err(BadSetting {
                    name,
                    min,
                    max: MAX_BUFFER_SETTING_BYTES,
                    got,
                });
            }
        }
        self.limits.validate(self.ws_write_buffer_bytes)
    }
}

/// What `GET /settings` answers: the settings the server runs with, and facts of its binary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    /// The settings in force.
    pub settings: ServerSettings,
    /// Memory allocator of the server binary (`jemalloc` or `system`).
    pub allocator: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_names_round_trip() {
        for e in HttpEngine::ALL {
            assert_eq!(e.as_str().parse::<HttpEngine>().unwrap(), e);
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(json, format!("\"{e}\""));
        }
        assert!("nginx".parse::<HttpEngine>().is_err());
        // The old name of the stock engine, on the command line and in old results.
        assert_eq!("hyper".parse::<HttpEngine>().unwrap(), HttpEngine::Stock);
        let old: HttpEngine = serde_json::from_str("\"hyper\"").unwrap();
        assert_eq!(old, HttpEngine::Stock);
        assert_eq!(ServerSettings::default().http_engine, HttpEngine::Stock);
    }

    #[test]
    fn defaults_validate_and_bad_buffers_are_refused() {
        assert!(ServerSettings::default().validate().is_ok());
        let bad = ServerSettings {
            http_max_buf_bytes: 100,
            ..ServerSettings::default()
        };
        assert_eq!(bad.validate().unwrap_err().name, "http max buffer");
        let mut bad = ServerSettings::default();
        bad.limits.max_connections = 0;
        assert_eq!(bad.validate().unwrap_err().name, "max-connections");
        bad.limits = ServerLimits {
            control_token: Some(String::new()),
            ..ServerLimits::default()
        };
        assert!(bad.validate().is_err(), "an empty token guards nothing");
    }

    #[test]
    fn settings_without_limits_read_as_the_defaults_and_the_token_is_redacted() {
        let mut json = serde_json::to_value(ServerSettings::default()).unwrap();
        json.as_object_mut().unwrap().remove("limits");
        let back: ServerSettings = serde_json::from_value(json).unwrap();
        assert_eq!(back.limits, ServerLimits::default());
        json = serde_json::to_value(ServerSettings::default()).unwrap();
        json.as_object_mut().unwrap().remove("cors_origins");
        let back: ServerSettings = serde_json::from_value(json).unwrap();
        assert_eq!(back.cors_origins, default_cors_origins());
        let limits = ServerLimits {
            control_token: Some("s3cret".into()),
            ..ServerLimits::default()
        };
        let shown = serde_json::to_string(&limits.redacted()).unwrap();
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn settings_round_trip_through_json() {
        let s = ServerSettings {
            http_engine: HttpEngine::Lean,
            fault: ServerFault {
                delay_us: 3,
                pad_bytes: 4,
            },
            ..ServerSettings::default()
        };
        let back: ServerSettings =
            serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn tls_is_off_when_absent_and_its_source_round_trips_by_mode() {
        let mut json = serde_json::to_value(ServerSettings::default()).unwrap();
        assert_eq!(json["tls"], serde_json::json!({"mode": "off"}));
        json.as_object_mut().unwrap().remove("tls");
        let back: ServerSettings = serde_json::from_value(json).unwrap();
        assert!(!back.tls.is_on());
        for tls in [
            TlsSetting::SelfSigned,
            TlsSetting::Files {
                cert: "c.pem".into(),
                key: "k.pem".into(),
            },
        ] {
            assert!(tls.is_on());
            let s = ServerSettings {
                tls: tls.clone(),
                ..ServerSettings::default()
            };
            let text = serde_json::to_string(&s).unwrap();
            assert_eq!(serde_json::from_str::<ServerSettings>(&text).unwrap(), s);
        }
        let files = serde_json::to_value(TlsSetting::Files {
            cert: "c.pem".into(),
            key: "k.pem".into(),
        })
        .unwrap();
        assert_eq!(
            files,
            serde_json::json!({"mode": "files", "cert": "c.pem", "key": "k.pem"})
        );
    }
}
