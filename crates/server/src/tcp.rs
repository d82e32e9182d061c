//! The raw-TCP floor on the second listener: length-prefixed frames ([`rtbench_proto::frame`]).
//!
//! The client's first frame must be `SUB <topic> <after> [<publish_to>]`, within [`SUB_TIMEOUT`]. After that, each
//! wake-up reads every event after the cursor and writes them all as frames in one buffer with one
//! `write_all` (a client far behind gets them in writes of ~256 KiB); `PUB <payload>` frames from the
//! client publish to `publish_to`, or to the subscribed topic when the `SUB` frame named none. A malformed,
//! over-size or out-of-place frame closes the connection, as does shutdown.

use crate::framing;
use crate::hub::{Event, Topic};
use crate::meter::{ConnMeter, Metered};
use crate::state::ACCEPT_BACKOFF;
use crate::state::{Shutdown, State};
use bytes::BytesMut;
use rtbench_proto::Transport;
use rtbench_proto::frame::{Command, decode_frame, parse_command};
use rtbench_proto::limits::{MAX_EVENTS_PER_RESPONSE, MAX_PAYLOAD_BYTES, valid_topic};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// How long a new connection has to send its `SUB` frame.
pub(crate) const SUB_TIMEOUT: Duration = Duration::from_secs(10);
/// Output buffer capacity kept between wake-ups, in bytes; a larger one is released after use.
const KEEP_OUT_BYTES: usize = 64 * 1024;
/// Bytes of frames after which one write stops taking more events, in bytes.
const MAX_WRITE_BYTES: usize = 256 * 1024;

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
        let meter = state
            .faults
            .track(ConnMeter::new(state.meters.clone(), alive.clone()));
        meter.tag(Transport::Tcp.index());
        let state = state.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let io = Metered::tracked(stream, meter.clone());
            if let Err(End::BadFrame(why)) = serve(io, &meter, &state, state.shutdown()).await {
                tracing::debug!("raw-tcp connection closed: {why}");
            }
        });
    }
}

/// Reads until one whole frame is in `buf` and returns it; `None` on EOF.
async fn read_frame(
    io: &mut Metered<TcpStream>,
    buf: &mut BytesMut,
) -> Result<Option<BytesMut>, End> {
    loop {
        if let Some(frame) = decode_frame(buf).map_err(|e| End::BadFrame(e.to_string()))? {
            return Ok(Some(frame));
        }
        if io.read_buf(buf).await? == 0 {
            return Ok(None);
        }
    }
}

/// Serves one raw-TCP connection: subscription, then events down and publishes up.
async fn serve(
    mut io: Metered<TcpStream>,
    meter: &ConnMeter,
    state: &State,
    mut shutdown: Shutdown,
) -> Result<(), End> {
    let mut inbuf = BytesMut::with_capacity(256);
    let first = tokio::select! {
        first = tokio::time::timeout(SUB_TIMEOUT, read_frame(&mut io, &mut inbuf)) => first,
        () = shutdown.wait() => return Err(End::Closed),
    };
    let first = first.map_err(|_| End::BadFrame("no SUB frame in time".into()))??;
    let Some(first) = first else {
        return Ok(());
    };
    let (name, mut cursor, publish_to) = match parse_command(&first) {
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
    let topic = state
        .hub
        .topic(name)
        .map_err(|e| End::BadFrame(e.to_string()))?;
    // Where `PUB` frames go: the subscribed topic unless the client named another.
    let publish_topic = match publish_to {
        Some(other) => state
            .hub
            .topic(other)
            .map_err(|e| End::BadFrame(e.to_string()))?,
        None => topic.clone(),
    };
    let mut published = topic.subscribe();
    let mut events = Vec::new();
    let mut out = BytesMut::new();
    loop {
        if shutdown.is_set() {
            return Err(End::Closed);
        }
        // Frames already buffered (e.g. read together with the SUB frame) come first.
        while let Some(frame) = read_frame_now(&mut inbuf)? {
            match parse_command(&frame) {
                Ok(Command::Pub { payload }) if payload.len() <= MAX_PAYLOAD_BYTES => {
                    publish_topic.publish(rtbench_proto::mono_now_ns(), payload);
                }
                _ => return Err(End::BadFrame("expected 'PUB <payload>'".into())),
            }
        }
        let (delivered, caught_up) = fill_frames(&topic, &mut cursor, &mut events, &mut out);
        if !out.is_empty() {
            io.write_all(&out).await?;
            meter.delivered(delivered);
            if out.capacity() > KEEP_OUT_BYTES {
                out = BytesMut::new();
                events = Vec::new();
            }
        }
        if !caught_up {
            continue;
        }
        tokio::select! {
            changed = published.changed() => changed.map_err(|_| End::Closed)?,
            read = io.read_buf(&mut inbuf) => {
                if read? == 0 {
                    return Ok(());
                }
            }
            () = shutdown.wait() => return Err(End::Closed),
            // Fault injection: drop the connection without a goodbye.
            () = meter.killed() => return Err(End::Closed),
        }
    }
}

/// Encodes into `out` (emptied first) the frames of the events after `cursor` — a gap notice
/// first if some left the ring — and advances `cursor`; returns the number of events and whether
/// they were all the events after the cursor. Normally they are; a client far behind gets them in
/// writes of about [`MAX_WRITE_BYTES`], so one connection's buffer stays bounded.
fn fill_frames(
    topic: &Topic,
    cursor: &mut u64,
    events: &mut Vec<Event>,
    out: &mut BytesMut,
) -> (usize, bool) {
    out.clear();
    let mut delivered = 0;
    loop {
        events.clear();
        let dropped = topic.read_after_into(*cursor, MAX_EVENTS_PER_RESPONSE, events);
        framing::tcp(out, dropped, events);
        let Some(last) = events.last() else {
            return (delivered, true);
        };
        *cursor = last.seq;
        delivered += events.len();
        if events.len() < MAX_EVENTS_PER_RESPONSE {
            return (delivered, true);
        }
        if out.len() >= MAX_WRITE_BYTES {
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

    #[test]
    fn fill_frames_takes_everything_in_bounded_writes() {
        let hub = Hub::new(10_000, 1);
        let topic = hub.topic("t").unwrap();
        let (mut cursor, mut events, mut out) = (0, Vec::new(), BytesMut::new());
        for i in 0..3 {
            topic.publish(i, "small");
        }
        assert_eq!(
            fill_frames(&topic, &mut cursor, &mut events, &mut out),
            (3, true)
        );
        assert_eq!(frame_seqs(&out), [1, 2, 3]);
        assert_eq!(
            fill_frames(&topic, &mut cursor, &mut events, &mut out),
            (0, true)
        );
        assert!(out.is_empty());

        let payload = "x".repeat(1000);
        for i in 0..3000 {
            topic.publish(i, &payload);
        }
        let mut seqs = Vec::new();
        let mut writes = 0;
        loop {
            let (n, caught_up) = fill_frames(&topic, &mut cursor, &mut events, &mut out);
            writes += 1;
            assert!(out.len() < MAX_WRITE_BYTES + MAX_EVENTS_PER_RESPONSE * 1100);
            let got = frame_seqs(&out);
            assert_eq!(got.len(), n);
            seqs.extend(got);
            if caught_up {
                break;
            }
        }
        assert_eq!(seqs, (4..=3003).collect::<Vec<u64>>());
        assert!(writes > 1);
    }
}
