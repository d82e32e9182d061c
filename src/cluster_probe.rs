//! The `cluster` figures of a run on a server cluster: the broker hop's histogram, read from the
//! cluster's `/metrics` (summed over its processes) before and after the measurement, and the
//! broker's CPU from `/proc/<redis-server pid>/stat` over the same span.

use rtbench_results::cluster::ClusterFigures;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Name of the hop histogram's series (the server's `broker::hop::HOP_METRIC`).
const HOP: &str = "rtbench_broker_hop_us";

/// One reading: cumulative buckets (upper bound µs, `None` for +Inf → hops), the sum in µs,
/// the broker's CPU µs.
#[derive(Debug, Clone, Default)]
struct Reading {
    buckets: Vec<(Option<u64>, u64)>,
    sum_us: f64,
    broker_cpu_us: Option<u64>,
}

/// A run's cluster figures in the making.
#[derive(Debug)]
pub struct ClusterProbe {
    http: SocketAddr,
    procs: u32,
    broker_pid: Option<u32>,
    before: Reading,
}

impl ClusterProbe {
    /// Reads the starting figures of the cluster at `http` (`procs` processes, its broker our
    /// child `broker_pid` if we started it); `None` when the cluster's metrics cannot be read.
    pub fn start(http: SocketAddr, procs: u32, broker_pid: Option<u32>) -> Option<ClusterProbe> {
        let before = read(http, broker_pid)?;
        Some(ClusterProbe {
            http,
            procs,
            broker_pid,
            before,
        })
    }

    /// The figures from the start to now; `None` when the metrics cannot be read.
    pub fn finish(self) -> Option<ClusterFigures> {
        let after = read(self.http, self.broker_pid)?;
        let mut previous = 0u64;
        let mut buckets = Vec::with_capacity(after.buckets.len());
        for (i, &(le, cumulative)) in after.buckets.iter().enumerate() {
            let start = self.before.buckets.get(i).map_or(0, |b| b.1);
            let now = cumulative.saturating_sub(start);
            buckets.push((le, now.saturating_sub(previous)));
            previous = now;
        }
        let hops: u64 = buckets.iter().map(|b| b.1).sum();
        let events = hops / u64::from(self.procs.max(1));
        let cpu = after
            .broker_cpu_us
            .zip(self.before.broker_cpu_us)
            .map(|(a, b)| a.saturating_sub(b));
        Some(ClusterFigures {
            server_procs: self.procs,
            broker: "redis".into(),
            hops,
            hop_mean_us: (after.sum_us - self.before.sum_us) / hops.max(1) as f64,
            hop_p50_us: ClusterFigures::quantile_us(&buckets, 0.5),
            hop_p99_us: ClusterFigures::quantile_us(&buckets, 0.99),
            hop_buckets_us: buckets,
            broker_cpu_us: cpu,
            broker_cpu_us_per_event: cpu.filter(|_| events > 0).map(|c| c as f64 / events as f64),
        })
    }
}

/// The cluster's hop histogram and the broker's CPU now.
fn read(http: SocketAddr, broker_pid: Option<u32>) -> Option<Reading> {
    let text = get_metrics(http)?;
    let mut reading = Reading {
        broker_cpu_us: broker_pid.and_then(cpu_us),
        ..Reading::default()
    };
    for line in text.lines().filter(|l| l.starts_with(HOP)) {
        let (key, value) = line.rsplit_once(' ')?;
        let value: f64 = value.parse().ok()?;
        if let Some(le) = key
            .strip_prefix(HOP)
            .and_then(|k| k.strip_prefix("_bucket{le=\""))
        {
            let le = le.trim_end_matches("\"}");
            let le = if le == "+Inf" {
                None
            } else {
                Some(le.parse().ok()?)
            };
            reading.buckets.push((le, value as u64));
        } else if key == format!("{HOP}_sum") {
            reading.sum_us = value;
        }
    }
    (!reading.buckets.is_empty()).then_some(reading)
}

/// `GET /metrics` on a plaintext HTTP/1.1 loopback server; `None` on any failure.
fn get_metrics(http: SocketAddr) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&http, Duration::from_secs(2)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let head = "GET /metrics HTTP/1.1\r\nHost: rtbench\r\nConnection: close\r\n\r\n";
    stream.write_all(head.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let (status, body) = answer.split_once("\r\n\r\n")?;
    status.starts_with("HTTP/1.1 200").then(|| body.to_string())
}

/// A process's user + system CPU, microseconds, from `/proc/PID/stat`.
fn cpu_us(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (hz > 0).then(|| ticks * 1_000_000 / hz as u64)
}
