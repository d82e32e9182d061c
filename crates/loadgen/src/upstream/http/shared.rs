//! An HTTP/2 sender: its publishes are streams of the client's subscription connection, as a
//! browser's `fetch` shares the HTTP/2 connection of the page's `EventSource` or poll, so the client
//! holds exactly one connection to the server.
//!
//! The subscription's connection comes and goes (the client reconnects after a drop or a reset);
//! the client hands each new one over a `watch` channel and clears it when it is lost. So:
//!
//! - a message due while a connection is up goes out at once, on it, however many are in flight;
//! - a message due between two connections waits for the next one (its wait counts in its
//!   latency: it is stamped with its scheduled time), as a page that holds its sends until it is
//!   back online;
//! - a request the connection's loss cuts short fails, as the browser's `fetch` would: it is not
//!   sent again (the server may have published it already, and a second copy would be a
//!   duplicate the run did not schedule). It is counted like any failed publish — in the sender's
//!   tally (the row's `client_errors`) and, when the server never published it, in the row's
//!   `sends_lost` — never lost silently;
//! - messages still waiting when the client ends for good fail the same way.

use super::{HttpSender, SendTally, post_on};
use crate::error::ClientError;
use crate::http::{ReqBody, Requests};
use crate::upstream::stamp;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::watch;

/// The subscription's connection as the client last handed it over (`None`: between two).
pub(crate) type SharedConn = watch::Receiver<Option<Requests<ReqBody>>>;

/// A publish in flight on the shared connection.
type InFlight = Pin<Box<dyn Future<Output = Result<(), ClientError>> + Send>>;

/// Why a waiting message failed: the client ended, and its connection with it.
const CLIENT_GONE: &str = "the client ended before its connection came back";

/// Why a publish failed on a connection that cannot be shared (never: only HTTP/2 ones are).
const NOT_HTTP2: &str = "the subscription's connection is not HTTP/2";

/// Publishes each message of `dues` on the client's connection `conn` as it falls due; returns
/// once `dues` is closed and nothing waits or is in flight, or when `stop` turns true.
pub(super) async fn run(
    sender: &HttpSender,
    path: &str,
    mut conn: SharedConn,
    mut dues: UnboundedReceiver<u64>,
    mut stop: watch::Receiver<bool>,
) -> SendTally {
    let mut tally = SendTally::default();
    let mut waiting: VecDeque<String> = VecDeque::new();
    let mut in_flight: FuturesUnordered<InFlight> = FuturesUnordered::new();
    let (mut dues_closed, mut client_gone) = (false, false);
    // A stream of its own for each publish: HTTP/2 runs them side by side.
    let post = |requests: &Requests<ReqBody>, payload: String| -> InFlight {
        let (path, stream) = (path.to_string(), requests.share());
        Box::pin(async move {
            match stream {
                Some(mut stream) => post_on(&mut stream, &path, payload).await,
                None => Err(ClientError::Ended(NOT_HTTP2)),
            }
        })
    };
    while !(dues_closed && waiting.is_empty() && in_flight.is_empty()) {
        tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => break,
            Some(result) = in_flight.next(), if !in_flight.is_empty() => {
                answered(sender, &mut tally, result);
            }
            changed = conn.changed(), if !waiting.is_empty() && !client_gone => {
                if changed.is_err() {
                    client_gone = true;
                    for _ in waiting.drain(..) {
                        answered(sender, &mut tally, Err(ClientError::Ended(CLIENT_GONE)));
                    }
                } else if let Some(requests) = current(&mut conn) {
                    in_flight.extend(waiting.drain(..).map(|p| post(&requests, p)));
                }
            }
            due = dues.recv(), if !dues_closed => match due {
                Some(t_sched_ns) => {
                    let payload = stamp::encode(t_sched_ns, sender.client, sender.payload_bytes);
                    match current(&mut conn) {
                        Some(requests) => in_flight.push(post(&requests, payload)),
                        None if client_gone => {
                            answered(sender, &mut tally, Err(ClientError::Ended(CLIENT_GONE)));
                        }
                        None => waiting.push_back(payload),
                    }
                }
                None => dues_closed = true,
            },
        }
    }
    tally
}

/// The client's connection now, marked seen (`None`: between two connections).
fn current(conn: &mut SharedConn) -> Option<Requests<ReqBody>> {
    conn.borrow_and_update().as_ref().and_then(Requests::share)
}

/// Counts one answered message (published or failed).
fn answered(sender: &HttpSender, tally: &mut SendTally, result: Result<(), ClientError>) {
    sender.sent.fetch_add(1, Ordering::Relaxed);
    if let Err(e) = result {
        tally.failed += 1;
        tally.first_error.get_or_insert_with(|| e.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::Target;
    use rtbench_proto::Transport;
    use std::sync::Arc;
    use std::sync::atomic::AtomicU64;
    use std::time::Duration;
    use tokio::sync::mpsc;

    fn sender(shared: SharedConn) -> HttpSender {
        let nowhere = "127.0.0.1:9".parse().unwrap();
        HttpSender {
            target: Target::plain(nowhere, nowhere).with_http2(true),
            transport: Transport::Sse,
            topic: "t".into(),
            client: 0,
            payload_bytes: 64,
            sent: Arc::new(AtomicU64::new(0)),
            shared: Some(shared),
        }
    }

    /// Messages due between two connections wait; when the client ends instead of reconnecting,
    /// every one of them is answered as failed (counted, never dropped silently), and so is a
    /// message falling due afterwards.
    #[tokio::test]
    async fn waiting_messages_fail_and_are_counted_when_the_client_ends() {
        let (share, conn) = watch::channel(None);
        let s = sender(conn.clone());
        let (dues_tx, dues) = mpsc::unbounded_channel();
        let (_stop_tx, stop) = watch::channel(false);
        let path = super::super::publish_path(&s);
        let run = tokio::spawn({
            let s = s.clone();
            async move { run(&s, &path, conn, dues, stop).await }
        });
        dues_tx.send(1).unwrap();
        dues_tx.send(2).unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            s.sent.load(Ordering::Relaxed),
            0,
            "they wait for a connection"
        );
        drop(share);
        dues_tx.send(3).unwrap();
        drop(dues_tx);
        let tally = tokio::time::timeout(Duration::from_secs(10), run)
            .await
            .expect("the sender ends once its dues are answered")
            .unwrap();
        assert_eq!(tally.failed, 3);
        assert_eq!(s.sent.load(Ordering::Relaxed), 3);
        assert_eq!(tally.first_error.as_deref(), Some(CLIENT_GONE));
    }
}
