//! One phase: one transport, N clients, one open-loop schedule, one measured window, one row.
//!
//! 1. every client connects and subscribes (a fresh topic per phase);
//! 2. the server's publisher is scheduled to start shortly after, at a fixed rate;
//! 3. warm-up events are delivered but not measured;
//! 4. the server's counters and this process's CPU are read at the window's start and end, half
//!    an event period early so no scrape coincides with an event (bytes, requests and CPU per
//!    delivery are window deltas);
//! 5. events keep flowing for a tail, then clients drain until they hold the last event, or the
//!    drain time runs out and they are stopped; whatever never arrived is counted lost.

use crate::clients::{self, ClientCtx};
use crate::control::{Control, Snapshot, Target};
use crate::recorder::Tally;
use crate::usage::process_cpu_us;
use crate::{LoadConfig, LoadError};
use rtbench_proto::control::{ScheduleRequest, ScheduleResponse};
use rtbench_proto::{Transport, mono_now_ns};
use rtbench_results::histogram::new_histogram;
use rtbench_results::{Latency, Row, Totals, encode_histogram};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

/// Lead time between scheduling and the first event, so the schedule is known to every client
/// before anything is published.
const SCHEDULE_LEAD_MS: u64 = 250;
/// How long stopped clients get to hand in their tallies.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// Sleeps until CLOCK_MONOTONIC reaches `t_ns`.
async fn sleep_until_mono(t_ns: u64) {
    tokio::time::sleep(Duration::from_nanos(t_ns.saturating_sub(mono_now_ns()))).await;
}

/// Runs `transport` under `config` and returns its row.
pub async fn run_transport(
    transport: Transport,
    config: &LoadConfig,
    target: &Target,
    control: &Control,
) -> Result<Row, LoadError> {
    let topic = format!("rtbench-{transport}-{:08x}", rand::random::<u32>());
    let events_total = config.scheduled_events();
    let last_seq = Arc::new(AtomicU64::new(u64::MAX));
    let (stop_tx, stop_rx) = watch::channel(false);
    let (ready_tx, ready_rx) = mpsc::channel(config.clients as usize);
    let ctx = ClientCtx {
        target: *target,
        topic: topic.clone(),
        poll_interval: config.poll_interval,
        longpoll_timeout_ms: config.longpoll_timeout.as_millis() as u64,
        expected_events: events_total as usize,
        last_seq: last_seq.clone(),
        stop: stop_rx,
        ready: ready_tx,
    };
    let mut tasks = JoinSet::new();
    for _ in 0..config.clients {
        tasks.spawn(clients::run(transport, ctx.clone()));
    }
    drop(ctx);
    if let Err(e) = await_ready(transport, config, ready_rx).await {
        let _ = stop_tx.send(true);
        tasks.shutdown().await;
        return Err(e);
    }

    let schedule = control
        .schedule(&ScheduleRequest {
            topic,
            rate_per_s: config.rate_per_s,
            payload_bytes: config.payload_bytes,
            events: events_total,
            start_in_ms: SCHEDULE_LEAD_MS,
        })
        .await?;
    last_seq.store(schedule.last_seq, Ordering::Relaxed);

    let window_start = schedule.start_mono_ns + config.warmup.as_nanos() as u64;
    let window_end = window_start + config.window.as_nanos() as u64;
    // Read the counters half a period before each window edge: between two events, so the scrape
    // never competes with an event's fan-out. The counted span keeps the window's length.
    let half_period = schedule.period_ns / 2;
    sleep_until_mono(window_start - half_period).await;
    let (m0, c0, t0) = (control.scrape().await?, process_cpu_us(), mono_now_ns());
    sleep_until_mono(window_end - half_period).await;
    let (m1, c1, t1) = (control.scrape().await?, process_cpu_us(), mono_now_ns());

    sleep_until_mono(schedule.t_pub_ns(schedule.last_seq) + config.drain.as_nanos() as u64).await;
    let _ = stop_tx.send(true);
    let tallies = collect(tasks).await;

    let totals = window_totals(
        transport,
        &m0,
        &m1,
        c1.saturating_sub(c0),
        (t1 - t0) / 1_000,
    );
    Ok(build_row(
        transport,
        config,
        &schedule,
        (window_start, window_end),
        &tallies,
        totals,
    ))
}

/// Waits until every client reported connected, or fails the phase with the first error.
async fn await_ready(
    transport: Transport,
    config: &LoadConfig,
    mut ready: mpsc::Receiver<Result<(), String>>,
) -> Result<(), LoadError> {
    let (mut ok, mut failed, mut first) = (0u64, 0u64, None);
    let deadline = tokio::time::Instant::now() + config.connect_timeout;
    while ok + failed < config.clients {
        match tokio::time::timeout_at(deadline, ready.recv()).await {
            Ok(Some(Ok(()))) => ok += 1,
            Ok(Some(Err(e))) => {
                failed += 1;
                first.get_or_insert(e);
            }
            Ok(None) => break,
            Err(_) => {
                first.get_or_insert(format!("timed out after {:?}", config.connect_timeout));
                failed = config.clients - ok;
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
        clients: config.clients,
        first: first.unwrap_or_default(),
    })
}

/// Collects every client's tally; the drain is over, so clients are told to stop and given a grace.
async fn collect(mut tasks: JoinSet<Tally>) -> Vec<Tally> {
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

fn window_totals(
    t: Transport,
    m0: &Snapshot,
    m1: &Snapshot,
    client_cpu_us: u64,
    window_us: u64,
) -> Totals {
    let (a, b) = (m0.transports[t.index()], m1.transports[t.index()]);
    Totals {
        window_us,
        bytes_to_clients: b.bytes_sent.saturating_sub(a.bytes_sent),
        bytes_from_clients: b.bytes_received.saturating_sub(a.bytes_received),
        http_requests: b.http_requests.saturating_sub(a.http_requests),
        server_cpu_us: m1.server_cpu_us.saturating_sub(m0.server_cpu_us),
        client_cpu_us,
    }
}

fn build_row(
    transport: Transport,
    config: &LoadConfig,
    schedule: &ScheduleResponse,
    (from, to): (u64, u64),
    tallies: &[Tally],
    totals: Totals,
) -> Row {
    let (first, last) = (schedule.first_seq, schedule.last_seq);
    let events = (first..=last)
        .filter(|&s| (from..to).contains(&schedule.t_pub_ns(s)))
        .count() as u64;
    let mut hist = new_histogram();
    let (mut lost, mut duplicated, mut reordered) = (0, 0, 0);
    for t in tallies {
        for latency_ns in t.latencies_in(from, to) {
            hist.saturating_record(latency_ns.max(1));
        }
        lost += t.lost(first, last);
        duplicated += t.duplicated();
        reordered += t.reordered();
    }
    let missing_clients = config.clients.saturating_sub(tallies.len() as u64);
    lost += missing_clients * (last - first + 1);
    let client_errors =
        tallies.iter().filter(|t| t.error.is_some()).count() as u64 + missing_clients;
    let deliveries = hist.len();
    let per = |x: u64| {
        if deliveries == 0 {
            0.0
        } else {
            x as f64 / deliveries as f64
        }
    };
    Row {
        scenario: config.scenario.clone(),
        transport: transport.as_str().to_string(),
        conditions: "loopback".into(),
        clients: config.clients,
        rate_per_s: config.rate_per_s,
        payload_bytes: config.payload_bytes,
        poll_interval_ms: config.poll_interval.as_millis() as u64,
        events,
        deliveries,
        lost,
        duplicated,
        reordered,
        client_errors,
        reconnects: 0,
        latency_us: Latency::from_histogram(&hist),
        ratio_to_floor_p50: None,
        bytes_per_delivery: per(totals.bytes_to_clients + totals.bytes_from_clients),
        requests_per_delivery: per(totals.http_requests),
        server_cpu_us_per_delivery: per(totals.server_cpu_us),
        client_cpu_us_per_delivery: per(totals.client_cpu_us),
        packets_per_delivery: None,
        kernel_bytes_per_delivery: None,
        meter_kernel_disagreement_pct: None,
        connections: None,
        memory_per_connection_bytes: None,
        idle_bytes_per_client_s: None,
        idle_requests_per_client_s: None,
        idle_server_cpu_us_per_client_s: None,
        totals,
        latency_histogram: encode_histogram(&hist),
    }
}
