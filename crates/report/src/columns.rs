//! The columns of the comparison table: one definition for the terminal and Markdown views.
//!
//! Every run shows the same core columns. Some appear only when the run needs them: the swept
//! parameters (one column per swept knob other than `clients`, which is always shown), the
//! clients' messages and the bytes of each direction (when clients send), and the min–max range
//! of the median latency and CPU (when points were repeated).

use crate::format::{latency_us, number, ratio};
use rtbench_results::{MinMax, Results, Row};

/// One column: its header and how a row fills its cell.
#[derive(Clone, Copy)]
pub struct Column {
    /// Header text.
    pub header: &'static str,
    /// The cell of one row.
    pub cell: fn(&Row) -> String,
}

const fn col(header: &'static str, cell: fn(&Row) -> String) -> Column {
    Column { header, cell }
}

/// `min–max` of a latency range.
fn latency_range(m: &MinMax) -> String {
    format!("{}–{}", latency_us(m.min), latency_us(m.max))
}

/// Bytes per delivery of one direction.
fn per_delivery(bytes: u64, r: &Row) -> String {
    match r.deliveries {
        0 => "0".into(),
        d => number(bytes as f64 / d as f64),
    }
}

/// The columns for `r`, in order.
pub fn columns(r: &Results) -> Vec<Column> {
    let swept = |key: &str| {
        r.config
            .sweep
            .iter()
            .any(|s| s.starts_with(&format!("{key}=")))
    };
    let sends = r.rows.iter().any(|row| row.senders > 0);
    let spread = r.rows.iter().any(|row| row.spread.is_some());
    let mut out = vec![col("transport", |r| r.transport.clone())];
    if swept("poll_interval") {
        out.push(col("poll ms", |r| r.poll_interval_ms.to_string()));
    }
    if swept("room_size") {
        out.push(col("room", |r| r.room_size.to_string()));
    }
    if swept("rate") {
        out.push(col("rate/s", |r| {
            number(r.rate_per_s.max(r.send_rate_per_s))
        }));
    }
    if swept("payload") {
        out.push(col("payload B", |r| r.payload_bytes.to_string()));
    }
    out.push(col("clients", |r| r.clients.to_string()));
    if sends {
        out.push(col("sends (lost)", |r| {
            format!("{} ({})", r.sends, r.sends_lost)
        }));
    }
    out.extend([
        col("deliveries", |r| r.deliveries.to_string()),
        col("lost/dup/reord", |r| {
            format!("{}/{}/{}", r.lost, r.duplicated, r.reordered)
        }),
        col("p50", |r| latency_us(r.latency_us.p50)),
    ]);
    if spread {
        out.push(col("p50 min–max", |r| {
            r.spread
                .map_or("–".into(), |s| latency_range(&s.latency_p50_us))
        }));
    }
    out.extend([
        col("p90", |r| latency_us(r.latency_us.p90)),
        col("p99", |r| latency_us(r.latency_us.p99)),
        col("p99.9", |r| latency_us(r.latency_us.p999)),
        col("max", |r| latency_us(r.latency_us.max)),
        col("p50 ÷ tcp", |r| ratio(r.ratio_to_floor_p50)),
        col("bytes/deliv", |r| number(r.bytes_per_delivery)),
    ]);
    if sends {
        out.push(col("↓ B/deliv", |r| {
            per_delivery(r.totals.bytes_to_clients, r)
        }));
        out.push(col("↑ B/deliv", |r| {
            per_delivery(r.totals.bytes_from_clients, r)
        }));
    }
    out.extend([
        col("req/deliv", |r| number(r.requests_per_delivery)),
        col("srv CPU µs/deliv", |r| {
            number(r.server_cpu_us_per_delivery)
        }),
    ]);
    if spread {
        out.push(col("srv CPU min–max", |r| {
            r.spread.map_or("–".into(), |s| {
                let m = s.server_cpu_us_per_delivery;
                format!("{}–{}", number(m.min), number(m.max))
            })
        }));
    }
    out.push(col("cli CPU µs/deliv", |r| {
        number(r.client_cpu_us_per_delivery)
    }));
    out
}

/// The header row for `columns`.
pub fn headers(columns: &[Column]) -> Vec<&'static str> {
    columns.iter().map(|c| c.header).collect()
}

/// The cells of `row` for `columns`.
pub fn cells(columns: &[Column], row: &Row) -> Vec<String> {
    columns.iter().map(|c| (c.cell)(row)).collect()
}
