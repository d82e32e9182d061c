//! The cluster's control plane. Every process of `rtbench serve --procs N` shares the public port
//! (SO_REUSEPORT), so a request there lands on any one of them; each process therefore also
//! listens on a private loopback port and registers it in the broker (a Redis hash,
//! `rtbench.<cluster>.members`: member index → address). A process answering `GET /metrics`
//! adds its peers' own figures (`GET /metrics?local`, fetched from their private ports), and one
//! answering `POST /faults/close` passes what it could not close on to the next peer. Schedules
//! need no fan-out: the process that takes one publishes through the broker to all.
//!
//! The peer requests use hyper's client connection directly: one GET or POST on loopback.

use super::BrokerError;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::SocketAddr;

/// Most bytes of a peer's answer read.
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// The series summed over processes by taking the largest value instead: every process's hub
/// counts the same published events.
const SAME_ON_EVERY_PROCESS: [&str; 1] = [rtbench_proto::metrics::EVENTS_PUBLISHED];

/// The Redis hash of `cluster`'s members.
pub fn members_key(cluster: &str) -> String {
    format!("rtbench.{cluster}.members")
}

/// One request to a peer's private port; the answer's status and body.
pub async fn peer_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Vec<u8>,
) -> Result<(u16, String), BrokerError> {
    let peer = |e: &dyn std::fmt::Display| BrokerError::Peer(addr, e.to_string());
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| peer(&e))?;
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| peer(&e))?;
    tokio::spawn(conn);
    let request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, addr.to_string())
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| peer(&e))?;
    let answer = sender.send_request(request).await.map_err(|e| peer(&e))?;
    let status = answer.status().as_u16();
    let limited = http_body_util::Limited::new(answer.into_body(), MAX_ANSWER_BYTES);
    let bytes = limited.collect().await.map_err(|e| peer(&e))?.to_bytes();
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

/// `own` (one process's Prometheus text) with every sample replaced by its sum over `own` and
/// `peers` (the largest value for the series every process counts alike). Comments and order
/// are `own`'s; a series only a peer has is left out.
pub fn sum_metrics(own: &str, peers: &[String]) -> String {
    let mut totals: BTreeMap<&str, f64> = BTreeMap::new();
    for text in peers {
        for (key, value) in samples(text) {
            let total = totals.entry(key).or_insert(0.0);
            *total = combine(key, *total, value);
        }
    }
    let mut out = String::with_capacity(own.len());
    for line in own.lines() {
        match sample(line) {
            Some((key, value)) => {
                let total = combine(key, value, totals.get(key).copied().unwrap_or(0.0));
                out.push_str(key);
                out.push(' ');
                out.push_str(&format_value(total));
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// Two values of series `key` combined: summed, or the larger for [`SAME_ON_EVERY_PROCESS`].
fn combine(key: &str, a: f64, b: f64) -> f64 {
    let name = key.split('{').next().unwrap_or(key);
    match SAME_ON_EVERY_PROCESS.contains(&name) {
        true => a.max(b),
        false => a + b,
    }
}

/// Per-member copies of the connection series (`rtbench_member_…`), labelled `member="INDEX"`: how a reader sees
/// which process holds a connection (the shared port spreads them). `texts` are the members'
/// own `/metrics` texts with their indices.
pub fn member_series(texts: &[(u32, &str)]) -> String {
    let mut out = String::new();
    for (name, kind) in [
        (rtbench_proto::metrics::CONNECTIONS_OPEN, "gauge"),
        (rtbench_proto::metrics::CONNECTIONS_ACCEPTED, "counter"),
    ] {
        let member = name.replacen("rtbench_", "rtbench_member_", 1);
        let _ = writeln!(
            out,
            "# HELP {member} {name} of one process of the cluster.\n# TYPE {member} {kind}"
        );
        for (index, text) in texts {
            for (key, value) in samples(text) {
                let Some(labels) = key.strip_prefix(name).and_then(|k| k.strip_prefix('{')) else {
                    continue;
                };
                let _ = writeln!(
                    out,
                    "{member}{{member=\"{index}\",{labels} {}",
                    format_value(value)
                );
            }
        }
    }
    out
}

/// Integers print as integers (counters stay exact up to 2^53), the rest as floats.
fn format_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The samples of a Prometheus text: (series with labels, value).
fn samples(text: &str) -> impl Iterator<Item = (&str, f64)> {
    text.lines().filter_map(sample)
}

/// One sample line's series and value; `None` for comments, blanks and malformed lines.
fn sample(line: &str) -> Option<(&str, f64)> {
    if line.starts_with('#') {
        return None;
    }
    let (key, value) = line.rsplit_once(' ')?;
    Some((key, value.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_every_series_but_the_published_count() {
        let own = "# HELP a x\nrtbench_bytes_sent_total{transport=\"sse\"} 10\nrtbench_events_published_total 5\nrss 1.5\n";
        let peer = "rtbench_bytes_sent_total{transport=\"sse\"} 32\nrtbench_events_published_total 5\nrss 2\nonly_peer 9\n".to_string();
        let summed = sum_metrics(own, &[peer.clone(), peer]);
        assert_eq!(
            summed,
            "# HELP a x\nrtbench_bytes_sent_total{transport=\"sse\"} 74\nrtbench_events_published_total 5\nrss 5.5\n"
        );
    }

    #[test]
    fn member_series_label_each_process() {
        let a = "rtbench_connections_open{transport=\"sse\"} 2\nrtbench_connections_open_other 1\n";
        let b = "rtbench_connections_open{transport=\"sse\"} 5\n";
        let out = member_series(&[(0, a), (2, b)]);
        assert!(
            out.contains("rtbench_member_connections_open{member=\"0\",transport=\"sse\"} 2\n"),
            "{out}"
        );
        assert!(
            out.contains("rtbench_member_connections_open{member=\"2\",transport=\"sse\"} 5\n"),
            "{out}"
        );
        assert!(!out.contains("open_other"), "{out}");
    }
}
