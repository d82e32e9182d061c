//! One shard process's side ([`super`]): given its [`ShardSpec`], connect its clients, say
//! `Ready` (a remote shard first estimates its clock's offset to the server's, [`super::clock`]),
//! wait for time zero, measure the window exactly as a one-process phase does (the same
//! launch, drain, tallies and probe), and write one [`ShardResult`].
//!
//! Its lifetime is bounded: the wait for time zero by the connect timeout plus
//! [`START_WAIT_SLACK`], the rest by the schedule plus its drain; a closed stdin (the coordinator
//! gave up) ends it at once.

use super::{ShardReport, ShardResult, ShardSpec, ShardStart, clock};
use crate::behind;
use crate::control::Control;
use crate::error::LoadError;
use crate::interval_log::IntervalLog;
use crate::latency_sink::LatencySink;
use crate::phase::{self, Counted};
use crate::probe::{self, LagProbe};
use crate::recorder::Tally;
use crate::usage::{process_cpu_us, process_rss_bytes};
use crate::workload::{Workload, launch};
use rtbench_proto::mono_now_ns;
use rtbench_results::ShardClock;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch};

/// How much longer than the clients' connect timeout a shard waits for time zero.
pub const START_WAIT_SLACK: Duration = Duration::from_secs(60);

/// Writes `report` as one line on `out`.
async fn say<W: AsyncWrite + Unpin>(out: &mut W, report: &ShardReport) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(report).map_err(std::io::Error::other)?;
    line.push(b'\n');
    out.write_all(&line).await?;
    out.flush().await
}

/// Runs the shard `spec`: reads its [`ShardStart`] from `input`, writes its reports on `output`.
/// An error is also reported as [`ShardReport::Failed`] when `output` still works.
pub async fn serve<R, W>(spec: ShardSpec, input: R, mut output: W) -> Result<(), LoadError>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let outcome = run(&spec, input, &mut output).await;
    let report = match &outcome {
        Ok(Some(result)) => ShardReport::Done(Box::new(result.clone())),
        Ok(None) => return Ok(()),
        Err(e) => ShardReport::Failed {
            error: e.to_string(),
        },
    };
    let said = say(&mut output, &report).await;
    outcome?;
    said.map_err(|e| LoadError::Control(format!("writing the shard's result: {e}")))
}

/// The shard's phase; `None` when the coordinator closed stdin before time zero.
async fn run<R, W>(
    spec: &ShardSpec,
    mut input: R,
    output: &mut W,
) -> Result<Option<ShardResult>, LoadError>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let config = spec.config.to_load_config(spec.transport);
    let target = spec.target()?;
    let workload = Workload::build_tagged(&config, spec.tag.clone())?;
    let clients = spec.clients();
    let (stop_tx, stop_rx) = watch::channel(false);
    let (ready_tx, ready_rx) = mpsc::channel(clients.len().max(1));
    let counters = launch::Counters {
        received: Arc::new(AtomicU64::new(0)),
        sent: Arc::new(AtomicU64::new(0)),
        latencies: Arc::new(LatencySink::new()),
        acks: None,
    };
    let mut launched = launch::launch(
        spec.transport,
        &config,
        (target, clients.clone()),
        &workload,
        &stop_rx,
        &counters,
        &ready_tx,
    );
    drop(ready_tx);
    let stop_all = async |launched: &mut launch::Launched| {
        let _ = stop_tx.send(true);
        launched.clients.shutdown().await;
    };
    let control = Control::new(&target)?;
    let ready = phase::await_ready(spec.transport, &config, launched.expected_ready, ready_rx);
    let offset = async {
        ready.await?;
        match spec.remote {
            true => clock::estimate(&control).await.map(Some),
            false => Ok(None),
        }
    };
    let offset = match offset.await {
        Ok(offset) => offset,
        Err(e) => {
            stop_all(&mut launched).await;
            return Err(e);
        }
    };
    let server_start = match ready_then_start(&config, &mut input, output).await {
        Ok(Some(start)) => start,
        other => {
            stop_all(&mut launched).await;
            return other.map(|_| None);
        }
    };
    // Events are scheduled on the server's clock; this process waits on its own.
    let (from, to) = workload.window;
    counters
        .latencies
        .set_window(server_start + from, server_start + to);
    if let Some(o) = offset {
        counters.latencies.set_clock_offset(o.offset_ns);
    }
    let start = offset.map_or(server_start, |o| clock::to_local(server_start, o));
    let interval_log = match &spec.latency_log {
        Some(path) => Some(IntervalLog::start(
            counters.latencies.clone(),
            path.clone(),
            start,
            spec.transport.as_str().into(),
        )?),
        None => None,
    };
    let (cpu_us, window_us, lag, rss) = measure_window(&workload, start).await;
    let last = start + workload.last_offset();
    let deadline = last + config.drain.as_nanos() as u64;
    let members = workload.members_in(&clients);
    let receipts: u64 = members
        .iter()
        .zip(&workload.room_events)
        .map(|(&m, &e)| u64::from(m) * e)
        .sum();
    phase::await_deliveries(&counters, (receipts, 0), last, deadline).await;
    let _ = stop_tx.send(true);
    let tallies = phase::collect(launched.clients).await;
    if let Some(log) = interval_log {
        log.finish().await?;
    }
    let clock = match offset {
        Some(start) => Some(ShardClock {
            index: spec.shard.saturating_sub(1),
            host: super::host_name(),
            start,
            end: clock::estimate(&control).await?,
        }),
        None => None,
    };
    let behind = behind::at_drain_end(&workload, &tallies, &control, false).await?;
    let counted = phase::count(
        (&workload, &members),
        counters.latencies.window_histogram(),
        &tallies,
        &[],
    );
    let (judged, _) = probe::judge(
        (cpu_us, window_us),
        probe::cores_available(),
        (&lag, config.loadgen_lag_bound),
    );
    Ok(Some(ShardResult {
        clock,
        ..result(
            counted,
            (&workload, &tallies),
            behind,
            (cpu_us, window_us, lag, rss),
            (
                judged.loadgen_bound,
                counters.received.load(std::sync::atomic::Ordering::Relaxed),
            ),
        )
    }))
}

/// Says `Ready`, then waits for time zero; `None` when stdin closes first.
async fn ready_then_start<R, W>(
    config: &crate::LoadConfig,
    input: &mut R,
    output: &mut W,
) -> Result<Option<u64>, LoadError>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let io = |e: std::io::Error| LoadError::Control(format!("shard stdio: {e}"));
    say(output, &ShardReport::Ready).await.map_err(io)?;
    let mut line = String::new();
    let wait = config.connect_timeout + START_WAIT_SLACK;
    match tokio::time::timeout(wait, input.read_line(&mut line)).await {
        Err(_) => Err(LoadError::Control(format!(
            "no start time from the coordinator within {wait:?}"
        ))),
        Ok(Err(e)) => Err(io(e)),
        Ok(Ok(0)) => Ok(None),
        Ok(Ok(_)) => {
            let start: ShardStart = serde_json::from_str(&line)
                .map_err(|e| LoadError::Control(format!("bad start line: {e}")))?;
            Ok(Some(start.start_mono_ns))
        }
    }
}

/// This process's CPU (µs) and the window's length (µs), probe lateness and RSS at each edge,
/// measured between the window's quiet points as a one-process phase measures them.
async fn measure_window(
    workload: &Workload,
    start: u64,
) -> (
    u64,
    u64,
    rtbench_results::LatencyHistogram,
    (Option<u64>, Option<u64>),
) {
    let (from, to) = workload.window;
    phase::sleep_until_mono(start + workload.quiet_point(from)).await;
    let (c0, t0, rss0) = (process_cpu_us(), mono_now_ns(), process_rss_bytes());
    let probe = LagProbe::start();
    phase::sleep_until_mono(start + workload.quiet_point(to)).await;
    let (c1, t1) = (process_cpu_us(), mono_now_ns());
    let lag = probe.finish().await;
    (
        c1.saturating_sub(c0),
        (t1 - t0) / 1_000,
        lag,
        (rss0, process_rss_bytes()),
    )
}

/// The shard's result from what it gathered.
fn result(
    counted: Counted,
    (workload, tallies): (&Workload, &[(usize, Tally)]),
    behind: rtbench_results::Overload,
    (cpu_us, window_us, lag, rss): (
        u64,
        u64,
        rtbench_results::LatencyHistogram,
        (Option<u64>, Option<u64>),
    ),
    (loadgen_bound, received): (bool, u64),
) -> ShardResult {
    ShardResult {
        window_histogram: counted.hist,
        lag_histogram: lag,
        received,
        lost: counted.lost,
        duplicated: counted.duplicated,
        reordered: counted.reordered,
        client_errors: counted.client_errors,
        reconnects: tallies.iter().map(|(_, t)| t.reconnects()).sum(),
        lost_in_gaps: tallies
            .iter()
            .map(|(r, t)| t.lost_in_gaps(workload.room_events[*r]))
            .sum(),
        behind,
        cpu_us,
        window_us,
        rss_bytes: rss,
        loadgen_bound,
        first_error: tallies.iter().find_map(|(_, t)| t.error.clone()),
        clock: None,
    }
}
