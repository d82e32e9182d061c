//! `GET /sse?topic` (cursor from `Last-Event-ID`, else `?after`, else 0): Server-Sent Events.
//!
//! The body is a stream built here rather than axum's `Sse` helper, so the bytes are exactly
//! [`rtbench_proto::sse`]'s: the retry preamble, then one chunk per event block, gap blocks when
//! the client fell behind the ring, and a keep-alive comment after `sse_keep_alive` of silence.
//! The stream ends when the server shuts down.
//!
//! Both paths hold at most `--batch-bytes` of events per connection: the feed reads that much
//! from the ring at a time (shared with the ring, not copied), and the lean path writes once it
//! has [`STREAM_WRITE_BYTES`] ready (a client far behind gets its backlog in several writes, never
//! as one copy of it).

use crate::error::ApiError;
use crate::framing;
use crate::hub::{Event, STREAM_WRITE_BYTES, Topic, release_if_large};
use crate::lean::head::Head;
use crate::lean::{Conn, Served, wire};
use crate::meter::ConnHandle;
use crate::params::{Params, RawQuery, parse_seq};
use crate::state::{Shutdown, State};
use axum::Extension;
use axum::body::Body;
use axum::extract::State as AppState;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use rtbench_proto::Transport;
use rtbench_proto::limits::MAX_EVENTS_PER_RESPONSE;
use rtbench_proto::{paths, sse};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// This transport's HTTP route: `GET` of its path in the transport spec.
pub(crate) fn routes() -> axum::Router<Arc<State>> {
    axum::Router::new().route(Transport::Sse.path(), axum::routing::get(handler))
}

/// `GET /sse` through hyper.
pub(crate) async fn handler(
    AppState(state): AppState<Arc<State>>,
    conn: Option<Extension<ConnHandle>>,
    headers: HeaderMap,
    query: RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::from_query(query)?;
    let last_event_id = headers.get(paths::LAST_EVENT_ID);
    let feed = Feed::open(&state, &params, last_event_id, conn.map(|Extension(c)| c))?;
    let stream = futures_util::stream::unfold(feed, |mut feed| async move {
        let chunk = feed.next_chunk().await?;
        Some((Ok::<_, Infallible>(chunk), feed))
    });
    let headers = [
        (CONTENT_TYPE, HeaderValue::from_static(wire::EVENT_STREAM)),
        (CACHE_CONTROL, HeaderValue::from_static(wire::NO_CACHE)),
    ];
    Ok((headers, Body::from_stream(stream)).into_response())
}

/// `GET /sse` on the lean path: the head, then each chunk as it is ready (those ready together in
/// one write), until shutdown ends the stream or the client leaves.
pub(crate) async fn serve_lean(conn: &mut Conn, head: &Head) -> Served {
    let feed = Params::from_target(&head.target).and_then(|params| {
        Feed::open(
            conn.state(),
            &params,
            head.last_event_id.as_ref(),
            Some(conn.handle()),
        )
    });
    let Ok(mut feed) = feed else {
        return Served::Declined;
    };
    conn.count_request(head);
    let batch_bytes = conn
        .state()
        .config
        .limits
        .batch_bytes
        .min(STREAM_WRITE_BYTES);
    let mut out = Vec::new();
    wire::event_stream_head(&mut out);
    loop {
        // Chunks ready together go out in one write, up to `batch_bytes` of them; the rest follow
        // in the next writes as the socket drains.
        while out.len() < batch_bytes
            && let Some(chunk) = feed.ready_chunk()
        {
            framing::chunk(&mut out, &chunk);
        }
        let more_ready = out.len() >= batch_bytes;
        // Taken, so a waiting stream holds no buffer.
        let bytes = std::mem::take(&mut out);
        if !bytes.is_empty() && conn.write(&bytes).await.is_err() {
            return Served::Close;
        }
        drop(bytes);
        if more_ready {
            continue;
        }
        let wait = tokio::select! {
            wait = feed.wait() => wait,
            () = conn.closed(false) => return Served::Close,
        };
        match wait {
            Wait::Published => {}
            Wait::KeepAlive => framing::chunk(&mut out, sse::KEEP_ALIVE),
            Wait::End => {
                let _ = conn.write(wire::LAST_CHUNK).await;
                return Served::Close;
            }
        }
    }
}

/// The state of one SSE stream: a cursor into its topic and the batch being sent.
struct Feed {
    topic: Arc<Topic>,
    /// Wakes on every publish to `topic`; subscribed before the first read.
    published: watch::Receiver<u64>,
    /// Sequence number of the last event sent.
    cursor: u64,
    /// Events read from the ring, sent from index `next` on.
    batch: Vec<Event>,
    next: usize,
    /// A gap notice to send before the batch.
    gap: Option<u64>,
    /// Whether the retry preamble went out.
    started: bool,
    keep_alive: Duration,
    shutdown: Shutdown,
    conn: Option<ConnHandle>,
    /// Bytes of bodies one refill takes from the ring.
    batch_bytes: usize,
}

/// What ended a [`Feed::wait`].
enum Wait {
    /// Something was published to the topic.
    Published,
    /// `keep_alive` passed in silence: send a keep-alive comment.
    KeepAlive,
    /// The server is stopping: end the stream.
    End,
}

impl Feed {
    /// The stream `params` ask for, from the `Last-Event-ID` header if sent, else `?after`, else 0.
    fn open(
        state: &State,
        params: &Params,
        last_event_id: Option<&HeaderValue>,
        conn: Option<ConnHandle>,
    ) -> Result<Feed, ApiError> {
        let name = params.topic()?;
        let cursor = match last_event_id {
            Some(value) => {
                let value = value
                    .to_str()
                    .map_err(|_| ApiError::bad_request("bad Last-Event-ID"))?;
                parse_seq("Last-Event-ID", value.trim())?
            }
            None => params.after()?,
        };
        let topic = state.hub.topic(name)?;
        Ok(Feed {
            published: topic.subscribe(),
            topic,
            cursor,
            batch: Vec::new(),
            next: 0,
            gap: None,
            started: false,
            keep_alive: state.config.sse_keep_alive(),
            shutdown: state.shutdown(),
            conn,
            batch_bytes: state.config.limits.batch_bytes,
        })
    }

    /// The next chunk of the body, or `None` to end the stream.
    async fn next_chunk(&mut self) -> Option<Bytes> {
        loop {
            if let Some(chunk) = self.ready_chunk() {
                return Some(chunk);
            }
            match self.wait().await {
                Wait::Published => {}
                Wait::KeepAlive => return Some(Bytes::from_static(sse::KEEP_ALIVE)),
                Wait::End => return None,
            }
        }
    }

    /// The next chunk that is ready without waiting: the retry preamble first, then gap notices
    /// and events after the cursor. `None` once there is nothing to send (or the server stops).
    fn ready_chunk(&mut self) -> Option<Bytes> {
        if !self.started {
            self.started = true;
            return Some(Bytes::from_static(sse::RETRY_PREAMBLE));
        }
        loop {
            if let Some(dropped) = self.gap.take() {
                return Some(sse::encode_gap(dropped).into());
            }
            if let Some(event) = self.batch.get(self.next) {
                self.next += 1;
                self.cursor = event.seq;
                if let Some(conn) = &self.conn {
                    conn.0.delivered(1);
                }
                return Some(sse::encode_event(event.seq, &event.body).into());
            }
            if self.shutdown.is_set() {
                return None;
            }
            self.refill();
            if self.gap.is_none() && self.batch.is_empty() {
                release_if_large(&mut self.batch);
                return None;
            }
        }
    }

    /// Waits for a publish, the keep-alive interval or shutdown.
    async fn wait(&mut self) -> Wait {
        tokio::select! {
            changed = self.published.changed() => match changed {
                Ok(()) => Wait::Published,
                Err(_) => Wait::End,
            },
            () = tokio::time::sleep(self.keep_alive) => Wait::KeepAlive,
            () = self.shutdown.wait() => Wait::End,
        }
    }

    /// Reads the events after the cursor into an emptied batch.
    fn refill(&mut self) {
        self.batch.clear();
        self.next = 0;
        let dropped = self.topic.read_bounded_into(
            self.cursor,
            MAX_EVENTS_PER_RESPONSE,
            self.batch_bytes,
            &mut self.batch,
        );
        if dropped > 0 {
            self.gap = Some(dropped);
        }
    }
}
