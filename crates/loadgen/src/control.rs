//! The control plane: start the server's open-loop publisher and read its counters. Plain HTTP on
//! its own connection (reqwest); its bytes are labelled `control` by the server, apart from every
//! measured transport.

use crate::LoadError;
use rtbench_proto::control::{ScheduleRequest, ScheduleResponse};
use rtbench_proto::metrics::{self, Sample};
use rtbench_proto::{Transport, paths};
use std::net::SocketAddr;
use std::time::Duration;

/// Where the server listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// HTTP listener: poll, long-poll, SSE, WebSocket, publish, schedule, metrics.
    pub http: SocketAddr,
    /// Raw-TCP floor listener.
    pub tcp: SocketAddr,
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
}

/// The counters of one scrape of `/metrics`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Per transport, indexed by [`Transport::index`].
    pub transports: [TransportCounters; 5],
    /// Server process CPU so far, microseconds.
    pub server_cpu_us: u64,
}

impl Snapshot {
    fn from_samples(samples: &[Sample]) -> Snapshot {
        let mut snap = Snapshot::default();
        for s in samples {
            if s.name == metrics::PROCESS_CPU_US {
                snap.server_cpu_us = s.value as u64;
                continue;
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
                metrics::HTTP_REQUESTS => c.http_requests = s.value as u64,
                _ => {}
            }
        }
        snap
    }
}

/// A client for the server's control endpoints.
#[derive(Debug, Clone)]
pub struct Control {
    http: reqwest::Client,
    base: String,
}

impl Control {
    /// A control client for `target`. Never goes through a proxy.
    pub fn new(target: &Target) -> Result<Control, LoadError> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| LoadError::Control(e.to_string()))?;
        Ok(Control {
            http,
            base: format!("http://{}", target.http),
        })
    }

    /// Starts the server's publisher.
    pub async fn schedule(&self, req: &ScheduleRequest) -> Result<ScheduleResponse, LoadError> {
        let resp = self
            .http
            .post(format!("{}{}", self.base, paths::SCHEDULE))
            .json(req)
            .send()
            .await
            .map_err(|e| LoadError::Control(format!("POST {}: {e}", paths::SCHEDULE)))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| LoadError::Control(e.to_string()))?;
        if !status.is_success() {
            return Err(LoadError::Control(format!(
                "POST {}: {status}: {text}",
                paths::SCHEDULE
            )));
        }
        serde_json::from_str(&text).map_err(|e| LoadError::Control(format!("schedule answer: {e}")))
    }

    /// Reads the server's counters.
    pub async fn scrape(&self) -> Result<Snapshot, LoadError> {
        let text = self
            .http
            .get(format!("{}{}", self.base, paths::METRICS))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| LoadError::Control(format!("GET {}: {e}", paths::METRICS)))?
            .text()
            .await
            .map_err(|e| LoadError::Control(e.to_string()))?;
        Ok(Snapshot::from_samples(&metrics::parse_text(&text)))
    }

    /// Whether the server answers `/healthz`.
    pub async fn healthy(&self) -> bool {
        let url = format!("{}{}", self.base, paths::HEALTHZ);
        matches!(self.http.get(url).send().await, Ok(r) if r.status().is_success())
    }
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
    }
}
