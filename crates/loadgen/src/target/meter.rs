//! The client-side meter of `rtbench run --target`: for a server without rtbench's `/metrics`,
//! every measuring connection the load generator opens ([`crate::stack::connect`]; the control
//! plane's are left out) counts the bytes it reads and writes, and registers its socket so the
//! kernel's own count (`TCP_INFO`'s `tcpi_bytes_received`/`tcpi_bytes_acked`, read on every live
//! socket at a snapshot and once more as a socket closes) cross-checks it. One phase measures one
//! transport, so one process-wide meter is that transport's.
//!
//! Off unless [`enable`] is called: rtbench's own server is measured by its server-side meter,
//! and then [`wrap`] leaves every stream as it is.

use crate::stack::Stream;
use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The kernel's counts of one socket, or a sum of them, from the client's side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KernelCounts {
    /// Bytes received in order (`tcpi_bytes_received`) less those not yet read (`SIOCINQ`):
    /// what the server sent, at the edge the meter counts at.
    pub bytes_received: u64,
    /// Bytes the server acknowledged (`tcpi_bytes_acked`) plus those still queued (`SIOCOUTQ`):
    /// what the client sent.
    pub bytes_acked: u64,
    /// Segments received (`tcpi_segs_in`).
    pub segments_in: u64,
    /// Segments sent (`tcpi_segs_out`).
    pub segments_out: u64,
}

impl KernelCounts {
    fn add(&mut self, other: KernelCounts) {
        self.bytes_received += other.bytes_received;
        self.bytes_acked += other.bytes_acked;
        self.segments_in += other.segments_in;
        self.segments_out += other.segments_out;
    }
}

/// What the meter has counted so far, over every measuring connection, open or closed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MeterReading {
    /// Bytes the clients read: what the server sent.
    pub bytes_read: u64,
    /// Bytes the clients wrote: what the server received.
    pub bytes_written: u64,
    /// The kernel's counts of the same sockets.
    pub kernel: KernelCounts,
}

#[derive(Default)]
struct Sockets {
    next_id: u64,
    live: HashMap<u64, RawFd>,
    closed: KernelCounts,
}

static ENABLED: AtomicBool = AtomicBool::new(false);
static READ: AtomicU64 = AtomicU64::new(0);
static WRITTEN: AtomicU64 = AtomicU64::new(0);
static SOCKETS: Mutex<Option<Sockets>> = Mutex::new(None);

fn sockets() -> MutexGuard<'static, Option<Sockets>> {
    SOCKETS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Turns the meter on for the rest of the process: every connection [`wrap`] sees from now on is
/// counted.
pub fn enable() {
    ENABLED.store(true, Ordering::SeqCst);
}

/// Whether the meter is on.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The meter's counts now (live sockets' kernel counts read under the lock that keeps them open).
pub fn reading() -> MeterReading {
    let guard = sockets();
    let mut kernel = KernelCounts::default();
    if let Some(s) = guard.as_ref() {
        kernel = s.closed;
        for &fd in s.live.values() {
            kernel.add(read_counts(fd).unwrap_or_default());
        }
    }
    MeterReading {
        bytes_read: READ.load(Ordering::SeqCst),
        bytes_written: WRITTEN.load(Ordering::SeqCst),
        kernel,
    }
}

/// `stream`, counted when the meter is on; as it is otherwise.
pub fn wrap(stream: Stream) -> Stream {
    if !enabled() {
        return stream;
    }
    let fd = stream.tcp().as_raw_fd();
    let mut guard = sockets();
    let s = guard.get_or_insert_with(Sockets::default);
    s.next_id += 1;
    let id = s.next_id;
    s.live.insert(id, fd);
    drop(guard);
    Stream::Metered(Box::new(Metered {
        _registration: Registration(id),
        inner: stream,
    }))
}

/// A live socket's place in the meter; dropped (fields drop in order) before the socket closes,
/// so its last kernel counts are taken while the descriptor is still its own.
#[derive(Debug)]
struct Registration(u64);

impl Drop for Registration {
    fn drop(&mut self) {
        let mut guard = sockets();
        if let Some(s) = guard.as_mut()
            && let Some(fd) = s.live.remove(&self.0)
        {
            let last = read_counts(fd).unwrap_or_default();
            s.closed.add(last);
        }
    }
}

/// A counted measuring connection ([`Stream::Metered`]).
#[derive(Debug)]
pub struct Metered {
    _registration: Registration,
    /// The connection itself.
    pub inner: Stream,
}

impl AsyncRead for Metered {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        READ.fetch_add((buf.filled().len() - before) as u64, Ordering::Relaxed);
        poll
    }
}

impl AsyncWrite for Metered {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &poll {
            WRITTEN.fetch_add(*n as u64, Ordering::Relaxed);
        }
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = &poll {
            WRITTEN.fetch_add(*n as u64, Ordering::Relaxed);
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Reads the client-side kernel counts of TCP socket `fd`; `None` if it is not one.
fn read_counts(fd: RawFd) -> Option<KernelCounts> {
    // SAFETY: tcp_info is plain integers; all-zero is a valid value.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: `info` is writable for `len` bytes; the kernel writes at most `len` bytes.
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
    // Bytes received but not yet read (SIOCINQ) have not reached the meter: a load generator
    // that is behind holds some at a window edge. Left out, the edge is the same on both counts.
    // Likewise bytes written and not yet acknowledged (SIOCOUTQ) have been counted by the meter.
    Some(KernelCounts {
        bytes_received: info
            .tcpi_bytes_received
            .saturating_sub(queue_bytes(fd, libc::FIONREAD)),
        bytes_acked: info.tcpi_bytes_acked + queue_bytes(fd, libc::TIOCOUTQ),
        segments_in: u64::from(info.tcpi_segs_in),
        segments_out: u64::from(info.tcpi_segs_out),
    })
}

/// Bytes in socket `fd`'s receive (`FIONREAD`, i.e. `SIOCINQ`) or send (`TIOCOUTQ`, i.e.
/// `SIOCOUTQ`) queue; 0 when the kernel does not say.
fn queue_bytes(fd: RawFd, request: libc::Ioctl) -> u64 {
    let mut bytes: libc::c_int = 0;
    // SAFETY: both requests write one c_int to the valid pointer given.
    let rc = unsafe { libc::ioctl(fd, request, &mut bytes as *mut libc::c_int) };
    if rc == 0 { bytes.max(0) as u64 } else { 0 }
}
