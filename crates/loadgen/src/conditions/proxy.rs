//! The delay proxy: loopback listeners that forward every client connection to the server through
//! an emulated link ([`super::link`]), one [`Link`] per direction.
//!
//! Per connection, each direction is a reader task and a writer task joined by a bounded queue: the
//! reader stamps each chunk with its arrival time and computes its segments' release times; the
//! writer sleeps on the precise [`Timer`] until each release time and writes the segment on. Bytes
//! are forwarded unchanged, so the server's byte meter still counts exactly what the clients send.
//! End of stream is forwarded in order (after the data ahead of it, delayed like a segment); a reset
//! (ECONNRESET) is forwarded as a reset (SO_LINGER 0), so client-side aborts reach the server as
//! aborts. When the server cannot be reached (e.g. while it restarts) the client is reset at once.
//!
//! The queue is bounded ([`QUEUE_SEGMENTS`]): a sender faster than the emulated bandwidth is held
//! back by TCP flow control on the loopback socket rather than by loss (see docs/conditions.md).

use super::link::{Link, LinkParams, Segment};
use super::timer::Timer;
use crate::control::Target;
use bytes::{Bytes, BytesMut};
use rtbench_proto::mono_now_ns;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

/// Segments queued per direction before the reader stops reading, segments.
const QUEUE_SEGMENTS: usize = 1024;
/// Largest single read, bytes.
const READ_BYTES: usize = 16 * 1024;

/// What the writer of one direction is told to do, and when.
#[derive(Debug)]
enum Item {
    /// Write these bytes at `release_ns`.
    Data(Bytes, u64),
    /// Shut down the write side (FIN) at `release_ns`.
    Eof(u64),
    /// Abort the whole connection with a reset at `release_ns`.
    Reset(u64),
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
        let target = Target {
            http: http.local_addr()?,
            tcp: tcp.local_addr()?,
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
    let up = Link::new(params, handshake_ns, seed);
    let down = Link::new(params, 0, seed.rotate_left(17));
    let mut halves = JoinSet::new();
    let (tx_up, rx_up) = mpsc::channel(QUEUE_SEGMENTS);
    let (tx_down, rx_down) = mpsc::channel(QUEUE_SEGMENTS);
    halves.spawn(read_side(client_r, up, tx_up, abort_rx.clone()));
    halves.spawn(write_side(
        server_w,
        rx_up,
        timer.clone(),
        abort_tx.clone(),
        abort_rx.clone(),
    ));
    halves.spawn(read_side(server_r, down, tx_down, abort_rx.clone()));
    halves.spawn(write_side(client_w, rx_down, timer, abort_tx, abort_rx));
    while halves.join_next().await.is_some() {}
}

/// Reads one side, scheduling each chunk on `link`, until end of stream, a reset or an abort.
async fn read_side(
    mut from: OwnedReadHalf,
    mut link: Link,
    to: mpsc::Sender<Item>,
    mut abort: watch::Receiver<bool>,
) {
    let mut segments: Vec<Segment> = Vec::new();
    loop {
        let mut buf = BytesMut::with_capacity(READ_BYTES);
        let read = tokio::select! {
            read = from.read_buf(&mut buf) => read,
            _ = abort.wait_for(|a| *a) => return,
        };
        let now = mono_now_ns();
        segments.clear();
        let n = match read {
            Ok(n) => n,
            Err(_) => {
                link.schedule(now, 0, &mut segments);
                let _ = to.send(Item::Reset(segments[0].release_ns)).await;
                return;
            }
        };
        link.schedule(now, n, &mut segments);
        if n == 0 {
            let _ = to.send(Item::Eof(segments[0].release_ns)).await;
            return;
        }
        let chunk = buf.freeze();
        for s in &segments {
            let item = Item::Data(chunk.slice(s.offset..s.offset + s.len), s.release_ns);
            if to.send(item).await.is_err() {
                return;
            }
        }
    }
}

/// Writes one side at each item's release time, until end of stream, a reset or an abort.
async fn write_side(
    mut to: OwnedWriteHalf,
    mut from: mpsc::Receiver<Item>,
    timer: Timer,
    abort_tx: watch::Sender<bool>,
    mut abort: watch::Receiver<bool>,
) {
    loop {
        let item = tokio::select! {
            item = from.recv() => item,
            _ = abort.wait_for(|a| *a) => return,
        };
        let Some(item) = item else { return };
        let release_ns = match &item {
            Item::Data(_, t) | Item::Eof(t) | Item::Reset(t) => *t,
        };
        tokio::select! {
            () = timer.sleep_until(release_ns) => {}
            _ = abort.wait_for(|a| *a) => return,
        }
        match item {
            Item::Data(bytes, _) => {
                if to.write_all(&bytes).await.is_err() {
                    abort_tx.send_replace(true);
                    return;
                }
            }
            Item::Eof(_) => {
                let _ = to.shutdown().await;
                return;
            }
            Item::Reset(_) => {
                // SO_LINGER 0 and no FIN first: the socket closes with a reset once both halves go.
                let _ = to.as_ref().set_zero_linger();
                to.forget();
                abort_tx.send_replace(true);
                return;
            }
        }
    }
}
