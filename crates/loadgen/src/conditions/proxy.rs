//! The delay proxy: loopback listeners that forward every client connection to the server through
//! an emulated link ([`super::link`]), one [`Link`] per direction.
//!
//! Per connection, each direction is one task: it reads the source socket, stamps each chunk with
//! its arrival time, queues its segments with their release times ([`Link::schedule`]), and writes
//! each segment to the destination when the precise [`Timer`] says it is due. Bytes are forwarded
//! unchanged, so the server's byte meter still counts exactly what the clients send. End of stream
//! is forwarded in order (after the data ahead of it, delayed like a segment); a reset (ECONNRESET)
//! is forwarded as a reset (SO_LINGER 0), so client-side aborts reach the server as aborts. When the
//! server cannot be reached (e.g. while it restarts) the client is reset at once.
//!
//! The queue is bounded ([`QUEUE_SEGMENTS`]): a sender faster than the emulated bandwidth is held
//! back by TCP flow control on the loopback socket rather than by loss (see docs/conditions.md).

use super::link::{Link, LinkParams, Segment};
use super::timer::{Sleep, Timer};
use crate::control::Target;
use bytes::{Bytes, BytesMut};
use rtbench_proto::mono_now_ns;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::pin::Pin;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Segments queued per direction before the proxy stops reading that side, segments.
const QUEUE_SEGMENTS: usize = 1024;
/// Read buffer allocated at a time, bytes; chunks share it until written.
const READ_BYTES: usize = 16 * 1024;

/// What one direction does at a release time.
#[derive(Debug)]
enum Item {
    /// Write these bytes.
    Data(Bytes, u64),
    /// Shut down the write side (FIN).
    Eof(u64),
    /// Abort the whole connection with a reset.
    Reset(u64),
}

impl Item {
    fn release_ns(&self) -> u64 {
        match self {
            Item::Data(_, t) | Item::Eof(t) | Item::Reset(t) => *t,
        }
    }
}

/// A running proxy; everything it started stops when it is dropped.
#[derive(Debug)]
pub struct Proxy {
    /// The addresses clients connect to instead of the server's.
    pub target: Target,
    _tasks: JoinSet<()>,
}

impl Proxy {
    /// Starts listeners on 127.0.0.1:0 for the server's HTTP and raw-TCP addresses in `upstream`,
    /// each forwarding through links shaped by `params`.
    pub async fn start(upstream: Target, params: LinkParams) -> std::io::Result<Proxy> {
        let timer = Timer::start()?;
        let http = TcpListener::bind("127.0.0.1:0").await?;
        let tcp = TcpListener::bind("127.0.0.1:0").await?;
        // TLS passes through the proxy untouched: clients speak it end to end with the server.
        let target = Target {
            http: http.local_addr()?,
            tcp: tcp.local_addr()?,
            tls: upstream.tls,
            http2: upstream.http2,
            control_token: upstream.control_token,
        };
        let mut tasks = JoinSet::new();
        tasks.spawn(accept_loop(http, upstream.http, params, timer.clone()));
        tasks.spawn(accept_loop(tcp, upstream.tcp, params, timer));
        Ok(Proxy {
            target,
            _tasks: tasks,
        })
    }
}

/// Accepts client connections until the proxy is dropped (which aborts this task and, with its
/// `JoinSet`, every connection it started).
async fn accept_loop(
    listener: TcpListener,
    upstream: SocketAddr,
    params: LinkParams,
    timer: Timer,
) {
    let mut conns = JoinSet::new();
    let mut seed = rand::random::<u64>();
    loop {
        // Reap finished connections so the set stays as large as the open connections.
        while conns.try_join_next().is_some() {}
        let Ok((client, _)) = listener.accept().await else {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        conns.spawn(serve(client, upstream, params, timer.clone(), seed));
    }
}

/// Forwards one connection both ways until both directions ended or one side reset.
async fn serve(
    client: TcpStream,
    upstream: SocketAddr,
    params: LinkParams,
    timer: Timer,
    seed: u64,
) {
    let accepted_ns = mono_now_ns();
    let server = match TcpStream::connect(upstream).await {
        Ok(s) => s,
        Err(_) => {
            let _ = client.set_zero_linger();
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (abort_tx, abort_rx) = watch::channel(false);
    let (client_r, client_w) = client.into_split();
    let (server_r, server_w) = server.into_split();
    // The client's first byte leaves one round trip after its SYN would have.
    let handshake_ns = accepted_ns + 2 * params.one_way_ns;
    let up = Direction::new(
        client_r,
        server_w,
        Link::new(params, handshake_ns, seed),
        timer.clone(),
    );
    let down = Direction::new(
        server_r,
        client_w,
        Link::new(params, 0, seed.rotate_left(17)),
        timer,
    );
    let mut halves = JoinSet::new();
    halves.spawn(up.run(abort_tx.clone(), abort_rx.clone()));
    halves.spawn(down.run(abort_tx, abort_rx));
    while halves.join_next().await.is_some() {}
}

/// One direction of one connection: a source, a destination, the link between them, the queue.
struct Direction {
    from: OwnedReadHalf,
    to: OwnedWriteHalf,
    link: Link,
    timer: Timer,
    queue: VecDeque<Item>,
    segments: Vec<Segment>,
    buf: BytesMut,
    /// Whether the source may still send (no end of stream or reset read yet).
    reading: bool,
}

/// What woke a direction.
enum Woke {
    /// The source had bytes, an end of stream or an error.
    Read(std::io::Result<usize>),
    /// The head of the queue is due.
    Due,
}

/// How a release ended.
enum Released {
    /// More to come.
    Open,
    /// This direction is finished (end of stream forwarded, or the connection aborted).
    Done,
}

impl Direction {
    fn new(from: OwnedReadHalf, to: OwnedWriteHalf, link: Link, timer: Timer) -> Direction {
        Direction {
            from,
            to,
            link,
            timer,
            queue: VecDeque::new(),
            segments: Vec::new(),
            buf: BytesMut::new(),
            reading: true,
        }
    }

    /// Reads and releases until this direction is finished or the connection is aborted.
    async fn run(mut self, abort_tx: watch::Sender<bool>, mut abort: watch::Receiver<bool>) {
        // One timer registration for the head of the queue, replaced when the head changes.
        let mut sleep: Option<Pin<Box<Sleep>>> = None;
        loop {
            let head = self.queue.front().map(Item::release_ns);
            if head != sleep.as_ref().map(|s| s.deadline_ns()) {
                sleep = head.map(|t| Box::pin(self.timer.sleep_until(t)));
            }
            if self.buf.capacity() - self.buf.len() < READ_BYTES / 8 {
                self.buf.reserve(READ_BYTES);
            }
            let can_read = self.reading && self.queue.len() < QUEUE_SEGMENTS;
            let woke = tokio::select! {
                read = self.from.read_buf(&mut self.buf), if can_read => Woke::Read(read),
                () = async { if let Some(s) = sleep.as_mut() { s.await } }, if sleep.is_some() => Woke::Due,
                _ = abort.wait_for(|a| *a) => return,
            };
            match woke {
                Woke::Read(read) => self.on_read(read),
                Woke::Due => {
                    sleep = None;
                    let released = tokio::select! {
                        r = self.release_due(&abort_tx) => r,
                        _ = abort.wait_for(|a| *a) => Released::Done,
                    };
                    if let Released::Done = released {
                        return;
                    }
                }
            }
        }
    }

    /// Queues what a read brought: data segments, or the end of stream or reset it found.
    fn on_read(&mut self, read: std::io::Result<usize>) {
        let now = mono_now_ns();
        self.segments.clear();
        let n = *read.as_ref().unwrap_or(&0);
        self.link.schedule(now, n, &mut self.segments);
        match read {
            Ok(0) | Err(_) => {
                self.reading = false;
                let t = self.segments.first().map_or(now, |s| s.release_ns);
                self.queue.push_back(if read.is_err() {
                    Item::Reset(t)
                } else {
                    Item::Eof(t)
                });
            }
            Ok(_) => {
                let chunk = self.buf.split().freeze();
                for s in &self.segments {
                    let bytes = chunk.slice(s.offset..s.offset + s.len);
                    self.queue.push_back(Item::Data(bytes, s.release_ns));
                }
            }
        }
    }

    /// Writes every queued item that is due.
    async fn release_due(&mut self, abort_tx: &watch::Sender<bool>) -> Released {
        let now = mono_now_ns();
        while self.queue.front().is_some_and(|i| i.release_ns() <= now) {
            match self.queue.pop_front() {
                Some(Item::Data(bytes, _)) => {
                    if self.to.write_all(&bytes).await.is_err() {
                        abort_tx.send_replace(true);
                        return Released::Done;
                    }
                }
                Some(Item::Eof(_)) => {
                    let _ = self.to.shutdown().await;
                    return Released::Done;
                }
                Some(Item::Reset(_)) => {
                    // SO_LINGER 0 and no FIN first: the socket resets once both halves are gone.
                    let _ = self.to.as_ref().set_zero_linger();
                    abort_tx.send_replace(true);
                    return Released::Done;
                }
                None => break,
            }
        }
        Released::Open
    }
}
