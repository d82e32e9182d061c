//! Process hygiene of the server child: it never outlives `rtbench run`, and `run` learns of its
//! death at once.
//!
//! - Every child is spawned from one thread that lives as long as the process, with
//!   `PR_SET_PDEATHSIG(SIGKILL)`: the kernel kills the child when its parent *thread* exits, so a
//!   short-lived spawner (e.g. tokio's blocking pool, where `--restart-server-at` restarts happen)
//!   would kill a healthy server. A `SIGKILL`ed `run` takes its server with it.
//! - SIGTERM, SIGINT and SIGHUP to `run` stop every live child (SIGTERM, then SIGKILL after 5 s)
//!   before `run` exits with 128 + the signal's number.
//! - A thread per child waits for its exit without reaping it (`waitid` with `WNOWAIT`, so
//!   `Child::wait` still works); a death nobody asked for is reported on a `watch` channel and, as
//!   `run` cannot measure without its server, ends `run` at once with one line giving the status.
//!
//! Hand-written on `libc` (prctl, waitid, kill): no crate offers parent-death signals or a
//! non-reaping wait, and the rest is a few lines around them.

use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long a stopping server has after SIGTERM before it is killed.
pub(super) const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a child's unexpected exit status is published (shared by a child and its restarts).
pub(super) type Deaths = Arc<watch::Sender<Option<ExitStatus>>>;

/// One child's exit, as its watcher thread sees it.
#[derive(Debug, Default)]
pub(super) struct Exit {
    /// Set before `rtbench` itself stops the child: its exit is then no failure.
    expected: AtomicBool,
    /// The exit status, once the child has exited (`None` inside while it runs).
    status: Mutex<Option<Option<ExitStatus>>>,
    exited: Condvar,
}

impl Exit {
    /// Marks the coming exit as asked for.
    pub(super) fn expect(&self) {
        self.expected.store(true, Ordering::SeqCst);
    }

    /// Waits up to `limit` for the child to exit; whether it has.
    pub(super) fn wait_timeout(&self, limit: Duration) -> bool {
        let guard = self.status.lock().unwrap_or_else(|p| p.into_inner());
        let (guard, _) = self
            .exited
            .wait_timeout_while(guard, limit, |s| s.is_none())
            .unwrap_or_else(|p| p.into_inner());
        guard.is_some()
    }

    fn set(&self, status: Option<ExitStatus>) {
        *self.status.lock().unwrap_or_else(|p| p.into_inner()) = Some(status);
        self.exited.notify_all();
    }
}

/// The children alive now, for the signal handler.
static LIVE: Mutex<Vec<(u32, Arc<Exit>)>> = Mutex::new(Vec::new());

type SpawnRequest = (Command, mpsc::Sender<io::Result<Child>>);

/// Spawns `cmd` from the process-long spawner thread, with `PR_SET_PDEATHSIG(SIGKILL)`.
pub(super) fn spawn(mut cmd: Command) -> io::Result<Child> {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs in the child between fork and exec, where only async-signal-safe
    // calls are allowed: it calls prctl(2) and getppid(2), plain system calls, and allocates and
    // locks nothing (io::Error::last_os_error/from_raw_os_error only wrap an errno).
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before prctl: then nobody will signal us.
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        let started = std::thread::Builder::new()
            .name("rtbench-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            });
        if let Err(e) = started {
            eprintln!("warning: no spawner thread ({e}); the server child is spawned directly");
        }
        Mutex::new(tx)
    });
    let (reply, answer) = mpsc::channel();
    let sent = spawner
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send((cmd, reply));
    match sent {
        Ok(()) => answer
            .recv()
            .unwrap_or_else(|_| Err(io::Error::other("the spawner thread is gone"))),
        // No spawner thread: this thread then must outlive the child (the main thread does).
        Err(mpsc::SendError((mut cmd, _))) => cmd.spawn(),
    }
}

/// Watches child `pid`: registers it for the signal handler, and starts its watcher thread, which
/// publishes an unexpected exit on `deaths` and ends the process with one line.
pub(super) fn watch_child(pid: u32, deaths: Deaths) -> Arc<Exit> {
    install_signal_handler();
    let exit = Arc::new(Exit::default());
    LIVE.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((pid, exit.clone()));
    let watched = exit.clone();
    let started = std::thread::Builder::new()
        .name("rtbench-child-watch".into())
        .spawn(move || {
            let status = wait_no_reap(pid);
            watched.set(status);
            if watched.expected.load(Ordering::SeqCst) {
                return;
            }
            let status = status.unwrap_or_else(|| ExitStatus::from_raw(0));
            deaths.send_replace(Some(status));
            eprintln!("error: the server process (pid {pid}) died during the run: {status}");
            std::process::exit(1);
        });
    if let Err(e) = started {
        eprintln!("warning: the server child is not watched ({e})");
    }
    exit
}

/// Forgets child `pid` (stopped and reaped).
pub(super) fn forget(pid: u32) {
    LIVE.lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|(p, _)| *p != pid);
}

/// Blocks until child `pid` has exited, leaving it for `Child::wait` to reap; its status, or
/// `None` if it is not (or no longer) a child of ours.
fn wait_no_reap(pid: u32) -> Option<ExitStatus> {
    loop {
        // SAFETY: siginfo_t is plain data; all-zero is a valid value.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is a valid, writable siginfo_t.
        let rc = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if rc == 0 {
            // SAFETY: after a successful waitid for WEXITED, si_status is set.
            let code = unsafe { info.si_status() };
            let raw = match info.si_code {
                libc::CLD_EXITED => (code & 0xff) << 8,
                libc::CLD_DUMPED => code | 0x80,
                _ => code,
            };
            return Some(ExitStatus::from_raw(raw));
        }
        if io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return None;
        }
    }
}

/// Stops `pid` (SIGTERM, then SIGKILL after [`STOP_TIMEOUT`]) and waits for it to exit.
fn stop_now(pid: u32, exit: &Exit) {
    exit.expect();
    // SAFETY: kill(2) on a child of ours that has not been reaped (it is in LIVE).
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
    if !exit.wait_timeout(STOP_TIMEOUT) {
        // SAFETY: as above.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        exit.wait_timeout(Duration::from_secs(1));
    }
}

/// Installs, once, the SIGTERM/SIGINT/SIGHUP handler that stops every live child and exits.
fn install_signal_handler() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        if let Err(e) = start_signal_thread() {
            eprintln!("warning: no signal handling for the server child ({e})");
        }
    });
}

fn start_signal_thread() -> io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Registered here, before the first child runs, so no signal falls between spawn and handler.
    let (mut term, mut int, mut hup) = {
        let _entered = runtime.enter();
        (
            signal(SignalKind::terminate())?,
            signal(SignalKind::interrupt())?,
            signal(SignalKind::hangup())?,
        )
    };
    std::thread::Builder::new()
        .name("rtbench-signals".into())
        .spawn(move || {
            let (name, number) = runtime.block_on(async {
                tokio::select! {
                    _ = term.recv() => ("SIGTERM", libc::SIGTERM),
                    _ = int.recv() => ("SIGINT", libc::SIGINT),
                    _ = hup.recv() => ("SIGHUP", libc::SIGHUP),
                }
            });
            let live = std::mem::take(&mut *LIVE.lock().unwrap_or_else(|p| p.into_inner()));
            let started = Instant::now();
            for (pid, exit) in &live {
                stop_now(*pid, exit);
            }
            let pids: Vec<String> = live.iter().map(|(pid, _)| pid.to_string()).collect();
            match pids.is_empty() {
                true => eprintln!("rtbench: {name}: exiting"),
                false => eprintln!(
                    "rtbench: {name}: stopped the server (pid {}) in {:?}; exiting",
                    pids.join(", "),
                    started.elapsed()
                ),
            }
            std::process::exit(128 + number);
        })?;
    Ok(())
}
