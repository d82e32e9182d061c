//! The columns of the comparison tables: one definition for the terminal and Markdown views.
//! Rows that carry events get the delivery table; idle-scenario rows (those with `connections`)
//! get the idle table.

use crate::format::{bytes, latency_us, number, opt_number, percent, ratio};
use rtbench_results::Row;

/// Disagreement between the byte meter and the kernel above which a row is flagged, percent.
pub const DISAGREEMENT_FLAG_PCT: f64 = 1.0;

/// One table: its headers and how a row fills them.
#[derive(Debug, Clone, Copy)]
pub struct Columns {
    /// Column headers, in order.
    pub headers: &'static [&'static str],
    /// The cells of one row, in header order.
    pub cells: fn(&Row) -> Vec<String>,
}

/// Rows that carry events.
pub const DELIVERY: Columns = Columns {
    headers: &[
        "transport",
        "clients",
        "deliveries",
        "lost/dup/reord",
        "p50",
        "p90",
        "p99",
        "p99.9",
        "max",
        "p50 ÷ tcp",
        "bytes/deliv",
        "kernel B/deliv",
        "meter vs kernel",
        "pkts/deliv",
        "req/deliv",
        "srv CPU µs/deliv",
        "cli CPU µs/deliv",
    ],
    cells: delivery_cells,
};

/// Idle-scenario rows.
pub const IDLE: Columns = Columns {
    headers: &[
        "transport",
        "connections",
        "RSS/conn at connect",
        "RSS/conn after idle",
        "kernel sock mem/conn",
        "idle B/s/client",
        "idle req/s/client",
        "idle srv CPU µs/s/client",
        "meter vs kernel",
    ],
    cells: idle_cells,
};

fn delivery_cells(r: &Row) -> Vec<String> {
    let l = &r.latency_us;
    vec![
        r.transport.clone(),
        r.clients.to_string(),
        r.deliveries.to_string(),
        format!("{}/{}/{}", r.lost, r.duplicated, r.reordered),
        latency_us(l.p50),
        latency_us(l.p90),
        latency_us(l.p99),
        latency_us(l.p999),
        latency_us(l.max),
        ratio(r.ratio_to_floor_p50),
        number(r.bytes_per_delivery),
        opt_number(r.kernel_bytes_per_delivery),
        disagreement(r.meter_kernel_disagreement_pct),
        opt_number(r.packets_per_delivery),
        number(r.requests_per_delivery),
        number(r.server_cpu_us_per_delivery),
        number(r.client_cpu_us_per_delivery),
    ]
}

fn idle_cells(r: &Row) -> Vec<String> {
    vec![
        r.transport.clone(),
        r.connections.map_or("–".into(), |c| c.to_string()),
        r.memory_per_connection_at_connect_bytes
            .map_or("–".into(), bytes),
        r.memory_per_connection_bytes.map_or("–".into(), bytes),
        r.kernel_socket_memory_per_connection_bytes
            .map_or("–".into(), bytes),
        opt_number(r.idle_bytes_per_client_s),
        opt_number(r.idle_requests_per_client_s),
        opt_number(r.idle_server_cpu_us_per_client_s),
        disagreement(r.meter_kernel_disagreement_pct),
    ]
}

/// A disagreement, flagged with `⚠` above [`DISAGREEMENT_FLAG_PCT`].
fn disagreement(pct: Option<f64>) -> String {
    match pct {
        Some(p) if p > DISAGREEMENT_FLAG_PCT => format!("⚠ {}", percent(p)),
        other => other.map_or("–".into(), percent),
    }
}

/// The tables a document needs, each with its rows, in document order: deliveries, then idle.
pub fn tables(rows: &[Row]) -> Vec<(Columns, Vec<&Row>)> {
    let (idle, delivery): (Vec<&Row>, Vec<&Row>) =
        rows.iter().partition(|r| r.connections.is_some());
    [(DELIVERY, delivery), (IDLE, idle)]
        .into_iter()
        .filter(|(_, rows)| !rows.is_empty())
        .collect()
}

/// Lines a reader must not miss under the tables: clients that failed, and rows whose byte meter
/// disagrees with the kernel by more than [`DISAGREEMENT_FLAG_PCT`].
pub fn notes(rows: &[Row]) -> Vec<String> {
    let mut notes = Vec::new();
    for r in rows {
        if r.client_errors > 0 {
            notes.push(format!(
                "{} ({}): {} clients ended with an error",
                r.transport, r.scenario, r.client_errors
            ));
        }
        if let Some(p) = r
            .meter_kernel_disagreement_pct
            .filter(|p| *p > DISAGREEMENT_FLAG_PCT)
        {
            notes.push(format!(
                "{} ({}): the byte meter and the kernel's TCP_INFO count disagree by {} \
                 (over {DISAGREEMENT_FLAG_PCT}%): its byte figures are suspect",
                r.transport,
                r.scenario,
                percent(p)
            ));
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_only_above_one_percent() {
        assert_eq!(disagreement(Some(0.004)), "0.00%");
        assert_eq!(disagreement(Some(1.0)), "1.00%");
        assert_eq!(disagreement(Some(2.5)), "⚠ 2.50%");
        assert_eq!(disagreement(None), "–");
    }
}
