//! Endpoint paths and query parameter names of the server's HTTP interface.
//!
//! | path | method | query | what |
//! |---|---|---|---|
//! | `/poll` | GET | `topic`, `after` | short poll: answers at once, maybe with no events |
//! | `/longpoll` | GET | `topic`, `after`, `timeout_ms` | held until an event after `after`, or timeout |
//! | `/sse` | GET | `topic`, `after` (or header `Last-Event-ID`) | `text/event-stream` |
//! | `/ws` | GET | `topic`, `after`, `publish_to` | WebSocket: events down, publishes up (to `publish_to` if given) |
//! | `/publish` | POST | `topic`, `transport` | body = payload (UTF-8); answers the event's `seq` |
//! | `/schedule` | POST | — | JSON [`crate::control::ScheduleRequest`]: start the open-loop publisher |
//! | `/plan` | POST | — | JSON [`crate::control::PlanRequest`]: publish at explicit times to many topics |
//! | `/schedule/resume` | POST | — | JSON [`crate::faults::ResumeRequest`]: continue a schedule after a restart |
//! | `/faults/close` | POST | — | JSON [`crate::faults::CloseRequest`]: close connections (fault endpoints only) |
//! | `/metrics` | GET | — | Prometheus text, see [`crate::metrics`] |
//! | `/settings` | GET | — | JSON [`crate::settings::ServerInfo`]: the settings the server runs with |
//! | `/healthz` | GET | — | `ok` |
//! | `/clock` | GET | — | JSON `{"mono_ns":N}`: the server's CLOCK_MONOTONIC, for a page's offset estimate |
//! | `/` | GET | — | the live page (`docs/browser.md`) |
//! | `/demo/start` | POST | — | JSON `{"topic","rate_per_s","seconds","payload_bytes"}`: the page's bounded demo publisher |
//! | `/demo/stop` | POST | — | stops the demo publisher |

/// Publish one event over HTTP.
pub const PUBLISH: &str = "/publish";
/// Start the in-server open-loop publisher.
pub const SCHEDULE: &str = "/schedule";
/// Start the in-server publisher on an explicit plan of (topic, time) events.
pub const PLAN: &str = "/plan";
/// Continue an interrupted schedule on a restarted server.
pub const RESUME: &str = "/schedule/resume";
/// Close some of a transport's connections from the server side (fault injection).
pub const FAULTS_CLOSE: &str = "/faults/close";
/// Prometheus metrics.
pub const METRICS: &str = "/metrics";
/// The server's settings as JSON.
pub const SETTINGS: &str = "/settings";
/// Liveness.
pub const HEALTHZ: &str = "/healthz";
/// The server's CLOCK_MONOTONIC as JSON `{"mono_ns":N}`.
pub const CLOCK: &str = "/clock";
/// The live page.
pub const PAGE: &str = "/";
/// Start the live page's demo publisher.
pub const DEMO_START: &str = "/demo/start";
/// Stop the live page's demo publisher.
pub const DEMO_STOP: &str = "/demo/stop";
/// Header SSE clients send to resume after a reconnect.
pub const LAST_EVENT_ID: &str = "last-event-id";
/// The WebSocket protocol's upgrade token: HTTP/2's `:protocol` on an extended CONNECT (RFC 8441),
/// as HTTP/1.1's `Upgrade` header carries it (RFC 6455).
pub const WEBSOCKET_PROTOCOL: &str = "websocket";
/// Query parameter of `/publish` naming the transport whose client publishes: the server counts
/// that connection's bytes and requests under this transport instead of `control`, so a
/// transport's upstream cost is part of its row.
pub const TRANSPORT_PARAM: &str = "transport";
/// Query parameter of `/ws` naming the topic the socket's upstream messages are published to
/// (default: the subscribed topic).
pub const PUBLISH_TO_PARAM: &str = "publish_to";
