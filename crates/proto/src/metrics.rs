//! Names of the server's Prometheus metrics (`GET /metrics`), and a reader for the text format.
//!
//! Per-transport series carry a `transport` label: one of the five transport names, or `control` for
//! connections that only publish, schedule or scrape. A connection's transport is the one named by
//! the path of its first request (raw-TCP connections are `tcp` from the start); its bytes are
//! counted at the socket, request and response headers and handshakes included.

/// Gauge: connections open now.
pub const CONNECTIONS_OPEN: &str = "rtbench_connections_open";
/// Counter: connections accepted.
pub const CONNECTIONS_ACCEPTED: &str = "rtbench_connections_accepted_total";
/// Counter: HTTP requests served (WebSocket upgrades and SSE streams count one each).
pub const HTTP_REQUESTS: &str = "rtbench_http_requests_total";
/// Counter: the part of [`HTTP_REQUESTS`] answered by the server's lean HTTP/1.1 path rather than
/// by hyper (per transport).
pub const HTTP_LEAN_REQUESTS: &str = "rtbench_http_lean_requests_total";
/// Counter: events written to clients (one per event per client).
pub const EVENTS_DELIVERED: &str = "rtbench_events_delivered_total";
/// Counter: bytes read from client sockets (TCP payload).
pub const BYTES_RECEIVED: &str = "rtbench_bytes_received_total";
/// Counter: bytes written to client sockets (TCP payload).
pub const BYTES_SENT: &str = "rtbench_bytes_sent_total";
/// Counter: events published into the hub (all topics, no label).
pub const EVENTS_PUBLISHED: &str = "rtbench_events_published_total";
/// Counter: user + system CPU time of the server process, microseconds (getrusage; no label).
pub const PROCESS_CPU_US: &str = "rtbench_process_cpu_microseconds_total";
/// Gauge: resident set size of the server process, bytes (no label).
pub const PROCESS_RSS_BYTES: &str = "rtbench_process_resident_memory_bytes";
/// Counter: bytes the peers acknowledged, by the kernel's count (`TCP_INFO` `tcpi_bytes_acked`),
/// summed over the transport's open sockets and the final values of its closed ones.
pub const KERNEL_BYTES_ACKED: &str = "rtbench_kernel_bytes_acked_total";
/// Counter: bytes received in order, by the kernel's count (`TCP_INFO` `tcpi_bytes_received`),
/// summed like [`KERNEL_BYTES_ACKED`].
pub const KERNEL_BYTES_RECEIVED: &str = "rtbench_kernel_bytes_received_total";
/// Counter: TCP segments sent, ACKs and retransmissions included (`TCP_INFO` `tcpi_segs_out`).
pub const KERNEL_SEGMENTS_OUT: &str = "rtbench_kernel_segments_out_total";
/// Counter: TCP segments received, ACKs included (`TCP_INFO` `tcpi_segs_in`).
pub const KERNEL_SEGMENTS_IN: &str = "rtbench_kernel_segments_in_total";
/// Gauge: bytes written by the server but not yet acknowledged by the peer (`SIOCOUTQ`), at the
/// scrape instant, summed over the transport's open sockets.
pub const KERNEL_SEND_QUEUE_BYTES: &str = "rtbench_kernel_send_queue_bytes";
/// Gauge: bytes received by the kernel but not yet read by the server (`SIOCINQ`), at the scrape
/// instant, summed over the transport's open sockets.
pub const KERNEL_RECEIVE_QUEUE_BYTES: &str = "rtbench_kernel_receive_queue_bytes";
/// Gauge: sockets the kernel counters were read from at this scrape.
pub const KERNEL_SOCKETS: &str = "rtbench_kernel_sockets";
/// Counter: CPU time the server spent reading the kernel counters for scrapes, microseconds (no
/// label). Part of [`PROCESS_CPU_US`]; a reader subtracts it to leave the measurement's own cost out.
pub const KERNEL_SWEEP_CPU_US: &str = "rtbench_kernel_sweep_cpu_microseconds_total";
/// Label value for connections that are not one of the five transports.
pub const CONTROL_LABEL: &str = "control";

/// One sample of a scrape.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Metric name.
    pub name: String,
    /// Value of the `transport` label, if the series has one.
    pub transport: Option<String>,
    /// The value.
    pub value: f64,
}

/// Reads the samples of a Prometheus text exposition, skipping comments and malformed lines.
pub fn parse_text(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let value = value.parse().ok()?;
            let (name, transport) = match series.split_once('{') {
                Some((name, labels)) => {
                    let transport = labels
                        .trim_end_matches('}')
                        .split(',')
                        .find_map(|kv| kv.strip_prefix("transport=\""))
                        .map(|v| v.trim_end_matches('"').to_string());
                    (name, transport)
                }
                None => (series, None),
            };
            Some(Sample {
                name: name.to_string(),
                transport,
                value,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_labelled_and_plain_samples() {
        let text = "# HELP x\nrtbench_bytes_sent_total{transport=\"sse\"} 42\nrtbench_process_cpu_microseconds_total 7\n";
        let s = parse_text(text);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].transport.as_deref(), Some("sse"));
        assert_eq!(s[0].value, 42.0);
        assert_eq!(s[1].transport, None);
    }
}
