//! A measured window's totals (deltas of two scrapes of the server's counters) and the figures
//! every row derives from them: per delivery for event-carrying scenarios, per client-second for
//! the idle one, and the meter's disagreement with the kernel.

use crate::control::Snapshot;
use rtbench_proto::Transport;
use rtbench_results::Totals;

/// The counters of `t` between scrapes `m0` and `m1`, with the caller's own CPU and the elapsed
/// time between the scrapes. Server CPU leaves out what the server spent reading kernel counters
/// for the scrapes themselves; kernel figures are present only when both scrapes carry them, and
/// never for a transport on UDP.
pub(crate) fn totals(
    t: Transport,
    m0: &Snapshot,
    m1: &Snapshot,
    client_cpu_us: u64,
    window_us: u64,
) -> Totals {
    let (a, b) = (m0.transports[t.index()], m1.transports[t.index()]);
    // UDP (WebTransport's QUIC) has no TCP_INFO: its rows carry no kernel figures.
    let kernel = m0.kernel_reported && m1.kernel_reported && t.quic_path().is_none();
    let delta = |f: fn(&crate::control::TransportCounters) -> u64| {
        kernel.then(|| f(&b).saturating_sub(f(&a)))
    };
    Totals {
        window_us,
        bytes_to_clients: b.bytes_sent.saturating_sub(a.bytes_sent),
        bytes_from_clients: b.bytes_received.saturating_sub(a.bytes_received),
        http_requests: b.http_requests.saturating_sub(a.http_requests),
        server_cpu_us: m0.server_cpu_us_until(m1),
        client_cpu_us,
        kernel_bytes_to_clients: delta(|c| c.kernel_sent()),
        kernel_bytes_from_clients: delta(|c| c.kernel_read()),
        segments_out: delta(|c| c.segments_out),
        segments_in: delta(|c| c.segments_in),
        rss_growth_bytes: None,
        rss_growth_at_connect_bytes: None,
        socket_memory_growth_bytes: None,
        socket_memory_growth_at_connect_bytes: None,
        server_rss_bytes: (m1.server_rss_bytes > 0).then_some(m1.server_rss_bytes),
    }
}

/// Bytes both ways by the meter.
fn meter_bytes(t: &Totals) -> u64 {
    t.bytes_to_clients + t.bytes_from_clients
}

/// Bytes both ways by the kernel, when measured.
pub(crate) fn kernel_bytes(t: &Totals) -> Option<u64> {
    Some(t.kernel_bytes_to_clients? + t.kernel_bytes_from_clients?)
}

/// Segments both ways, when measured.
pub(crate) fn segments(t: &Totals) -> Option<u64> {
    Some(t.segments_out? + t.segments_in?)
}

/// |meter − kernel| / kernel × 100 over the window's bytes, both directions; 0 when neither saw a
/// byte, 100 when only the meter did.
pub(crate) fn disagreement_pct(t: &Totals) -> Option<f64> {
    let kernel = kernel_bytes(t)?;
    let meter = meter_bytes(t);
    Some(match (meter, kernel) {
        (0, 0) => 0.0,
        (_, 0) => 100.0,
        _ => (meter as f64 - kernel as f64).abs() / kernel as f64 * 100.0,
    })
}

/// `x / by`, 0 when `by` is 0 (no deliveries: nothing to divide among).
pub(crate) fn per(x: u64, by: u64) -> f64 {
    if by == 0 { 0.0 } else { x as f64 / by as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::TransportCounters;

    #[test]
    fn deltas_kernel_and_disagreement() {
        let mut m0 = Snapshot {
            kernel_reported: true,
            server_cpu_us: 100,
            kernel_sweep_cpu_us: 5,
            ..Snapshot::default()
        };
        let mut m1 = Snapshot {
            server_cpu_us: 1_100,
            kernel_sweep_cpu_us: 25,
            ..m0.clone()
        };
        let sse = Transport::Sse.index();
        m0.transports[sse] = TransportCounters {
            bytes_sent: 1_000,
            kernel_bytes_acked: 900,
            kernel_send_queue: 100,
            segments_out: 10,
            ..TransportCounters::default()
        };
        m1.transports[sse] = TransportCounters {
            bytes_sent: 3_000,
            bytes_received: 10,
            kernel_bytes_acked: 2_980,
            kernel_bytes_received: 10,
            segments_out: 30,
            segments_in: 5,
            ..TransportCounters::default()
        };
        let t = totals(Transport::Sse, &m0, &m1, 7, 1_000_000);
        assert_eq!((t.bytes_to_clients, t.bytes_from_clients), (2_000, 10));
        assert_eq!(t.kernel_bytes_to_clients, Some(1_980));
        assert_eq!(segments(&t), Some(25));
        assert_eq!(t.server_cpu_us, 980);
        let pct = disagreement_pct(&t).unwrap();
        assert!((pct - 20.0 / 1_990.0 * 100.0).abs() < 1e-9, "{pct}");

        m1.kernel_reported = false;
        let t = totals(Transport::Sse, &m0, &m1, 7, 1_000_000);
        assert_eq!((kernel_bytes(&t), disagreement_pct(&t)), (None, None));
        assert_eq!(per(3, 0), 0.0);
    }
}
