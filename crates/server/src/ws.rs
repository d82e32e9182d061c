//! `GET /ws?topic&after[&publish_to]`: WebSocket, both directions.
//!
//! Down: each event is one TEXT message whose payload is exactly the canonical body; a client that
//! fell behind the ring gets a TEXT gap notice `{"dropped":N}`. Up: each TEXT message is a payload
//! published to `publish_to`, or to the subscribed topic when the query names none. A BINARY message closes with 1003, an over-size one with 1009, a
//! protocol violation with 1002, invalid UTF-8 with 1007; shutdown closes with 1001. Pings are
//! answered by tungstenite itself.
//!
//! Bounds: each write takes at most `--batch-bytes` of events from the ring; the socket's write
//! buffer holds at most `--ws-max-write-buffer` bytes (events wait for the socket; a client that
//! sends pings and never reads gets at most one pong queued beyond it; a message that does not fit
//! a full buffer drops the socket); text messages
//! publish at most `--publish-rate-limit` per second (faster, the socket is not read until the
//! rate allows); a refused publish (last sequence number used, event too large) closes with 1008.
//!
//! Two ways in, one way of serving ([`serve_socket`], over [`crate::ws_socket::Socket`]): the stock
//! engine's axum handler upgrades through hyper; the lean engine's [`serve_lean`] takes a
//! handshake the lean path has read ([`crate::lean::head`]), writes the same `101` hyper would,
//! and runs tokio-tungstenite directly on the connection with the same configuration.

use crate::error::ApiError;
use crate::framing;
use crate::hub::{Event, Topic, release_if_large};
use crate::lean::head::Head;
use crate::lean::{Conn, Served, wire};
use crate::meter::ConnHandle;
use crate::params::{Params, RawQuery};
use crate::rate::Gcra;
use crate::refusal::{self, Limit};
use crate::state::{Shutdown, State};
use crate::ws_socket::{Incoming, Socket};
use axum::Extension;
use axum::extract::State as AppState;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{WebSocketUpgrade, close_code};
use axum::response::Response;
use rtbench_proto::Transport;
use rtbench_proto::limits::{MAX_EVENTS_PER_RESPONSE, MAX_PAYLOAD_BYTES};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

/// This transport's HTTP route: `GET` of its path in the transport spec (an HTTP/1.1 upgrade), or
/// `CONNECT` with `:protocol websocket` on HTTP/2 (RFC 8441).
pub(crate) fn routes() -> axum::Router<Arc<State>> {
    use axum::routing::{MethodFilter, on};
    let methods = MethodFilter::GET.or(MethodFilter::CONNECT);
    axum::Router::new().route(Transport::WebSocket.path(), on(methods, handler))
}

/// How long a closing socket waits for the client's close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// `GET /ws` on the stock engine: validates the query, then upgrades through hyper.
pub(crate) async fn handler(
    AppState(state): AppState<Arc<State>>,
    conn: Option<Extension<ConnHandle>>,
    query: RawQuery,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let params = Params::from_query(query)?;
    params.topic()?;
    params.after()?;
    let upgrade = upgrade.map_err(|r| ApiError::Rejected {
        status: r.status(),
        message: r.body_text(),
    })?;
    let (topics, cursor) = prepare(&state, &params)?;
    let config = &state.config;
    let upgrade = upgrade
        .read_buffer_size(config.ws_read_buffer_bytes)
        .write_buffer_size(config.ws_write_buffer_bytes)
        .max_write_buffer_size(config.limits.ws_max_write_buffer_bytes)
        .max_message_size(MAX_PAYLOAD_BYTES)
        .max_frame_size(MAX_PAYLOAD_BYTES);
    let shutdown = state.shutdown();
    let conn = conn.map(|Extension(c)| c);
    Ok(upgrade.on_upgrade(move |socket| serve_socket(socket, topics, cursor, shutdown, conn)))
}

/// The tungstenite configuration of the lean engine's sockets: the stock handler's, setting for
/// setting (axum starts from tungstenite's defaults too).
fn lean_config(state: &State) -> WebSocketConfig {
    let config = &state.config;
    WebSocketConfig::default()
        .read_buffer_size(config.ws_read_buffer_bytes)
        .write_buffer_size(config.ws_write_buffer_bytes)
        .max_write_buffer_size(config.limits.ws_max_write_buffer_bytes)
        .max_message_size(Some(MAX_PAYLOAD_BYTES))
        .max_frame_size(Some(MAX_PAYLOAD_BYTES))
}

/// The topics and cursor a `/ws` query asks for (creating its topics), or its refusal.
fn prepare(state: &State, params: &Params) -> Result<(Topics, u64), ApiError> {
    let name = params.topic()?;
    let cursor = params.after()?;
    let publish_to = params.publish_to()?;
    let names: Vec<&str> = std::iter::once(name).chain(publish_to).collect();
    let topics = state.hub.topics_all(&names)?;
    let config = &state.config;
    let topics = Topics {
        subscribed: topics[0].clone(),
        publish: topics[topics.len() - 1].clone(),
        rate: Gcra::new(
            config.limits.publish_rate_per_conn,
            crate::tcp::burst(state),
        ),
        batch_bytes: config.limits.batch_bytes,
    };
    Ok((topics, cursor))
}

/// `GET /ws` on the lean engine, whose head (`len` bytes, a whole WebSocket handshake,
/// [`crate::lean::head`]) the lean path has read: answers `101` with hyper's bytes and serves the
/// socket with tokio-tungstenite on the connection itself. `Err(conn)`, nothing written, when the
/// query is refused: hyper answers it, as every refusal.
pub(crate) async fn serve_lean(mut conn: Conn, head: &Head, len: usize) -> Result<(), Conn> {
    let Some(key) = head.ws_key.as_ref() else {
        return Err(conn);
    };
    let prepared = Params::from_target(&head.target).and_then(|p| prepare(conn.state(), &p));
    let Ok((topics, cursor)) = prepared else {
        return Err(conn);
    };
    conn.count_request(head);
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    if conn
        .write(&wire::switching_protocols(&accept))
        .await
        .is_err()
    {
        return Ok(());
    }
    // Bytes the client sent after its head (frames already) stay for tungstenite to read.
    let _ = conn.finish(Served::KeepAlive, len);
    let (state, handle) = (conn.state().clone(), conn.handle());
    let io = conn.into_hyper_io();
    let socket = tokio_tungstenite::WebSocketStream::from_raw_socket(
        io,
        Role::Server,
        Some(lean_config(&state)),
    )
    .await;
    serve_socket(socket, topics, cursor, state.shutdown(), Some(handle)).await;
    Ok(())
}

/// The topics one socket reads from and publishes to, and its bounds.
struct Topics {
    /// Events of this topic go down.
    subscribed: Arc<Topic>,
    /// Text messages up are published here.
    publish: Arc<Topic>,
    /// This connection's publish rate.
    rate: Gcra,
    /// Bytes of events taken from the ring per write.
    batch_bytes: usize,
}

impl Topics {
    /// Publishes `payload` once the connection's and the topic's rates allow it (the socket is not
    /// read meanwhile); the close code and reason if the topic refused it.
    async fn publish(&self, payload: &str) -> Result<(), (u16, String)> {
        let now = rtbench_proto::mono_now_ns();
        let wait_ns = self
            .rate
            .delay_ns(now)
            .max(self.publish.client_publish_delay_ns());
        if wait_ns > 0 {
            refusal::hit(Limit::PublishRate, "WebSocket publisher slowed");
            tokio::time::sleep(Duration::from_nanos(wait_ns)).await;
        }
        match self.publish.publish(rtbench_proto::mono_now_ns(), payload) {
            Ok(_) => Ok(()),
            Err(e) => {
                refusal::hit(Limit::Topic, format_args!("WebSocket publish refused: {e}"));
                Err((close_code::POLICY, e.to_string()))
            }
        }
    }
}

/// Serves one upgraded WebSocket until either side closes it.
async fn serve_socket<S: Socket>(
    mut socket: S,
    topics: Topics,
    mut cursor: u64,
    mut shutdown: Shutdown,
    conn: Option<ConnHandle>,
) {
    let topic = &topics.subscribed;
    let mut published = topic.subscribe();
    let mut batch = Vec::new();
    loop {
        if shutdown.is_set() {
            return close(socket, close_code::AWAY, "server shutting down").await;
        }
        let (batch_bytes, conn_ref) = (topics.batch_bytes, conn.as_ref());
        let sent = send_new_events(
            &mut socket,
            topic,
            &mut cursor,
            &mut batch,
            batch_bytes,
            conn_ref,
        );
        if let Err(e) = sent.await {
            return write_failed(socket, e);
        }
        tokio::select! {
            changed = published.changed() => if changed.is_err() { return },
            message = socket.recv() => match message {
                Some(Ok(Incoming::Text(payload))) => {
                    if let Err((code, reason)) = topics.publish(&payload).await {
                        return close(socket, code, &reason).await;
                    }
                }
                Some(Ok(Incoming::Binary)) => {
                    return close(socket, close_code::UNSUPPORTED, "binary messages are not accepted").await;
                }
                Some(Ok(Incoming::Control)) => {}
                Some(Ok(Incoming::Close)) => {
                    // tungstenite queued the close reply; flushing sends it and ends the connection.
                    let _ = socket.flush().await;
                    return;
                }
                None => return,
                Some(Err(e)) => {
                    let Some((code, reason)) = close_for(e) else { return };
                    if code == close_code::POLICY {
                        refusal::hit(Limit::WsWriteBuffer, "WebSocket client does not read");
                        return;
                    }
                    return close(socket, code, &reason).await;
                }
            },
            () = shutdown.wait() => {
                return close(socket, close_code::AWAY, "server shutting down").await;
            }
            // Fault injection: drop the socket without a close frame.
            () = killed(conn.as_ref()) => return,
        }
    }
}

/// Resolves when a fault request asks for this connection to be dropped.
async fn killed(conn: Option<&ConnHandle>) {
    match conn {
        Some(conn) => conn.0.killed().await,
        None => std::future::pending().await,
    }
}

/// Ends a socket whose write failed: a full write buffer (a client that does not read) is logged
/// and dropped — a close frame could not be queued anyway; any other failure means it is gone.
fn write_failed<S: Socket>(socket: S, error: WsError) {
    if matches!(close_for(error), Some((close_code::POLICY, _))) {
        refusal::hit(Limit::WsWriteBuffer, "WebSocket client does not read");
    }
    drop(socket);
}

/// Sends every event after `cursor` (a gap notice first if some left the ring), at most
/// `batch_bytes` of them per flush.
async fn send_new_events<S: Socket>(
    socket: &mut S,
    topic: &Topic,
    cursor: &mut u64,
    batch: &mut Vec<Event>,
    batch_bytes: usize,
    conn: Option<&ConnHandle>,
) -> Result<(), WsError> {
    loop {
        batch.clear();
        let dropped = topic.read_bounded_into(*cursor, MAX_EVENTS_PER_RESPONSE, batch_bytes, batch);
        if dropped == 0 && batch.is_empty() {
            release_if_large(batch);
            return Ok(());
        }
        if dropped > 0 {
            let gap = framing::websocket_gap(dropped);
            socket.feed_text(gap).await?;
        }
        for event in batch.iter() {
            let text = framing::websocket_event(event);
            socket.feed_text(text).await?;
            *cursor = event.seq;
        }
        socket.flush().await?;
        if let Some(conn) = conn {
            conn.0.delivered(batch.len());
        }
    }
}

/// The close code and reason for a receive error, or `None` if the connection is simply gone.
fn close_for(error: WsError) -> Option<(u16, String)> {
    match error {
        WsError::Capacity(_) => Some((
            close_code::SIZE,
            format!("message exceeds the {MAX_PAYLOAD_BYTES}-byte limit"),
        )),
        WsError::Utf8(_) => Some((close_code::INVALID, "text message is not UTF-8".into())),
        WsError::WriteBufferFull(_) => Some((
            close_code::POLICY,
            "write buffer full: the client does not read".into(),
        )),
        WsError::Protocol(e) => Some((close_code::PROTOCOL, e.to_string())),
        _ => None,
    }
}

/// Sends a close frame, then waits (bounded) for the client's close frame or EOF.
async fn close<S: Socket>(mut socket: S, code: u16, reason: &str) {
    // A close frame's reason must fit a 125-byte control frame with its 2-byte code.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    if socket.send_close(code, &reason[..end]).await.is_err() {
        return;
    }
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        while let Some(Ok(_)) = socket.recv().await {}
    })
    .await;
}
