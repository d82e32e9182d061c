//! The kernel's own count of every transport's traffic, to cross-check the byte meter
//! ([`crate::meter`]) and to count TCP segments, which no user-space meter can see.
//!
//! Every accepted socket is registered here (one lock at accept, one at close — never per message).
//! A scrape ([`Registry::sweep`]) reads `TCP_INFO` and the two socket queues of every open socket
//! and adds the final values of the sockets closed since the server started, read just before each
//! was closed. Sums go to the bucket of the connection's meter; a connection not yet tagged is left
//! out, as the meter leaves out the bytes it holds for it.
//!
//! **Why the queues.** `tcpi_bytes_acked` counts bytes the peer has acknowledged, so at any instant
//! it lags what the server wrote by the bytes still in flight or unsent; `tcpi_bytes_received`
//! leads what the server read by the bytes waiting in the receive queue. The meter counts at the
//! application's edge of the socket (bytes handed to `write`, bytes returned by `read`). Reading
//! `SIOCOUTQ` (written, not yet acknowledged) and `SIOCINQ` (received, not yet read) in the same
//! pass moves the kernel's count to that same edge: `acked + send queue` is what the kernel was
//! given to send, `received − receive queue` what it handed over. Both counts are then taken the
//! same way at the same instant, and a window delta of either is independent of how many ACKs were
//! in flight when the window's edges were scraped.

use crate::meter::{BUCKETS, ConnMeter};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// One socket's (or a sum of sockets') kernel counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct KernelCounts {
    /// Bytes the peer acknowledged (`tcpi_bytes_acked`).
    pub(crate) bytes_acked: u64,
    /// Bytes received in order (`tcpi_bytes_received`).
    pub(crate) bytes_received: u64,
    /// Segments sent (`tcpi_segs_out`).
    pub(crate) segs_out: u64,
    /// Segments received (`tcpi_segs_in`).
    pub(crate) segs_in: u64,
    /// Bytes written but not yet acknowledged (`SIOCOUTQ`).
    pub(crate) send_queue: u64,
    /// Bytes received but not yet read (`SIOCINQ`).
    pub(crate) receive_queue: u64,
    /// Sockets summed.
    pub(crate) sockets: u64,
}

impl KernelCounts {
    fn add(&mut self, o: &KernelCounts) {
        self.bytes_acked += o.bytes_acked;
        self.bytes_received += o.bytes_received;
        self.segs_out += o.segs_out;
        self.segs_in += o.segs_in;
        self.send_queue += o.send_queue;
        self.receive_queue += o.receive_queue;
        self.sockets += o.sockets;
    }
}

/// Reads the counters of TCP socket `fd`; `None` if it is not a TCP socket (or the kernel is too
/// old to have `tcpi_segs_in`).
pub(crate) fn read_counts(fd: RawFd) -> Option<KernelCounts> {
    // SAFETY: tcp_info is plain integers; all-zero is a valid value.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: `info` is writable for `len` bytes and `len` is a valid socklen_t; the kernel writes at
    // most `len` bytes and stores the length it wrote.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast(),
            &mut len,
        )
    };
    let needed = std::mem::offset_of!(libc::tcp_info, tcpi_segs_in) + 4;
    if rc != 0 || (len as usize) < needed {
        return None;
    }
    Some(KernelCounts {
        bytes_acked: info.tcpi_bytes_acked,
        bytes_received: info.tcpi_bytes_received,
        segs_out: u64::from(info.tcpi_segs_out),
        segs_in: u64::from(info.tcpi_segs_in),
        send_queue: queue_bytes(fd, libc::TIOCOUTQ),
        receive_queue: queue_bytes(fd, libc::FIONREAD),
        sockets: 1,
    })
}

/// `SIOCOUTQ` (= `TIOCOUTQ`) or `SIOCINQ` (= `FIONREAD`) of `fd`, 0 when the kernel refuses.
fn queue_bytes(fd: RawFd, request: libc::Ioctl) -> u64 {
    let mut bytes: libc::c_int = 0;
    // SAFETY: both requests write one int through the pointer.
    let rc = unsafe { libc::ioctl(fd, request, &mut bytes as *mut libc::c_int) };
    if rc == 0 { bytes.max(0) as u64 } else { 0 }
}

/// CPU time of the calling thread, microseconds.
fn thread_cpu_us() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is always valid on Linux.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } != 0 {
        return 0;
    }
    ts.tv_sec.max(0) as u64 * 1_000_000 + ts.tv_nsec.max(0) as u64 / 1_000
}

/// What the lock guards: the open sockets and the final counts of the closed ones.
#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    /// Open sockets by registration id: the fd and the meter whose tag says its bucket.
    open: HashMap<u64, (RawFd, Arc<ConnMeter>)>,
    /// Final counts of closed sockets, per bucket.
    closed: [KernelCounts; BUCKETS],
}

/// The registry of the server's sockets.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    inner: Mutex<Inner>,
    /// CPU spent in [`Registry::sweep`], microseconds.
    sweep_cpu_us: AtomicU64,
}

impl Registry {
    /// Registers socket `fd` of the connection metered by `meter`.
    fn register(&self, fd: RawFd, meter: Arc<ConnMeter>) -> u64 {
        let mut inner = self.inner.lock();
        let id = inner.next_id;
        inner.next_id += 1;
        inner.open.insert(id, (fd, meter));
        id
    }

    /// Reads the final counts of registration `id` into its bucket and forgets it. Must run
    /// before the socket is closed, so its fd cannot have been reused.
    fn close(&self, id: u64) {
        let mut inner = self.inner.lock();
        let Some((fd, meter)) = inner.open.remove(&id) else {
            return;
        };
        let bucket = meter.bucket_index().unwrap_or(crate::meter::CONTROL);
        if let Some(counts) = read_counts(fd) {
            inner.closed[bucket].add(&counts);
        }
    }

    /// Sums, per bucket, the counters of every open tagged socket and of every closed one.
    pub(crate) fn sweep(&self) -> [KernelCounts; BUCKETS] {
        let cpu0 = thread_cpu_us();
        let sums = {
            let inner = self.inner.lock();
            let mut sums = inner.closed;
            for s in sums.iter_mut() {
                s.sockets = 0;
            }
            for (fd, meter) in inner.open.values() {
                let Some(bucket) = meter.bucket_index() else {
                    continue;
                };
                if let Some(counts) = read_counts(*fd) {
                    sums[bucket].add(&counts);
                }
            }
            sums
        };
        self.sweep_cpu_us
            .fetch_add(thread_cpu_us().saturating_sub(cpu0), Ordering::Relaxed);
        sums
    }

    /// CPU spent reading kernel counters so far, microseconds.
    pub(crate) fn sweep_cpu_us(&self) -> u64 {
        self.sweep_cpu_us.load(Ordering::Relaxed)
    }
}

/// A socket's place in the registry; dropping it reads the socket's final counts, so it must be
/// dropped before the socket (see [`crate::meter::Metered`]'s field order).
#[derive(Debug)]
pub(crate) struct Registration {
    id: u64,
    meter: Arc<ConnMeter>,
}

impl Registration {
    /// Registers socket `fd`, metered by `meter`, in its server's registry.
    pub(crate) fn new(fd: RawFd, meter: Arc<ConnMeter>) -> Self {
        let id = meter.meters().kernel.register(fd, meter.clone());
        Registration { id, meter }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.meter.meters().kernel.close(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meter::{Metered, Meters};
    use rtbench_proto::Transport;
    use std::os::fd::AsRawFd;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::sync::mpsc;

    #[tokio::test]
    async fn counts_follow_the_socket_through_close() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        assert!(read_counts(server.as_raw_fd()).is_some());
        assert_eq!(
            read_counts(listener.as_raw_fd()).map(|c| c.bytes_acked),
            Some(0)
        );

        let meters = Arc::new(Meters::default());
        let (alive, _rx) = mpsc::channel(1);
        let meter = Arc::new(ConnMeter::new(meters.clone(), alive));
        let mut io = Metered::tracked(server, meter.clone());
        let sse = Transport::Sse.index();
        client.write_all(b"hello").await.unwrap();
        let mut buf = [0u8; 5];
        io.read_exact(&mut buf).await.unwrap();
        assert_eq!(
            meters.kernel.sweep()[sse],
            KernelCounts::default(),
            "untagged: left out"
        );
        meter.tag(sse);
        io.write_all(b"world!").await.unwrap();
        client.read_exact(&mut [0u8; 6]).await.unwrap();
        let open = meters.kernel.sweep()[sse];
        assert_eq!(open.sockets, 1);
        assert_eq!(open.bytes_acked + open.send_queue, 6);
        assert_eq!(open.bytes_received - open.receive_queue, 5);
        assert!(open.segs_in >= 2 && open.segs_out >= 2, "{open:?}");
        drop(io);
        let closed = meters.kernel.sweep()[sse];
        assert_eq!(closed.sockets, 0);
        assert_eq!(closed.bytes_acked + closed.send_queue, 6);
        assert_eq!(closed.bytes_received - closed.receive_queue, 5);
        assert!(meters.kernel.sweep_cpu_us() < 10_000_000);
    }
}
