//! The upstream of an HTTP client (SSE, long poll, short poll): `POST /publish` on connections of
//! its own, apart from the one it receives on (that one is busy holding a stream or a poll).
//!
//! HTTP/1.1 cannot pipeline, so one connection would serialise sends behind replies. A sender
//! therefore keeps up to [`MAX_CONNECTIONS`] keep-alive connections, like a browser's per-host
//! limit: a due message goes out at once on an idle connection, or on a new one while fewer are
//! open; only when all are busy does it wait, and its wait counts in its latency (it is stamped
//! with its scheduled time). Each request names `transport=<the client's>`, so the server counts
//! these connections — handshakes, headers, bodies, requests — in that transport's row.
//!
//! On HTTP/2 (the `h2` stacks) a sender opens no connection: like a browser's `fetch` beside its
//! `EventSource`, each publish is a stream of the client's subscription connection
//! ([`shared`]), all at once (HTTP/2 multiplexes; the server's stream limit queues the excess).

use super::stamp;
use crate::control::Target;
use crate::error::ClientError;
use crate::http::{ReqBody, Requests};
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use http_body_util::{BodyExt, Either, Full};
use rtbench_proto::{Transport, paths};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio::sync::watch;

pub(crate) mod shared;

/// Most publish connections one client keeps open (browsers allow 6 per host).
pub const MAX_CONNECTIONS: usize = 6;

/// What one HTTP sender publishes and where.
#[derive(Debug, Clone)]
pub(crate) struct HttpSender {
    /// The server (its HTTP address, and TLS when it speaks TLS).
    pub(crate) target: Target,
    /// The client's transport, named in every request.
    pub(crate) transport: Transport,
    /// Topic the messages go to.
    pub(crate) topic: String,
    /// The sending client's id, for the stamp.
    pub(crate) client: u32,
    /// Payload bytes per message.
    pub(crate) payload_bytes: usize,
    /// Messages of the phase answered so far (published or failed).
    pub(crate) sent: Arc<AtomicU64>,
    /// HTTP/2: the client's subscription connection as it comes and goes (`None` between two
    /// connections); the publishes go on it. `None` on HTTP/1.1: connections of the sender's own.
    pub(crate) shared: Option<watch::Receiver<Option<Requests<ReqBody>>>>,
}

/// How a sender's run went.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct SendTally {
    /// Messages whose request failed (their events are missing on the server).
    pub(crate) failed: u64,
    /// The first failure, if any.
    pub(crate) first_error: Option<String>,
}

/// One keep-alive publish connection, on the stack's HTTP version.
struct PostConn {
    requests: Requests<ReqBody>,
}

impl PostConn {
    async fn connect(target: Target) -> Result<PostConn, ClientError> {
        // The driver task runs until the connection closes, which dropping `requests` does.
        let (requests, _reset, _driver) = crate::http::open(&target).await?;
        Ok(PostConn { requests })
    }

    async fn post(&mut self, path: &str, payload: String) -> Result<(), ClientError> {
        post_on(&mut self.requests, path, payload).await
    }
}

/// `POST path` with `payload` on `requests`; `Ok` once the whole 2xx answer is read.
async fn post_on(
    requests: &mut Requests<ReqBody>,
    path: &str,
    payload: String,
) -> Result<(), ClientError> {
    let req = requests
        .builder(hyper::Method::POST, path)
        .body(Either::Right(Full::new(Bytes::from(payload))))
        .map_err(ClientError::BadRequest)?;
    let resp = requests.send(req).await?;
    let status = resp.status();
    resp.into_body()
        .collect()
        .await
        .map_err(|source| ClientError::Body {
            what: "reading the publish answer",
            source,
        })?;
    if !status.is_success() {
        return Err(ClientError::Status {
            method: "POST",
            path: path.to_string(),
            status,
        });
    }
    Ok(())
}

/// `POST /publish?topic=…&transport=…` for `sender`.
fn publish_path(sender: &HttpSender) -> String {
    let mut path = crate::target::spec::current()
        .publish
        .render(&sender.topic, "", "");
    let join = if path.contains('?') { '&' } else { '?' };
    path.push(join);
    path.push_str(paths::TRANSPORT_PARAM);
    path.push('=');
    path.push_str(sender.transport.as_str());
    path
}

/// A request in flight: it gives back its connection (`None` if the connection failed).
type InFlight = Pin<Box<dyn Future<Output = (Option<PostConn>, Result<(), ClientError>)> + Send>>;

/// Runs one sender: connects its first connection (then reports on `ready`; on HTTP/2 it reports
/// at once and publishes on the subscription's connection, [`shared::run`]), publishes each
/// message when its scheduled time arrives on `dues`, and returns once `dues` is closed and
/// nothing is in flight, or when `stop` turns true.
pub(crate) async fn run(
    sender: HttpSender,
    mut dues: UnboundedReceiver<u64>,
    ready: mpsc::Sender<Result<(), ClientError>>,
    mut stop: watch::Receiver<bool>,
) -> SendTally {
    let path = publish_path(&sender);
    if let Some(conn) = sender.shared.clone() {
        drop(ready.send(Ok(())).await);
        return shared::run(&sender, &path, conn, dues, stop).await;
    }
    let mut tally = SendTally::default();
    let mut idle = match PostConn::connect(sender.target).await {
        Ok(conn) => {
            let _ = ready.send(Ok(())).await;
            vec![conn]
        }
        Err(e) => {
            tally.first_error = Some(e.to_string());
            let _ = ready
                .send(Err(ClientError::PublishConnection(Box::new(e))))
                .await;
            return tally;
        }
    };
    drop(ready);
    let post = |conn: Option<PostConn>, payload: String| -> InFlight {
        let (target, path) = (sender.target, path.clone());
        Box::pin(async move {
            let mut conn = match conn {
                Some(conn) => conn,
                None => match PostConn::connect(target).await {
                    Ok(conn) => conn,
                    Err(e) => return (None, Err(e)),
                },
            };
            match conn.post(&path, payload).await {
                Ok(()) => (Some(conn), Ok(())),
                Err(e) => (None, Err(e)),
            }
        })
    };
    let mut open = idle.len();
    let mut queued: VecDeque<String> = VecDeque::new();
    let mut in_flight: FuturesUnordered<InFlight> = FuturesUnordered::new();
    let mut dues_closed = false;
    while !(dues_closed && queued.is_empty() && in_flight.is_empty()) {
        tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => break,
            Some((conn, result)) = in_flight.next(), if !in_flight.is_empty() => {
                sender.sent.fetch_add(1, Ordering::Relaxed);
                if let Err(e) = result {
                    tally.failed += 1;
                    tally.first_error.get_or_insert_with(|| e.to_string());
                }
                if conn.is_none() {
                    open -= 1;
                }
                match (conn, queued.pop_front()) {
                    (Some(conn), Some(payload)) => in_flight.push(post(Some(conn), payload)),
                    (Some(conn), None) => idle.push(conn),
                    (None, Some(payload)) => {
                        open += 1;
                        in_flight.push(post(None, payload));
                    }
                    (None, None) => {}
                }
            }
            due = dues.recv(), if !dues_closed => match due {
                Some(t_sched_ns) => {
                    let payload = stamp::encode(t_sched_ns, sender.client, sender.payload_bytes);
                    if let Some(conn) = idle.pop() {
                        in_flight.push(post(Some(conn), payload));
                    } else if open < MAX_CONNECTIONS {
                        open += 1;
                        in_flight.push(post(None, payload));
                    } else {
                        queued.push_back(payload);
                    }
                }
                None => dues_closed = true,
            },
        }
    }
    tally
}
