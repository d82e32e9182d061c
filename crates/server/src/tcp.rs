//! The raw-TCP floor on the second listener: length-prefixed frames ([`rtbench_proto::frame`]).
//!
//! The client's first frame must be `SUB <topic> <after>`, within [`SUB_TIMEOUT`]. After that, each
//! wake-up reads every event after the cursor and writes them all as frames in one buffer with one
//! `write_all`; `PUB <payload>` frames from the client publish to the subscribed topic. A malformed,
//! over-size or out-of-place frame closes the connection, as does shutdown.

use crate::http::ACCEPT_BACKOFF;
use crate::meter::{ConnMeter, Metered};
use crate::server::{Shutdown, State};
use bytes::BytesMut;
use rtbench_proto::Transport;
use rtbench_proto::frame::{Command, decode_frame, encode_frame, parse_command};
use rtbench_proto::limits::{MAX_PAYLOAD_BYTES, valid_topic};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// How long a new connection has to send its `SUB` frame.
pub(crate) const SUB_TIMEOUT: Duration = Duration::from_secs(10);
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
        let meter = Arc::new(ConnMeter::new(state.meters.clone(), alive.clone()));
        meter.tag(Transport::Tcp.index());
        let state = state.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let io = Metered::new(stream, meter.clone());
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
    let (name, mut cursor) = match parse_command(&first) {
        Ok(Command::Sub { topic, after }) if valid_topic(topic) => (topic, after),
        _ => {
            return Err(End::BadFrame(
                "first frame must be 'SUB <topic> <after>'".into(),
            ));
        }
    };
    let topic = state
        .hub
        .topic(name)
        .map_err(|e| End::BadFrame(e.to_string()))?;
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
                    topic.publish(rtbench_proto::mono_now_ns(), payload);
                }
                _ => return Err(End::BadFrame("expected 'PUB <payload>'".into())),
            }
        }
        events.clear();
        let dropped = topic.read_after_into(cursor, usize::MAX, &mut events);
        if dropped > 0 || !events.is_empty() {
            out.clear();
            if dropped > 0 {
                encode_frame(&rtbench_proto::event::encode_gap(dropped), &mut out);
            }
            for event in &events {
                encode_frame(&event.body, &mut out);
            }
            io.write_all(&out).await?;
            cursor = events.last().map_or(cursor, |e| e.seq);
            meter.delivered(events.len());
            if out.capacity() > KEEP_OUT_BYTES {
                out = BytesMut::new();
                events = Vec::new();
            }
        }
        tokio::select! {
            changed = published.changed() => changed.map_err(|_| End::Closed)?,
            read = io.read_buf(&mut inbuf) => {
                if read? == 0 {
                    return Ok(());
                }
            }
            () = shutdown.wait() => return Err(End::Closed),
        }
    }
}

/// A frame already complete in `buf`, if any.
fn read_frame_now(buf: &mut BytesMut) -> Result<Option<BytesMut>, End> {
    decode_frame(buf).map_err(|e| End::BadFrame(e.to_string()))
}
