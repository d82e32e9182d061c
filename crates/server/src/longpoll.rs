//! `GET /longpoll?topic&after&timeout_ms`: long polling. The request is held until an event after
//! the cursor exists, the timeout passes (answered with no events) or the server shuts down. An
//! answer carries at most [`MAX_EVENTS_PER_RESPONSE`] events and `--batch-bytes` of bodies (at
//! least one event). `timeout_ms=0` on an unknown topic answers at once and creates nothing.

use crate::error::ApiError;
use crate::hub::{Event, Topic};
use crate::lean::head::Head;
use crate::lean::{Conn, Served};
use crate::meter::ConnHandle;
use crate::params::{Params, RawQuery};
use crate::poll::{poll_response, write_lean};
use crate::state::{Shutdown, State};
use axum::Extension;
use axum::extract::State as AppState;
use axum::response::Response;
use rtbench_proto::Transport;
use rtbench_proto::limits::MAX_EVENTS_PER_RESPONSE;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};

/// This transport's HTTP route: `GET` of its path in the transport spec.
pub(crate) fn routes() -> axum::Router<Arc<State>> {
    axum::Router::new().route(Transport::LongPoll.path(), axum::routing::get(handler))
}

/// `GET /longpoll` through hyper.
pub(crate) async fn handler(
    AppState(state): AppState<Arc<State>>,
    conn: Option<Extension<ConnHandle>>,
    query: RawQuery,
) -> Result<Response, ApiError> {
    let hold = Hold::open(&state, Params::from_query(query)?)?;
    let (dropped, events) = match hold {
        Some(hold) => hold.answer().await,
        None => (0, Vec::new()),
    };
    Ok(poll_response(conn.as_deref(), dropped, &events))
}

/// `GET /longpoll` on the lean path. A client that leaves while held ends the hold at once.
pub(crate) async fn serve_lean(conn: &mut Conn, head: &Head) -> Served {
    let Ok(hold) = Params::from_target(&head.target).and_then(|p| Hold::open(conn.state(), p))
    else {
        return Served::Declined;
    };
    conn.count_request(head);
    let Some(hold) = hold else {
        return write_lean(conn, 0, &[]).await;
    };
    let (dropped, events) = tokio::select! {
        answer = hold.answer() => answer,
        () = conn.closed(true) => return Served::Close,
    };
    write_lean(conn, dropped, &events).await
}

/// One held request: its topic, cursor and deadline.
struct Hold {
    topic: Arc<Topic>,
    after: u64,
    deadline: Instant,
    /// Subscribed before the first read: a publish between the read and the wait still wakes us.
    published: watch::Receiver<u64>,
    shutdown: Shutdown,
    /// Bytes of bodies one answer may carry.
    batch_bytes: usize,
}

impl Hold {
    /// Starts holding the request `params` describe (its timeout counts from now); `None` for a
    /// request that cannot wait (`timeout_ms=0`) on a topic that does not exist: it has no events
    /// and is answered at once, creating nothing.
    fn open(state: &State, params: Params) -> Result<Option<Hold>, ApiError> {
        let name = params.topic()?;
        let after = params.after()?;
        let timeout_ms = params.timeout_ms()?;
        let deadline = Instant::now() + Duration::from_millis(timeout_ms);
        let topic = match state.hub.get(name) {
            Some(topic) => {
                topic.touch();
                topic
            }
            None if timeout_ms == 0 => return Ok(None),
            None => state.hub.topic(name)?,
        };
        Ok(Some(Hold {
            published: topic.subscribe(),
            topic,
            after,
            deadline,
            shutdown: state.shutdown(),
            batch_bytes: state.config.limits.batch_bytes,
        }))
    }

    /// The events after the cursor and how many of them left the ring, once there are any; no
    /// events at the deadline or on shutdown.
    async fn answer(mut self) -> (u64, Vec<Event>) {
        let mut events = Vec::new();
        loop {
            let dropped = self.topic.read_bounded_into(
                self.after,
                MAX_EVENTS_PER_RESPONSE,
                self.batch_bytes,
                &mut events,
            );
            if dropped > 0 || !events.is_empty() {
                return (dropped, events);
            }
            tokio::select! {
                changed = self.published.changed() => if changed.is_err() { break },
                () = sleep_until(self.deadline) => break,
                () = self.shutdown.wait() => break,
            }
        }
        (0, Vec::new())
    }
}
