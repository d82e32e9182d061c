//! One phase: one transport, N clients, one open-loop schedule, one measured window, one row.
//!
//! 1. every client connects and subscribes to its room's topic (fresh topics per phase; one room
//!    for the dashboard), and every HTTP sender opens its publish connection;
//! 2. the server's events are scheduled to start shortly after (`/schedule` at a fixed rate for
//!    one room, `/plan` otherwise, see [`crate::workload`]); clients' own messages are handed to
//!    them by a dispatcher thread on the same clock from the same time zero;
//! 3. warm-up events are delivered but not measured;
//! 4. the server's counters and this process's CPU are read at the window's start and end, in the
//!    quiet gap between two scheduled events so no scrape coincides with an event (bytes,
//!    requests and CPU per delivery are window deltas);
//! 5. events keep flowing for a tail, then clients drain until every member holds every event of
//!    its room, or the drain time runs out and they are stopped; whatever never arrived is lost.
//!
//! Under network conditions other than loopback the clients connect through a delay proxy
//! ([`crate::conditions`]); faults (dropped connections, a server restart) run beside the phase
//! ([`crate::faults`]) and are reported in the row.

use crate::behind;
use crate::conditions::Proxy;
use crate::config::LoadConfig;
use crate::control::{Control, Snapshot, Target};
use crate::error::ClientError;
use crate::error::LoadError;
use crate::faults::notes::{self, RowNotes};
use crate::faults::{FaultRun, PhaseFaults};
use crate::interval_log::IntervalLog;
use crate::probe::{self, LagProbe};
use crate::progress::{PhaseProgress, Timeline};
use crate::recorder::Tally;
use crate::upstream::http::SendTally;
use crate::usage::{process_cpu_us, process_rss_bytes};
use crate::window::{self, per};
use crate::workload::{Workload, launch};
use rtbench_proto::control::ScheduleResponse;
use rtbench_proto::{Transport, mono_now_ns};
use rtbench_results::{Latency, LatencyHistogram, Overload, Row, Totals};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

/// How long stopped clients get to hand in their tallies.
pub(crate) const STOP_GRACE: Duration = Duration::from_secs(3);
/// How often the drain checks whether every expected event has arrived.
const DRAIN_CHECK: Duration = Duration::from_millis(10);

/// Sleeps until CLOCK_MONOTONIC reaches `t_ns`.
pub(crate) async fn sleep_until_mono(t_ns: u64) {
    tokio::time::sleep(Duration::from_nanos(t_ns.saturating_sub(mono_now_ns()))).await;
}

/// Runs `transport` under `config` and returns its row.
pub async fn run_transport(
    transport: Transport,
    config: &LoadConfig,
    target: &Target,
    control: &Control,
) -> Result<Row, LoadError> {
    let hidden = PhaseProgress::hidden();
    run_phase(transport, config, target, control, (&hidden, None)).await
}

/// [`run_transport`], reporting its progress to `progress` and writing its latency over time to
/// `latency_log` (an `.hlog` file, [`crate::interval_log`]) when given.
pub(crate) async fn run_phase(
    transport: Transport,
    config: &LoadConfig,
    target: &Target,
    control: &Control,
    (progress, latency_log): (&PhaseProgress, Option<PathBuf>),
) -> Result<Row, LoadError> {
    crate::shard::check_open_files(config)?;
    if config.loadgen_procs > 1 {
        let log = latency_log.as_deref();
        return crate::shard::coordinator::run(
            transport,
            config,
            (target, control),
            (progress, log),
        )
        .await;
    }
    let workload = Workload::build(transport, config)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let (ready_tx, ready_rx) = mpsc::channel(config.clients as usize);
    let counters = launch::Counters::new(transport, config, progress.received());
    // Conditions: clients go through a delay proxy; the control plane does not.
    let proxy = match config.conditions.is_loopback() {
        true => None,
        false => Some(
            Proxy::start(*target, config.conditions.link_params())
                .await
                .map_err(|e| LoadError::Proxy(e.to_string()))?,
        ),
    };
    let clients_target = proxy.as_ref().map_or(*target, |p| p.target);
    let mut launched = launch::launch(
        transport,
        config,
        (clients_target, 0..config.clients as u32),
        &workload,
        &stop_rx,
        &counters,
        &ready_tx,
    );
    drop(ready_tx);
    let (start, schedule, stop_dispatch) = start_phase(
        (transport, config, control, &workload),
        &mut launched,
        ready_rx,
        &stop_tx,
    )
    .await?;

    let (from, to) = workload.window;
    let (window_start, window_end) = (start + from, start + to);
    counters.latencies.set_window(window_start, window_end);
    if let Some(acks) = &counters.acks {
        acks.set_window(window_start, window_end);
    }
    let interval_log = match latency_log {
        Some(path) => Some(IntervalLog::start(
            counters.latencies.clone(),
            path,
            start,
            transport.as_str().into(),
        )?),
        None => None,
    };
    let last = start + workload.last_offset();
    let deadline = last + config.drain.as_nanos() as u64;
    progress.set_timeline(Timeline {
        start,
        window: (window_start, window_end),
        last,
        deadline,
    });
    let faults = match &schedule {
        Some(schedule) => FaultRun::start(PhaseFaults {
            plan: config.faults.clone(),
            transport,
            schedule: schedule.clone(),
            payload_bytes: config.payload_bytes,
            window_end_ns: window_end,
            resets: std::mem::take(&mut launched.resets),
            control: control.clone(),
        }),
        None => FaultRun::none(),
    };
    // Read the counters in the quiet gap at each window edge: between two events, so the scrape
    // never competes with an event's fan-out. The counted span keeps the window's length.
    sleep_until_mono(start + workload.quiet_point(from)).await;
    let (m0, c0, t0) = (
        control.scrape_patiently().await?,
        process_cpu_us(),
        mono_now_ns(),
    );
    let (probe, rss0) = (LagProbe::start(), process_rss_bytes());
    sleep_until_mono(start + workload.quiet_point(to)).await;
    let (m1, c1, t1) = (
        control.scrape_patiently().await?,
        process_cpu_us(),
        mono_now_ns(),
    );
    let (lateness_ns, rss1) = (probe.finish().await, process_rss_bytes());

    let expected = (workload.expected_receipts(), workload.sends.len() as u64);
    await_deliveries(&counters, expected, last, deadline).await;
    let _ = stop_tx.send(true);
    drop(stop_dispatch);
    let tallies = collect(launched.clients).await;
    let send_tallies = collect(launched.senders).await;
    if let Some(log) = interval_log {
        log.finish().await?;
    }
    drop(proxy);
    let faults = faults.finish().await;
    let sends_lost = workload.sends_lost(control).await?;
    let restarted = !faults.restarts.is_empty();
    let behind = behind::at_drain_end(&workload, &tallies, control, restarted).await?;

    let (client_cpu_us, window_us) = (c1.saturating_sub(c0), (t1 - t0) / 1_000);
    let (overload, bound_note) = with_loadgen(
        behind,
        (client_cpu_us, window_us),
        (&lateness_ns, config.loadgen_lag_bound),
        (rss0, rss1),
    );
    let (totals, complete) = if faults.restarted_between(t0, t1) {
        // A restart inside the window splits the server's counters in two; they are added up.
        // The kernel's per-socket counts cannot be stitched across it and are left out.
        let (server, complete) = faults.window_delta((&m0, t0), (&m1, t1));
        let totals = window::totals(
            transport,
            &Snapshot::default(),
            &server,
            client_cpu_us,
            window_us,
        );
        (totals, complete)
    } else {
        let totals = window::totals(transport, &m0, &m1, client_cpu_us, window_us);
        (totals, true)
    };
    let members: Vec<u32> = workload.rooms.iter().map(|r| r.members).collect();
    let counted = count(
        (&workload, &members),
        counters.latencies.window_histogram(),
        &tallies,
        &send_tallies,
    );
    let plain: Vec<&Tally> = tallies.iter().map(|(_, t)| t).collect();
    let mut notes = match &schedule {
        Some(schedule) => {
            notes::annotate(config, &plain, &faults, (schedule, complete), counted.lost)
        }
        None => RowNotes {
            conditions: config.conditions.name.clone(),
            reconnects: plain.iter().map(|t| t.reconnects()).sum(),
            lost_in_gaps: tallies
                .iter()
                .map(|(r, t)| t.lost_in_gaps(workload.room_events[*r]))
                .sum(),
            notes: Vec::new(),
        },
    };
    notes.notes.extend(behind::note(&overload));
    notes.notes.extend(bound_note);
    let mut row = build_row(
        transport,
        (config, &workload),
        counted,
        (notes, overload),
        sends_lost,
        totals,
    );
    row.ack = counters.acks.as_ref().map(|a| a.to_ack());
    Ok(row)
}

/// Waits until every client (and HTTP sender) is connected, starts the server's events and the
/// dispatcher of clients' messages, and returns time zero with the dispatcher's stop flag. On an
/// error, the phase's tasks are stopped first.
async fn start_phase(
    (transport, config, control, workload): (Transport, &LoadConfig, &Control, &Workload),
    launched: &mut launch::Launched,
    ready: mpsc::Receiver<Result<(), ClientError>>,
    stop: &watch::Sender<bool>,
) -> Result<(u64, Option<ScheduleResponse>, StopOnDrop), LoadError> {
    let started = async {
        await_ready(transport, config, launched.expected_ready, ready).await?;
        let (start, schedule) = workload.start(config, control).await?;
        // The dispatcher thread stops when the phase ends, however it ends.
        let stop_dispatch = StopOnDrop(Arc::new(AtomicBool::new(false)));
        let dues = std::mem::take(&mut launched.dues);
        crate::upstream::dispatch(workload.sends.clone(), start, dues, stop_dispatch.0.clone())
            .map_err(|e| LoadError::Control(format!("cannot start the dispatcher thread: {e}")))?;
        Ok((start, schedule, stop_dispatch))
    }
    .await;
    if started.is_err() {
        let _ = stop.send(true);
        launched.clients.shutdown().await;
        launched.senders.shutdown().await;
    }
    started
}

/// The drain's account `behind` completed with the load generator's own over the window: its CPU
/// (`cpu_us` over `window_us`), its probe's lateness against `lag_bound`, and its RSS at each edge;
/// with the `loadgen-bound` note when it was saturated.
pub(crate) fn with_loadgen(
    behind: Overload,
    (cpu_us, window_us): (u64, u64),
    (lateness_ns, lag_bound): (&LatencyHistogram, Duration),
    (rss0, rss1): (Option<u64>, Option<u64>),
) -> (Overload, Option<String>) {
    let cores = probe::cores_available();
    let (loadgen, note) = probe::judge((cpu_us, window_us), cores, (lateness_ns, lag_bound));
    let overload = Overload {
        unpublished: behind.unpublished,
        late: behind.late,
        late_clients: behind.late_clients,
        late_max_behind_events: behind.late_max_behind_events,
        loadgen_rss_window_start_bytes: rss0,
        loadgen_rss_window_end_bytes: rss1,
        ..loadgen
    };
    (overload, note)
}

/// Sets its flag when dropped.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// After the last scheduled event, waits until every member holds every event of its room and
/// every client message has been sent (`expected` receipts and sends), or until `deadline_ns`.
pub(crate) async fn await_deliveries(
    counters: &launch::Counters,
    (receipts, sends): (u64, u64),
    last_ns: u64,
    deadline_ns: u64,
) {
    sleep_until_mono(last_ns).await;
    let done = || {
        counters.received.load(Ordering::Relaxed) >= receipts
            && counters.sent.load(Ordering::Relaxed) >= sends
            // Acknowledged emits: the last ones' acks may still be on their way.
            && counters.acks.as_ref().is_none_or(|a| a.all_acked())
    };
    while mono_now_ns() < deadline_ns && !done() {
        tokio::time::sleep(DRAIN_CHECK).await;
    }
}

/// Waits until every client reported connected, or fails the phase with the first error.
pub(crate) async fn await_ready(
    transport: Transport,
    config: &LoadConfig,
    expected: u64,
    mut ready: mpsc::Receiver<Result<(), ClientError>>,
) -> Result<(), LoadError> {
    let (mut ok, mut failed, mut first) = (0u64, 0u64, None);
    let deadline = tokio::time::Instant::now() + config.connect_timeout;
    while ok + failed < expected {
        match tokio::time::timeout_at(deadline, ready.recv()).await {
            Ok(Some(Ok(()))) => ok += 1,
            Ok(Some(Err(e))) => {
                failed += 1;
                first.get_or_insert_with(|| e.to_string());
            }
            Ok(None) => break,
            Err(_) => {
                first.get_or_insert_with(|| {
                    ClientError::ReadyTimeout(config.connect_timeout).to_string()
                });
                failed = expected - ok;
                break;
            }
        }
    }
    if failed == 0 {
        return Ok(());
    }
    Err(LoadError::Connect {
        transport: transport.as_str(),
        failed,
        clients: expected,
        first: first.unwrap_or_default(),
    })
}

/// Collects every task's result; the drain is over, so tasks are told to stop and given a grace.
pub(crate) async fn collect<T: 'static>(mut tasks: JoinSet<T>) -> Vec<T> {
    let mut tallies = Vec::with_capacity(tasks.len());
    let deadline = tokio::time::Instant::now() + STOP_GRACE;
    while let Ok(Some(joined)) = tokio::time::timeout_at(deadline, tasks.join_next()).await {
        if let Ok(t) = joined {
            tallies.push(t);
        }
    }
    tasks.shutdown().await;
    tallies
}

/// What the clients' tallies add up to over a phase.
pub(crate) struct Counted {
    /// Latencies of the deliveries inside the window, nanoseconds.
    pub(crate) hist: LatencyHistogram,
    /// Scheduled events some client never received, summed over clients.
    pub(crate) lost: u64,
    /// Receipts of an event the client already had.
    pub(crate) duplicated: u64,
    /// Receipts of an event older than one the client already had.
    pub(crate) reordered: u64,
    /// Clients and senders that ended with an error or never handed in their tally.
    pub(crate) client_errors: u64,
}

/// Adds up the clients' tallies and the HTTP senders' errors; `hist` holds the window's
/// latencies, recorded by the clients as events arrived. `members` is, per room, how many of its
/// clients this process ran (all of them, unless it is a shard).
pub(crate) fn count(
    (workload, members): (&Workload, &[u32]),
    hist: LatencyHistogram,
    tallies: &[(usize, Tally)],
    send_tallies: &[SendTally],
) -> Counted {
    let (mut lost, mut duplicated, mut reordered) = (0, 0, 0);
    let mut reported = vec![0u32; workload.rooms.len()];
    for (room, t) in tallies {
        // Each room's topic is fresh: its events carry sequence numbers 1..=room_events.
        lost += t.lost(workload.room_events[*room]);
        duplicated += t.duplicated();
        reordered += t.reordered();
        reported[*room] += 1;
    }
    // A client that never handed in its tally lost every event of its room.
    let mut missing_clients = 0;
    for (r, &ran) in members.iter().enumerate() {
        let missing = u64::from(ran.saturating_sub(reported[r]));
        missing_clients += missing;
        lost += missing * workload.room_events[r];
    }
    let failed_senders = send_tallies
        .iter()
        .filter(|t| t.first_error.is_some())
        .count() as u64;
    let client_errors = tallies.iter().filter(|(_, t)| t.error.is_some()).count() as u64
        + missing_clients
        + failed_senders;
    Counted {
        hist,
        lost,
        duplicated,
        reordered,
        client_errors,
    }
}

/// The phase's row, built once from everything the phase gathered. Its floor ratio is the
/// point's to compute ([`rtbench_results::floor::with_p50_ratios`]), once every transport ran.
pub(crate) fn build_row(
    transport: Transport,
    (config, workload): (&LoadConfig, &Workload),
    counted: Counted,
    (notes, overload): (RowNotes, Overload),
    sends_lost: u64,
    totals: Totals,
) -> Row {
    let deliveries = counted.hist.len();
    Row {
        scenario: config.scenario.clone(),
        transport,
        conditions: notes.conditions,
        clients: config.clients,
        rate_per_s: config.rate_per_s,
        payload_bytes: config.payload_bytes,
        poll_interval_ms: config.poll_interval.as_millis() as u64,
        room_size: u64::from(workload.room_size),
        senders: config.senders(),
        send_rate_per_s: config.send_rate_per_s(),
        events: workload.events_in_window(),
        sends: workload.sends_in_window(),
        sends_lost,
        deliveries,
        // Late and unpublished events are counted apart from the loss (they were not dropped).
        lost: counted
            .lost
            .saturating_sub(overload.late + overload.unpublished),
        duplicated: counted.duplicated,
        reordered: counted.reordered,
        lost_in_gaps: notes.lost_in_gaps,
        notes: notes.notes,
        overload,
        client_errors: counted.client_errors,
        reconnects: notes.reconnects,
        latency_us: Latency::from_histogram(&counted.hist),
        ratio_to_floor_p50: None,
        bytes_per_delivery: per(
            totals.bytes_to_clients + totals.bytes_from_clients,
            deliveries,
        ),
        requests_per_delivery: per(totals.http_requests, deliveries),
        server_cpu_us_per_delivery: per(totals.server_cpu_us, deliveries),
        server_measured: true,
        client_cpu_us_per_delivery: per(totals.client_cpu_us, deliveries),
        packets_per_delivery: window::segments(&totals).map(|n| per(n, deliveries)),
        kernel_bytes_per_delivery: window::kernel_bytes(&totals).map(|n| per(n, deliveries)),
        meter_kernel_disagreement_pct: window::disagreement_pct(&totals),
        connections: None,
        memory_per_connection_bytes: None,
        memory_per_connection_at_connect_bytes: None,
        kernel_socket_memory_per_connection_bytes: None,
        idle_bytes_per_client_s: None,
        idle_requests_per_client_s: None,
        idle_server_cpu_us_per_client_s: None,
        spread: None,
        totals,
        client: rtbench_results::Client::Rust,
        latency_histogram: counted.hist,
        ack: None,
        shards: Vec::new(),
    }
}
