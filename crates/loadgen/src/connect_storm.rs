//! The connect storm (`rtbench run --scenario connect-storm`, `docs/stacks.md`): the cost of a new
//! connection on a stack. N clients connect and subscribe (an SSE stream, whose response head is
//! the subscription's acknowledgement) at once; the storm reports the bytes per connection by the
//! server's meter (TCP payload: the TLS handshake, the request and the response head), the server
//! CPU per connection, the server's memory growth per connection held, and the connect latency
//! percentiles (from the start of the TCP connect to the response head). On a TLS stack a second
//! storm reconnects the same clients: their handshakes resume the TLS 1.3 sessions of the first
//! ([`crate::stack`]'s shared ticket store), and the pair shows what resumption saves.
//!
//! Bounded: at most [`MAX_CLIENTS`] clients, each step under its timeout; traffic only to the
//! target (loopback in every test).

use crate::control::{Control, Snapshot, Target};
use crate::error::{ClientError, LoadError};
use crate::stack::{self, Stream};
use rtbench_proto::Transport;
use rtbench_results::Latency;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Most clients one storm may open.
pub const MAX_CLIENTS: u64 = 20_000;
/// Longest a storm may take, connects and subscriptions included.
pub const STORM_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest a response head may be.
const MAX_HEAD_BYTES: usize = 4_096;

/// One storm's figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StormRow {
    /// `connect` (new clients) or `reconnect` (the same clients again).
    pub kind: String,
    /// Clients that connected and subscribed.
    pub connections: u64,
    /// Connections whose TLS handshake resumed a session (0 on a plaintext stack).
    pub resumed: u64,
    /// Bytes per connection by the server's meter, both directions: TLS handshake (if any), the
    /// subscription request and its response head.
    pub bytes_per_connection: f64,
    /// Server CPU per connection, microseconds.
    pub server_cpu_us_per_connection: f64,
    /// Server RSS growth per connection held, bytes (rustls buffers included on a TLS stack).
    pub memory_per_connection_bytes: f64,
    /// Connect latency, microseconds: TCP connect to response head.
    pub connect_latency_us: Latency,
}

/// Connects and subscribes one client: its stream (held open), whether TLS resumed, and its
/// connect latency.
async fn subscribe(target: &Target, topic: &str) -> Result<(Stream, bool, Duration), ClientError> {
    let start = Instant::now();
    let mut stream = stack::connect(target.http, target.tls).await?;
    let resumed = stream.tls_resumed();
    let request = format!(
        "GET {}?topic={topic} HTTP/1.1\r\nhost: {}\r\n\r\n",
        Transport::Sse.path(),
        target.http
    );
    let io = |e| ClientError::Io {
        what: "storm",
        source: e,
    };
    stream.write_all(request.as_bytes()).await.map_err(io)?;
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 512];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.map_err(io)?;
        if n == 0 || head.len() > MAX_HEAD_BYTES {
            return Err(ClientError::Ended("the SSE response head did not come"));
        }
        head.extend_from_slice(&buf[..n]);
    }
    if !head.starts_with(b"HTTP/1.1 200") {
        return Err(ClientError::Ended("the SSE subscription was refused"));
    }
    Ok((stream, resumed, start.elapsed()))
}

/// The storms of a stack: `clients` new clients at once and, on a TLS stack, the same clients
/// reconnecting at once (after the first storm's connections closed). The clients get a TLS
/// session store of their own that hands out no ticket during the first storm, so its handshakes
/// are all full ones however its clients interleave; the reconnect storm uses the tickets the
/// first one received.
pub async fn storms(
    clients: u64,
    target: &Target,
    control: &Control,
) -> Result<Vec<StormRow>, LoadError> {
    let Some(shared) = target.tls else {
        return Ok(vec![storm("connect", clients, target, control).await?]);
    };
    let gate = std::sync::Arc::new(crate::tls_sessions::GatedPool::closed());
    let resumption = rustls::client::Resumption::store(gate.clone());
    let target = target.with_tls(Some(shared.with_resumption(resumption).leak()));
    let first = storm("connect", clients, &target, control).await?;
    gate.open();
    let again = storm("reconnect", clients, &target, control).await?;
    Ok(vec![first, again])
}

/// One storm of `clients` at once on `target`; the streams stay open until the figures are taken.
pub async fn storm(
    kind: &str,
    clients: u64,
    target: &Target,
    control: &Control,
) -> Result<StormRow, LoadError> {
    let clients = clients.clamp(1, MAX_CLIENTS);
    let before = control.scrape_patiently().await?;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..clients {
        let target = *target;
        tasks.spawn(async move { subscribe(&target, &format!("storm-{i}")).await });
    }
    let mut held = Vec::with_capacity(clients as usize);
    let mut histogram = rtbench_results::histogram::new_histogram();
    let mut resumed = 0;
    let deadline = tokio::time::Instant::now() + STORM_TIMEOUT;
    while let Some(joined) = tokio::time::timeout_at(deadline, tasks.join_next())
        .await
        .map_err(|_| LoadError::Control(format!("the connect storm took over {STORM_TIMEOUT:?}")))?
    {
        let (stream, was_resumed, latency) = joined
            .map_err(|e| LoadError::Control(format!("a storm client failed: {e}")))?
            .map_err(|e| LoadError::Control(format!("a storm client: {e}")))?;
        let _ = histogram.record((latency.as_nanos() as u64).max(1));
        resumed += u64::from(was_resumed);
        held.push(stream);
    }
    let after = control.scrape_patiently().await?;
    drop(held);
    Ok(row(kind, clients, resumed, (&before, &after), &histogram))
}

/// The figures of a storm of `n` connections between two scrapes.
fn row(
    kind: &str,
    n: u64,
    resumed: u64,
    (before, after): (&Snapshot, &Snapshot),
    histogram: &rtbench_results::LatencyHistogram,
) -> StormRow {
    let (b, a) = (
        &before.transports[Transport::Sse.index()],
        &after.transports[Transport::Sse.index()],
    );
    let bytes = (a.bytes_sent + a.bytes_received).saturating_sub(b.bytes_sent + b.bytes_received);
    let per = |v: u64| v as f64 / n as f64;
    StormRow {
        kind: kind.into(),
        connections: n,
        resumed,
        bytes_per_connection: per(bytes),
        server_cpu_us_per_connection: per(before.server_cpu_us_until(after)),
        memory_per_connection_bytes: per(after
            .server_rss_bytes
            .saturating_sub(before.server_rss_bytes)),
        connect_latency_us: Latency::from_histogram(histogram),
    }
}
