//! Socket.IO client over Engine.IO's HTTP long-polling transport (`/socket.io-polling/`), the
//! fallback a Socket.IO client uses where WebSocket is blocked, on one HTTP/1.1 connection of its
//! own: `GET ?EIO=4&transport=polling` opens a session, `POST …&sid=` sends CONNECT with
//! `{"topic","after"}` auth, then each `GET …&sid=` waits for the packets the server queued
//! (several per answer, separated by `\x1e`, [`super::socketio_codec`]); a ping is answered with a
//! `POST` of `3` before the next `GET`. Requests never overlap, so one connection carries them all.
//! After a lost connection or a closed session it opens a new session with `after` = the last event
//! it holds. Publishes go over `POST /publish`; with `--socketio-ack` they are acknowledged emits
//! (`42<id>["publish",…]`, [`super::socketio_ack`]) `POST`ed to the session on a second connection,
//! as a browser's Socket.IO client sends while its `GET` is held: queued emits go together in one
//! `POST`, joined by `\x1e`, and their acks come back in the `GET` answers. Then the `GET`s run in
//! a task of their own (a due emit must not cancel a `GET` in flight and lose its answer) and the
//! pongs go with the emits.
//!
//! Its own small connection rather than [`crate::http::Conn`], whose requests are bodiless `GET`s or publishes.

use super::socketio_ack::PendingAcks;
use super::socketio_codec::{self as codec, EngineTransport, Packet};
use super::subscription::{Carry, ClientCtx, RecvError, Subscription, protocol, record_message};
use crate::error::ClientError;
use crate::http::ResetOnDrop;
use crate::recorder::Recorder;
use crate::stack;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use rtbench_proto::Transport;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Most emits one `POST` carries.
const MAX_EMITS_PER_POST: usize = 64;

pub(super) struct Session {
    /// The connection of the `GET`s (and of the pongs, without emits); `None` once a [`Poller`]
    /// owns it.
    conn: Option<PollConn>,
    /// Set to make the `GET`s' connection close with a reset.
    reset: Arc<AtomicBool>,
    /// With emits: the task running the `GET`s.
    poller: Option<Poller>,
    /// Path and query of this session's requests.
    url: String,
    /// Packets of the last answer not handled yet.
    pending: VecDeque<String>,
    /// This session's emits waiting for their ack, and the connection that posts them (`None`:
    /// the client does not emit).
    emits: Option<(PendingAcks, Emitter)>,
}

impl Subscription for Session {
    const TRANSPORT: Transport = Transport::SocketIoPolling;
    const SENDS_ACKED: bool = true;

    async fn connect(ctx: &ClientCtx, _carry: &Carry, after: u64) -> Result<Session, ClientError> {
        let path = Self::TRANSPORT.path();
        let mut conn = PollConn::connect(ctx).await?;
        let open_url = format!("{path}?{}", codec::query(EngineTransport::Polling, None));
        let open = conn.request(Method::GET, &open_url, Bytes::new()).await?;
        let sid = match codec::parse(&open).map_err(|e| ClientError::Protocol(e.to_string()))? {
            Packet::Open { sid } => sid,
            _ => {
                return Err(ClientError::Protocol(format!(
                    "no Engine.IO open packet: {open}"
                )));
            }
        };
        let url = format!(
            "{path}?{}",
            codec::query(EngineTransport::Polling, Some(&sid))
        );
        let connect = codec::connect_for(ctx, after);
        conn.request(Method::POST, &url, Bytes::from(connect))
            .await?;
        let emits = match &ctx.acks {
            Some(sink) => Some((
                PendingAcks::new(sink.clone(), ctx.client_id),
                Emitter::start(PollConn::connect(ctx).await?, url.clone()),
            )),
            None => None,
        };
        let mut session = Session {
            reset: conn.reset.clone(),
            conn: Some(conn),
            poller: None,
            url,
            pending: VecDeque::new(),
            emits,
        };
        loop {
            let Some(packet) = session.next_packet().await? else {
                continue;
            };
            match codec::parse(&packet).map_err(|e| ClientError::Protocol(e.to_string()))? {
                Packet::Connected => {
                    if session.emits.is_some()
                        && let Some(conn) = session.conn.take()
                    {
                        session.poller = Some(Poller::start(conn, session.url.clone()));
                    }
                    return Ok(session);
                }
                Packet::Ping => session.pong().await?,
                Packet::Refused(why) => {
                    return Err(ClientError::Protocol(format!(
                        "Socket.IO CONNECT refused: {why}"
                    )));
                }
                Packet::Closed => return Err(ClientError::Ended("Socket.IO session closed")),
                _ => {}
            }
        }
    }

    async fn recv(
        &mut self,
        _ctx: &ClientCtx,
        rec: &mut Recorder,
        _carry: &mut Carry,
    ) -> Result<(), RecvError> {
        let Some(text) = self.next_packet().await? else {
            return Ok(());
        };
        match codec::parse(&text).map_err(protocol)? {
            Packet::Event(body) => record_message(body, rec),
            Packet::Ack(id) => {
                if let Some((acks, _)) = &mut self.emits {
                    acks.acked(id);
                }
                Ok(())
            }
            Packet::Ping => Ok(self.pong().await?),
            Packet::Closed => Err(ClientError::Ended("Socket.IO session closed").into()),
            Packet::Refused(why) => Err(protocol(format!("Socket.IO CONNECT refused: {why}"))),
            Packet::Open { .. } | Packet::Connected | Packet::Other => Ok(()),
        }
    }

    /// Queues `payload`'s acknowledged emit for the session's emitter (`--socketio-ack` only);
    /// fails once the emitter's connection is lost.
    async fn send(&mut self, payload: &str) -> Result<(), ClientError> {
        let Some((acks, emitter)) = &mut self.emits else {
            return Err(ClientError::NoInlineSend);
        };
        let emit = codec::emit_publish(acks.emit(payload), payload);
        emitter
            .queue
            .send(emit)
            .map_err(|_| ClientError::Ended("Socket.IO emit connection lost"))
    }

    fn reset(self) {
        self.reset.store(true, Ordering::SeqCst);
    }
}

/// A session's `GET`s in a task of their own: each answer waits in a one-place queue while the
/// next `GET` is held, as a browser polls again at once.
struct Poller {
    answers: mpsc::Receiver<Result<String, ClientError>>,
    task: JoinHandle<()>,
}

impl Poller {
    /// Starts polling `url` on `conn` until the connection fails or the poller is dropped.
    fn start(mut conn: PollConn, url: String) -> Poller {
        let (tx, answers) = mpsc::channel(1);
        let task = tokio::spawn(async move {
            loop {
                let answer = conn.request(Method::GET, &url, Bytes::new()).await;
                let failed = answer.is_err();
                if tx.send(answer).await.is_err() || failed {
                    return;
                }
            }
        });
        Poller { answers, task }
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A session's emits, `POST`ed in order on a connection of their own by one task.
struct Emitter {
    queue: mpsc::UnboundedSender<String>,
    task: JoinHandle<()>,
}

impl Emitter {
    /// Starts the task posting to `url` on `conn`; it ends when its connection fails.
    fn start(mut conn: PollConn, url: String) -> Emitter {
        let (queue, mut rx) = mpsc::unbounded_channel::<String>();
        let task = tokio::spawn(async move {
            let mut batch = Vec::new();
            while rx.recv_many(&mut batch, MAX_EMITS_PER_POST).await > 0 {
                let body = batch.join(&codec::RECORD_SEPARATOR.to_string());
                batch.clear();
                if conn
                    .request(Method::POST, &url, Bytes::from(body))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
        Emitter { queue, task }
    }
}

impl Drop for Emitter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Session {
    /// The next queued packet, polling (one `GET`) when none is queued; `None` for an empty answer.
    /// Cancel-safe once a [`Poller`] runs the `GET`s.
    async fn next_packet(&mut self) -> Result<Option<String>, ClientError> {
        if self.pending.is_empty() {
            let body = match (&mut self.poller, &mut self.conn) {
                (Some(poller), _) => poller
                    .answers
                    .recv()
                    .await
                    .unwrap_or(Err(ClientError::Ended("Socket.IO polling connection lost")))?,
                (None, Some(conn)) => conn.request(Method::GET, &self.url, Bytes::new()).await?,
                (None, None) => return Err(ClientError::Ended("Socket.IO session closed")),
            };
            self.pending
                .extend(codec::split_payload(&body).map(str::to_string));
        }
        Ok(self.pending.pop_front())
    }

    /// Answers a ping: with emits, queued with them (at once); else a `POST` of its own.
    async fn pong(&mut self) -> Result<(), ClientError> {
        if let Some((_, emitter)) = &self.emits {
            return emitter
                .queue
                .send(codec::PONG.to_string())
                .map_err(|_| ClientError::Ended("Socket.IO emit connection lost"));
        }
        let Some(conn) = &mut self.conn else {
            return Err(ClientError::Ended("Socket.IO session closed"));
        };
        let pong = Bytes::from_static(codec::PONG.as_bytes());
        conn.request(Method::POST, &self.url, pong).await?;
        Ok(())
    }
}

/// One HTTP/1.1 connection sending `GET`s and `POST`s with small bodies. Dropping it closes the
/// socket (with a reset once `reset` is set).
struct PollConn {
    sender: SendRequest<Full<Bytes>>,
    host: String,
    reset: Arc<AtomicBool>,
    driver: JoinHandle<()>,
}

impl PollConn {
    async fn connect(ctx: &ClientCtx) -> Result<PollConn, ClientError> {
        let addr = ctx.target.http;
        let stream = stack::connect(addr, ctx.target.tls).await?;
        let reset = Arc::new(AtomicBool::new(false));
        let io = ResetOnDrop {
            stream,
            reset: reset.clone(),
        };
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(ClientError::Handshake)?;
        let driver = tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(PollConn {
            sender,
            host: addr.to_string(),
            reset,
            driver,
        })
    }

    /// Sends one request and reads the whole (UTF-8) answer.
    async fn request(
        &mut self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<String, ClientError> {
        let verb = if method == Method::GET { "GET" } else { "POST" };
        self.sender.ready().await.map_err(ClientError::Closed)?;
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, &self.host);
        if !body.is_empty() {
            req = req.header(hyper::header::CONTENT_TYPE, "text/plain;charset=UTF-8");
        }
        let req = req.body(Full::new(body)).map_err(ClientError::BadRequest)?;
        let failed = |source| ClientError::Request {
            method: verb,
            path: path.to_string(),
            source,
        };
        let resp = self.sender.send_request(req).await.map_err(failed)?;
        if !resp.status().is_success() {
            return Err(ClientError::Status {
                method: verb,
                path: path.to_string(),
                status: resp.status(),
            });
        }
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|source| ClientError::Body {
                what: "reading body",
                source,
            })?;
        String::from_utf8(body.to_bytes().to_vec())
            .map_err(|_| ClientError::Protocol("Engine.IO payload is not UTF-8".into()))
    }
}

impl Drop for PollConn {
    fn drop(&mut self) {
        self.driver.abort();
    }
}
