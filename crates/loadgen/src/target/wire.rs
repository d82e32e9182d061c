//! The conformance check's own small clients: one-shot HTTP/1.1 requests (hyper's low-level
//! client, one connection each, so a broken answer never poisons the next request) and a
//! subscriber per HTTP transport that collects what the server delivers after a cursor, bounded
//! in count and time. They read the wire exactly as `docs/contract.md` writes it, through the same
//! parsers the load generator's clients use ([`rtbench_proto::event`], [`rtbench_proto::poll`],
//! [`crate::clients::SseParser`]).

use super::counted::{Counted, Counters};
use super::spec;
use crate::clients::SseParser;
use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use rtbench_proto::event::{Message, parse_message};
use rtbench_proto::poll::parse_poll_response;
use rtbench_proto::{Transport, paths};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite;

/// Largest response body the check reads, in bytes (a hostile target cannot exhaust memory).
const MAX_READ_BYTES: usize = 8 * 1024 * 1024;

/// Why a request or subscription failed, in one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Nothing listens, or the connection broke.
    #[error("cannot connect to {addr}: {why}")]
    Connect {
        /// The target.
        addr: SocketAddr,
        /// The OS's reason.
        why: String,
    },
    /// The target did not answer in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The HTTP exchange failed.
    #[error("HTTP: {0}")]
    Http(String),
    /// An answer with an unexpected status.
    #[error("{what} answered {status}")]
    Status {
        /// The request.
        what: String,
        /// Its status.
        status: u16,
    },
    /// The target sent something that is not the contract's format.
    #[error("{0}")]
    Format(String),
}

/// A whole answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Its status.
    pub status: StatusCode,
    /// Its `Content-Type`, if any.
    pub content_type: String,
    /// Its body.
    pub body: Bytes,
}

/// Sends one request on a fresh connection and reads the whole answer, within `limit`.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Vec<u8>,
    limit: Duration,
) -> Result<Answer, WireError> {
    let counters = Arc::new(Counters::default());
    tokio::time::timeout(
        limit,
        request_inner(addr, method, path, body, &[], &counters),
    )
    .await
    .map_err(|_| WireError::Timeout(limit))?
}

async fn connect(
    addr: SocketAddr,
    counters: &Arc<Counters>,
) -> Result<Counted<TcpStream>, WireError> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| WireError::Connect {
            addr,
            why: e.to_string(),
        })?;
    let _ = stream.set_nodelay(true);
    Ok(Counted::new(stream, counters.clone()))
}

async fn open(
    addr: SocketAddr,
    counters: &Arc<Counters>,
) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>, WireError> {
    let stream = connect(addr, counters).await?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| WireError::Http(e.to_string()))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Vec<u8>,
    headers: &[(&str, &str)],
    counters: &Arc<Counters>,
) -> Result<hyper::Response<hyper::body::Incoming>, WireError> {
    let mut sender = open(addr, counters).await?;
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, addr.to_string());
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let req = req
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| WireError::Http(e.to_string()))?;
    sender
        .send_request(req)
        .await
        .map_err(|e| WireError::Http(e.to_string()))
}

async fn request_inner(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Vec<u8>,
    headers: &[(&str, &str)],
    counters: &Arc<Counters>,
) -> Result<Answer, WireError> {
    let resp = send(addr, method, path, body, headers, counters).await?;
    let status = resp.status();
    let content_type = content_type(&resp);
    let body = http_body_util::Limited::new(resp.into_body(), MAX_READ_BYTES)
        .collect()
        .await
        .map_err(|e| WireError::Http(e.to_string()))?
        .to_bytes();
    Ok(Answer {
        status,
        content_type,
        body,
    })
}

fn content_type<B>(resp: &hyper::Response<B>) -> String {
    resp.headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// Publishes `payload` to `topic` with `POST /publish`; the event's `seq` from the answer.
pub async fn publish(
    addr: SocketAddr,
    topic: &str,
    payload: &str,
    limit: Duration,
) -> Result<u64, WireError> {
    let path = spec::current().publish.render(topic, "", "");
    let answer = request(addr, "POST", &path, payload.as_bytes().to_vec(), limit).await?;
    if !answer.status.is_success() {
        return Err(WireError::Status {
            what: format!("POST {path}"),
            status: answer.status.as_u16(),
        });
    }
    let v: serde_json::Value = serde_json::from_slice(&answer.body).map_err(|_| {
        WireError::Format(format!(
            "POST {path} answered {} that is not JSON {{\"seq\":N}}: {}",
            describe(&answer.content_type),
            snippet(&answer.body)
        ))
    })?;
    v.get("seq")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| {
            WireError::Format(format!(
                "POST {path} answered JSON without a \"seq\" number: {}",
                snippet(&answer.body)
            ))
        })
}

fn describe(content_type: &str) -> String {
    if content_type.is_empty() {
        "a body".to_string()
    } else {
        content_type.to_string()
    }
}

/// The first bytes of `body`, printable, for an error line.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(60)]);
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("\"{}\"", one_line.trim())
}

/// What a subscriber received, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// One event.
    Event {
        /// Its sequence number.
        seq: u64,
        /// Its scheduled time, CLOCK_MONOTONIC ns.
        t_pub_ns: u64,
        /// Its payload.
        payload: String,
    },
    /// A gap notice: `dropped` events after the cursor are gone.
    Gap(u64),
}

/// How a subscription resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume {
    /// The last event held (0: from the start).
    pub after: u64,
    /// SSE: send the cursor as `Last-Event-ID` (as a browser does) rather than `after=`.
    pub last_event_id: bool,
}

/// What a subscription collected, and whether it stopped for lack of time.
#[derive(Debug, Clone, Default)]
pub struct Collected {
    /// Items in arrival order.
    pub items: Vec<Item>,
    /// Whether the deadline came before `want` events.
    pub timed_out: bool,
    /// Bytes the subscription's sockets read (everything the server sent it), at the client.
    pub bytes_down: u64,
    /// Bytes they wrote (requests, handshakes), at the client.
    pub bytes_up: u64,
}

impl Collected {
    /// Events' sequence numbers in arrival order.
    pub fn seqs(&self) -> Vec<u64> {
        self.items
            .iter()
            .filter_map(|i| match i {
                Item::Event { seq, .. } => Some(*seq),
                Item::Gap(_) => None,
            })
            .collect()
    }

    fn events(&self) -> usize {
        self.seqs().len()
    }
}

/// Subscribes to `topic` on `transport` after `resume` and collects items until `want` events
/// arrived or `limit` passed. A protocol violation (a body that is not an event) is an error.
pub async fn collect(
    addr: SocketAddr,
    transport: Transport,
    topic: &str,
    resume: Resume,
    want: usize,
    limit: Duration,
) -> Result<Collected, WireError> {
    let deadline = Instant::now() + limit;
    let mut out = Collected::default();
    let counters = Arc::new(Counters::default());
    let c = &counters;
    let run = async {
        match transport {
            Transport::WebSocket => websocket(addr, topic, resume, want, &mut out, c).await,
            Transport::Sse => sse(addr, topic, resume, want, &mut out, c).await,
            Transport::LongPoll | Transport::ShortPoll => {
                poll(addr, transport, topic, resume, want, &mut out, c).await
            }
            Transport::Tcp
            | Transport::SocketIo
            | Transport::SocketIoPolling
            | Transport::WebTransport
            | Transport::WebTransportDatagram => Err(WireError::Format(format!(
                "{transport} is not part of the contract's check"
            ))),
        }
    };
    let result = tokio::time::timeout_at(deadline, run).await;
    (out.bytes_down, out.bytes_up) = counters.get();
    match result {
        Ok(Ok(())) => Ok(out),
        Ok(Err(e)) => Err(e),
        Err(_) => {
            out.timed_out = true;
            Ok(out)
        }
    }
}

fn push_message(body: &[u8], out: &mut Collected, what: &str) -> Result<(), WireError> {
    let canonical = spec::current().message(body);
    match parse_message(&canonical) {
        Ok(Message::Event(ev)) => out.items.push(Item::Event {
            seq: ev.seq,
            t_pub_ns: ev.t_pub_ns,
            payload: ev.payload.into_owned(),
        }),
        Ok(Message::Gap { dropped }) => out.items.push(Item::Gap(dropped)),
        Err(_) => {
            return Err(WireError::Format(format!(
                "{what} delivered {} which is not an event {{\"seq\",\"t_pub_ns\",\"payload\"}} nor a gap {{\"dropped\"}}",
                snippet(body)
            )));
        }
    }
    Ok(())
}

async fn websocket(
    addr: SocketAddr,
    topic: &str,
    resume: Resume,
    want: usize,
    out: &mut Collected,
    counters: &Arc<Counters>,
) -> Result<(), WireError> {
    let url = format!(
        "ws://{addr}{}",
        spec::current()
            .websocket
            .render(topic, &resume.after.to_string(), "")
    );
    let stream = connect(addr, counters).await?;
    let (mut ws, _) = tokio_tungstenite::client_async(&url, stream)
        .await
        .map_err(|e| match e {
            tungstenite::Error::Io(io) => WireError::Connect {
                addr,
                why: io.to_string(),
            },
            tungstenite::Error::Http(resp) => WireError::Status {
                what: format!("WebSocket upgrade of {url}"),
                status: resp.status().as_u16(),
            },
            other => WireError::Http(format!("WebSocket upgrade of {url}: {other}")),
        })?;
    while out.events() < want {
        match ws.next().await {
            Some(Ok(tungstenite::Message::Text(text))) => {
                push_message(text.as_bytes(), out, "WebSocket")?
            }
            Some(Ok(tungstenite::Message::Close(_))) | None => {
                return Err(WireError::Format("the WebSocket closed early".into()));
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(WireError::Http(format!("WebSocket: {e}"))),
        }
    }
    Ok(())
}

async fn sse(
    addr: SocketAddr,
    topic: &str,
    resume: Resume,
    want: usize,
    out: &mut Collected,
    counters: &Arc<Counters>,
) -> Result<(), WireError> {
    let cursor = resume.after.to_string();
    let template = &spec::current().sse;
    // The cursor goes as `Last-Event-ID` when asked (a browser's reconnect) or when the URL has no
    // place for it (the contract's own SSE URL: `after=0` is the same as no cursor).
    let by_header = resume.after > 0 && (resume.last_event_id || !template.has_cursor());
    let path = template.render(topic, &cursor, "");
    let headers = match by_header {
        true => vec![(paths::LAST_EVENT_ID, cursor.as_str())],
        false => vec![],
    };
    let headers: Vec<(&str, &str)> = [("accept", "text/event-stream")]
        .into_iter()
        .chain(headers)
        .collect();
    let resp = send(addr, "GET", &path, Vec::new(), &headers, counters).await?;
    let ctype = content_type(&resp);
    if !resp.status().is_success() {
        return Err(WireError::Status {
            what: format!("GET {path}"),
            status: resp.status().as_u16(),
        });
    }
    if !ctype.starts_with("text/event-stream") {
        return Err(WireError::Format(format!(
            "GET {path} answered Content-Type '{ctype}', not text/event-stream"
        )));
    }
    let mut body = resp.into_body();
    let mut parser = SseParser::default();
    while out.events() < want {
        let Some(frame) = body.frame().await else {
            return Err(WireError::Format("the SSE stream ended early".into()));
        };
        let frame = frame.map_err(|e| WireError::Http(e.to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        parser.push(&data);
        while let Some(block) = parser.next_block() {
            if block.data.is_empty() {
                continue;
            }
            push_message(&block.data, out, "SSE")?;
        }
    }
    Ok(())
}

async fn poll(
    addr: SocketAddr,
    transport: Transport,
    topic: &str,
    resume: Resume,
    want: usize,
    out: &mut Collected,
    counters: &Arc<Counters>,
) -> Result<(), WireError> {
    let mut after = resume.after;
    while out.events() < want {
        let template = match transport {
            Transport::LongPoll => &spec::current().long_poll,
            _ => &spec::current().short_poll,
        };
        let path = template.render(topic, &after.to_string(), "1000");
        let answer = request_inner(addr, "GET", &path, Vec::new(), &[], counters).await?;
        if !answer.status.is_success() {
            return Err(WireError::Status {
                what: format!("GET {path}"),
                status: answer.status.as_u16(),
            });
        }
        let body = spec::current().batch(&answer.body);
        let batch = parse_poll_response(&body).map_err(|_| {
            WireError::Format(format!(
                "GET {path} answered {} which is not {{\"dropped\":N,\"events\":[...]}} of events {{\"seq\",\"t_pub_ns\",\"payload\"}}",
                snippet(&answer.body)
            ))
        })?;
        if batch.dropped > 0 {
            out.items.push(Item::Gap(batch.dropped));
        }
        for ev in &batch.events {
            after = after.max(ev.seq);
            out.items.push(Item::Event {
                seq: ev.seq,
                t_pub_ns: ev.t_pub_ns,
                payload: ev.payload.to_string(),
            });
        }
        if batch.dropped > 0 && batch.events.is_empty() {
            after += batch.dropped;
        }
        if transport == Transport::ShortPoll && batch.events.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    Ok(())
}
