//! The raw-TCP floor on the second listener: length-prefixed frames ([`rtbench_proto::frame`]).
//!
//! The client's first frame must be `SUB <topic> <after> [<publish_to>]`, within the header-read
//! timeout (`--header-read-timeout`). Events then go down two ways. A connection behind (it just
//! subscribed from an old cursor, or its socket filled up) catches up on its own: it reads the
//! events after its cursor and writes them as frames in one buffer with one write, at most
//! `--batch-bytes` (and [`STREAM_WRITE_BYTES`]) of bodies per write (a client far behind gets them
//! in several writes, so one connection's buffer stays bounded in bytes). Once caught up it joins
//! its topic's fan-out (`tcp_fanout.rs`), one task that writes each new event's frame, encoded
//! once, to every caught-up socket in turn, and hands a socket that cannot take a write back to
//! this catch-up path. Hand-written because the floor is the protocol's minimum: nothing but a
//! length prefix around each event body. `PUB <payload>` frames from the client publish to
//! `publish_to`, or to the subscribed topic when the `SUB` frame named none, at most
//! `--publish-rate-limit` per second (faster, the server stops reading the connection until the
//! rate allows: back-pressure, not refusal). A malformed, over-size or out-of-place frame closes
//! the connection, as do a refused publish (last sequence number used, event too large) and
//! shutdown.

use crate::floor_socket;
use crate::framing;
use crate::hub::{Event, STREAM_WRITE_BYTES, Topic};
use crate::meter::{ConnMeter, Metered};
use crate::rate::Gcra;
use crate::refusal::{self, Limit};
use crate::state::ACCEPT_BACKOFF;
use crate::state::{Shutdown, State};
use crate::tcp_fanout::{Fanout, Fanouts, FloorSocket, Membership};
use bytes::{Bytes, BytesMut};
use rtbench_proto::Transport;
use rtbench_proto::frame::{Command, decode_frame, parse_command};
use rtbench_proto::limits::{MAX_EVENTS_PER_RESPONSE, MAX_PAYLOAD_BYTES, valid_topic};
use std::io::ErrorKind;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// Output buffer capacity kept between wake-ups, in bytes; a larger one is released after use.
const KEEP_OUT_BYTES: usize = 64 * 1024;

/// Why a raw-TCP connection ends.
#[derive(Debug)]
enum End {
    /// The client closed, the server shut down, or the socket failed.
    Closed,
    /// The client broke the protocol.
    BadFrame(String),
}

impl From<std::io::Error> for End {
    fn from(_: std::io::Error) -> Self {
        End::Closed
    }
}

/// Accepts raw-TCP connections until shutdown; each connection holds a clone of `alive`.
pub(crate) async fn accept_loop(listener: TcpListener, state: Arc<State>, alive: mpsc::Sender<()>) {
    let mut shutdown = state.shutdown();
    let fanouts = Arc::new(Fanouts::default());
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("tcp accept failed: {e}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = shutdown.wait() => return,
        };
        // Over --max-connections: closed at once (the raw-TCP floor has no way to say why).
        let Some(slot) = state.connection_slot() else {
            continue;
        };
        let meter = state
            .faults
            .track(ConnMeter::new(state.meters.clone(), alive.clone()));
        meter.tag(Transport::Tcp.index());
        let state = state.clone();
        let fanouts = fanouts.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let metered = Metered::tracked(stream, meter.clone());
            let Some(socket) = floor_socket::accept(metered, meter, &state).await else {
                drop(slot);
                return;
            };
            let socket = Arc::new(socket);
            // TLS: what the handshake left to send (session tickets) goes now, not with an event.
            if write_all(&socket, &[]).await.is_err() {
                drop(slot);
                return;
            }
            if let Err(End::BadFrame(why)) = serve(socket, &state, &fanouts).await {
                tracing::debug!("raw-tcp connection closed: {why}");
            }
            drop(slot);
        });
    }
}

/// Reads what the socket has (waiting for something) into `buf`; 0 on EOF.
async fn read_some(socket: &FloorSocket, buf: &mut BytesMut) -> Result<usize, End> {
    loop {
        socket.readable().await?;
        match socket.try_read_buf(buf) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
            read => return Ok(read?),
        }
    }
}

/// Writes all of `bytes` (and, TLS, any ciphertext still pending), waiting while the socket is
/// full.
async fn write_all(socket: &FloorSocket, mut bytes: &[u8]) -> Result<(), End> {
    while !bytes.is_empty() || socket.pending() {
        socket.writable().await?;
        match socket.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Reads until one whole frame is in `buf` and returns it; `None` on EOF.
async fn read_frame(socket: &FloorSocket, buf: &mut BytesMut) -> Result<Option<BytesMut>, End> {
    loop {
        if let Some(frame) = decode_frame(buf).map_err(|e| End::BadFrame(e.to_string()))? {
            return Ok(Some(frame));
        }
        if read_some(socket, buf).await? == 0 {
            return Ok(None);
        }
    }
}

/// Serves one raw-TCP connection: subscription, then events down and publishes up.
async fn serve(socket: FloorSocket, state: &State, fanouts: &Arc<Fanouts>) -> Result<(), End> {
    let mut shutdown = state.shutdown();
    let mut inbuf = BytesMut::with_capacity(256);
    let sub_timeout = state.config.limits.header_read_timeout();
    let first = tokio::select! {
        first = tokio::time::timeout(sub_timeout, read_frame(&socket, &mut inbuf)) => first,
        () = shutdown.wait() => return Err(End::Closed),
    };
    let first = first.map_err(|_| {
        refusal::hit(
            Limit::HeaderReadTimeout,
            "raw-TCP SUB frame not sent in time",
        );
        End::BadFrame("no SUB frame in time".into())
    })??;
    let Some(first) = first else {
        return Ok(());
    };
    let sub = subscribe(state, &first)?;
    let batch_bytes = state.config.limits.batch_bytes.min(STREAM_WRITE_BYTES);
    let attachment = fanouts.attach(&sub.topic, batch_bytes, shutdown.clone());
    let mut conn = Conn {
        socket,
        rate: Gcra::new(state.config.limits.publish_rate_per_conn, burst(state)),
        batch_bytes,
        inbuf,
        member: None,
    };
    let ended = conn.run(sub, attachment.fanout(), shutdown).await;
    if let Some((id, _)) = conn.member.take() {
        attachment.fanout().leave(id).await;
    }
    ended
}

/// One subscribed raw-TCP connection.
struct Conn {
    socket: FloorSocket,
    rate: Gcra,
    batch_bytes: usize,
    /// Bytes read from the client and not yet parsed.
    inbuf: BytesMut,
    /// Set while the topic's fan-out writes this connection's events.
    member: Option<Membership>,
}

/// The catch-up path's state: the cursor and the buffers kept between writes.
struct CatchUp {
    cursor: u64,
    /// The unwritten rest of a partial fan-out write and the events it completes.
    owed: Option<(Bytes, usize)>,
    events: Vec<Event>,
    out: BytesMut,
}

impl Conn {
    /// Events down (caught up by the connection itself, then by the fan-out) and publishes up.
    async fn run(
        &mut self,
        sub: Subscription,
        fanout: &Fanout,
        mut shutdown: Shutdown,
    ) -> Result<(), End> {
        let mut state = CatchUp {
            cursor: sub.cursor,
            owed: None,
            events: Vec::new(),
            out: BytesMut::new(),
        };
        loop {
            if shutdown.is_set() {
                return Err(End::Closed);
            }
            self.publish_buffered(&sub.publish_topic).await?;
            let Some((_, back)) = &mut self.member else {
                if self.catch_up(&sub.topic, &mut state).await? {
                    self.member = fanout.join(&self.socket, state.cursor).await;
                }
                continue;
            };
            tokio::select! {
                back = back => {
                    self.member = None;
                    let back = back.map_err(|_| End::Closed)?;
                    if back.failed {
                        return Err(End::Closed);
                    }
                    (state.cursor, state.owed) = (back.cursor, back.rest);
                }
                read = read_some(&self.socket, &mut self.inbuf) => {
                    if read? == 0 {
                        return Ok(());
                    }
                }
                () = shutdown.wait() => return Err(End::Closed),
                // Fault injection: drop the connection without a goodbye.
                () = self.socket.meter().killed() => return Err(End::Closed),
            }
        }
    }

    /// Publishes the `PUB` frames already buffered (e.g. read together with the `SUB` frame).
    async fn publish_buffered(&mut self, publish_topic: &Topic) -> Result<(), End> {
        while let Some(frame) = read_frame_now(&mut self.inbuf)? {
            match parse_command(&frame) {
                Ok(Command::Pub { payload }) if payload.len() <= MAX_PAYLOAD_BYTES => {
                    publish_paced(publish_topic, &self.rate, payload).await?;
                }
                _ => return Err(End::BadFrame("expected 'PUB <payload>'".into())),
            }
        }
        Ok(())
    }

    /// One step of catching up on its own: the rest of a partial fan-out write, then one bounded
    /// write of the events after the cursor. Returns whether the connection is caught up.
    async fn catch_up(&self, topic: &Topic, c: &mut CatchUp) -> Result<bool, End> {
        let meter = self.socket.meter();
        if let Some((rest, events)) = c.owed.take() {
            write_all(&self.socket, &rest).await?;
            meter.delivered(events);
        }
        let (delivered, caught_up) = fill_frames(
            topic,
            &mut c.cursor,
            self.batch_bytes,
            &mut c.events,
            &mut c.out,
        );
        if !c.out.is_empty() {
            write_all(&self.socket, &c.out).await?;
            meter.delivered(delivered);
            if c.out.capacity() > KEEP_OUT_BYTES {
                c.out = BytesMut::new();
                c.events = Vec::new();
            }
        }
        Ok(caught_up)
    }
}

/// What a `SUB` frame asked for.
struct Subscription {
    /// Events of this topic go down.
    topic: Arc<Topic>,
    /// `PUB` frames publish here: the subscribed topic unless the client named another.
    publish_topic: Arc<Topic>,
    /// The client's cursor.
    cursor: u64,
}

/// The subscription the first frame asks for; both topics are created, or neither.
fn subscribe(state: &State, first: &[u8]) -> Result<Subscription, End> {
    let (name, cursor, publish_to) = match parse_command(first) {
        Ok(Command::Sub {
            topic,
            after,
            publish_to,
        }) if valid_topic(topic) && publish_to.is_none_or(valid_topic) => {
            (topic, after, publish_to)
        }
        _ => {
            return Err(End::BadFrame(
                "first frame must be 'SUB <topic> <after> [<publish_to>]'".into(),
            ));
        }
    };
    let names: Vec<&str> = std::iter::once(name).chain(publish_to).collect();
    let topics = state.hub.topics_all(&names).map_err(|e| {
        refusal::hit(Limit::Topic, format_args!("raw-TCP SUB refused: {e}"));
        End::BadFrame(e.to_string())
    })?;
    Ok(Subscription {
        topic: topics[0].clone(),
        publish_topic: topics[topics.len() - 1].clone(),
        cursor,
    })
}

/// The burst of publishes a connection may send at once: its rate, at most a quarter of a ring.
pub(crate) fn burst(state: &State) -> usize {
    let per_s = usize::try_from(state.config.limits.publish_rate_per_conn).unwrap_or(usize::MAX);
    per_s.min(state.config.ring_capacity / 4).max(1)
}

/// Publishes `payload` to `topic` once the connection's rate (`rate`) and the topic's allow it
/// (sleeping meanwhile, so nothing more is read from this client); a refused publish ends the
/// connection.
async fn publish_paced(topic: &Topic, rate: &Gcra, payload: &str) -> Result<(), End> {
    let now = rtbench_proto::mono_now_ns();
    let wait_ns = rate.delay_ns(now).max(topic.client_publish_delay_ns());
    if wait_ns > 0 {
        refusal::hit(Limit::PublishRate, "raw-TCP publisher slowed");
        tokio::time::sleep(Duration::from_nanos(wait_ns)).await;
    }
    match topic.publish(rtbench_proto::mono_now_ns(), payload) {
        Ok(_) => Ok(()),
        Err(e) => {
            refusal::hit(Limit::Topic, format_args!("raw-TCP publish refused: {e}"));
            Err(End::BadFrame(e.to_string()))
        }
    }
}

/// Encodes into `out` (emptied first) the frames of the events after `cursor` — a gap notice
/// first if some left the ring — and advances `cursor`; returns the number of events and whether
/// they were all the events after the cursor. Normally they are; a client far behind gets them in
/// writes of about `batch_bytes` of bodies (at least one event), so one connection's buffer stays
/// bounded in bytes.
fn fill_frames(
    topic: &Topic,
    cursor: &mut u64,
    batch_bytes: usize,
    events: &mut Vec<Event>,
    out: &mut BytesMut,
) -> (usize, bool) {
    out.clear();
    let mut delivered = 0;
    loop {
        events.clear();
        let room = batch_bytes.saturating_sub(out.len()).max(1);
        let dropped = topic.read_bounded_into(*cursor, MAX_EVENTS_PER_RESPONSE, room, events);
        framing::tcp(out, dropped, events);
        let Some(last) = events.last() else {
            return (delivered, true);
        };
        *cursor = last.seq;
        delivered += events.len();
        if topic.last_seq() <= *cursor {
            return (delivered, true);
        }
        if out.len() >= batch_bytes {
            return (delivered, false);
        }
    }
}

/// A frame already complete in `buf`, if any.
fn read_frame_now(buf: &mut BytesMut) -> Result<Option<BytesMut>, End> {
    decode_frame(buf).map_err(|e| End::BadFrame(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::Hub;

    /// Sequence numbers of the event frames in `out`.
    fn frame_seqs(out: &BytesMut) -> Vec<u64> {
        let mut buf = out.clone();
        let mut seqs = Vec::new();
        while let Some(frame) = decode_frame(&mut buf).unwrap() {
            seqs.push(rtbench_proto::parse_body(&frame).unwrap().seq);
        }
        seqs
    }

    /// Bytes of bodies per write in the test.
    const BATCH: usize = 64 * 1024;

    #[test]
    fn fill_frames_takes_everything_in_bounded_writes() {
        let hub = Hub::new(10_000, 1);
        let topic = hub.topic("t").unwrap();
        let (mut cursor, mut events, mut out) = (0, Vec::new(), BytesMut::new());
        for i in 0..3 {
            topic.publish(i, "small").unwrap();
        }
        assert_eq!(
            fill_frames(&topic, &mut cursor, BATCH, &mut events, &mut out),
            (3, true)
        );
        assert_eq!(frame_seqs(&out), [1, 2, 3]);
        assert_eq!(
            fill_frames(&topic, &mut cursor, BATCH, &mut events, &mut out),
            (0, true)
        );
        assert!(out.is_empty());

        let payload = "x".repeat(1000);
        for i in 0..3000 {
            topic.publish(i, &payload).unwrap();
        }
        let mut seqs = Vec::new();
        let mut writes = 0;
        loop {
            let (n, caught_up) = fill_frames(&topic, &mut cursor, BATCH, &mut events, &mut out);
            writes += 1;
            assert!(
                out.len() <= BATCH + 1100,
                "{} bytes in one write",
                out.len()
            );
            let got = frame_seqs(&out);
            assert_eq!(got.len(), n);
            seqs.extend(got);
            if caught_up {
                break;
            }
        }
        assert_eq!(seqs, (4..=3003).collect::<Vec<u64>>());
        assert!(writes >= 3_000_000 / BATCH, "{writes} writes");
    }
}
