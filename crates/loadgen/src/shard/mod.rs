//! A phase's clients split over several load-generator processes (`--loadgen-procs N`), so that
//! the load generator is not one process's CPU or open-file limit.
//!
//! The coordinator ([`coordinator`], the `rtbench run` process) builds the phase's schedule, starts
//! N shard processes (`rtbench shard`, through a [`SpawnShard`] the binary gives it) and hands each
//! one JSON [`ShardSpec`] line on stdin: the transport, the workload's configuration, the topic tag
//! and the range of client ids it runs. Each shard ([`child`]) rebuilds the same schedule from
//! the tag and the seed, connects its clients and answers [`ShardReport::Ready`]. Once every shard
//! is ready the coordinator starts the server's events and sends every shard the same time zero
//! ([`ShardStart`]), so every shard's window is the same; timestamps are CLOCK_MONOTONIC, which
//! every process on the host shares. Each shard then measures like a one-process phase and
//! answers one [`ShardResult`]: its window histogram (HdrHistogram V2 + deflate, lossless), its
//! counters, its CPU, probe lateness and RSS over the window. The coordinator adds histograms
//! with `Histogram::add` and counters into one row ([`merge`]).
//!
//! Only workloads in which clients only receive are split: client messages (chat, game,
//! collaboration), network conditions (the delay proxy) and faults run in one process
//! (`LoadConfig::validate`). Each shard writes its own latency interval log, ticked from the same
//! time zero; the coordinator merges them, interval by interval, into the phase's `.hlog`.
//!
//! Shards on other hosts ([`remote`]) speak the same lines over a TCP connection each, after a
//! [`ShardHello`]. They do not share the server's clock: each estimates its offset to it
//! ([`clock`]) before `Ready` and after the drain, takes time zero (given on the server's clock)
//! onto its own, corrects every latency by the offset and reports both estimates in its result
//! ([`ShardResult::clock`]); the row carries the larger uncertainty (`docs/distributed.md`).

pub mod child;
pub mod clock;
pub mod coordinator;
pub mod files;
pub mod remote;

pub use remote::{ShardHello, Welcome};

use crate::config::{Arrivals, LoadConfig};
use crate::control::Target;
use crate::error::LoadError;
use crate::stack::ClientTls;
use rtbench_proto::Transport;
use rtbench_results::histogram::{LatencyHistogram, as_base64, new_histogram};
use rtbench_results::{Overload, ShardClock};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::ops::Range;
use std::time::Duration;

/// Open files a load-generator process keeps beside its clients' sockets: the runtime, the
/// control client, stdio, the interval log (a margin, generous on purpose).
pub const FD_MARGIN: u64 = 256;

pub use crate::config::MAX_LOADGEN_PROCS;
pub use crate::control::SpawnShard;

/// What a phase's configuration says of a shard's workload (durations in nanoseconds): every
/// field [`crate::workload`] reads to build the schedule, so a shard rebuilds it exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardConfig {
    /// Scenario name.
    pub scenario: String,
    /// Clients of the whole phase (every shard's together).
    pub clients: u64,
    /// Server events per second per room.
    pub rate_per_s: f64,
    /// Payload bytes per event.
    pub payload_bytes: usize,
    /// Short-poll interval.
    pub poll_interval_ns: u64,
    /// Long-poll hold.
    pub longpoll_timeout_ns: u64,
    /// Warm-up.
    pub warmup_ns: u64,
    /// Measured window.
    pub window_ns: u64,
    /// Tail.
    pub tail_ns: u64,
    /// Longest drain after the last event.
    pub drain_ns: u64,
    /// Longest wait for the clients to connect.
    pub connect_timeout_ns: u64,
    /// Members per room.
    pub room_size: Option<u64>,
    /// How server events are spaced.
    pub arrivals: Arrivals,
    /// The schedule's seed.
    pub seed: u64,
    /// Probe lateness above which the shard was saturated.
    pub loadgen_lag_bound_ns: u64,
}

/// Nanoseconds of `d`, saturating.
fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl ShardConfig {
    /// The shard's part of `config`.
    pub fn of(config: &LoadConfig) -> ShardConfig {
        ShardConfig {
            scenario: config.scenario.clone(),
            clients: config.clients,
            rate_per_s: config.rate_per_s,
            payload_bytes: config.payload_bytes,
            poll_interval_ns: ns(config.poll_interval),
            longpoll_timeout_ns: ns(config.longpoll_timeout),
            warmup_ns: ns(config.warmup),
            window_ns: ns(config.window),
            tail_ns: ns(config.tail),
            drain_ns: ns(config.drain),
            connect_timeout_ns: ns(config.connect_timeout),
            room_size: config.room_size,
            arrivals: config.arrivals,
            seed: config.seed,
            loadgen_lag_bound_ns: ns(config.loadgen_lag_bound),
        }
    }

    /// The configuration a shard runs `transport` with: this, loopback, no faults, no client
    /// messages, one process.
    pub fn to_load_config(&self, transport: Transport) -> LoadConfig {
        LoadConfig {
            scenario: self.scenario.clone(),
            clients: self.clients,
            rate_per_s: self.rate_per_s,
            payload_bytes: self.payload_bytes,
            poll_interval: Duration::from_nanos(self.poll_interval_ns),
            longpoll_timeout: Duration::from_nanos(self.longpoll_timeout_ns),
            warmup: Duration::from_nanos(self.warmup_ns),
            window: Duration::from_nanos(self.window_ns),
            tail: Duration::from_nanos(self.tail_ns),
            drain: Duration::from_nanos(self.drain_ns),
            transports: vec![transport],
            connect_timeout: Duration::from_nanos(self.connect_timeout_ns),
            quiet: true,
            room_size: self.room_size,
            arrivals: self.arrivals,
            seed: self.seed,
            loadgen_lag_bound: Duration::from_nanos(self.loadgen_lag_bound_ns),
            ..LoadConfig::default()
        }
    }
}

/// The coordinator's first line to a shard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardSpec {
    /// This shard's number, from 1.
    pub shard: u32,
    /// Shards of the phase.
    pub shards: u32,
    /// The phase's transport.
    pub transport: Transport,
    /// The server's HTTP address.
    pub http: SocketAddr,
    /// The server's raw-TCP address.
    pub tcp: SocketAddr,
    /// The phase's topic tag ([`crate::workload`] names every room's topic after it).
    pub tag: String,
    /// First client id this shard runs.
    pub first_client: u32,
    /// One past its last client id.
    pub end_client: u32,
    /// The CPU to pin the shard to (`None`: not pinned).
    pub cpu: Option<usize>,
    /// Where the shard writes its latency interval log (`None`: none); the coordinator merges
    /// the shards' logs into the phase's ([`crate::interval_log::merge_files`]).
    #[serde(default)]
    pub latency_log: Option<std::path::PathBuf>,
    /// The server's certificate, PEM, when the HTTP listener speaks TLS (the shard trusts exactly
    /// it, as the coordinator does).
    #[serde(default)]
    pub tls_cert_pem: Option<String>,
    /// Whether the HTTP transports speak HTTP/2 (the `h2` stacks).
    #[serde(default)]
    pub http2: bool,
    /// Whether the shard runs on another host: it then estimates its clock's offset to the
    /// server's ([`clock`]) and converts time zero, which is on the server's clock.
    #[serde(default)]
    pub remote: bool,
    /// The workload.
    pub config: ShardConfig,
}

impl ShardSpec {
    /// The server's addresses, and the TLS trusting its certificate when it has one (built once
    /// per shard process: a target's TLS handle lives for the process).
    pub fn target(&self) -> Result<Target, LoadError> {
        let tls = match &self.tls_cert_pem {
            Some(pem) => Some(
                ClientTls::trusting(pem)
                    .map_err(|e| LoadError::Control(format!("shard TLS: {e}")))?
                    .leak(),
            ),
            None => None,
        };
        Ok(Target {
            tls,
            http2: self.http2,
            ..Target::plain(self.http, self.tcp)
        })
    }

    /// The client ids this shard runs.
    pub fn clients(&self) -> Range<u32> {
        self.first_client..self.end_client
    }
}

/// The coordinator's second line to a shard: time zero of the phase, CLOCK_MONOTONIC ns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardStart {
    /// Time zero on the server's clock (a shard on the server's host shares it).
    pub start_mono_ns: u64,
}

/// What a shard writes on stdout, one JSON line each: `Ready` once its clients are subscribed,
/// then `Done` with its result; `Failed` instead of either.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShardReport {
    /// Every client of the shard is connected and subscribed.
    Ready,
    /// The shard's result.
    Done(Box<ShardResult>),
    /// The shard could not run; the one-line reason.
    Failed {
        /// Why.
        error: String,
    },
}

/// One shard's account of a phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardResult {
    /// Latencies of the deliveries inside the window, nanoseconds (lossless encoding).
    #[serde(with = "as_base64")]
    pub window_histogram: LatencyHistogram,
    /// The shard's probe lateness over the window, nanoseconds.
    #[serde(with = "as_base64")]
    pub lag_histogram: LatencyHistogram,
    /// Distinct events its clients received (every scheduled event, not only the window's).
    pub received: u64,
    /// Scheduled events some client never received.
    pub lost: u64,
    /// Receipts of an event a client already had.
    pub duplicated: u64,
    /// Receipts of an event older than one a client already had.
    pub reordered: u64,
    /// Clients that ended with an error or never handed in their tally.
    pub client_errors: u64,
    /// Reconnections.
    pub reconnects: u64,
    /// Events announced gone by gap notices.
    pub lost_in_gaps: u64,
    /// Of the loss, what the drain's end explains (unpublished, late).
    pub behind: Overload,
    /// The shard's CPU over the window, microseconds.
    pub cpu_us: u64,
    /// The window as the shard measured it, microseconds.
    pub window_us: u64,
    /// Its RSS at the window's start and end, bytes.
    pub rss_bytes: (Option<u64>, Option<u64>),
    /// Whether the shard judged itself saturated (its CPU against its own cores, its lateness).
    pub loadgen_bound: bool,
    /// The first client error, if any.
    pub first_error: Option<String>,
    /// A remote shard's clock against the server's (`None` on the server's host).
    #[serde(default)]
    pub clock: Option<ShardClock>,
}

/// Shards' results added up: histograms by HdrHistogram addition (lossless), counters by sum.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// Every shard's window latencies.
    pub window_histogram: LatencyHistogram,
    /// Every shard's probe lateness.
    pub lag_histogram: LatencyHistogram,
    /// The counters, summed; `behind` summed, its largest lag the largest; `cpu_us` and the RSS
    /// summed; `loadgen_bound` true if any shard was saturated; `window_us` the longest;
    /// `first_error` the first shard's that has one.
    pub totals: ShardResult,
    /// Shards (from 1) that judged themselves saturated.
    pub bound_shards: Vec<u32>,
    /// The remote shards' clocks, shard 1 first (empty on the server's host).
    pub clocks: Vec<ShardClock>,
}

/// Adds `results` (shard 1 first) into one: the one merge `rtbench run`'s coordinator and
/// `rtbench merge` both use. Each shard checked its own clients for loss, duplicates and order;
/// clients are disjoint across shards, so summing keeps every client's check.
pub fn merge(results: &[ShardResult]) -> Merged {
    let mut t = ShardResult {
        window_histogram: new_histogram(),
        lag_histogram: new_histogram(),
        received: 0,
        lost: 0,
        duplicated: 0,
        reordered: 0,
        client_errors: 0,
        reconnects: 0,
        lost_in_gaps: 0,
        behind: Overload::default(),
        cpu_us: 0,
        window_us: 0,
        rss_bytes: (None, None),
        loadgen_bound: false,
        first_error: None,
        clock: None,
    };
    let mut bound_shards = Vec::new();
    let clocks = results.iter().filter_map(|r| r.clock.clone()).collect();
    let add = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    };
    for (i, r) in results.iter().enumerate() {
        // Same bounds and precision everywhere (new_histogram): adding cannot fail.
        let _ = t.window_histogram.add(&r.window_histogram);
        let _ = t.lag_histogram.add(&r.lag_histogram);
        t.received += r.received;
        t.lost += r.lost;
        t.duplicated += r.duplicated;
        t.reordered += r.reordered;
        t.client_errors += r.client_errors;
        t.reconnects += r.reconnects;
        t.lost_in_gaps += r.lost_in_gaps;
        t.behind.unpublished += r.behind.unpublished;
        t.behind.late += r.behind.late;
        t.behind.late_clients += r.behind.late_clients;
        t.behind.late_max_behind_events =
            (t.behind.late_max_behind_events).max(r.behind.late_max_behind_events);
        t.cpu_us += r.cpu_us;
        t.window_us = t.window_us.max(r.window_us);
        t.rss_bytes = (
            add(t.rss_bytes.0, r.rss_bytes.0),
            add(t.rss_bytes.1, r.rss_bytes.1),
        );
        if r.loadgen_bound {
            t.loadgen_bound = true;
            bound_shards.push(i as u32 + 1);
        }
        if t.first_error.is_none() {
            t.first_error = r.first_error.clone();
        }
    }
    Merged {
        window_histogram: t.window_histogram.clone(),
        lag_histogram: t.lag_histogram.clone(),
        totals: t,
        bound_shards,
        clocks,
    }
}

/// Client ids `0..clients` in `procs` contiguous ranges, as even as can be (the first ones one
/// larger); never an empty range (`procs` at most `clients`).
pub fn split(clients: u32, procs: u32) -> Vec<Range<u32>> {
    let procs = procs.clamp(1, clients.max(1));
    let (base, extra) = (clients / procs, clients % procs);
    let mut first = 0;
    (0..procs)
        .map(|i| {
            let n = base + u32::from(i < extra);
            let range = first..first + n;
            first += n;
            range
        })
        .collect()
}

/// Load-generator processes a phase of `clients` needs when each may hold `open_files_limit`
/// files: `requested`, or more when a share of the clients (plus [`FD_MARGIN`]) would not fit.
/// `None` when even one client per process would not fit.
pub fn procs_needed(clients: u64, requested: u32, open_files_limit: u64) -> Option<u32> {
    let per_proc = open_files_limit.checked_sub(FD_MARGIN).filter(|&n| n > 0)?;
    let needed = clients.div_ceil(per_proc);
    let procs = u64::from(requested).max(needed);
    u32::try_from(procs)
        .ok()
        .filter(|&p| p <= MAX_LOADGEN_PROCS)
}

/// This host's name (`/proc/sys/kernel/hostname`; `unknown` when it cannot be read).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// This process's soft limit on open files (`u64::MAX` when it cannot be read or is unlimited).
pub fn open_files_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0
        || lim.rlim_cur == libc::RLIM_INFINITY
    {
        return u64::MAX;
    }
    lim.rlim_cur
}

/// Fails with one line when a process of this phase would need more open files than this
/// process may open: its share of the clients, plus [`FD_MARGIN`].
pub(crate) fn check_open_files(config: &LoadConfig) -> Result<(), LoadError> {
    let limit = open_files_limit();
    let procs = u64::from(config.loadgen_procs.max(1));
    let share = config.clients.div_ceil(procs);
    if share.saturating_add(FD_MARGIN) <= limit {
        return Ok(());
    }
    Err(LoadError::OpenFiles(format!(
        "{} clients over {procs} load-generator process(es) need {} open files each, over the limit of {limit} (ulimit -n); use --loadgen-procs {}",
        config.clients,
        share + FD_MARGIN,
        procs_needed(config.clients, 1, limit).map_or("more".into(), |p| p.to_string())
    )))
}

#[cfg(test)]
mod remote_tests;
#[cfg(test)]
mod tests;
