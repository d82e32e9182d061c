//! The coordinator's side of a split phase ([`super`]): start the shard processes, wait until
//! every one has its clients subscribed, start the server's events, hand every shard the same time
//! zero, read the server's counters and its own CPU at the window's edges as a one-process phase
//! does, then merge the shards' results into one row.
//!
//! A shard that fails, exits or does not answer in time fails the phase with an error naming it;
//! the others are killed (the processes are killed whenever the phase ends without them).

use super::remote::{self, Connection, Link, RemoteShards};
use super::{
    MAX_LOADGEN_PROCS, Merged, ShardConfig, ShardReport, ShardResult, ShardSpec, ShardStart, clock,
    files, merge, split,
};
use crate::behind;
use crate::config::LoadConfig;
use crate::control::{Control, Target};
use crate::error::LoadError;
use crate::faults::notes::RowNotes;
use crate::interval_log;
use crate::phase::{self, Counted, STOP_GRACE};
use crate::probe::LagProbe;
use crate::progress::{PhaseProgress, Timeline};
use crate::usage::{process_cpu_us, process_rss_bytes};
use crate::window;
use crate::workload::Workload;
use futures_util::future::try_join_all;
use rtbench_proto::{Transport, mono_now_ns};
use rtbench_results::Row;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{ChildStdin, ChildStdout};

/// How much longer than the clients' connect timeout a shard may take to say it is ready.
const READY_SLACK: Duration = Duration::from_secs(10);
/// How much longer than the drain's deadline (and the clients' stop grace) a shard may take to
/// hand in its result.
const RESULT_SLACK: Duration = Duration::from_secs(20);

/// One shard of the phase: a process this coordinator started, or a remote shard's connection.
struct Shard {
    /// Its number, from 1.
    number: u32,
    /// The process, when local; killed when dropped unless it exited.
    child: Option<std::process::Child>,
    /// A remote shard's index and host (`None` when local).
    remote: Option<(u32, String)>,
    /// Lines to it, and from it.
    link: Link,
}

/// The phase's shards: local processes are killed when dropped, remote connections closed
/// unless handed back ([`Shards::give_back`]).
struct Shards {
    /// Every shard.
    all: Vec<Shard>,
    /// How many.
    count: u32,
}

impl Drop for Shards {
    fn drop(&mut self) {
        for child in self.all.iter_mut().filter_map(|s| s.child.as_mut()) {
            if matches!(child.try_wait(), Ok(None)) {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

impl Shards {
    /// The error of shard `number`.
    fn error(&self, number: u32, why: impl Into<String>) -> LoadError {
        LoadError::Shard {
            shard: number,
            shards: self.count,
            why: why.into(),
        }
    }

    /// Hands remote shards' connections back to `remote` for the next phase.
    async fn give_back(mut self, remote: &RemoteShards) {
        let links = std::mem::take(&mut self.all)
            .into_iter()
            .filter_map(|s| {
                let (index, host) = s.remote?;
                Some(Connection {
                    index,
                    host,
                    link: s.link,
                })
            })
            .collect();
        remote.give_back(links).await;
    }
}

/// Runs `transport` under `config` with its clients split over `config.loadgen_procs` shard
/// processes (or the control's remote shards); the row is built as a one-process phase builds it.
pub(crate) async fn run(
    transport: Transport,
    config: &LoadConfig,
    (target, control): (&Target, &Control),
    (progress, latency_log): (&PhaseProgress, Option<&Path>),
) -> Result<Row, LoadError> {
    let remote = control.remote_shards();
    let workload = Workload::build(transport, config)?;
    let logs: Vec<PathBuf> = match latency_log.filter(|_| remote.is_none()) {
        Some(path) => (1..=config.loadgen_procs)
            .map(|n| shard_log(path, n))
            .collect(),
        None => Vec::new(),
    };
    let mut shards = start(transport, config, &workload, (target, control), &logs).await?;
    // On another host than the server, this process's waits go by its own clock.
    let own_offset = match remote {
        Some(_) => Some(clock::estimate(control).await?),
        None => None,
    };
    let ready_wait = config.connect_timeout + READY_SLACK;
    let reports = shards.all.iter_mut().map(|s| async {
        match read_report(s, ready_wait).await {
            Ok(ShardReport::Ready) => Ok(()),
            Ok(other) => Err((s.number, unexpected(&other, "Ready"))),
            Err(why) => Err((s.number, why)),
        }
    });
    if let Err((n, why)) = try_join_all(reports).await {
        return Err(shards.error(n, why));
    }
    let (server_start, _schedule) = workload.start(config, control).await?;
    send_start(&mut shards, server_start).await?;
    let start = own_offset.map_or(server_start, |o| clock::to_local(server_start, o));
    let (from, to) = workload.window;
    let last = start + workload.last_offset();
    let deadline = last + config.drain.as_nanos() as u64;
    progress.set_timeline(Timeline {
        start,
        window: (start + from, start + to),
        last,
        deadline,
    });
    let own = measure_window(&workload, start, control).await?;
    let result_wait =
        Duration::from_nanos(deadline.saturating_sub(mono_now_ns())) + STOP_GRACE + RESULT_SLACK;
    let results = collect(&mut shards, result_wait).await?;
    match remote {
        Some(remote) => shards.give_back(remote).await,
        None => drop(shards),
    }
    // Remote shards' own accounts, kept for `rtbench merge` (their hosts keep nothing).
    if let (Some(_), Some(path)) = (remote, latency_log) {
        for (i, r) in results.iter().enumerate() {
            files::write(&files::result_path(path, i as u32 + 1), r)?;
        }
    }
    if !logs.is_empty()
        && let Some(path) = latency_log
    {
        interval_log::merge_files(&logs, path, start, transport.as_str())?;
    }
    Ok(row(transport, (config, &workload), &merge(&results), own))
}

/// Sends every shard time zero (on the server's clock).
async fn send_start(shards: &mut Shards, start_mono_ns: u64) -> Result<(), LoadError> {
    let start = ShardStart { start_mono_ns };
    for i in 0..shards.all.len() {
        let s = &mut shards.all[i];
        if let Err(e) = remote::say(&mut s.link, &start).await {
            let n = s.number;
            return Err(shards.error(n, format!("cannot send the start time: {e}")));
        }
    }
    Ok(())
}

/// Every shard's result, shard 1 first; a remote shard's clock is named by the host it
/// connected from.
async fn collect(shards: &mut Shards, wait: Duration) -> Result<Vec<ShardResult>, LoadError> {
    let count = shards.count;
    try_join_all(shards.all.iter_mut().map(|s| async {
        match read_report(s, wait).await {
            Ok(ShardReport::Done(mut r)) => {
                if let (Some(clock), Some((_, host))) = (r.clock.as_mut(), &s.remote) {
                    clock.host.clone_from(host);
                }
                Ok(*r)
            }
            Ok(other) => Err((s.number, unexpected(&other, "its result"))),
            Err(why) => Err((s.number, why)),
        }
    }))
    .await
    .map_err(|(n, why)| LoadError::Shard {
        shard: n,
        shards: count,
        why,
    })
}

/// Shard `n`'s interval log beside the phase's `path`: `latency-sse.hlog.shard2` (not `.hlog`,
/// so nothing takes it for a phase's log; removed once merged).
fn shard_log(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".shard{n}"));
    PathBuf::from(name)
}

/// Starts every shard (or takes the remote ones) and hands it its spec (and its interval log's
/// path, from `logs`).
async fn start(
    transport: Transport,
    config: &LoadConfig,
    workload: &Workload,
    (target, control): (&Target, &Control),
    logs: &[PathBuf],
) -> Result<Shards, LoadError> {
    let ranges = split(config.clients as u32, config.loadgen_procs);
    let count = (ranges.len() as u32).min(MAX_LOADGEN_PROCS);
    let spec = |i: usize, cpu: Option<usize>, remote: bool| ShardSpec {
        shard: i as u32 + 1,
        shards: count,
        transport,
        http: target.http,
        tcp: target.tcp,
        tag: workload.tag().to_owned(),
        first_client: ranges[i].start,
        end_client: ranges[i].end,
        cpu,
        latency_log: logs.get(i).cloned(),
        tls_cert_pem: target.tls.map(|t| t.cert_pem().to_owned()),
        http2: target.http2,
        remote,
        config: ShardConfig::of(config),
    };
    let mut shards = Shards {
        all: Vec::with_capacity(ranges.len()),
        count,
    };
    if let Some(remote) = control.remote_shards() {
        if remote.count() != count {
            return Err(LoadError::Control(format!(
                "{} remote shards for a phase split {count} ways",
                remote.count()
            )));
        }
        for (i, mut c) in remote.take().await?.into_iter().enumerate() {
            let said = remote::say(&mut c.link, &spec(i, None, true)).await;
            shards.all.push(Shard {
                number: i as u32 + 1,
                child: None,
                remote: Some((c.index, c.host)),
                link: c.link,
            });
            if let Err(e) = said {
                return Err(shards.error(i as u32 + 1, format!("cannot send its spec: {e}")));
            }
        }
        return Ok(shards);
    }
    let spawner = control.shard_spawner().ok_or_else(|| {
        LoadError::Control(
            "--loadgen-procs above 1 needs rtbench run, which can start shard processes".into(),
        )
    })?;
    let cpus = spawner.cpus();
    for i in 0..ranges.len() {
        let number = i as u32 + 1;
        let cpu = (!cpus.is_empty()).then(|| cpus[i % cpus.len()]);
        let shard = spawn(spawner.as_ref(), number, &spec(i, cpu, false))
            .map_err(|e| shards.error(number, format!("cannot start its process: {e}")))?;
        shards.all.push(shard);
    }
    Ok(shards)
}

/// Starts shard `number` and writes its spec line (a pipe holds one line: this does not block).
fn spawn(spawner: &dyn super::SpawnShard, number: u32, spec: &ShardSpec) -> std::io::Result<Shard> {
    use std::io::Write;
    let mut child = spawner.spawn()?;
    let (Some(mut input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
        let _ = child.kill();
        return Err(std::io::Error::other("its stdin and stdout are not piped"));
    };
    let mut line = serde_json::to_vec(spec).map_err(std::io::Error::other)?;
    line.push(b'\n');
    input.write_all(&line)?;
    Ok(Shard {
        number,
        remote: None,
        link: Link {
            input: Box::new(ChildStdin::from_std(input)?),
            output: Box::new(BufReader::new(ChildStdout::from_std(output)?)),
        },
        child: Some(child),
    })
}

/// The next report of `shard`, waiting at most `wait`; the reason when there is none.
async fn read_report(shard: &mut Shard, wait: Duration) -> Result<ShardReport, String> {
    let mut line = String::new();
    match tokio::time::timeout(wait, shard.link.output.read_line(&mut line)).await {
        Err(_) => Err(format!("no answer within {wait:?}")),
        Ok(Err(e)) => Err(format!("reading its output: {e}")),
        Ok(Ok(0)) => Err(match (&mut shard.child, &shard.remote) {
            (Some(child), _) => {
                let status = child.wait().map(|s| s.to_string());
                format!(
                    "exited without answering ({})",
                    status.unwrap_or_else(|e| e.to_string())
                )
            }
            (None, Some((index, host))) => {
                format!("index {index} on {host} closed its connection without answering")
            }
            (None, None) => "closed without answering".into(),
        }),
        Ok(Ok(_)) => match serde_json::from_str::<ShardReport>(&line) {
            Ok(ShardReport::Failed { error }) => Err(error),
            Ok(report) => Ok(report),
            Err(e) => Err(format!("unreadable answer ({e}): {}", line.trim_end())),
        },
    }
}

/// The reason for a report that is not the one expected.
fn unexpected(report: &ShardReport, expected: &str) -> String {
    let got = match report {
        ShardReport::Ready => "Ready",
        ShardReport::Done(_) => "a result",
        ShardReport::Failed { .. } => "a failure",
    };
    format!("answered {got} where {expected} was expected")
}

/// What the coordinator measures itself over the window: the server's counters at each edge,
/// its own CPU (µs), the window (µs) and its RSS at each edge.
struct Own {
    m0: crate::control::Snapshot,
    m1: crate::control::Snapshot,
    cpu_us: u64,
    window_us: u64,
    rss: (Option<u64>, Option<u64>),
}

/// Reads the server's counters and this process's CPU in the quiet gaps at the window's edges,
/// as a one-process phase does.
async fn measure_window(
    workload: &Workload,
    start: u64,
    control: &Control,
) -> Result<Own, LoadError> {
    let (from, to) = workload.window;
    phase::sleep_until_mono(start + workload.quiet_point(from)).await;
    let (m0, c0, t0) = (
        control.scrape_patiently().await?,
        process_cpu_us(),
        mono_now_ns(),
    );
    let (probe, rss0) = (LagProbe::start(), process_rss_bytes());
    phase::sleep_until_mono(start + workload.quiet_point(to)).await;
    let (m1, c1, t1) = (
        control.scrape_patiently().await?,
        process_cpu_us(),
        mono_now_ns(),
    );
    // The coordinator runs no client: its own lateness says nothing of theirs.
    drop(probe.finish().await);
    Ok(Own {
        m0,
        m1,
        cpu_us: c1.saturating_sub(c0),
        window_us: (t1 - t0) / 1_000,
        rss: (rss0, process_rss_bytes()),
    })
}

/// The row of a split phase: the shards' merged results with the coordinator's own account.
fn row(
    transport: Transport,
    (config, workload): (&LoadConfig, &Workload),
    merged: &Merged,
    own: Own,
) -> Row {
    let t = &merged.totals;
    let sum = |a: Option<u64>, b: Option<u64>| a.zip(b).map(|(a, b)| a + b);
    let cpu_us = t.cpu_us + own.cpu_us;
    let (mut overload, bound_note) = phase::with_loadgen(
        t.behind,
        (cpu_us, own.window_us),
        (&merged.lag_histogram, config.loadgen_lag_bound),
        (sum(t.rss_bytes.0, own.rss.0), sum(t.rss_bytes.1, own.rss.1)),
    );
    let mut notes = RowNotes {
        conditions: config.conditions.name.clone(),
        reconnects: t.reconnects,
        lost_in_gaps: t.lost_in_gaps,
        notes: vec![split_note(config.loadgen_procs, &merged.clocks)],
    };
    if let Some(e) = &t.first_error {
        notes.notes.push(format!("first client error: {e}"));
    }
    notes.notes.extend(behind::note(&overload));
    notes.notes.extend(bound_note);
    if !merged.bound_shards.is_empty() && !overload.loadgen_bound {
        overload.loadgen_bound = true;
        notes.notes.push(format!(
            "loadgen-bound: load-generator shard(s) {:?} were saturated during the window; this row's latency measures the load generator as much as the server",
            merged.bound_shards
        ));
    }
    let totals = window::totals(transport, &own.m0, &own.m1, cpu_us, own.window_us);
    let counted = Counted {
        hist: merged.window_histogram.clone(),
        lost: t.lost,
        duplicated: t.duplicated,
        reordered: t.reordered,
        client_errors: t.client_errors,
    };
    let mut row = phase::build_row(
        transport,
        (config, workload),
        counted,
        (notes, overload),
        0,
        totals,
    );
    row.latency_us.uncertainty_us = rtbench_results::max_uncertainty_us(&merged.clocks);
    row.shards.clone_from(&merged.clocks);
    row
}

/// The row's note on how its clients were split.
fn split_note(procs: u32, clocks: &[rtbench_results::ShardClock]) -> String {
    if clocks.is_empty() {
        return format!(
            "clients split over {procs} load-generator processes; their histograms merged losslessly"
        );
    }
    let us = |ns: i64| ns as f64 / 1_000.0;
    let named: Vec<String> = clocks
        .iter()
        .map(|c| {
            format!(
                "{} on {}: offset {:+.1} µs ± {:.1}, drift {:+.1} µs",
                c.index,
                c.host,
                us(c.start.offset_ns),
                c.start.uncertainty_ns as f64 / 1_000.0,
                us(c.drift_ns())
            )
        })
        .collect();
    format!(
        "clients split over {procs} load-generator shards on other hosts, latencies corrected by each one's clock offset to the server; their histograms merged losslessly; shards {}",
        named.join("; ")
    )
}
