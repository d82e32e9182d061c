//! `rtbench write-cost`: what one plain `write()` of a floor-sized frame to a loopback socket costs
//! the writing thread on this machine, with as many sockets as clients — the floor's lower bound.
//!
//! A writer thread (pinned to one CPU) writes one frame to every socket in turn with
//! `std::io::Write`, `--events` rounds after `--warmup-rounds` uncounted ones, and reads its own
//! CPU time around each round
//! (`CLOCK_THREAD_CPUTIME_ID`, the thread's CPU as `getrusage(RUSAGE_THREAD)` counts it, in ns).
//! The other ends are drained by a child process of this binary (`drain.rs`, pinned to another
//! CPU, blocked in `epoll_wait` between rounds as a client is), which reports each round drained on
//! its stdout, so rounds never pile up in socket buffers and the writer's idle time is not counted.
//! The figure is CPU µs per write, the median of `--repetitions` repetitions. Only this process's
//! ends count against its open-files limit (the child holds the others), so `--clients` goes up
//! to that limit. Hand-written: no crate measures this; it is a loop around `write(2)`.

mod drain;
mod in_run;

pub(crate) use in_run::{print_floor_ratio, with_calibration};

use crate::placement;
use anyhow::{Context, bail};
use clap::Args;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// Open files this process needs besides one per socket (stdio, listener, pipes, runtime).
const FD_MARGIN: u64 = 64;
/// Longest a whole measurement may take, connecting included.
const DEADLINE: Duration = Duration::from_secs(120);
/// Most sockets, rounds and repetitions accepted.
const MAX_CLIENTS: usize = 1_000_000;
const MAX_EVENTS: usize = 10_000;
const MAX_REPETITIONS: usize = 50;
const MAX_INTERVAL: Duration = Duration::from_secs(5);
/// Uncounted rounds before the measured ones, by default: past TCP's quick-ack phase.
pub const DEFAULT_WARMUP_ROUNDS: usize = 20;
/// Frame sizes accepted, bytes (a 4-byte length prefix and at least one byte of body).
const BYTES_RANGE: std::ops::RangeInclusive<usize> = 5..=65_536;

/// Flags of `rtbench write-cost`.
#[derive(Debug, Clone, Args)]
pub struct WriteCostArgs {
    /// Loopback sockets written in turn (one per simulated client).
    #[arg(long)]
    pub clients: usize,
    /// Bytes per write: the floor's frame (4-byte length prefix and a 175-byte event body at the
    /// dashboard's 128-byte payload is 179).
    #[arg(long, default_value_t = 180)]
    pub bytes: usize,
    /// Rounds (one write to every socket each) per repetition.
    #[arg(long, default_value_t = 20)]
    pub events: usize,
    /// Repetitions; the median is reported.
    #[arg(long, default_value_t = 5)]
    pub repetitions: usize,
    /// Rounds written first and not counted. A new connection's receiver acknowledges its first
    /// segments (about 16) at once, which costs the writer about 2 µs a write more on loopback.
    #[arg(long, default_value_t = DEFAULT_WARMUP_ROUNDS)]
    pub warmup_rounds: usize,
    /// Pause before each counted round, milliseconds (0: back to back). A floor server writes
    /// each socket once per event: `1000 / rate` reproduces its pace, caches going cold between.
    #[arg(long, default_value_t = 0)]
    pub interval_ms: u64,
    /// CPU the writer thread is pinned to [default: the last allowed one, the server's in `run`].
    #[arg(long)]
    pub writer_cpu: Option<usize>,
    /// CPU the draining process is pinned to [default: the first allowed one].
    #[arg(long)]
    pub reader_cpu: Option<usize>,
    /// Internal: be the draining process, connecting to this address.
    #[arg(long, hide = true)]
    pub drain_to: Option<SocketAddr>,
}

/// What one measurement asks for.
#[derive(Debug, Clone)]
pub struct Params {
    /// Sockets written in turn.
    pub clients: usize,
    /// Bytes per write.
    pub bytes: usize,
    /// Rounds per repetition.
    pub events: usize,
    /// Repetitions.
    pub repetitions: usize,
    /// Uncounted rounds first.
    pub warmup_rounds: usize,
    /// Pause before each counted round.
    pub interval: Duration,
    /// The writer's CPU, if pinned.
    pub writer_cpu: Option<usize>,
    /// The drainer's CPU, if pinned.
    pub reader_cpu: Option<usize>,
}

/// The writer thread's CPU per write, µs.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteCost {
    /// Median over the repetitions.
    pub median_us: f64,
    /// Least repetition.
    pub min_us: f64,
    /// Greatest repetition.
    pub max_us: f64,
}

/// Runs the command.
pub fn write_cost_cmd(args: WriteCostArgs) -> anyhow::Result<()> {
    let allowed = placement::allowed_cpus();
    let params = Params {
        clients: args.clients,
        bytes: args.bytes,
        events: args.events,
        repetitions: args.repetitions,
        warmup_rounds: args.warmup_rounds,
        interval: Duration::from_millis(args.interval_ms),
        writer_cpu: args.writer_cpu.or_else(|| allowed.last().copied()),
        reader_cpu: args.reader_cpu.or_else(|| allowed.first().copied()),
    };
    check(&params)?;
    if let Some(addr) = args.drain_to {
        return drain::drain(addr, &params);
    }
    let cost = measure(&params)?;
    println!(
        "plain write(): {} B to each of {} loopback sockets, {} rounds {} ms apart (after {} \
         warm-up) x {} repetitions: {:.2} µs writer CPU per write (median; min {:.2}, max {:.2})",
        params.bytes,
        params.clients,
        params.events,
        params.interval.as_millis(),
        params.warmup_rounds,
        params.repetitions,
        cost.median_us,
        cost.min_us,
        cost.max_us
    );
    Ok(())
}

/// Rejects a parameter out of range, in one line.
pub fn check(p: &Params) -> anyhow::Result<()> {
    if p.clients == 0 || p.clients > MAX_CLIENTS {
        bail!(
            "--clients must be between 1 and {MAX_CLIENTS}, not {}",
            p.clients
        );
    }
    if !BYTES_RANGE.contains(&p.bytes) {
        bail!(
            "--bytes must be between {} and {}, not {}",
            BYTES_RANGE.start(),
            BYTES_RANGE.end(),
            p.bytes
        );
    }
    if p.events == 0 || p.events > MAX_EVENTS {
        bail!(
            "--events must be between 1 and {MAX_EVENTS}, not {}",
            p.events
        );
    }
    if p.interval > MAX_INTERVAL {
        bail!(
            "--interval-ms must be at most {}, not {}",
            MAX_INTERVAL.as_millis(),
            p.interval.as_millis()
        );
    }
    if p.warmup_rounds > MAX_EVENTS {
        bail!(
            "--warmup-rounds must be at most {MAX_EVENTS}, not {}",
            p.warmup_rounds
        );
    }
    if p.repetitions == 0 || p.repetitions > MAX_REPETITIONS {
        bail!(
            "--repetitions must be between 1 and {MAX_REPETITIONS}, not {}",
            p.repetitions
        );
    }
    // Online CPUs, not this thread's mask: `run` calls this from a thread pinned to the load
    // generator's CPU and pins the writer to the server's.
    // SAFETY: sysconf has no preconditions.
    let online = usize::try_from(unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }).unwrap_or(0);
    for cpu in [p.writer_cpu, p.reader_cpu].into_iter().flatten() {
        if cpu >= online {
            bail!("cpu {cpu} is not one of this machine's {online} online CPUs");
        }
    }
    Ok(())
}

/// Measures the writer's CPU per write as `p` asks.
pub fn measure(p: &Params) -> anyhow::Result<WriteCost> {
    check(p)?;
    let limit = crate::rlimit::raise_open_files_limit();
    let needed = p.clients as u64 + FD_MARGIN;
    if needed > limit {
        bail!(
            "write-cost --clients {} needs {needed} open files and the limit is {limit} (raise it: ulimit -n)",
            p.clients
        );
    }
    let deadline = Instant::now() + DEADLINE;
    let listener = TcpListener::bind("127.0.0.1:0").context("binding a loopback listener")?;
    let mut child = spawn_drainer(listener.local_addr()?, p)?;
    let result = connect_and_write(&listener, &mut child, p, deadline);
    drop(listener);
    // The child exits once every socket is closed (they are, by now) or its stdin closes.
    drop(child.stdin.take());
    if wait_bounded(&mut child, Duration::from_secs(5)).is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let mut per_rep = result?;
    per_rep.sort_by(f64::total_cmp);
    Ok(WriteCost {
        median_us: per_rep[per_rep.len() / 2],
        min_us: per_rep[0],
        max_us: per_rep[per_rep.len() - 1],
    })
}

/// Starts this binary as the draining process.
fn spawn_drainer(addr: SocketAddr, p: &Params) -> anyhow::Result<Child> {
    let exe = std::env::current_exe().context("finding this binary")?;
    let mut cmd = Command::new(exe);
    cmd.arg("write-cost")
        .args(["--clients", &p.clients.to_string()])
        .args(["--bytes", &p.bytes.to_string()])
        .args(["--events", &p.events.to_string()])
        .args(["--repetitions", &p.repetitions.to_string()])
        .args(["--drain-to", &addr.to_string()]);
    if let Some(cpu) = p.reader_cpu {
        cmd.args(["--reader-cpu", &cpu.to_string()]);
    }
    if let Some(cpu) = p.writer_cpu {
        cmd.args(["--writer-cpu", &cpu.to_string()]);
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the draining process")
}

/// Waits up to `timeout` for `child` to exit.
fn wait_bounded(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// Accepts the child's connections, then writes every repetition; µs per write per repetition.
fn connect_and_write(
    listener: &TcpListener,
    child: &mut Child,
    p: &Params,
    deadline: Instant,
) -> anyhow::Result<Vec<f64>> {
    listener.set_nonblocking(true)?;
    let mut sockets = Vec::with_capacity(p.clients);
    while sockets.len() < p.clients {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false)?;
                s.set_nodelay(true)?;
                sockets.push(s);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() > deadline || child.try_wait()?.is_some() {
                    bail!(
                        "the draining process connected {} of {} sockets",
                        sockets.len(),
                        p.clients
                    );
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => return Err(e).context("accepting a loopback connection"),
        }
    }
    let progress = BufReader::new(child.stdout.take().context("the child's stdout")?);
    let writer_cpu = p.writer_cpu;
    let (params, sockets) = (p.clone(), &mut sockets);
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                if let Some(cpu) = writer_cpu {
                    placement::pin_current_thread(&[cpu])?;
                }
                write_rounds(sockets, progress, &params, deadline)
            })
            .join()
            .map_err(|_| anyhow::anyhow!("the writer thread panicked"))?
    })
}

/// The writer: `p.events` rounds of one frame to every socket, per repetition; the thread's CPU
/// per write, µs, per repetition.
fn write_rounds(
    sockets: &mut [TcpStream],
    mut progress: BufReader<ChildStdout>,
    p: &Params,
    deadline: Instant,
) -> anyhow::Result<Vec<f64>> {
    let mut frame = vec![b'x'; p.bytes];
    let body = u32::try_from(p.bytes - 4).expect("bytes are bounded");
    frame[..4].copy_from_slice(&body.to_be_bytes());
    let mut line = String::new();
    // Warm-up rounds first, not counted: a new connection's receiver acknowledges its first
    // segments at once (TCP quick-ack), and on loopback the writer's thread pays for those ACKs.
    for _ in 0..p.warmup_rounds {
        for s in sockets.iter_mut() {
            s.write_all(&frame)
                .context("writing to a loopback socket")?;
        }
        line.clear();
        if progress.read_line(&mut line)? == 0 {
            bail!("the draining process ended early");
        }
    }
    let mut per_rep = Vec::with_capacity(p.repetitions);
    for _ in 0..p.repetitions {
        let mut cpu_ns = 0u64;
        for _ in 0..p.events {
            std::thread::sleep(p.interval);
            let start = thread_cpu_ns();
            for s in sockets.iter_mut() {
                s.write_all(&frame)
                    .context("writing to a loopback socket")?;
            }
            cpu_ns += thread_cpu_ns().saturating_sub(start);
            // Wait (not counted) until the round is drained, so rounds never pile up.
            line.clear();
            if progress.read_line(&mut line)? == 0 {
                bail!("the draining process ended early");
            }
            if Instant::now() > deadline {
                bail!(
                    "write-cost took longer than {} s; ask for fewer --clients, --events or --repetitions",
                    DEADLINE.as_secs()
                );
            }
        }
        let writes = (p.clients * p.events) as f64;
        per_rep.push(cpu_ns as f64 / 1000.0 / writes);
    }
    Ok(per_rep)
}

/// CPU time of the calling thread, ns.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    u64::try_from(ts.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(ts.tv_nsec).unwrap_or(0)
}
