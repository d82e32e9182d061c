//! The wire vocabulary rtbench's server and load generator share, and nothing more: transport names,
//! the canonical event body every transport carries, each transport's framing, endpoint paths,
//! limits, metric names and the monotonic clock.
//!
//! Every transport carries the *same* event body bytes ([`event::encode_body`]); only the framing
//! around it differs (a 4-byte length prefix on raw TCP, an RFC 6455 frame on WebSocket, an
//! `id:`/`data:` block on SSE, a JSON array in a poll response). That framing is part of what rtbench
//! measures, so it lives here where both sides and the tests can compute it.

pub mod clock;
pub mod control;
pub mod event;
pub mod faults;
pub mod frame;
pub mod io;
pub mod limits;
pub mod metrics;
pub mod paths;
pub mod poll;
pub mod settings;
pub mod sse;
pub mod stack;
pub mod transport;

pub use clock::mono_now_ns;
pub use event::{EventRef, encode_body, make_payload, parse_body};
pub use settings::{HttpEngine, ServerFault, ServerInfo, ServerLimits, ServerSettings, TlsSetting};
pub use stack::Stack;
pub use transport::{Transport, TransportSpec};
