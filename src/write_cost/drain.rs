//! The draining side of `rtbench write-cost`: a child process that opens the sockets, reads
//! whatever arrives (blocked in `epoll_wait` when nothing has, as a client is) and prints one line
//! per round drained. It ends when every socket has closed or its stdin has (the writer is gone).
//! Hand-written on `libc`'s epoll: a few calls, and no async runtime between the socket and the
//! figure.

use super::Params;
use crate::placement;
use anyhow::{Context, bail};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// The token of stdin in the epoll set (sockets are tokens 0..n).
const STDIN_TOKEN: u64 = u64::MAX;

/// Connects `p.clients` sockets to `addr` and drains them until they close.
pub(super) fn drain(addr: SocketAddr, p: &Params) -> anyhow::Result<()> {
    if let Some(cpu) = p.reader_cpu {
        placement::pin_current_thread(&[cpu])?;
    }
    crate::rlimit::raise_open_files_limit();
    // SAFETY: plain syscall; the result is checked.
    let epfd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if epfd < 0 {
        return Err(std::io::Error::last_os_error()).context("epoll_create1");
    }
    // SAFETY: `epfd` is a new descriptor this function owns.
    let epoll = unsafe { OwnedFd::from_raw_fd(epfd) };
    let mut sockets = connect_all(addr, p.clients, &epoll)?;
    watch(&epoll, 0, STDIN_TOKEN)?;
    let round_bytes = (p.clients * p.bytes) as u64;
    let (mut total, mut open, mut next) = (0u64, p.clients, round_bytes);
    let mut out = std::io::stdout().lock();
    let mut buf = vec![0u8; 64 * 1024];
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
    while open > 0 {
        // SAFETY: `events` is a valid buffer of `len` entries.
        let n = unsafe {
            libc::epoll_wait(
                epoll.as_raw_fd(),
                events.as_mut_ptr(),
                events.len() as i32,
                -1,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            return Err(e).context("epoll_wait");
        }
        for ev in &events[..n as usize] {
            let token = ev.u64;
            if token == STDIN_TOKEN {
                return Ok(());
            }
            let slot = &mut sockets[token as usize];
            let Some(s) = slot else { continue };
            match read_all(s, &mut buf)? {
                (got, false) => total += got,
                (got, true) => {
                    total += got;
                    *slot = None;
                    open -= 1;
                }
            }
        }
        while total >= next {
            writeln!(out, "{next}")?;
            out.flush()?;
            next += round_bytes;
        }
    }
    Ok(())
}

/// Opens `n` non-blocking connections to `addr`, each watched by `epoll` with its index as token.
fn connect_all(
    addr: SocketAddr,
    n: usize,
    epoll: &OwnedFd,
) -> anyhow::Result<Vec<Option<TcpStream>>> {
    let mut sockets = Vec::with_capacity(n);
    for i in 0..n {
        let s = TcpStream::connect(addr).with_context(|| format!("connecting socket {i}"))?;
        s.set_nonblocking(true)?;
        watch(epoll, s.as_raw_fd(), i as u64)?;
        sockets.push(Some(s));
    }
    Ok(sockets)
}

/// Adds `fd` to the epoll set, level-triggered, for reading.
fn watch(epoll: &OwnedFd, fd: i32, token: u64) -> anyhow::Result<()> {
    let mut ev = libc::epoll_event {
        events: (libc::EPOLLIN | libc::EPOLLRDHUP) as u32,
        u64: token,
    };
    // SAFETY: `ev` is valid; both descriptors are open.
    if unsafe { libc::epoll_ctl(epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) } != 0 {
        return Err(std::io::Error::last_os_error()).context("epoll_ctl");
    }
    Ok(())
}

/// Reads until the socket has nothing more; the bytes read and whether it closed.
fn read_all(s: &mut TcpStream, buf: &mut [u8]) -> anyhow::Result<(u64, bool)> {
    let mut got = 0u64;
    loop {
        match s.read(buf) {
            Ok(0) => return Ok((got, true)),
            Ok(n) => got += n as u64,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok((got, false)),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return Ok((got, true)),
            Err(e) => bail!("reading a loopback socket: {e}"),
        }
    }
}
