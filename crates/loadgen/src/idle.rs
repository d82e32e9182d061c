//! The idle scenario ("memory per connection" and "idle cost per client"; docs/model.md): for each
//! transport, N clients connect and subscribe, then sit through a window in which nothing is
//! published.
//!
//! 1. the server's RSS (from `/metrics`) and the kernel's TCP buffer memory (`/proc/net/sockstat`)
//!    are read;
//! 2. the N clients connect, at most [`CONNECT_BATCH`] at a time, and the phase waits until the
//!    server itself reports N open connections of the transport (a long-poll or short-poll
//!    connection counts once its first request arrived), then [`SETTLE`];
//! 3. both memories are read again: growth ÷ N is the memory per connection *at connect*;
//! 4. the idle window runs with no events: short-poll clients keep polling, long-poll requests are
//!    answered empty at their timeout and re-issued, SSE streams carry keep-alive comments;
//!    bytes (both ways, on the server's sockets), HTTP requests and server CPU over the window,
//!    ÷ N ÷ seconds, are the idle cost per client; the server's RSS growth at the window's end,
//!    ÷ N, is the memory per connection (after a whole idle cycle: a long-poll connection that
//!    has answered once keeps hyper's write buffer, one that is still waiting has not touched it);
//! 5. the clients close, and the phase waits (bounded) until the server has seen them go.
//!
//! The default window, 30 s, is a whole multiple of the SSE keep-alive (15 s), the long-poll hold
//! (30 s) and the poll interval (500 ms), and it starts [`SETTLE`] after the last client connected;
//! so every client's periodic traffic falls inside it a whole number of times, even though N
//! clients that connected together send their keep-alives together. Other windows are allowed and
//! converge as they grow.
//!
//! Memory is best measured on a fresh server per transport (`rtbench run --scenario idle` starts
//! one each time): memory freed by one transport's connections and kept by the allocator would be
//! reused by the next one's and hide part of its growth.

use crate::clients::{self, ClientCtx};
use crate::config::{ConfigError, check, check_polling};
use crate::control::{Control, Snapshot, Target};
use crate::error::ClientError;
use crate::error::LoadError;
use crate::phase::collect;
use crate::recorder::Tally;
use crate::usage::process_cpu_us;
use crate::window;
use rtbench_proto::{Transport, mono_now_ns};
use rtbench_results::histogram::new_histogram;
use rtbench_results::{Latency, Row, floor};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Connections per transport unless told otherwise.
pub const DEFAULT_IDLE_CONNECTIONS: u64 = 2_000;
/// Most connections per transport: the server and the load generator each hold all of them open,
/// and a process may hold at most 20,000 files on the machines rtbench runs on (their open-file
/// limit).
pub const MAX_IDLE_CONNECTIONS: u64 = 18_000;
pub use crate::clients::CONNECT_BATCH;
/// Pause between the server reporting every connection and the memory reading.
pub const SETTLE: Duration = Duration::from_secs(1);
/// Interval between scrapes while waiting for the server to see connections come or go.
const WAIT_STEP: Duration = Duration::from_millis(100);
/// Longest wait for the server to see the connections close after a transport's window.
const CLOSE_WAIT: Duration = Duration::from_secs(10);
/// Scenario name of idle rows.
pub const SCENARIO: &str = "idle";

/// What the idle scenario does per transport.
#[derive(Debug, Clone, PartialEq)]
pub struct IdleConfig {
    /// Connections opened and held per transport.
    pub connections: u64,
    /// Window held with no events, after the connections are in.
    pub idle_window: Duration,
    /// Short-poll interval.
    pub poll_interval: Duration,
    /// How long each long-poll request asks to be held.
    pub longpoll_timeout: Duration,
    /// Transports to run, in order.
    pub transports: Vec<Transport>,
    /// Longest wait for all connections to be open, per transport.
    pub connect_timeout: Duration,
    /// No progress lines on stderr.
    pub quiet: bool,
}

impl Default for IdleConfig {
    fn default() -> Self {
        IdleConfig {
            connections: DEFAULT_IDLE_CONNECTIONS,
            idle_window: Duration::from_secs(30),
            poll_interval: Duration::from_millis(500),
            longpoll_timeout: Duration::from_secs(30),
            transports: Transport::DEFAULT.to_vec(),
            connect_timeout: Duration::from_secs(60),
            quiet: false,
        }
    }
}

impl IdleConfig {
    /// Checks every limit; the first broken one is the error.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check(
            (1..=MAX_IDLE_CONNECTIONS).contains(&self.connections),
            "connections",
            format!("between 1 and {MAX_IDLE_CONNECTIONS}"),
            self.connections,
        )?;
        check(
            self.idle_window >= Duration::from_millis(100),
            "idle window",
            "at least 100ms",
            format!("{:?}", self.idle_window),
        )?;
        check_polling(self.poll_interval, self.longpoll_timeout, &self.transports)
    }
}

/// Runs every configured transport in turn against one server `target` and returns a row each.
pub async fn run_idle(config: &IdleConfig, target: &Target) -> Result<Vec<Row>, LoadError> {
    config.validate()?;
    let control = Control::new(target)?;
    let mut rows = Vec::with_capacity(config.transports.len());
    for &transport in &config.transports {
        rows.push(run_idle_transport(transport, config, target, &control).await?);
    }
    Ok(floor::with_p50_ratios(rows))
}

/// Runs the idle scenario for `transport` against `target` and returns its row.
pub async fn run_idle_transport(
    transport: Transport,
    config: &IdleConfig,
    target: &Target,
    control: &Control,
) -> Result<Row, LoadError> {
    config.validate()?;
    if !config.quiet {
        eprintln!(
            "idle {transport}: {} connections, then {} s with no events ...",
            config.connections,
            config.idle_window.as_secs_f64()
        );
    }
    let base = control.scrape().await?;
    let sock_base = tcp_socket_memory_bytes();
    let (stop_tx, stop_rx) = watch::channel(false);
    let (ready_tx, ready_rx) = mpsc::channel(CONNECT_BATCH as usize);
    let ctx = ClientCtx {
        target: *target,
        topic: format!("rtbench-idle-{transport}-{:08x}", rand::random::<u32>()),
        poll_interval: config.poll_interval,
        longpoll_timeout_ms: config.longpoll_timeout.as_millis() as u64,
        expected_events: 0,
        last_seq: Arc::new(AtomicU64::new(u64::MAX)),
        stop: stop_rx,
        ready: ready_tx,
        client_id: 0,
        publish_to: None,
        received: Arc::new(AtomicU64::new(0)),
        reset: Arc::new(tokio::sync::Notify::new()),
        latencies: None,
        connect_gate: None,
        share: None,
        acks: None,
    };
    let mut tasks = JoinSet::new();
    let deadline = Instant::now() + config.connect_timeout;
    let connected = async {
        connect_all(transport, config, ctx, &mut tasks, ready_rx, deadline).await?;
        wait_for_open(transport, config.connections, control, deadline).await
    };
    if let Err(e) = connected.await {
        let _ = stop_tx.send(true);
        tasks.shutdown().await;
        return Err(e);
    }
    tokio::time::sleep(SETTLE).await;
    let (m0, c0, t0) = (control.scrape().await?, process_cpu_us(), mono_now_ns());
    let sock_connected = tcp_socket_memory_bytes();
    tokio::time::sleep(config.idle_window).await;
    let (m1, c1, t1) = (control.scrape().await?, process_cpu_us(), mono_now_ns());
    let sock_end = tcp_socket_memory_bytes();
    let _ = stop_tx.send(true);
    let tallies = collect(tasks).await;
    wait_for_closed(transport, control).await;

    let mut totals = window::totals(
        transport,
        &m0,
        &m1,
        c1.saturating_sub(c0),
        (t1 - t0) / 1_000,
    );
    let growth = |m: &Snapshot| m.server_rss_bytes as i64 - base.server_rss_bytes as i64;
    let sock_growth = |now: Option<u64>| sock_base.zip(now).map(|(a, b)| b as i64 - a as i64);
    totals.rss_growth_at_connect_bytes = Some(growth(&m0));
    totals.rss_growth_bytes = Some(growth(&m1));
    totals.socket_memory_growth_bytes = sock_growth(sock_end);
    totals.socket_memory_growth_at_connect_bytes = sock_growth(sock_connected);
    Ok(idle_row(transport, config, &tallies, totals))
}

/// Spawns the clients in batches of [`CONNECT_BATCH`], each batch once the previous one is in.
async fn connect_all(
    transport: Transport,
    config: &IdleConfig,
    ctx: ClientCtx,
    tasks: &mut JoinSet<Tally>,
    mut ready: mpsc::Receiver<Result<(), ClientError>>,
    deadline: Instant,
) -> Result<(), LoadError> {
    let n = config.connections;
    let (mut spawned, mut failed, mut first) = (0u64, 0u64, None);
    while spawned < n {
        let batch = CONNECT_BATCH.min(n - spawned);
        for _ in 0..batch {
            tasks.spawn(clients::run(transport, ctx.clone()));
        }
        spawned += batch;
        for _ in 0..batch {
            match tokio::time::timeout_at(deadline, ready.recv()).await {
                Ok(Some(Ok(()))) => {}
                Ok(Some(Err(e))) => {
                    failed += 1;
                    first.get_or_insert_with(|| e.to_string());
                }
                Ok(None) | Err(_) => {
                    first.get_or_insert_with(|| {
                        ClientError::ReadyTimeout(config.connect_timeout).to_string()
                    });
                    failed = n - (spawned - batch);
                    break;
                }
            }
        }
        if failed > 0 {
            return Err(LoadError::Connect {
                transport: transport.as_str(),
                failed,
                clients: n,
                first: first.unwrap_or_default(),
            });
        }
    }
    Ok(())
}

/// Waits until the server reports `n` open connections of `transport`.
async fn wait_for_open(
    transport: Transport,
    n: u64,
    control: &Control,
    deadline: Instant,
) -> Result<(), LoadError> {
    loop {
        let open = open_connections(&control.scrape().await?, transport);
        if open >= n {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(LoadError::Control(format!(
                "{transport}: the server reports {open} of {n} connections open in time"
            )));
        }
        tokio::time::sleep(WAIT_STEP).await;
    }
}

/// Waits (at most [`CLOSE_WAIT`]) until the server reports no open connection of `transport`.
async fn wait_for_closed(transport: Transport, control: &Control) {
    let deadline = Instant::now() + CLOSE_WAIT;
    while Instant::now() < deadline {
        match control.scrape().await {
            Ok(m) if open_connections(&m, transport) == 0 => return,
            Err(_) => return,
            Ok(_) => tokio::time::sleep(WAIT_STEP).await,
        }
    }
}

fn open_connections(m: &Snapshot, transport: Transport) -> u64 {
    m.transports[transport.index()].connections_open
}

/// The kernel's TCP buffer memory now (`/proc/net/sockstat`, `TCP: … mem <pages>`), bytes, for
/// the whole network namespace: both ends of loopback connections, other processes' too.
pub fn tcp_socket_memory_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/net/sockstat").ok()?;
    let pages = parse_sockstat_tcp_mem(&text)?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}

/// The `mem` field (pages) of the `TCP:` line of a `/proc/net/sockstat` text.
fn parse_sockstat_tcp_mem(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("TCP:"))?;
    let mut words = line.split_whitespace();
    words.find(|w| *w == "mem")?;
    words.next()?.parse().ok()
}

fn idle_row(
    transport: Transport,
    config: &IdleConfig,
    tallies: &[Tally],
    totals: rtbench_results::Totals,
) -> Row {
    let n = config.connections;
    let client_s = n as f64 * totals.window_us as f64 / 1e6;
    let per_client_s = |x: u64| (client_s > 0.0).then(|| x as f64 / client_s);
    let missing = n.saturating_sub(tallies.len() as u64);
    let per_conn = |x: Option<i64>| x.map(|b| b as f64 / n as f64);
    Row {
        scenario: SCENARIO.into(),
        transport,
        conditions: "loopback".into(),
        clients: n,
        room_size: n,
        senders: 0,
        send_rate_per_s: 0.0,
        sends: 0,
        sends_lost: 0,
        spread: None,
        lost_in_gaps: 0,
        notes: Vec::new(),
        overload: Default::default(),
        rate_per_s: 0.0,
        payload_bytes: 0,
        poll_interval_ms: config.poll_interval.as_millis() as u64,
        events: 0,
        deliveries: 0,
        lost: 0,
        duplicated: tallies.iter().map(Tally::duplicated).sum(),
        reordered: tallies.iter().map(Tally::reordered).sum(),
        client_errors: tallies.iter().filter(|t| t.error.is_some()).count() as u64 + missing,
        reconnects: 0,
        latency_us: Latency::default(),
        ratio_to_floor_p50: None,
        bytes_per_delivery: 0.0,
        requests_per_delivery: 0.0,
        server_cpu_us_per_delivery: 0.0,
        server_measured: true,
        client_cpu_us_per_delivery: 0.0,
        packets_per_delivery: None,
        kernel_bytes_per_delivery: None,
        meter_kernel_disagreement_pct: window::disagreement_pct(&totals),
        connections: Some(n),
        memory_per_connection_bytes: per_conn(totals.rss_growth_bytes),
        memory_per_connection_at_connect_bytes: per_conn(totals.rss_growth_at_connect_bytes),
        kernel_socket_memory_per_connection_bytes: per_conn(totals.socket_memory_growth_bytes),
        idle_bytes_per_client_s: per_client_s(totals.bytes_to_clients + totals.bytes_from_clients),
        idle_requests_per_client_s: per_client_s(totals.http_requests),
        idle_server_cpu_us_per_client_s: per_client_s(totals.server_cpu_us),
        totals,
        client: rtbench_results::Client::Rust,
        latency_histogram: new_histogram(),
        ack: None,
        shards: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockstat_and_limits() {
        let text =
            "sockets: used 35\nTCP: inuse 4 orphan 0 tw 0 alloc 4 mem 7\nUDP: inuse 0 mem 3\n";
        assert_eq!(parse_sockstat_tcp_mem(text), Some(7));
        assert_eq!(parse_sockstat_tcp_mem("UDP: inuse 0 mem 3\n"), None);
        IdleConfig::default().validate().unwrap();
        let bad = IdleConfig {
            connections: MAX_IDLE_CONNECTIONS + 1,
            ..IdleConfig::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .starts_with("connections must be")
        );
    }
}
