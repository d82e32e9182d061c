//! `GET /metrics`: Prometheus text exposition with the names of [`rtbench_proto::metrics`].
//!
//! Per-transport series carry `transport="tcp|websocket|sse|long_poll|short_poll|control"`; the
//! process series (CPU from `getrusage(RUSAGE_SELF)`, RSS from `/proc/self/statm`), the published
//! event count have no label. The server's settings are not metrics: `GET /settings` answers them
//! as one JSON value ([`rtbench_proto::ServerInfo`]).
//!
//! The `rtbench_kernel_*` series are read from the kernel at each scrape ([`crate::kernel`]), so a
//! reader can check the byte meter against them and count segments.

use crate::kernel::KernelCounts;
use crate::meter::{BUCKETS, Bucket, Meters, bucket_label};
use crate::state::State;
use axum::extract::State as AppState;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use rtbench_proto::metrics as names;
use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// One per-transport series: name, help, type, and the counter it reads.
type Series = (
    &'static str,
    &'static str,
    &'static str,
    fn(&Bucket) -> &AtomicU64,
);

const PER_TRANSPORT: [Series; 7] = [
    (
        names::CONNECTIONS_OPEN,
        "Connections open now.",
        "gauge",
        |b| &b.connections_open,
    ),
    (
        names::CONNECTIONS_ACCEPTED,
        "Connections accepted.",
        "counter",
        |b| &b.connections_accepted,
    ),
    (
        names::HTTP_REQUESTS,
        "HTTP requests served.",
        "counter",
        |b| &b.http_requests,
    ),
    (
        names::HTTP_LEAN_REQUESTS,
        "HTTP requests answered by the lean HTTP/1.1 path (the rest by hyper).",
        "counter",
        |b| &b.lean_requests,
    ),
    (
        names::EVENTS_DELIVERED,
        "Events written to clients.",
        "counter",
        |b| &b.events_delivered,
    ),
    (
        names::BYTES_RECEIVED,
        "Bytes read from client sockets.",
        "counter",
        |b| &b.bytes_received,
    ),
    (
        names::BYTES_SENT,
        "Bytes written to client sockets.",
        "counter",
        |b| &b.bytes_sent,
    ),
];

/// One per-transport kernel series: name, help, type, and the sum it reads.
type KernelSeries = (
    &'static str,
    &'static str,
    &'static str,
    fn(&KernelCounts) -> u64,
);

const KERNEL: [KernelSeries; 7] = [
    (
        names::KERNEL_BYTES_ACKED,
        "Bytes acknowledged by the peers (TCP_INFO), open and closed sockets.",
        "counter",
        |k| k.bytes_acked,
    ),
    (
        names::KERNEL_BYTES_RECEIVED,
        "Bytes received in order (TCP_INFO), open and closed sockets.",
        "counter",
        |k| k.bytes_received,
    ),
    (
        names::KERNEL_SEGMENTS_OUT,
        "TCP segments sent (TCP_INFO), open and closed sockets.",
        "counter",
        |k| k.segs_out,
    ),
    (
        names::KERNEL_SEGMENTS_IN,
        "TCP segments received (TCP_INFO), open and closed sockets.",
        "counter",
        |k| k.segs_in,
    ),
    (
        names::KERNEL_SEND_QUEUE_BYTES,
        "Bytes written, not yet acknowledged (SIOCOUTQ): now for open sockets, at close for closed ones.",
        "gauge",
        |k| k.send_queue,
    ),
    (
        names::KERNEL_RECEIVE_QUEUE_BYTES,
        "Bytes received, not yet read (SIOCINQ): now for open sockets, at close for closed ones.",
        "gauge",
        |k| k.receive_queue,
    ),
    (
        names::KERNEL_SOCKETS,
        "Open tagged sockets read at this scrape.",
        "gauge",
        |k| k.sockets,
    ),
];

/// `GET /metrics`.
/// In a cluster the figures are summed over its processes, unless `?local` ([`crate::broker`]).
pub(crate) async fn handler(
    AppState(state): AppState<Arc<State>>,
    query: axum::extract::RawQuery,
) -> Result<impl IntoResponse, crate::ApiError> {
    let text = render(&state.meters, state.hub.events_published());
    let local = query.0.is_some_and(|q| q.split('&').any(|p| p == "local"));
    let text = crate::broker::cluster_metrics(&state, local, text).await?;
    Ok(([(CONTENT_TYPE, "text/plain; version=0.0.4")], text))
}

/// The exposition text. The kernel is read first and the meter right after, so the two counts
/// are as close in time as one pass allows.
fn render(meters: &Meters, events_published: u64) -> String {
    let kernel = meters.kernel.sweep();
    let mut out = String::with_capacity(8192);
    for (name, help, kind, counter) in PER_TRANSPORT {
        header(&mut out, name, help, kind);
        for (i, bucket) in meters.buckets.iter().enumerate().take(BUCKETS) {
            let value = counter(bucket).load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}{{transport=\"{}\"}} {value}", bucket_label(i));
        }
    }
    for (name, help, kind, read) in KERNEL {
        header(&mut out, name, help, kind);
        for (i, counts) in kernel.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}{{transport=\"{}\"}} {}",
                bucket_label(i),
                read(counts)
            );
        }
    }
    let plain = [
        (
            names::KERNEL_SWEEP_CPU_US,
            "CPU time spent reading kernel counters for scrapes, microseconds.",
            "counter",
            meters.kernel.sweep_cpu_us(),
        ),
        (
            names::EVENTS_PUBLISHED,
            "Events published into the hub.",
            "counter",
            events_published,
        ),
        (
            names::PROCESS_CPU_US,
            "User+system CPU time, microseconds.",
            "counter",
            cpu_us(),
        ),
        (
            names::PROCESS_RSS_BYTES,
            "Resident set size, bytes.",
            "gauge",
            rss_bytes(),
        ),
    ];
    for (name, help, kind, value) in plain {
        header(&mut out, name, help, kind);
        let _ = writeln!(out, "{name} {value}");
    }
    out
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// User + system CPU time of this process, in microseconds.
fn cpu_us() -> u64 {
    // SAFETY: an all-zero rusage is a valid value; getrusage only writes into it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage and RUSAGE_SELF is always valid.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0;
    }
    let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    us(usage.ru_utime) + us(usage.ru_stime)
}

/// Resident set size of this process, in bytes (0 if `/proc` is unavailable).
fn rss_bytes() -> u64 {
    let Ok(statm) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * page_size.max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtbench_proto::metrics::parse_text;

    #[test]
    fn every_series_has_every_label_and_process_stats_are_read() {
        let meters = Meters::default();
        meters.buckets[2].bytes_sent.store(42, Ordering::Relaxed);
        let samples = parse_text(&render(&meters, 7));
        assert_eq!(
            samples.len(),
            // The per-transport series, then four plain ones: kernel sweep CPU, events
            // published, process CPU and RSS (the config gauges left for GET /settings).
            (PER_TRANSPORT.len() + KERNEL.len()) * BUCKETS + 4
        );
        let sse_sent = samples
            .iter()
            .find(|s| s.name == names::BYTES_SENT && s.transport.as_deref() == Some("sse"))
            .unwrap();
        assert_eq!(sse_sent.value, 42.0);
        let value = |n: &str| samples.iter().find(|s| s.name == n).unwrap().value;
        assert_eq!(value(names::EVENTS_PUBLISHED), 7.0);
        assert!(value(names::PROCESS_RSS_BYTES) > 0.0);
        assert!(value(names::CONNECTIONS_OPEN) == 0.0);
        assert_eq!(value(names::KERNEL_BYTES_ACKED), 0.0);
        assert!(
            samples
                .iter()
                .all(|s| !s.name.starts_with("rtbench_config_")),
            "settings are answered by GET /settings, not metrics"
        );
    }
}
