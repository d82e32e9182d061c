//! Byte, connection, request and delivery counters per transport, counted at the server's sockets.
//!
//! [`Metered`] wraps each accepted `TcpStream` and adds every byte read or written to the counters
//! of the connection's *bucket*: one of the five transports ([`Transport::index`]) or
//! [`CONTROL`]. An HTTP connection's bucket is unknown until its first request arrives; the bytes
//! it moves before that (the request head itself) are held on the connection and credited when the
//! first request's path tags it, so request headers and handshakes count. A `/publish` request
//! that names `transport=<name>` tags its connection with that transport: that is how the HTTP
//! transports' upstream (a client's own publish connection) is counted in their rows. Raw-TCP connections are
//! tagged at accept. A connection that closes untagged is credited to `control`.
//!
//! The hot path is lock-free: one atomic load and one relaxed `fetch_add` per read or write.
//! Accepted sockets are also registered with the kernel cross-check ([`crate::kernel`]) once, at
//! accept, and read one last time just before they close.

use crate::kernel::{Registration, Registry};
use crate::kill::KillSwitch;
use rtbench_proto::{Transport, paths};
use std::io;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;

/// Bucket index of connections that are none of the five transports.
pub(crate) const CONTROL: usize = Transport::ALL.len();
/// Number of buckets: the five transports and `control`.
pub(crate) const BUCKETS: usize = CONTROL + 1;
/// Tag of a connection whose bucket is not known yet.
const UNTAGGED: u8 = u8::MAX;

/// The metrics label of bucket `i`.
pub(crate) fn bucket_label(i: usize) -> &'static str {
    Transport::ALL
        .get(i)
        .map_or(rtbench_proto::metrics::CONTROL_LABEL, |t| t.as_str())
}

/// The bucket a connection whose first request is for `path` belongs to.
pub(crate) fn bucket_for_path(path: &str) -> usize {
    Transport::for_http_path(path).map_or(CONTROL, Transport::index)
}

/// The bucket of a connection whose first request is `path?query`: by path, except a `/publish`
/// naming a valid `transport`, which belongs to that transport.
pub(crate) fn bucket_for_request(path: &str, query: Option<&str>) -> usize {
    if path != paths::PUBLISH {
        return bucket_for_path(path);
    }
    query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == paths::TRANSPORT_PARAM)
        .and_then(|(_, value)| value.parse::<Transport>().ok())
        .map_or(CONTROL, Transport::index)
}

/// Counters of one bucket, on a cache line of its own.
#[derive(Debug, Default)]
#[repr(align(64))]
pub(crate) struct Bucket {
    /// Bytes read from client sockets.
    pub(crate) bytes_received: AtomicU64,
    /// Bytes written to client sockets.
    pub(crate) bytes_sent: AtomicU64,
    /// Connections open now (tagged and not yet dropped).
    pub(crate) connections_open: AtomicU64,
    /// Connections tagged with this bucket since start.
    pub(crate) connections_accepted: AtomicU64,
    /// HTTP requests served on connections of this bucket.
    pub(crate) http_requests: AtomicU64,
    /// The part of `http_requests` the lean path answered.
    pub(crate) lean_requests: AtomicU64,
    /// Events written to clients on connections of this bucket.
    pub(crate) events_delivered: AtomicU64,
}

/// The server-wide counters, one [`Bucket`] per transport plus `control`.
#[derive(Debug, Default)]
pub(crate) struct Meters {
    /// Indexed by [`Transport::index`], then [`CONTROL`].
    pub(crate) buckets: [Bucket; BUCKETS],
    /// The sockets whose kernel counters cross-check these.
    pub(crate) kernel: Registry,
}

impl Meters {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// The per-connection side of the meter, shared by the connection's IO and its requests.
#[derive(Debug)]
pub(crate) struct ConnMeter {
    /// Where the counts go.
    meters: Arc<Meters>,
    /// Bucket index, or [`UNTAGGED`].
    tag: AtomicU8,
    /// Bytes read before the connection was tagged.
    pending_received: AtomicU64,
    /// Bytes written before the connection was tagged.
    pending_sent: AtomicU64,
    /// Dropped with the connection, so shutdown can wait until every connection has ended.
    _alive: mpsc::Sender<()>,
    /// Set when the server tracks connections for fault injection ([`crate::drop_endpoint`]).
    kill: Option<Arc<KillSwitch>>,
    /// This connection's publish rate (`POST /publish`), made at its first publish.
    publish_rate: std::sync::OnceLock<crate::rate::Gcra>,
}

impl ConnMeter {
    /// A fresh, untagged connection meter.
    pub(crate) fn new(meters: Arc<Meters>, alive: mpsc::Sender<()>) -> Self {
        ConnMeter {
            meters,
            tag: AtomicU8::new(UNTAGGED),
            pending_received: AtomicU64::new(0),
            pending_sent: AtomicU64::new(0),
            _alive: alive,
            kill: None,
            publish_rate: std::sync::OnceLock::new(),
        }
    }

    /// This connection's publish rate, made by `make` the first time.
    pub(crate) fn publish_rate(
        &self,
        make: impl FnOnce() -> crate::rate::Gcra,
    ) -> &crate::rate::Gcra {
        self.publish_rate.get_or_init(make)
    }

    /// The same meter, with a kill switch a fault request can pull.
    pub(crate) fn with_kill_switch(mut self, kill: Arc<KillSwitch>) -> Self {
        self.kill = Some(kill);
        self
    }

    /// Asks the task serving this connection to drop it (fault injection); no-op without a switch.
    pub(crate) fn kill(&self) {
        if let Some(k) = &self.kill {
            k.kill();
        }
    }

    /// Whether [`ConnMeter::kill`] was called.
    pub(crate) fn is_killed(&self) -> bool {
        self.kill.as_ref().is_some_and(|k| k.is_killed())
    }

    /// Resolves when the connection is to be dropped; never, for a connection without a switch.
    pub(crate) async fn killed(&self) {
        match &self.kill {
            Some(k) => k.wait().await,
            None => std::future::pending().await,
        }
    }

    /// Puts the connection in `bucket` unless it already has one; credits the held bytes.
    pub(crate) fn tag(&self, bucket: usize) {
        debug_assert!(bucket < BUCKETS);
        if self
            .tag
            .compare_exchange(UNTAGGED, bucket as u8, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            let b = &self.meters.buckets[bucket];
            Meters::add(&b.connections_accepted, 1);
            Meters::add(&b.connections_open, 1);
            self.flush_pending(bucket);
        }
    }

    /// Tags the connection by its first request (see [`bucket_for_request`]) and counts the request.
    pub(crate) fn on_request(&self, path: &str, query: Option<&str>) {
        self.tag(bucket_for_request(path, query));
        Meters::add(&self.bucket().http_requests, 1);
    }

    /// Like [`ConnMeter::on_request`], for a request the lean path answers.
    pub(crate) fn on_lean_request(&self, path: &str, query: Option<&str>) {
        self.on_request(path, query);
        Meters::add(&self.bucket().lean_requests, 1);
    }

    /// The server-wide counters this connection counts into.
    pub(crate) fn meters(&self) -> &Meters {
        &self.meters
    }

    /// The connection's bucket, or `None` while it is untagged.
    pub(crate) fn bucket_index(&self) -> Option<usize> {
        let tag = self.tag.load(Ordering::Acquire);
        (tag != UNTAGGED).then_some(tag as usize)
    }

    /// Counts `n` events written to this connection's client.
    pub(crate) fn delivered(&self, n: usize) {
        Meters::add(&self.bucket().events_delivered, n as u64);
    }

    /// The counters of the connection's bucket (`control` while untagged).
    fn bucket(&self) -> &Bucket {
        let tag = self.tag.load(Ordering::Relaxed) as usize;
        &self.meters.buckets[tag.min(CONTROL)]
    }

    fn flush_pending(&self, bucket: usize) {
        let b = &self.meters.buckets[bucket];
        Meters::add(
            &b.bytes_received,
            self.pending_received.swap(0, Ordering::SeqCst),
        );
        Meters::add(&b.bytes_sent, self.pending_sent.swap(0, Ordering::SeqCst));
    }

    fn count(&self, n: usize, sent: bool) {
        let n = n as u64;
        let tag = self.tag.load(Ordering::Acquire);
        if tag != UNTAGGED {
            let b = &self.meters.buckets[tag as usize];
            Meters::add(
                if sent {
                    &b.bytes_sent
                } else {
                    &b.bytes_received
                },
                n,
            );
            return;
        }
        let pending = if sent {
            &self.pending_sent
        } else {
            &self.pending_received
        };
        pending.fetch_add(n, Ordering::SeqCst);
        // Tagged meanwhile by another thread: whoever swaps the pending count credits it.
        let tag = self.tag.load(Ordering::SeqCst);
        if tag != UNTAGGED {
            self.flush_pending(tag as usize);
        }
    }
}

impl Drop for ConnMeter {
    fn drop(&mut self) {
        self.tag(CONTROL);
        let tag = *self.tag.get_mut() as usize;
        self.meters.buckets[tag]
            .connections_open
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// A connection's meter handle, as the accept loop puts it into each request's extensions.
#[derive(Debug, Clone)]
pub(crate) struct ConnHandle(pub(crate) Arc<ConnMeter>);

/// An IO object that counts the bytes going through it into a [`ConnMeter`].
#[derive(Debug)]
pub(crate) struct Metered<S> {
    /// Declared before `inner`, so it is dropped (and the socket's final kernel counts read)
    /// while the socket is still open.
    _registration: Option<Registration>,
    inner: S,
    meter: Arc<ConnMeter>,
}

impl<S> Metered<S> {
    /// Wraps `inner`, counting into `meter`, without kernel cross-check (e.g. an in-memory pipe).
    #[cfg(test)]
    pub(crate) fn new(inner: S, meter: Arc<ConnMeter>) -> Self {
        Metered {
            _registration: None,
            inner,
            meter,
        }
    }
}

impl<S: AsRawFd> Metered<S> {
    /// Wraps socket `inner`, counting into `meter`, and registers it for the kernel cross-check.
    pub(crate) fn tracked(inner: S, meter: Arc<ConnMeter>) -> Self {
        let registration = Some(Registration::new(inner.as_raw_fd(), meter.clone()));
        Metered {
            _registration: registration,
            inner,
            meter,
        }
    }
}

/// A socket shared by reference between two tasks (the raw-TCP floor's connection task reads
/// and catches up, its topic's fan-out task writes): the same counting, on `&self`.
impl Metered<tokio::net::TcpStream> {
    /// Writes what the socket takes now of `buf` without waiting, counting it.
    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.try_write(buf)?;
        self.meter.count(n, true);
        Ok(n)
    }

    /// Reads what the socket holds now into `buf` without waiting, counting it.
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.try_read(buf)?;
        self.meter.count(n, false);
        Ok(n)
    }

    /// Reads what the socket holds now into `buf` without waiting, counting it.
    pub(crate) fn try_read_buf(&self, buf: &mut bytes::BytesMut) -> io::Result<usize> {
        let n = self.inner.try_read_buf(buf)?;
        self.meter.count(n, false);
        Ok(n)
    }

    /// Waits until the socket may be written.
    pub(crate) async fn writable(&self) -> io::Result<()> {
        self.inner.writable().await
    }

    /// Waits until the socket may be read.
    pub(crate) async fn readable(&self) -> io::Result<()> {
        self.inner.readable().await
    }

    /// The connection's meter.
    pub(crate) fn meter(&self) -> &ConnMeter {
        &self.meter
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Metered<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        self.meter.count(buf.filled().len() - before, false);
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Metered<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let n = ready!(Pin::new(&mut self.inner).poll_write(cx, buf))?;
        self.meter.count(n, true);
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let n = ready!(Pin::new(&mut self.inner).poll_write_vectored(cx, bufs))?;
        self.meter.count(n, true);
        Poll::Ready(Ok(n))
    }

    rtbench_proto::forward_io!(inner: is_write_vectored, poll_flush, poll_shutdown);
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn get(m: &Meters, bucket: usize) -> [u64; 6] {
        let b = &m.buckets[bucket];
        [
            &b.bytes_received,
            &b.bytes_sent,
            &b.connections_open,
            &b.connections_accepted,
            &b.http_requests,
            &b.events_delivered,
        ]
        .map(|c| c.load(Ordering::Relaxed))
    }

    #[tokio::test]
    async fn bytes_before_tagging_are_credited_to_the_tag() {
        let meters = Arc::new(Meters::default());
        let (alive, _rx) = mpsc::channel(1);
        let meter = Arc::new(ConnMeter::new(meters.clone(), alive));
        let (a, mut b) = tokio::io::duplex(64);
        let mut io = Metered::new(a, meter.clone());
        b.write_all(b"GET /sse").await.unwrap();
        let mut buf = [0u8; 8];
        io.read_exact(&mut buf).await.unwrap();
        assert_eq!(
            get(&meters, CONTROL),
            [0; 6],
            "nothing credited before tagging"
        );
        meter.on_request("/sse", Some("topic=t"));
        io.write_all(b"ok").await.unwrap();
        meter.delivered(3);
        let sse = Transport::Sse.index();
        assert_eq!(get(&meters, sse), [8, 2, 1, 1, 1, 3]);
        meter.on_request("/publish", Some("topic=t&transport=tcp"));
        assert_eq!(get(&meters, sse)[4], 2, "later requests keep the first tag");
        drop(io);
        drop(meter);
        assert_eq!(get(&meters, sse)[2], 0, "open gauge falls on drop");
    }

    #[test]
    fn untagged_connection_is_control_on_drop() {
        let meters = Arc::new(Meters::default());
        let (alive, _rx) = mpsc::channel(1);
        let meter = ConnMeter::new(meters.clone(), alive);
        meter.count(5, false);
        drop(meter);
        assert_eq!(get(&meters, CONTROL), [5, 0, 0, 1, 0, 0]);
        assert_eq!(bucket_for_path("/longpoll"), Transport::LongPoll.index());
        let publish = |q| bucket_for_request("/publish", q);
        assert_eq!(
            publish(Some("topic=t&transport=sse")),
            Transport::Sse.index()
        );
        assert_eq!(
            publish(Some("transport=long_poll&topic=t")),
            Transport::LongPoll.index()
        );
        assert_eq!(publish(Some("topic=t")), CONTROL);
        assert_eq!(publish(Some("topic=t&transport=pigeon")), CONTROL);
        assert_eq!(publish(None), CONTROL);
        assert_eq!(
            bucket_for_request("/sse", Some("transport=tcp")),
            Transport::Sse.index()
        );
        assert_eq!(bucket_label(CONTROL), "control");
        assert_eq!(bucket_label(Transport::Tcp.index()), "tcp");
    }
}
