//! The control plane: start the server's open-loop publisher and read its counters, and for fault
//! injection close connections, restart the server and resume a schedule. HTTP/1.1 (over TLS on a
//! TLS stack) on its own connection ([`crate::control_http`]); its bytes are labelled `control` by the server, apart from every measured
//! transport, and it never goes through the delay proxy.

use crate::control_http::ControlHttp;
use crate::error::LoadError;
use crate::stack::ClientTls;
use rtbench_proto::control::{PlanRequest, PlanResponse, ScheduleRequest, ScheduleResponse};
use rtbench_proto::faults::{CloseRequest, CloseResponse, ResumeRequest};
use rtbench_proto::limits::MAX_EVENTS_PER_RESPONSE;
use rtbench_proto::metrics::{self, Sample};
use rtbench_proto::{ServerInfo, Transport, paths};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// How long [`Control::scrape_patiently`] keeps trying (a restart may be in progress).
const SCRAPE_PATIENCE: Duration = Duration::from_secs(20);
/// Longest one control request may take.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause between two tries of a control request that must succeed.
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// Restarts the server process on the same addresses (fault injection). The caller of the load
/// generator supplies it: `rtbench run` restarts its child process; a test restarts an in-process
/// server. The future resolves once the new server listens (or with why it could not).
pub trait RestartServer: Send + Sync + std::fmt::Debug {
    /// Stops the running server and starts a new one on the same addresses.
    fn restart(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>>;
}

/// Where the server listens, and how to reach its HTTP listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// HTTP listener: poll, long-poll, SSE, WebSocket, publish, schedule, metrics.
    pub http: SocketAddr,
    /// Raw-TCP floor listener (TLS when `tls` is given, as the HTTP listener).
    pub tcp: SocketAddr,
    /// TLS towards the server, when it speaks TLS: every HTTP and WebSocket connection to `http`,
    /// and every floor connection to `tcp`, uses it ([`crate::stack::connect`]). A `'static` handle ([`ClientTls::leak`]) so a
    /// target stays `Copy`: one small config per trusted server, for the life of the process.
    pub tls: Option<&'static ClientTls>,
    /// Whether the HTTP transports speak HTTP/2 (the `h2` stacks: prior knowledge on plaintext,
    /// ALPN `h2` over TLS) rather than HTTP/1.1. The control plane and WebSocket speak HTTP/1.1.
    pub http2: bool,
    /// The server's control token (`Authorization: Bearer`), which a server on a non-loopback
    /// address needs for `/schedule` and `/plan` (`run --remote-shards`); `'static` as `tls`.
    pub control_token: Option<&'static str>,
}

impl Target {
    /// A plaintext server at `http` and `tcp`.
    pub fn plain(http: SocketAddr, tcp: SocketAddr) -> Target {
        Target {
            http,
            tcp,
            tls: None,
            http2: false,
            control_token: None,
        }
    }

    /// The same addresses, over `tls`.
    pub fn with_tls(self, tls: Option<&'static ClientTls>) -> Target {
        Target { tls, ..self }
    }

    /// The same server, its HTTP transports on HTTP/2 when `http2`.
    pub fn with_http2(self, http2: bool) -> Target {
        Target { http2, ..self }
    }

    /// The same target, sending `token` on control requests.
    pub fn with_control_token(self, control_token: Option<&'static str>) -> Target {
        Target {
            control_token,
            ..self
        }
    }
}

/// One transport's counters in a scrape.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TransportCounters {
    /// Bytes the server wrote to this transport's sockets.
    pub bytes_sent: u64,
    /// Bytes the server read from them.
    pub bytes_received: u64,
    /// HTTP requests served.
    pub http_requests: u64,
    /// Connections open now.
    pub connections_open: u64,
    /// Connections accepted so far.
    pub connections_accepted: u64,
    /// Kernel: bytes the peers acknowledged (TCP_INFO).
    pub kernel_bytes_acked: u64,
    /// Kernel: bytes received in order (TCP_INFO).
    pub kernel_bytes_received: u64,
    /// Kernel: bytes written, not yet acknowledged (SIOCOUTQ).
    pub kernel_send_queue: u64,
    /// Kernel: bytes received, not yet read (SIOCINQ).
    pub kernel_receive_queue: u64,
    /// Kernel: segments sent.
    pub segments_out: u64,
    /// Kernel: segments received.
    pub segments_in: u64,
}

impl TransportCounters {
    /// Bytes the server wrote, by the kernel's count: acknowledged plus still queued — the same
    /// edge of the socket the meter counts at (see the server's `kernel` module).
    pub fn kernel_sent(&self) -> u64 {
        self.kernel_bytes_acked + self.kernel_send_queue
    }

    /// Bytes the server read, by the kernel's count: received minus still queued.
    pub fn kernel_read(&self) -> u64 {
        self.kernel_bytes_received
            .saturating_sub(self.kernel_receive_queue)
    }
}

/// The counters of one scrape of `/metrics`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Per transport, indexed by [`Transport::index`].
    pub transports: [TransportCounters; Transport::ALL.len()],
    /// Server process CPU so far, microseconds.
    pub server_cpu_us: u64,
    /// The part of `server_cpu_us` spent reading kernel counters for scrapes, microseconds.
    pub kernel_sweep_cpu_us: u64,
    /// Whether the server reports kernel counters at all.
    pub kernel_reported: bool,
    /// Server resident set size, bytes.
    pub server_rss_bytes: u64,
    /// What the server answers on `GET /settings`: filled by [`Control::scrape_with_settings`]
    /// only (`None` from [`Control::scrape`], which stays one request so it fits the quiet gap
    /// between two events, and `None` from a server without the route).
    pub settings: Option<ServerInfo>,
}

impl Snapshot {
    fn from_samples(samples: &[Sample]) -> Snapshot {
        let mut snap = Snapshot::default();
        for s in samples {
            let v = s.value as u64;
            match s.name.as_str() {
                metrics::PROCESS_CPU_US => snap.server_cpu_us = v,
                metrics::PROCESS_RSS_BYTES => snap.server_rss_bytes = v,
                metrics::KERNEL_SWEEP_CPU_US => snap.kernel_sweep_cpu_us = v,
                _ => {}
            }
            let Some(t) = s
                .transport
                .as_deref()
                .and_then(|t| t.parse::<Transport>().ok())
            else {
                continue;
            };
            let c = &mut snap.transports[t.index()];
            match s.name.as_str() {
                metrics::BYTES_SENT => c.bytes_sent = s.value as u64,
                metrics::BYTES_RECEIVED => c.bytes_received = s.value as u64,
                metrics::HTTP_REQUESTS => c.http_requests = v,
                metrics::CONNECTIONS_OPEN => c.connections_open = v,
                metrics::CONNECTIONS_ACCEPTED => c.connections_accepted = v,
                metrics::KERNEL_BYTES_ACKED => {
                    c.kernel_bytes_acked = v;
                    snap.kernel_reported = true;
                }
                metrics::KERNEL_BYTES_RECEIVED => c.kernel_bytes_received = v,
                metrics::KERNEL_SEND_QUEUE_BYTES => c.kernel_send_queue = v,
                metrics::KERNEL_RECEIVE_QUEUE_BYTES => c.kernel_receive_queue = v,
                metrics::KERNEL_SEGMENTS_OUT => c.segments_out = v,
                metrics::KERNEL_SEGMENTS_IN => c.segments_in = v,
                _ => {}
            }
        }
        snap
    }

    /// Server CPU between `self` and a later snapshot, without the CPU the server spent reading
    /// kernel counters for the scrapes, microseconds.
    pub fn server_cpu_us_until(&self, later: &Snapshot) -> u64 {
        let total = later.server_cpu_us.saturating_sub(self.server_cpu_us);
        let sweeps = later
            .kernel_sweep_cpu_us
            .saturating_sub(self.kernel_sweep_cpu_us);
        total.saturating_sub(sweeps)
    }
}

/// Starts one load-generator shard process ([`crate::shard`]): the binary's `rtbench shard`,
/// with stdin and stdout piped, dying with its parent.
pub trait SpawnShard: Send + Sync + std::fmt::Debug {
    /// CPUs shards are pinned to, round-robin (empty: not pinned).
    fn cpus(&self) -> Vec<usize>;
    /// Starts one shard process.
    fn spawn(&self) -> std::io::Result<std::process::Child>;
}

/// A client for the server's control endpoints.
#[derive(Debug, Clone)]
pub struct Control {
    http: ControlHttp,
    restarter: Option<Arc<dyn RestartServer>>,
    shards: Option<Arc<dyn SpawnShard>>,
    /// Shards on other hosts (`--remote-shards`), used instead of spawning.
    remote: Option<Arc<crate::shard::remote::RemoteShards>>,
    /// `run --target`: counters come from the client-side meter (and `/proc/PID` when a pid is
    /// given), not from `/metrics`.
    client_side: Option<Option<u32>>,
}

impl Control {
    /// A control client for `target` (over TLS when the target speaks it). Never goes through a
    /// proxy.
    pub fn new(target: &Target) -> Result<Control, LoadError> {
        Ok(Control {
            http: ControlHttp::new(*target, CONTROL_TIMEOUT),
            restarter: None,
            shards: None,
            remote: None,
            client_side: None,
        })
    }

    /// The same client, able to restart the server with `restarter`.
    pub fn with_restarter(mut self, restarter: Arc<dyn RestartServer>) -> Control {
        self.restarter = Some(restarter);
        self
    }

    /// The same client, able to start load-generator shard processes with `spawner`
    /// (`--loadgen-procs`, [`crate::shard`]).
    pub fn with_shard_spawner(mut self, spawner: Arc<dyn SpawnShard>) -> Control {
        self.shards = Some(spawner);
        self
    }

    /// The same client, reading its counters at the load generator's own sockets
    /// ([`crate::target::meter`], switched on here) and the server's CPU and RSS from
    /// `/proc/PID` when `pid` is given: for a target without rtbench's `/metrics`.
    pub fn with_client_meter(mut self, pid: Option<u32>) -> Control {
        crate::target::meter::enable();
        self.client_side = Some(pid);
        self
    }

    /// The same client, running split phases on `remote` shards instead of spawned ones.
    pub fn with_remote_shards(
        mut self,
        remote: Arc<crate::shard::remote::RemoteShards>,
    ) -> Control {
        self.remote = Some(remote);
        self
    }

    /// The remote shards, if this client was given them.
    pub fn remote_shards(&self) -> Option<&Arc<crate::shard::remote::RemoteShards>> {
        self.remote.as_ref()
    }

    /// What starts shard processes, if this client was given one.
    pub fn shard_spawner(&self) -> Option<&Arc<dyn SpawnShard>> {
        self.shards.as_ref()
    }

    /// Whether [`Control::restart_server`] can work.
    pub fn can_restart(&self) -> bool {
        self.restarter.is_some()
    }

    /// Restarts the server (see [`RestartServer`]).
    pub async fn restart_server(&self) -> Result<(), LoadError> {
        let restarter = self
            .restarter
            .as_ref()
            .ok_or_else(|| LoadError::Control("no way to restart this server".into()))?;
        restarter.restart().await.map_err(LoadError::Control)
    }

    /// Waits until the server answers `/healthz`, at most `timeout`; whether it did.
    pub async fn wait_healthy(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < deadline {
            if self.healthy().await {
                return true;
            }
            tokio::time::sleep(RETRY_PAUSE).await;
        }
        false
    }

    /// Reads the server's counters, retrying for a while: a restart may be in progress.
    pub async fn scrape_patiently(&self) -> Result<Snapshot, LoadError> {
        let deadline = tokio::time::Instant::now() + SCRAPE_PATIENCE;
        loop {
            match self.scrape().await {
                Ok(s) => return Ok(s),
                Err(e) if tokio::time::Instant::now() >= deadline => return Err(e),
                Err(_) => tokio::time::sleep(RETRY_PAUSE).await,
            }
        }
    }

    /// Asks the server to close `count` random connections of `transport`; returns how many it did.
    pub async fn close_connections(
        &self,
        transport: Transport,
        count: u64,
    ) -> Result<u64, LoadError> {
        let request = CloseRequest {
            transport: transport.as_str().into(),
            count,
        };
        let answer: CloseResponse = self.post_json(paths::FAULTS_CLOSE, &request).await?;
        Ok(answer.closed)
    }

    /// Resumes an interrupted schedule on a restarted server.
    pub async fn resume(&self, request: &ResumeRequest) -> Result<ScheduleResponse, LoadError> {
        self.post_json(paths::RESUME, request).await
    }

    /// POSTs `body` as JSON to `path` and parses a JSON answer; a non-2xx answer is an error.
    async fn post_json<B: serde::Serialize, R: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<R, LoadError> {
        let json = serde_json::to_vec(body)
            .map_err(|e| LoadError::Control(format!("POST {path}: {e}")))?;
        let answer = self
            .http
            .post_json(path, json)
            .await
            .map_err(|e| LoadError::Control(format!("POST {path}: {e}")))?;
        let (status, text) = (answer.status, answer.text());
        if !status.is_success() {
            return Err(LoadError::Control(format!(
                "POST {path}: {status}: {}",
                text.trim()
            )));
        }
        serde_json::from_str(&text)
            .map_err(|e| LoadError::Control(format!("POST {path} answer: {e}")))
    }

    /// Publishes `payload` to `topic` at the target's publish URL (`POST /publish`), on the
    /// control plane's uncounted connections; the event's sequence number.
    pub(crate) async fn publish(&self, topic: &str, payload: Vec<u8>) -> Result<u64, LoadError> {
        #[derive(serde::Deserialize)]
        struct Published {
            seq: u64,
        }
        let path = crate::target::spec::current().publish.render(topic, "", "");
        let answer = self
            .http
            .post_json(&path, payload)
            .await
            .map_err(|e| LoadError::Control(format!("POST {path}: {e}")))?;
        let (status, text) = (answer.status, answer.text());
        if !status.is_success() {
            return Err(LoadError::Control(format!(
                "POST {path}: {status}: {}",
                text.trim()
            )));
        }
        serde_json::from_str::<Published>(&text)
            .map(|p| p.seq)
            .map_err(|e| LoadError::Control(format!("POST {path} answer: {e}")))
    }

    /// Starts the server's publisher.
    pub async fn schedule(&self, req: &ScheduleRequest) -> Result<ScheduleResponse, LoadError> {
        self.post_json(&crate::target::spec::current().schedule, req)
            .await
    }

    /// Reads the server's counters.
    pub async fn scrape(&self) -> Result<Snapshot, LoadError> {
        if let Some(pid) = self.client_side {
            return client_side(pid);
        }
        let text = self
            .get_ok(paths::METRICS)
            .await
            .map(|answer| answer.text())?;
        Ok(Snapshot::from_samples(&metrics::parse_text(&text)))
    }

    /// [`Control::scrape`], then the server's settings ([`Control::server_info`]) in the snapshot.
    /// Two requests: not for a window edge.
    pub async fn scrape_with_settings(&self) -> Result<Snapshot, LoadError> {
        let mut snapshot = self.scrape().await?;
        snapshot.settings = self.server_info().await?;
        Ok(snapshot)
    }

    /// What the server answers on `GET /settings`; `None` from a server without the route (404).
    pub async fn server_info(&self) -> Result<Option<ServerInfo>, LoadError> {
        let path = paths::SETTINGS;
        let answer = self
            .http
            .get(path)
            .await
            .map_err(|e| LoadError::Control(format!("GET {path}: {e}")))?;
        let (status, text) = (answer.status, answer.text());
        crate::server_info::from_answer(status, &text)
    }

    /// Starts the server's publisher on an explicit plan.
    pub async fn plan(&self, req: &PlanRequest) -> Result<PlanResponse, LoadError> {
        self.post_json(paths::PLAN, req).await
    }

    /// How many of the first `expected` events `topic` holds, assuming they were published with
    /// consecutive sequence numbers from 1 (a fresh topic): reads backwards from `expected` with
    /// short polls, at most `expected / 1024 + 2` of them.
    pub async fn published(&self, topic: &str, expected: u64) -> Result<u64, LoadError> {
        let step = MAX_EVENTS_PER_RESPONSE as u64;
        let mut after = expected.saturating_sub(1);
        for _ in 0..expected / step + 2 {
            if expected == 0 {
                break;
            }
            let spec = crate::target::spec::current();
            let path = spec.short_poll.render(topic, &after.to_string(), "");
            let body = self.get_ok(&path).await?.body;
            let body = spec.batch(&body);
            let batch = rtbench_proto::poll::parse_poll_response(&body)
                .map_err(|e| LoadError::Control(format!("poll answer: {e}")))?;
            if let Some(last) = batch.events.last() {
                return Ok(last.seq.min(expected));
            }
            if after == 0 {
                break;
            }
            after = after.saturating_sub(step);
        }
        Ok(0)
    }

    /// Whether the server answers `/healthz`.
    pub async fn healthy(&self) -> bool {
        matches!(self.http.get(paths::HEALTHZ).await, Ok(a) if a.status.is_success())
    }

    /// The server's CLOCK_MONOTONIC now (`GET /clock`), nanoseconds.
    pub async fn server_clock_ns(&self) -> Result<u64, LoadError> {
        #[derive(serde::Deserialize)]
        struct Reading {
            mono_ns: u64,
        }
        let answer = self.get_ok(paths::CLOCK).await?;
        serde_json::from_slice::<Reading>(&answer.body)
            .map(|r| r.mono_ns)
            .map_err(|e| LoadError::Control(format!("GET {}: {e}", paths::CLOCK)))
    }

    /// `GET path`; an error unless it answers 2xx.
    async fn get_ok(&self, path: &str) -> Result<crate::control_http::Answer, LoadError> {
        let answer = self
            .http
            .get(path)
            .await
            .map_err(|e| LoadError::Control(format!("GET {path}: {e}")))?;
        if !answer.status.is_success() {
            let shown = path.split('?').next().unwrap_or(path);
            return Err(LoadError::Control(format!(
                "GET {shown}: {}: {}",
                answer.status,
                answer.text().trim()
            )));
        }
        Ok(answer)
    }
}

/// A window-edge snapshot of a target without rtbench's `/metrics` (`run --target`), from the
/// client side: the meter's bytes ([`crate::target::meter`]) stand for the server's (what the
/// clients read, the server sent), the client sockets' kernel counts for the server's, and
/// `/proc/PID` for its CPU and RSS when a pid was given (0 otherwise: the run records that they
/// were not measured). One phase measures one transport, so every transport's slot holds the
/// same counts and the phase's window takes its own.
/// An error when `pid` is given and that process is gone.
fn client_side(pid: Option<u32>) -> Result<Snapshot, LoadError> {
    let reading = crate::target::meter::reading();
    let counters = TransportCounters {
        bytes_sent: reading.bytes_read,
        bytes_received: reading.bytes_written,
        http_requests: 0,
        connections_open: 0,
        connections_accepted: 0,
        kernel_bytes_acked: reading.kernel.bytes_received,
        kernel_bytes_received: reading.kernel.bytes_acked,
        kernel_send_queue: 0,
        kernel_receive_queue: 0,
        segments_out: reading.kernel.segments_in,
        segments_in: reading.kernel.segments_out,
    };
    let mut snap = Snapshot {
        transports: [counters; Transport::ALL.len()],
        kernel_reported: true,
        ..Snapshot::default()
    };
    if let Some(pid) = pid {
        let usage = crate::target::process::usage(pid).ok_or_else(|| {
            LoadError::Control(format!("--target-pid {pid}: no such process in /proc"))
        })?;
        snap.server_cpu_us = usage.cpu_us;
        snap.server_rss_bytes = usage.rss_bytes;
    }
    Ok(snap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_reads_per_transport_series() {
        let text = "rtbench_bytes_sent_total{transport=\"sse\"} 10\n\
                    rtbench_bytes_received_total{transport=\"sse\"} 3\n\
                    rtbench_http_requests_total{transport=\"short_poll\"} 7\n\
                    rtbench_bytes_sent_total{transport=\"control\"} 99\n\
                    rtbench_process_cpu_microseconds_total 1234\n";
        let s = Snapshot::from_samples(&metrics::parse_text(text));
        assert_eq!(s.transports[Transport::Sse.index()].bytes_sent, 10);
        assert_eq!(s.transports[Transport::Sse.index()].bytes_received, 3);
        assert_eq!(s.transports[Transport::ShortPoll.index()].http_requests, 7);
        assert_eq!(s.server_cpu_us, 1234);
        assert!(!s.kernel_reported);
        assert_eq!(s.settings, None);

        let text = "rtbench_kernel_bytes_acked_total{transport=\"tcp\"} 90\n\
                    rtbench_kernel_send_queue_bytes{transport=\"tcp\"} 10\n\
                    rtbench_kernel_bytes_received_total{transport=\"tcp\"} 50\n\
                    rtbench_kernel_receive_queue_bytes{transport=\"tcp\"} 5\n\
                    rtbench_connections_open{transport=\"tcp\"} 3\n\
                    rtbench_process_cpu_microseconds_total 1000\n\
                    rtbench_kernel_sweep_cpu_microseconds_total 30\n\
                    rtbench_config_http_writev 1\n";
        let k = Snapshot::from_samples(&metrics::parse_text(text));
        let tcp = k.transports[Transport::Tcp.index()];
        assert!(k.kernel_reported);
        assert_eq!(
            (tcp.kernel_sent(), tcp.kernel_read(), tcp.connections_open),
            (100, 45, 3)
        );
        assert_eq!(
            k.settings, None,
            "settings come from GET /settings, not gauges"
        );
        let earlier = Snapshot {
            server_cpu_us: 400,
            kernel_sweep_cpu_us: 10,
            ..Snapshot::default()
        };
        assert_eq!(earlier.server_cpu_us_until(&k), 580);
    }
}
