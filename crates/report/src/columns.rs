//! The columns of the comparison tables: one definition for the terminal, Markdown and HTML views.
//!
//! Rows that carry events get the delivery table; idle-scenario rows (those with `connections`)
//! get the idle table. The delivery table shows the same core columns for every run. Some appear
//! only when the run needs them: reconnects (when faults were injected or clients reconnected), the
//! kernel's byte and packet counts (when measured), the swept
//! parameters (one column per swept knob other than `clients`, which is always shown), the
//! clients' messages and the bytes of each direction (when clients send), and the min–max range
//! of the median latency and CPU (when points were repeated), and the latency to the ack of
//! Socket.IO's acknowledged emits (when a row has them, `--socketio-ack`). A row measured by
//! load-generator shards on other hosts shows its clock uncertainty beside every latency:
//! `2.27 ms ± 180 µs`.

use crate::format::{bytes, latency_us, number, opt_number, percent, ratio};
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

/// A latency of `r`, with `r`'s clock uncertainty beside it when it has one.
fn latency_of(r: &Row, us: f64) -> String {
    match r.latency_us.uncertainty_us {
        Some(u) => format!("{} ± {}", latency_us(us), latency_us(u)),
        None => latency_us(us),
    }
}

/// A latency of `r` in milliseconds ([`ms`]), with `r`'s clock uncertainty (ms) when it has one.
fn ms_of(r: &Row, us: f64) -> String {
    match r.latency_us.uncertainty_us {
        Some(u) => format!("{} ± {}", ms(us), ms(u)),
        None => ms(us),
    }
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

/// Disagreement between the byte meter and the kernel above which a row is flagged, percent.
pub const DISAGREEMENT_FLAG_PCT: f64 = 1.0;

/// The delivery-table columns for `r`, in order.
pub fn columns(r: &Results) -> Vec<Column> {
    let swept = |key: &str| {
        r.config
            .sweep
            .iter()
            .any(|s| s.starts_with(&format!("{key}=")))
    };
    let sends = r.rows.iter().any(|row| row.senders > 0);
    let spread = r.rows.iter().any(|row| row.spread.is_some());
    let reconnects =
        r.rows.iter().any(|row| row.reconnects > 0) || r.config.faults.description.is_some();
    let kernel = r
        .rows
        .iter()
        .any(|row| row.kernel_bytes_per_delivery.is_some());
    let mut out = vec![col("transport", Row::who)];
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
        col("lost/dup/reord", rtbench_results::format::loss),
    ]);
    if reconnects {
        out.push(col("reconnects", |r| r.reconnects.to_string()));
    }
    out.push(col("p50", |r| latency_of(r, r.latency_us.p50)));
    if spread {
        out.push(col("p50 min–max", |r| {
            r.spread
                .map_or("–".into(), |s| latency_range(&s.latency_p50_us))
        }));
    }
    out.extend([
        col("p90", |r| latency_of(r, r.latency_us.p90)),
        col("p99", |r| latency_of(r, r.latency_us.p99)),
        col("p99.9", |r| latency_of(r, r.latency_us.p999)),
        col("max", |r| latency_of(r, r.latency_us.max)),
    ]);
    if acked(r) {
        out.extend([
            col("acks/emits", |r| {
                r.ack
                    .as_ref()
                    .map_or("–".into(), |a| format!("{}/{}", a.acks, a.emits))
            }),
            col("ack p50", |r| ack_cell(r, |l| latency_us(l.p50))),
            col("ack p99", |r| ack_cell(r, |l| latency_us(l.p99))),
        ]);
    }
    out.extend([
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
    if kernel {
        out.extend([
            col("kernel B/deliv", |r| {
                opt_number(r.kernel_bytes_per_delivery)
            }),
            col("meter vs kernel", |r| {
                disagreement(r.meter_kernel_disagreement_pct)
            }),
            col("pkts/deliv", |r| opt_number(r.packets_per_delivery)),
        ]);
    }
    out.extend([
        requests_col(r, "req/deliv"),
        server_cpu_col(r, "srv CPU µs/deliv"),
    ]);
    if spread && server_measured(r) {
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

/// A latency in milliseconds, three significant figures: `0.658`, `1.10`, `250`.
pub fn ms(us: f64) -> String {
    let ms = us / 1_000.0;
    if ms < 1.0 {
        format!("{ms:.3}")
    } else if ms < 10.0 {
        format!("{ms:.2}")
    } else if ms < 100.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

/// The compact delivery-table columns for `r`: what a reader needs first, units in the headers,
/// latencies all in ms, narrow enough for a 120-column terminal. `--wide` gives [`columns`].
pub fn compact_columns(r: &Results) -> Vec<Column> {
    let swept = |key: &str| {
        r.config
            .sweep
            .iter()
            .any(|s| s.starts_with(&format!("{key}=")))
    };
    let mut out = vec![col("transport", Row::who)];
    for (key, column) in [
        (
            "poll_interval",
            col("poll ms", |r| r.poll_interval_ms.to_string()),
        ),
        ("room_size", col("room", |r| r.room_size.to_string())),
        (
            "rate",
            col("rate/s", |r| number(r.rate_per_s.max(r.send_rate_per_s))),
        ),
        ("payload", col("payload B", |r| r.payload_bytes.to_string())),
        ("clients", col("clients", |r| r.clients.to_string())),
    ] {
        if swept(key) {
            out.push(column);
        }
    }
    if r.rows.iter().any(|row| row.senders > 0) {
        out.push(col("sends", |r| r.sends.to_string()));
    }
    out.extend([
        col("deliv", |r| r.deliveries.to_string()),
        col("lost/dup/reord", rtbench_results::format::loss),
        col("p50 ms", |r| ms_of(r, r.latency_us.p50)),
        col("p99 ms", |r| ms_of(r, r.latency_us.p99)),
    ]);
    if acked(r) {
        out.extend([
            col("ack p50 ms", |r| ack_cell(r, |l| ms(l.p50))),
            col("ack p99 ms", |r| ack_cell(r, |l| ms(l.p99))),
        ]);
    }
    out.extend([
        col("p50÷tcp", |r| ratio(r.ratio_to_floor_p50)),
        col("B/deliv", |r| number(r.bytes_per_delivery)),
        requests_col(r, "req/deliv"),
        server_cpu_col(r, "srv µs/deliv"),
    ]);
    out
}

/// Whether a row of `r` has acknowledged emits (`--socketio-ack`).
fn acked(r: &Results) -> bool {
    r.rows.iter().any(|row| row.ack.is_some())
}

/// A figure of the row's ack latency, `–` for a row without acks.
fn ack_cell(r: &Row, figure: fn(&rtbench_results::Latency) -> String) -> String {
    r.ack.as_ref().map_or("–".into(), |a| figure(&a.latency_us))
}

/// What a server-side figure reads when it was not measured (`run --target`: requests are
/// counted by a server-side meter only, CPU only with `--target-pid`), never 0.
pub const NOT_MEASURED: &str = "not measured";

/// Whether the rows' server CPU was measured (always, except `run --target` without a pid).
fn server_measured(r: &Results) -> bool {
    r.config.target.as_ref().is_none_or(|t| t.server_measured())
        && (r.rows.is_empty() || r.rows.iter().any(|row| row.server_measured))
}

/// Server CPU per delivery, or [`NOT_MEASURED`].
fn server_cpu_col(r: &Results, header: &'static str) -> Column {
    match server_measured(r) {
        true => col(header, |r| number(r.server_cpu_us_per_delivery)),
        false => col(header, |_| NOT_MEASURED.into()),
    }
}

/// HTTP requests per delivery (the server's count), or [`NOT_MEASURED`] on a target.
fn requests_col(r: &Results, header: &'static str) -> Column {
    match r.config.target {
        None => col(header, |r| number(r.requests_per_delivery)),
        Some(_) => col(header, |_| NOT_MEASURED.into()),
    }
}

/// The header row for `columns`.
pub fn headers(columns: &[Column]) -> Vec<&'static str> {
    columns.iter().map(|c| c.header).collect()
}

/// The cells of `row` for `columns`.
pub fn cells(columns: &[Column], row: &Row) -> Vec<String> {
    columns.iter().map(|c| (c.cell)(row)).collect()
}

/// The idle-table columns.
pub fn idle_columns() -> Vec<Column> {
    vec![
        col("transport", Row::who),
        col("connections", |r| {
            r.connections.map_or("–".into(), |c| c.to_string())
        }),
        col("RSS/conn at connect", |r| {
            r.memory_per_connection_at_connect_bytes
                .map_or("–".into(), bytes)
        }),
        col("RSS/conn after idle", |r| {
            r.memory_per_connection_bytes.map_or("–".into(), bytes)
        }),
        col("kernel sock mem/conn", |r| {
            r.kernel_socket_memory_per_connection_bytes
                .map_or("–".into(), bytes)
        }),
        col("idle B/s/client", |r| opt_number(r.idle_bytes_per_client_s)),
        col("idle req/s/client", |r| {
            opt_number(r.idle_requests_per_client_s)
        }),
        col("idle srv CPU µs/s/client", |r| {
            opt_number(r.idle_server_cpu_us_per_client_s)
        }),
        col("meter vs kernel", |r| {
            disagreement(r.meter_kernel_disagreement_pct)
        }),
    ]
}

/// The compact idle-table columns: memory and idle cost per connection, without the kernel's
/// socket memory and the meter check (in `--wide`).
pub fn compact_idle_columns() -> Vec<Column> {
    vec![
        col("transport", Row::who),
        col("conns", |r| {
            r.connections.map_or("–".into(), |c| c.to_string())
        }),
        col("RSS/conn connect", |r| {
            r.memory_per_connection_at_connect_bytes
                .map_or("–".into(), bytes)
        }),
        col("RSS/conn idle", |r| {
            r.memory_per_connection_bytes.map_or("–".into(), bytes)
        }),
        col("B/s/client", |r| opt_number(r.idle_bytes_per_client_s)),
        col("req/s/client", |r| opt_number(r.idle_requests_per_client_s)),
        col("srv µs/s/client", |r| {
            opt_number(r.idle_server_cpu_us_per_client_s)
        }),
    ]
}

/// A disagreement, flagged with `⚠` above [`DISAGREEMENT_FLAG_PCT`].
fn disagreement(pct: Option<f64>) -> String {
    match pct {
        Some(p) if p > DISAGREEMENT_FLAG_PCT => format!("⚠ {}", percent(p)),
        other => other.map_or("–".into(), percent),
    }
}

/// One table of a document: an optional heading (the network conditions, when a run has several
/// profiles or other than loopback), its columns and its rows.
pub struct Table<'a> {
    /// The line above the table.
    pub heading: Option<String>,
    /// Its columns.
    pub columns: Vec<Column>,
    /// Its rows.
    pub rows: Vec<&'a Row>,
}

/// The tables a document needs, in document order: the delivery rows, one table per network
/// conditions profile ([`crate::profiles`]), then the idle rows. Every column ([`columns`]).
pub fn tables(r: &Results) -> Vec<Table<'_>> {
    tables_with(r, true)
}

/// [`tables`] with every column (`wide`) or the compact ones ([`compact_columns`],
/// [`compact_idle_columns`]).
pub fn tables_with(r: &Results, wide: bool) -> Vec<Table<'_>> {
    let delivery_columns = if wide { columns } else { compact_columns };
    let idle = if wide {
        idle_columns
    } else {
        compact_idle_columns
    };
    let mut out: Vec<Table<'_>> = crate::profiles::groups(r)
        .into_iter()
        .map(|g| Table {
            heading: g.heading,
            columns: delivery_columns(r),
            rows: g
                .rows
                .into_iter()
                .filter(|row| row.connections.is_none())
                .collect(),
        })
        .collect();
    out.push(Table {
        heading: None,
        columns: idle(),
        rows: r
            .rows
            .iter()
            .filter(|row| row.connections.is_some())
            .collect(),
    });
    out.retain(|t| !t.rows.is_empty());
    out
}

/// Lines a reader must not miss under the tables: clients that failed, and rows whose byte meter
/// disagrees with the kernel by more than [`DISAGREEMENT_FLAG_PCT`].
pub fn notes(rows: &[Row]) -> Vec<String> {
    let mut notes = Vec::new();
    for r in rows {
        notes.extend(
            r.notes
                .iter()
                .map(|n| format!("{} ({}): {n}", r.who(), r.scenario)),
        );
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
