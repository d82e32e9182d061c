//! The data the page's charts and the measured textbook table read: the rows of one or more results
//! files, merged into one [`Point`] per (workload, transport).
//!
//! Rows with the same workload and transport (repeated runs) are merged losslessly: histograms are
//! added and per-delivery figures are weighted by deliveries. Only short polling reads the poll
//! interval, so other transports match a workload whatever their run's interval was; where several
//! match, the one measured with the same interval (the same run, in a sweep) is preferred, so a
//! row is compared with the floor of its own run whenever the data has it.
//!
//! Rows measured by the browser's clients (`client: browser`) are points of their own
//! ([`Dataset::browser`]), never merged with the Rust clients' rows: the charts and sweeps read
//! the Rust clients' points, the textbook table puts the browser's beside them.

pub use crate::param::{Param, Workload};

use crate::{ReportError, Run, transport};
use rtbench_results::floor;
use rtbench_results::{Client, Latency, LatencyHistogram, Row, Transport};

/// One transport under one workload, from one or more merged rows.
#[derive(Debug, Clone)]
pub struct Point {
    /// The transport.
    pub transport: Transport,
    /// Its workload.
    pub workload: Workload,
    /// Rows merged into this point.
    pub rows: usize,
    /// Deliveries in the measured windows, summed.
    pub deliveries: u64,
    /// Delivery latency histogram in nanoseconds, merged.
    pub histogram: LatencyHistogram,
    /// Percentiles of `histogram`, microseconds.
    pub latency: Latency,
    /// Wire bytes (both directions) per delivery.
    pub bytes_per_delivery: f64,
    /// HTTP requests per delivery.
    pub requests_per_delivery: f64,
    /// Server CPU per delivery, microseconds, over the rows that measured it (0 when none did).
    pub server_cpu_us_per_delivery: f64,
    /// Whether any merged row measured the server's CPU (`run --target` without `--target-pid`
    /// does not: the page then says "not measured").
    pub server_measured: bool,
    /// Load-generator CPU per delivery, microseconds.
    pub client_cpu_us_per_delivery: f64,
    /// TCP segments per delivery, when measured.
    pub packets_per_delivery: Option<f64>,
    /// Server RSS growth per open connection, bytes, when measured.
    pub memory_per_connection_bytes: Option<f64>,
    /// Idle bytes per second per client, when measured.
    pub idle_bytes_per_client_s: Option<f64>,
    /// Idle HTTP requests per second per client, when measured.
    pub idle_requests_per_client_s: Option<f64>,
    /// Idle server CPU microseconds per second per client, when measured.
    pub idle_server_cpu_us_per_client_s: Option<f64>,
}

/// Weighted mean of `(value, weight)` pairs; plain mean when the weights add up to zero.
fn mean(pairs: &[(f64, f64)]) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    let w: f64 = pairs.iter().map(|p| p.1).sum();
    Some(if w > 0.0 {
        pairs.iter().map(|(v, w)| v * w).sum::<f64>() / w
    } else {
        pairs.iter().map(|p| p.0).sum::<f64>() / pairs.len() as f64
    })
}

impl Point {
    fn merge(rows: &[&Row], histogram: LatencyHistogram) -> Point {
        let w = |r: &&Row| r.deliveries as f64;
        let per =
            |f: &dyn Fn(&Row) -> f64| mean(&rows.iter().map(|r| (f(r), w(r))).collect::<Vec<_>>());
        let opt = |f: &dyn Fn(&Row) -> Option<f64>| {
            mean(
                &rows
                    .iter()
                    .filter_map(|r| f(r).map(|v| (v, w(r))))
                    .collect::<Vec<_>>(),
            )
        };
        let latency = if rows.len() == 1 {
            rows[0].latency_us
        } else {
            Latency::from_histogram(&histogram)
        };
        Point {
            transport: rows[0].transport,
            workload: Workload::of(rows[0]),
            rows: rows.len(),
            deliveries: rows.iter().map(|r| r.deliveries).sum(),
            histogram,
            latency,
            bytes_per_delivery: per(&|r| r.bytes_per_delivery).unwrap_or(0.0),
            requests_per_delivery: per(&|r| r.requests_per_delivery).unwrap_or(0.0),
            server_cpu_us_per_delivery: opt(&|r| r.server_cpu_us_per_delivery_measured())
                .unwrap_or(0.0),
            server_measured: rows.iter().any(|r| r.server_measured),
            client_cpu_us_per_delivery: per(&|r| r.client_cpu_us_per_delivery).unwrap_or(0.0),
            packets_per_delivery: opt(&|r| r.packets_per_delivery),
            memory_per_connection_bytes: opt(&|r| r.memory_per_connection_bytes),
            idle_bytes_per_client_s: opt(&|r| r.idle_bytes_per_client_s),
            idle_requests_per_client_s: opt(&|r| r.idle_requests_per_client_s),
            idle_server_cpu_us_per_client_s: opt(&|r| r.idle_server_cpu_us_per_client_s),
        }
    }
}

/// Every point of the runs, and the workload the page is about.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// One point per (workload, transport), in the order first seen.
    pub points: Vec<Point>,
    /// The first file's workload: the one the headline charts and the textbook table show.
    pub base: Workload,
    /// Transports present anywhere in the data, in [`Transport::ALL`] order.
    pub transports: Vec<Transport>,
    /// Network conditions present, lowest round-trip time first ([`Workload::conditions_rank`]).
    pub conditions: Vec<String>,
    /// The points the browser's clients measured, one per (workload, transport), in the order
    /// first seen; not in `points`.
    pub browser: Vec<Point>,
}

/// Rows with the same transport and workload, and their histograms added.
type Group<'a> = (Transport, Workload, Vec<&'a Row>, LatencyHistogram);

/// The rows of `runs` measured by `client`, grouped by (transport, workload).
fn group(runs: &[Run], client: Client) -> Result<Vec<Group<'_>>, ReportError> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for run in runs {
        if run.results.rows.is_empty() {
            return Err(ReportError::Empty {
                file: run.source.clone(),
            });
        }
        for row in run.results.rows.iter().filter(|r| r.client == client) {
            let bad = |reason: String| ReportError::Histogram {
                file: run.source.clone(),
                transport: row.transport,
                reason,
            };
            let w = Workload::of(row);
            match groups.iter_mut().find(|g| g.0 == row.transport && g.1 == w) {
                Some(g) => {
                    g.3.add(&row.latency_histogram)
                        .map_err(|e| bad(format!("cannot merge: {e:?}")))?;
                    g.2.push(row);
                }
                None => groups.push((row.transport, w, vec![row], row.latency_histogram.clone())),
            }
        }
    }
    Ok(groups)
}

impl Dataset {
    /// Decodes and merges the rows of `runs`. Errors name the file.
    pub fn new(runs: &[Run]) -> Result<Dataset, ReportError> {
        let first = runs.first().ok_or(ReportError::NoRuns)?;
        let groups = group(runs, Client::Rust)?;
        let conditions =
            crate::param::order_conditions(groups.iter().map(|g| g.1.conditions.as_str()));
        let rank = |c: &str| conditions.iter().position(|k| k == c).unwrap_or(0);
        let merged = |groups: Vec<Group<'_>>| -> Vec<Point> {
            groups
                .into_iter()
                .map(|(_, _, rows, h)| Point::merge(&rows, h))
                .collect()
        };
        let mut points = merged(groups);
        let mut browser = merged(group(runs, Client::Browser)?);
        let mut transports: Vec<Transport> = Vec::new();
        for p in &points {
            if !transports.contains(&p.transport) {
                transports.push(p.transport);
            }
        }
        transports.sort_by_key(|&t| transport::rank(t));
        for p in points.iter_mut().chain(browser.iter_mut()) {
            p.workload.conditions_rank = rank(&p.workload.conditions);
        }
        // The base workload is the first file's first row's: a Rust client's when it has one.
        let rows = &first.results.rows;
        let first_row = rows
            .iter()
            .find(|r| r.client == Client::Rust)
            .unwrap_or(&rows[0]);
        let base = Workload {
            reads_poll: true,
            conditions_rank: rank(&first_row.conditions),
            ..Workload::of(first_row)
        };
        Ok(Dataset {
            points,
            base,
            transports,
            conditions,
            browser,
        })
    }

    /// The browser's points of the base workload, one per transport, in transport order.
    pub fn browser_base_points(&self) -> Vec<&Point> {
        let mut pts: Vec<&Point> = self
            .browser
            .iter()
            .filter(|p| p.workload.matches(&self.base, None))
            .collect();
        self.prefer_same_interval(&mut pts, |p| p.transport);
        pts
    }

    /// The points of the base workload, one per transport, in transport order.
    pub fn base_points(&self) -> Vec<&Point> {
        let mut pts: Vec<&Point> = self
            .points
            .iter()
            .filter(|p| p.workload.matches(&self.base, None))
            .collect();
        self.prefer_same_interval(&mut pts, |p| p.transport);
        pts
    }

    /// The floor point measured under `w` ([`rtbench_results::floor`]): any poll interval
    /// matches, the same one is preferred.
    pub fn floor_for(&self, w: &Workload) -> Option<&Point> {
        floor::find(&self.points, &w.floor_key(), |p| {
            (p.transport, p.workload.floor_key())
        })
    }

    /// `f(p) ÷ f(floor of p)` ([`rtbench_results::floor::ratio`]), when `p` has a floor with a
    /// value above zero.
    pub fn over_floor(&self, p: &Point, f: impl Fn(&Point) -> f64) -> Option<f64> {
        self.floor_for(&p.workload)
            .and_then(|fl| floor::ratio(f(p), f(fl)))
    }

    /// Points that differ from the base workload in `param` only, when they take two or more values
    /// of it; one per (transport, value), in transport order, then by the parameter's value.
    pub fn sweep(&self, param: Param) -> Option<Vec<&Point>> {
        let mut pts: Vec<&Point> = self
            .points
            .iter()
            .filter(|p| {
                param.of(&p.workload).is_some() && p.workload.matches(&self.base, Some(param))
            })
            .collect();
        let value = |p: &Point| param.of(&p.workload).unwrap_or(0.0);
        self.prefer_same_interval(&mut pts, |p| (p.transport, value(p).to_bits()));
        let mut values: Vec<f64> = pts.iter().map(|p| value(p)).collect();
        values.sort_by(f64::total_cmp);
        values.dedup();
        if values.len() < 2 {
            return None;
        }
        pts.sort_by(|a, b| {
            transport::rank(a.transport)
                .cmp(&transport::rank(b.transport))
                .then(value(a).total_cmp(&value(b)))
        });
        Some(pts)
    }

    /// `v` of `param` as a reader says it.
    pub fn describe(&self, param: Param, v: f64) -> String {
        param.describe(v, &self.conditions)
    }

    /// A range of `param` as a reader says it.
    pub fn range(&self, param: Param, lo: f64, hi: f64) -> String {
        param.range(lo, hi, &self.conditions)
    }

    /// Keeps one point per `key`: the one measured with the base poll interval when there is one.
    fn prefer_same_interval<K: PartialEq>(&self, pts: &mut Vec<&Point>, key: impl Fn(&Point) -> K) {
        pts.sort_by_key(|p| {
            (
                transport::rank(p.transport),
                p.workload.poll_interval_ms != self.base.poll_interval_ms,
            )
        });
        let mut kept: Vec<&Point> = Vec::new();
        for p in pts.drain(..) {
            if !kept.iter().any(|q| key(q) == key(p)) {
                kept.push(p);
            }
        }
        *pts = kept;
    }
}

#[cfg(test)]
#[path = "data_tests.rs"]
mod tests;
