//! Single-event delivery per transport: the time from a publish into an in-process server's hub
//! until one subscribed client on 127.0.0.1 has received and parsed that event.
//!
//! Each iteration publishes one event and waits for it. Long polling has its request already
//! held by the server when the event is published (the wake-up path, as in a real run). Short
//! polling is measured as publish + one immediate poll: its real latency adds about half the poll
//! interval by construction, which a benchmark of the code has no reason to sleep through.

use super::server::InProcess;
use super::{PAYLOAD_BYTES, http, round_trips};
use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group};
use futures_util::StreamExt;
use rtbench_loadgen::clients::SseParser;
use rtbench_proto::event::{Message, parse_message};
use rtbench_proto::{Transport, frame, make_payload, mono_now_ns, poll};
use rtbench_server::Server;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// How long a long-poll request is given to reach the server and be held before the publish.
const LONGPOLL_SETTLE: Duration = Duration::from_micros(250);

/// Publishes events into the server's hub, in process.
#[derive(Clone)]
struct Publisher {
    server: Server,
    payload: String,
}

impl Publisher {
    fn publish(&self, topic: &str) -> u64 {
        self.server
            .hub()
            .publish(topic, mono_now_ns(), &self.payload)
            .expect("valid topic")
    }
}

/// The sequence number of a pushed event body (0 for a gap notice).
fn seq_of(body: &[u8]) -> u64 {
    match parse_message(body).expect("valid body") {
        Message::Event(e) => e.seq,
        Message::Gap { .. } => 0,
    }
}

/// Whether a poll response carries event `seq`.
fn poll_has(body: &[u8], seq: u64) -> bool {
    let batch = poll::parse_poll_response(body).expect("valid poll response");
    batch.events.iter().any(|e| e.seq == seq)
}

/// One subscribed client of one transport.
enum Client {
    Tcp(TcpStream, BytesMut),
    WebSocket(Box<WebSocketStream<TcpStream>>),
    Sse(TcpStream, BytesMut, SseParser),
    LongPoll(TcpStream, BytesMut, u64),
    ShortPoll(TcpStream, BytesMut, u64),
}

impl Client {
    async fn connect(transport: Transport, srv: &InProcess, topic: &str) -> Client {
        let connect = |addr: SocketAddr| async move {
            let stream = TcpStream::connect(addr).await.expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            stream
        };
        let buf = BytesMut::with_capacity(8192);
        match transport {
            Transport::Tcp => {
                let mut stream = connect(srv.tcp).await;
                let mut sub = BytesMut::new();
                frame::encode_sub(topic, 0, &mut sub);
                stream.write_all(&sub).await.expect("SUB sent");
                Client::Tcp(stream, buf)
            }
            Transport::WebSocket => {
                let url = format!(
                    "ws://{}{}?topic={topic}&after=0",
                    srv.http,
                    Transport::WebSocket.path()
                );
                let (ws, _) = tokio_tungstenite::client_async(url, connect(srv.http).await)
                    .await
                    .expect("WebSocket handshake");
                Client::WebSocket(Box::new(ws))
            }
            Transport::Sse => {
                let (mut stream, mut buf) = (connect(srv.http).await, buf);
                http::get(
                    &mut stream,
                    &format!("{}?topic={topic}&after=0", Transport::Sse.path()),
                )
                .await;
                assert_eq!(
                    http::read_head(&mut stream, &mut buf).await,
                    None,
                    "chunked"
                );
                Client::Sse(stream, buf, SseParser::default())
            }
            Transport::LongPoll => Client::LongPoll(connect(srv.http).await, buf, 0),
            Transport::ShortPoll => Client::ShortPoll(connect(srv.http).await, buf, 0),
            Transport::SocketIo
            | Transport::SocketIoPolling
            | Transport::WebTransport
            | Transport::WebTransportDatagram => {
                unreachable!("benchmarked transports are Transport::DEFAULT")
            }
        }
    }

    /// Publishes one event to `topic` and returns how long until this client had parsed it.
    async fn deliver(&mut self, publisher: &Publisher, topic: &str) -> Duration {
        if let Client::LongPoll(stream, _, cursor) = self {
            let path = format!(
                "{}?topic={topic}&after={cursor}&timeout_ms=30000",
                Transport::LongPoll.path()
            );
            http::get(stream, &path).await;
            // Blocking on purpose: nothing else runs on this thread, and the server's thread
            // parks the request meanwhile.
            std::thread::sleep(LONGPOLL_SETTLE);
        }
        let (start, seq) = (Instant::now(), publisher.publish(topic));
        self.receive(topic, seq).await;
        start.elapsed()
    }

    /// Waits until event `seq` of `topic` has arrived and been parsed.
    async fn receive(&mut self, topic: &str, seq: u64) {
        match self {
            Client::Tcp(stream, buf) => loop {
                while let Some(f) = frame::decode_frame(buf).expect("valid frame") {
                    if seq_of(&f) == seq {
                        return;
                    }
                }
                assert!(stream.read_buf(buf).await.expect("read") > 0, "closed");
            },
            Client::WebSocket(ws) => loop {
                let message = ws.next().await.expect("open").expect("valid");
                if let WsMessage::Text(t) = message
                    && seq_of(t.as_bytes()) == seq
                {
                    return;
                }
            },
            Client::Sse(stream, buf, parser) => loop {
                while let Some(block) = parser.next_block() {
                    if !block.data.is_empty() && seq_of(&block.data) == seq {
                        return;
                    }
                }
                parser.push(&http::read_chunk(stream, buf).await);
            },
            Client::LongPoll(stream, buf, cursor) => {
                let body = http::read_response(stream, buf).await;
                assert!(poll_has(&body, seq), "long poll answered without the event");
                *cursor = seq;
            }
            Client::ShortPoll(stream, buf, cursor) => {
                let path = format!(
                    "{}?topic={topic}&after={cursor}",
                    Transport::ShortPoll.path()
                );
                http::get(stream, &path).await;
                let body = http::read_response(stream, buf).await;
                assert!(poll_has(&body, seq), "poll answered without the event");
                *cursor = seq;
            }
        }
    }
}

fn single_event(c: &mut Criterion) {
    let srv = InProcess::start();
    let publisher = Publisher {
        server: srv.server.clone(),
        payload: make_payload(1, PAYLOAD_BYTES),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let mut g = c.benchmark_group("delivery");
    g.throughput(Throughput::Elements(1));
    // The floor and the chapter's four; Socket.IO's rows are measured by `rtbench run` only.
    for transport in Transport::DEFAULT {
        let topic = format!("bench-{transport}");
        let client = rt.block_on(Client::connect(transport, &srv, &topic));
        let client = Arc::new(tokio::sync::Mutex::new(client));
        g.bench_function(transport.as_str(), |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let (client, publisher, topic) = (client.clone(), publisher.clone(), topic.clone());
                async move {
                    let mut client = client.lock().await;
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        total += client.deliver(&publisher, &topic).await;
                    }
                    total
                }
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = round_trips();
    targets = single_event
}
