//! rtbench's server: one hub of topics behind five transports — short polling, long polling,
//! Server-Sent Events, WebSocket and a raw-TCP floor — plus publish, schedule, plan and metrics
//! endpoints.
//!
//! Every transport carries the same canonical event bodies ([`rtbench_proto::event`]), encoded once
//! at publish time; only each transport's framing differs. Bytes are counted at the server's
//! sockets per transport so the cost of that framing can be reported (`GET /metrics`).
//!
//! Tests and the `rtbench serve` binary start it the same way:
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use rtbench_server::{Listeners, ServerSettings, run, shutdown_signal};
//! let listeners = Listeners {
//!     http: tokio::net::TcpListener::bind("127.0.0.1:0").await?,
//!     tcp: tokio::net::TcpListener::bind("127.0.0.1:0").await?,
//! };
//! run(listeners, ServerSettings::default(), shutdown_signal()).await
//! # }
//! ```

pub mod broker;
mod clock;
mod conns;
mod control_guard;
pub mod cors;
mod degrade;
mod drop_endpoint;
mod error;
pub mod floor_batch;
mod floor_socket;
pub mod framing;
mod h2c;
mod http;
pub mod hub;
mod kernel;
mod kill;
mod lean;
mod longpoll;
mod meter;
mod metrics;
mod page;
mod params;
mod plan;
mod poll;
mod publish;
mod rate;
mod refusal;
mod resume;
mod schedule;
mod server;
mod settings;
mod socketio;
mod sse;
mod state;
mod tcp;
mod tcp_fanout;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tls;
mod webtransport;
mod ws;
mod ws_socket;

pub use broker::{BrokerConfig, attach_broker};
pub use error::ApiError;
pub use hub::Hub;
pub use plan::start_plan;
pub use rtbench_proto::settings::{
    BadSetting, MAX_BUFFER_SETTING_BYTES, MIN_HTTP_MAX_BUF_BYTES, MIN_WS_READ_BUFFER_BYTES,
};
pub use rtbench_proto::{
    HttpEngine, ServerFault, ServerInfo, ServerLimits, ServerSettings, TlsSetting,
};
pub use schedule::{MAX_START_IN_MS, start_publisher};
pub use server::{Listeners, serve_control};
pub use state::{DEFAULT_ALLOCATOR, Server};

use std::future::Future;

/// Serves `listeners` with a new [`Server`] until `shutdown` resolves, then ends every stream and
/// waits up to 2 s for connections to close (see [`Server::run`]).
pub async fn run(
    listeners: Listeners,
    config: ServerSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    Server::new(config).run(listeners, shutdown).await
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM. If a handler cannot be installed, that signal is
/// ignored rather than treated as received.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
