//! The columns of the comparison table: one definition for the terminal and Markdown views.

use crate::format::{latency_us, number, ratio};
use rtbench_results::Row;

/// Column headers, in order.
pub const HEADERS: [&str; 15] = [
    "transport",
    "clients",
    "deliveries",
    "lost/dup/reord",
    "reconnects",
    "p50",
    "p90",
    "p99",
    "p99.9",
    "max",
    "p50 ÷ tcp",
    "bytes/deliv",
    "req/deliv",
    "srv CPU µs/deliv",
    "cli CPU µs/deliv",
];

/// The cells of one row, in [`HEADERS`] order.
pub fn cells(r: &Row) -> Vec<String> {
    let l = &r.latency_us;
    vec![
        r.transport.clone(),
        r.clients.to_string(),
        r.deliveries.to_string(),
        format!("{}/{}/{}", r.lost, r.duplicated, r.reordered),
        r.reconnects.to_string(),
        latency_us(l.p50),
        latency_us(l.p90),
        latency_us(l.p99),
        latency_us(l.p999),
        latency_us(l.max),
        ratio(r.ratio_to_floor_p50),
        number(r.bytes_per_delivery),
        number(r.requests_per_delivery),
        number(r.server_cpu_us_per_delivery),
        number(r.client_cpu_us_per_delivery),
    ]
}
