//! Socket.IO v4 (protocol v5 over Engine.IO v4), served by `socketioxide` on the hyper path, as two
//! rows: `socketio` (Engine.IO's WebSocket transport only, at `/socket.io/`) and
//! `socketio_polling` (Engine.IO's HTTP long-polling only, at `/socket.io-polling/`), so the
//! fallback's cost is a row of its own. Neither offers the other's transport: no upgrade.
//!
//! A client connects to the default namespace with the handshake auth `{"topic":T,"after":N}`
//! (`after`: the last sequence number it holds, 0 for none). The server replays what the topic's
//! ring holds after `N` (a gap notice `{"dropped":K}` first if some left it), then joins the socket
//! to the room named `T`. One task per topic and row (the *pump*) emits each new hub event to that
//! room as the event `e` whose one argument is the canonical body, byte for byte
//! (`42["e",{"seq":…}]`). Replay and join happen under the pump's lock, so a socket gets every event
//! once and in order. Resuming after a reconnect is the same handshake with the new cursor: the
//! explicit-cursor form of Socket.IO's connection-state recovery (which socketioxide does not
//! implement), documented in `docs/beyond.md`.
//!
//! Acknowledged emits: a client may publish as the event [`PUBLISH_EVENT`] with an ack id,
//! `42<id>["publish","<payload>"]`; the message is published to the auth's `publish_to` topic (its
//! own topic by default), paced by the topic's publish rate as every client publish is, and then
//! acknowledged by socketioxide's ack callback with an empty ACK, `43<id>[]`. A topic that refuses
//! the publish gets no ack and the socket is disconnected (the client resumes; its emit is counted
//! unacknowledged).
//!
//! Bounds: each socket queues at most [`BUFFER_PACKETS`] packets (socketioxide's
//! `max_buffer_size`); a room emit that finds a socket's queue full disconnects the room's sockets
//! (counted as a `--ws-max-write-buffer` refusal): they resume from their cursors, nothing is lost
//! silently. A fault-injection kill of the connection disconnects the socket (after the WebSocket
//! upgrade the connection is no longer hyper's to drop).

use crate::hub::{Event, Topic, release_if_large};
use crate::meter::ConnHandle;
use crate::refusal::{self, Limit};
use crate::state::State;
use rtbench_proto::Transport;
use rtbench_proto::event::encode_gap;
use rtbench_proto::limits::MAX_EVENTS_PER_RESPONSE;
use serde::{Deserialize, Serialize, Serializer};
use socketioxide::extract::{AckSender, Data, SocketRef, State as IoState, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::{SocketIo, TransportType};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// The Socket.IO event name every event is emitted under (one byte, the least overhead a named
/// event can have).
pub const EVENT_NAME: &str = "e";

/// An ACK's arguments: none.
const NO_ARGS: [u8; 0] = [];

/// The event a client publishes under, with an ack id when it wants the acknowledgement.
pub const PUBLISH_EVENT: &str = "publish";

/// Packets one socket may have queued before an emit to it fails (socketioxide's default is 128,
/// too few for a polling client between two requests at high rates).
pub(crate) const BUFFER_PACKETS: usize = 4096;

/// The handshake auth a client sends with its CONNECT packet.
#[derive(Debug, Deserialize)]
struct Auth {
    /// The topic to subscribe to.
    topic: String,
    /// The last sequence number the client holds (0: none).
    #[serde(default)]
    after: u64,
    /// The topic the client's publishes go to (its own topic when absent).
    #[serde(default)]
    publish_to: Option<String>,
}

/// One row's Socket.IO server: its `SocketIo` handle and its pumps.
struct Ctx {
    state: Arc<State>,
    transport: Transport,
    io: OnceLock<SocketIo>,
    pumps: parking_lot::Mutex<HashMap<String, Arc<Pump>>>,
}

/// One topic's emitter to its room, and the last sequence number it emitted.
struct Pump {
    topic: Arc<Topic>,
    cursor: tokio::sync::Mutex<u64>,
}

/// An event body already JSON, serialised verbatim as the event's argument.
struct Body<'a>(&'a [u8]);

impl Serialize for Body<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = std::str::from_utf8(self.0).map_err(serde::ser::Error::custom)?;
        let raw: &serde_json::value::RawValue =
            serde_json::from_str(text).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

/// `transport`'s route: its socketioxide service at its path (Socket.IO rows only).
pub(crate) fn routes(state: &Arc<State>, transport: Transport) -> axum::Router<Arc<State>> {
    let kind = match transport {
        Transport::SocketIoPolling => TransportType::Polling,
        _ => TransportType::Websocket,
    };
    let path = transport.path();
    let ctx = Arc::new(Ctx {
        state: state.clone(),
        transport,
        io: OnceLock::new(),
        pumps: parking_lot::Mutex::new(HashMap::new()),
    });
    let (svc, io) = SocketIo::builder()
        .req_path(path.trim_end_matches('/'))
        .transports([kind])
        .max_buffer_size(BUFFER_PACKETS)
        .ws_read_buffer_size(state.config.ws_read_buffer_bytes.max(1024))
        .with_state(ctx.clone())
        .build_svc();
    io.ns("/", on_connect.with(register_publish));
    let _ = ctx.io.set(io);
    axum::Router::new().route_service(path, svc)
}

/// A socket connected: checks its auth, replays what it missed and joins its topic's room.
async fn on_connect(
    socket: SocketRef,
    TryData(auth): TryData<Auth>,
    IoState(ctx): IoState<Arc<Ctx>>,
) {
    let Ok(auth) = auth else {
        let _ = socket.disconnect();
        return;
    };
    let Ok(topic) = ctx.state.hub.topic(&auth.topic) else {
        let _ = socket.disconnect();
        return;
    };
    if let Some(name) = &auth.publish_to
        && ctx.state.hub.topic(name).is_err()
    {
        let _ = socket.disconnect();
        return;
    }
    watch_kill(&socket);
    let pump = ctx.pump(&auth.topic, topic);
    let cursor = pump.cursor.lock().await;
    let delivered = &ctx.state.meters.buckets[ctx.transport.index()].events_delivered;
    if replay(&socket, &pump.topic, (auth.after, *cursor), delivered).is_err() {
        drop(cursor);
        let _ = socket.disconnect();
        return;
    }
    socket.join(auth.topic);
}

/// Before the namespace answers the CONNECT (so no emit can arrive before it): registers the
/// socket's [`PUBLISH_EVENT`] handler for the auth's `publish_to` topic, or its own. A missing or
/// invalid auth registers nothing; [`on_connect`] then disconnects the socket.
async fn register_publish(
    socket: SocketRef,
    TryData(auth): TryData<Auth>,
    IoState(ctx): IoState<Arc<Ctx>>,
) -> Result<(), Infallible> {
    let Ok(auth) = auth else { return Ok(()) };
    let name = auth.publish_to.as_deref().unwrap_or(&auth.topic);
    if let Ok(topic) = ctx.state.hub.topic(name) {
        on_publish(&socket, topic);
    }
    Ok(())
}

/// Publishes each [`PUBLISH_EVENT`] of `socket` to `topic`, then acknowledges it (`43<id>[]`) when
/// the client asked.
fn on_publish(socket: &SocketRef, topic: Arc<Topic>) {
    socket.on(
        PUBLISH_EVENT,
        async move |socket: SocketRef, Data::<String>(payload), ack: AckSender| {
            let wait_ns = topic.client_publish_delay_ns();
            if wait_ns > 0 {
                refusal::hit(Limit::PublishRate, "Socket.IO publisher slowed");
                tokio::time::sleep(std::time::Duration::from_nanos(wait_ns)).await;
            }
            match topic.publish(rtbench_proto::mono_now_ns(), &payload) {
                Ok(_) => {
                    // An empty tuple is written as no arguments, `[]` (`()` would be `[null]`).
                    let _ = ack.send(&NO_ARGS);
                }
                Err(e) => {
                    refusal::hit(Limit::Topic, format_args!("Socket.IO publish refused: {e}"));
                    let _ = socket.disconnect();
                }
            }
        },
    );
}

/// Disconnects the socket when a fault request kills its connection.
fn watch_kill(socket: &SocketRef) {
    let Some(ConnHandle(meter)) = socket.req_parts().extensions.get::<ConnHandle>().cloned() else {
        return;
    };
    let gone = Arc::new(tokio::sync::Notify::new());
    let on_gone = gone.clone();
    socket.on_disconnect(async move || on_gone.notify_one());
    let socket = socket.clone();
    tokio::spawn(async move {
        tokio::select! {
            () = meter.killed() => { let _ = socket.disconnect(); }
            () = gone.notified() => {}
        }
    });
}

/// Emits to `socket` every event after `after` up to `until` (a gap notice first if some left the
/// ring), counting each in `delivered`.
fn replay(
    socket: &SocketRef,
    topic: &Topic,
    (after, until): (u64, u64),
    delivered: &AtomicU64,
) -> Result<(), ()> {
    let mut cursor = after;
    let mut batch = Vec::new();
    while cursor < until {
        batch.clear();
        let dropped = topic.read_after_into(cursor, MAX_EVENTS_PER_RESPONSE, &mut batch);
        if dropped > 0 {
            socket
                .emit(EVENT_NAME, &Body(&encode_gap(dropped)))
                .map_err(|_| ())?;
        }
        let mut any = false;
        for event in batch.iter().take_while(|e| e.seq <= until) {
            socket
                .emit(EVENT_NAME, &Body(&event.body))
                .map_err(|_| ())?;
            delivered.fetch_add(1, Ordering::Relaxed);
            cursor = event.seq;
            any = true;
        }
        if !any {
            break;
        }
    }
    Ok(())
}

impl Ctx {
    /// The pump of `name`, started on first use.
    fn pump(self: &Arc<Self>, name: &str, topic: Arc<Topic>) -> Arc<Pump> {
        let mut pumps = self.pumps.lock();
        if let Some(pump) = pumps.get(name) {
            return pump.clone();
        }
        let pump = Arc::new(Pump {
            cursor: tokio::sync::Mutex::new(topic.last_seq()),
            topic,
        });
        pumps.insert(name.to_string(), pump.clone());
        tokio::spawn(run_pump(self.clone(), name.to_string(), pump.clone()));
        pump
    }
}

/// Emits each new event of the pump's topic to its room until the server stops.
async fn run_pump(ctx: Arc<Ctx>, room: String, pump: Arc<Pump>) {
    let Some(io) = ctx.io.get().cloned() else {
        return;
    };
    let mut published = pump.topic.subscribe();
    let mut shutdown = ctx.state.shutdown();
    let mut batch = Vec::new();
    loop {
        {
            let mut cursor = pump.cursor.lock().await;
            emit_new(&ctx, &io, &room, &pump.topic, &mut cursor, &mut batch).await;
        }
        tokio::select! {
            changed = published.changed() => if changed.is_err() { return },
            () = shutdown.wait() => return,
        }
    }
}

/// Emits every event after `cursor` to `room`, advancing `cursor`.
async fn emit_new(
    ctx: &Ctx,
    io: &SocketIo,
    room: &str,
    topic: &Topic,
    cursor: &mut u64,
    batch: &mut Vec<Event>,
) {
    let batch_bytes = ctx.state.config.limits.batch_bytes;
    loop {
        batch.clear();
        let dropped = topic.read_bounded_into(*cursor, MAX_EVENTS_PER_RESPONSE, batch_bytes, batch);
        if dropped == 0 && batch.is_empty() {
            release_if_large(batch);
            return;
        }
        let members = io.to(room.to_string()).sockets().len() as u64;
        // Counted as handed to the sockets' queues, before a client can have read them.
        let delivered = &ctx.state.meters.buckets[ctx.transport.index()].events_delivered;
        delivered.fetch_add(members * batch.len() as u64, Ordering::Relaxed);
        let mut failed = false;
        if dropped > 0 {
            failed |= io
                .to(room.to_string())
                .emit(EVENT_NAME, &Body(&encode_gap(dropped)))
                .await
                .is_err();
        }
        for event in batch.iter() {
            failed |= io
                .to(room.to_string())
                .emit(EVENT_NAME, &Body(&event.body))
                .await
                .is_err();
            *cursor = event.seq;
        }
        if failed {
            refusal::hit(
                Limit::WsWriteBuffer,
                "Socket.IO client queue full: room disconnected to resume",
            );
            let _ = io.to(room.to_string()).disconnect().await;
        }
    }
}
