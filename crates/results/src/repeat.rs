//! Combining the rows of `--repeat N` repetitions of one (scenario, transport, point) into one row:
//! medians with a min–max spread.
//!
//! Latency percentiles and per-delivery figures are the medians of the repetitions' own figures
//! (the middle of N values; the mean of the two middle ones for even N), and [`Spread`] keeps
//! their range. Counts (events, deliveries, lost, …) and window totals are sums; the histogram
//! merges every repetition's deliveries; `max` latency is the largest seen.

use crate::histogram::{BadHistogram, new_histogram};
use crate::{Ack, Latency, MinMax, Overload, Row, Spread, Totals};

/// The median of `values` (empty: 0).
fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The median of a figure every row has, or `None` if any row lacks it.
fn median_opt(rows: &[Row], f: impl Fn(&Row) -> Option<f64>) -> Option<f64> {
    let values: Option<Vec<f64>> = rows.iter().map(f).collect();
    values.map(|v| median(&v))
}

fn min_max(rows: &[Row], f: impl Fn(&Row) -> f64) -> MinMax {
    let values: Vec<f64> = rows.iter().map(f).collect();
    MinMax {
        min: values.iter().copied().fold(f64::INFINITY, f64::min),
        max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    }
}

fn sum_totals(rows: &[Row]) -> Totals {
    let Some((first, rest)) = rows.split_first() else {
        return Totals::default();
    };
    rest.iter().fold(first.totals, |a, r| Totals {
        window_us: a.window_us + r.totals.window_us,
        bytes_to_clients: a.bytes_to_clients + r.totals.bytes_to_clients,
        bytes_from_clients: a.bytes_from_clients + r.totals.bytes_from_clients,
        http_requests: a.http_requests + r.totals.http_requests,
        server_cpu_us: a.server_cpu_us + r.totals.server_cpu_us,
        client_cpu_us: a.client_cpu_us + r.totals.client_cpu_us,
        kernel_bytes_to_clients: add_opt(
            a.kernel_bytes_to_clients,
            r.totals.kernel_bytes_to_clients,
        ),
        kernel_bytes_from_clients: add_opt(
            a.kernel_bytes_from_clients,
            r.totals.kernel_bytes_from_clients,
        ),
        segments_out: add_opt(a.segments_out, r.totals.segments_out),
        segments_in: add_opt(a.segments_in, r.totals.segments_in),
        rss_growth_bytes: add_opt(a.rss_growth_bytes, r.totals.rss_growth_bytes),
        rss_growth_at_connect_bytes: add_opt(
            a.rss_growth_at_connect_bytes,
            r.totals.rss_growth_at_connect_bytes,
        ),
        socket_memory_growth_bytes: add_opt(
            a.socket_memory_growth_bytes,
            r.totals.socket_memory_growth_bytes,
        ),
        socket_memory_growth_at_connect_bytes: add_opt(
            a.socket_memory_growth_at_connect_bytes,
            r.totals.socket_memory_growth_at_connect_bytes,
        ),
        // A level, not a count: the largest of the repetitions.
        server_rss_bytes: a.server_rss_bytes.max(r.totals.server_rss_bytes),
    })
}

/// The sum of two optional counts: absent as soon as one repetition did not measure it.
fn add_opt<T: std::ops::Add<Output = T>>(a: Option<T>, b: Option<T>) -> Option<T> {
    Some(a? + b?)
}

/// Combines the rows of the repetitions of one (scenario, transport, point); one row is returned
/// as it is. `None` for no rows. `ratio_to_floor_p50` is left for the caller to recompute.
pub fn combine_repeats(rows: &[Row]) -> Result<Option<Row>, BadHistogram> {
    let (first, n) = match rows {
        [] => return Ok(None),
        [one] => return Ok(Some(one.clone())),
        [first, ..] => (first, rows.len()),
    };
    let mut hist = new_histogram();
    for r in rows {
        hist.add(&r.latency_histogram)
            .map_err(|e| BadHistogram::new(format!("{e:?}")))?;
    }
    let med = |f: fn(&Row) -> f64| median(&rows.iter().map(f).collect::<Vec<_>>());
    let sum = |f: fn(&Row) -> u64| rows.iter().map(f).sum::<u64>();
    let latency_us = Latency {
        p50: med(|r| r.latency_us.p50),
        p90: med(|r| r.latency_us.p90),
        p99: med(|r| r.latency_us.p99),
        p999: med(|r| r.latency_us.p999),
        max: rows.iter().map(|r| r.latency_us.max).fold(0.0, f64::max),
        mean: med(|r| r.latency_us.mean),
        uncertainty_us: rows
            .iter()
            .filter_map(|r| r.latency_us.uncertainty_us)
            .reduce(f64::max),
    };
    let spread = Spread {
        repeats: n as u32,
        latency_p50_us: min_max(rows, |r| r.latency_us.p50),
        latency_p99_us: min_max(rows, |r| r.latency_us.p99),
        bytes_per_delivery: min_max(rows, |r| r.bytes_per_delivery),
        requests_per_delivery: min_max(rows, |r| r.requests_per_delivery),
        server_cpu_us_per_delivery: min_max(rows, |r| r.server_cpu_us_per_delivery),
        client_cpu_us_per_delivery: min_max(rows, |r| r.client_cpu_us_per_delivery),
    };
    Ok(Some(Row {
        events: sum(|r| r.events),
        sends: sum(|r| r.sends),
        sends_lost: sum(|r| r.sends_lost),
        deliveries: sum(|r| r.deliveries),
        lost: sum(|r| r.lost),
        lost_in_gaps: sum(|r| r.lost_in_gaps),
        duplicated: sum(|r| r.duplicated),
        reordered: sum(|r| r.reordered),
        client_errors: sum(|r| r.client_errors),
        reconnects: sum(|r| r.reconnects),
        latency_us,
        ratio_to_floor_p50: None,
        bytes_per_delivery: med(|r| r.bytes_per_delivery),
        requests_per_delivery: med(|r| r.requests_per_delivery),
        server_cpu_us_per_delivery: med(|r| r.server_cpu_us_per_delivery),
        client_cpu_us_per_delivery: med(|r| r.client_cpu_us_per_delivery),
        packets_per_delivery: median_opt(rows, |r| r.packets_per_delivery),
        kernel_bytes_per_delivery: median_opt(rows, |r| r.kernel_bytes_per_delivery),
        meter_kernel_disagreement_pct: median_opt(rows, |r| r.meter_kernel_disagreement_pct),
        memory_per_connection_bytes: median_opt(rows, |r| r.memory_per_connection_bytes),
        memory_per_connection_at_connect_bytes: median_opt(rows, |r| {
            r.memory_per_connection_at_connect_bytes
        }),
        kernel_socket_memory_per_connection_bytes: median_opt(rows, |r| {
            r.kernel_socket_memory_per_connection_bytes
        }),
        idle_bytes_per_client_s: median_opt(rows, |r| r.idle_bytes_per_client_s),
        idle_requests_per_client_s: median_opt(rows, |r| r.idle_requests_per_client_s),
        idle_server_cpu_us_per_client_s: median_opt(rows, |r| r.idle_server_cpu_us_per_client_s),
        overload: Overload::combine(&rows.iter().map(|r| r.overload).collect::<Vec<_>>()),
        spread: Some(spread),
        totals: sum_totals(rows),
        latency_histogram: hist,
        ack: combine_acks(rows)?,
        shards: rows.iter().flat_map(|r| r.shards.clone()).collect(),
        ..first.clone()
    }))
}

/// The repetitions' acks added up (histograms merged, percentiles of the merge); `None` unless
/// every repetition has them.
fn combine_acks(rows: &[Row]) -> Result<Option<Ack>, BadHistogram> {
    let Some(acks) = rows
        .iter()
        .map(|r| r.ack.as_ref())
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(None);
    };
    let mut histogram = new_histogram();
    for a in &acks {
        histogram
            .add(&a.histogram)
            .map_err(|e| BadHistogram::new(format!("{e:?}")))?;
    }
    Ok(Some(Ack {
        emits: acks.iter().map(|a| a.emits).sum(),
        acks: acks.iter().map(|a| a.acks).sum(),
        latency_us: Latency::from_histogram(&histogram),
        histogram,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::sample;

    fn row(p50_ms: u64, bytes: f64, deliveries: u64) -> Row {
        let mut h = new_histogram();
        h.record(p50_ms * 1_000_000).unwrap();
        let mut r = sample().rows[0].clone();
        r.latency_us = Latency::from_histogram(&h);
        r.latency_histogram = h;
        r.bytes_per_delivery = bytes;
        r.deliveries = deliveries;
        r
    }

    #[test]
    fn acks_add_up_merge_and_round_trip_and_are_absent_without_them() {
        let mut rows = [row(1, 100.0, 10), row(2, 100.0, 10)];
        assert!(!serde_json::to_string(&rows[0]).unwrap().contains("\"ack\""));
        for (r, ms) in rows.iter_mut().zip([4, 8]) {
            let mut h = new_histogram();
            h.record(ms * 1_000_000).unwrap();
            r.ack = Some(Ack {
                emits: 5,
                acks: 5,
                latency_us: Latency::from_histogram(&h),
                histogram: h,
            });
        }
        let back: Row = serde_json::from_str(&serde_json::to_string(&rows[0]).unwrap()).unwrap();
        assert_eq!(back.ack, rows[0].ack);
        let ack = combine_repeats(&rows).unwrap().unwrap().ack.unwrap();
        assert_eq!((ack.emits, ack.acks, ack.histogram.len()), (10, 10, 2));
        assert!((ack.latency_us.max - 8_000.0).abs() < 10.0);
        rows[1].ack = None;
        assert_eq!(combine_repeats(&rows).unwrap().unwrap().ack, None);
    }

    #[test]
    fn medians_with_spread_sums_and_merged_histogram() {
        let mut rows = [row(3, 200.0, 10), row(1, 100.0, 10), row(2, 150.0, 11)];
        (rows[0].lost, rows[0].lost_in_gaps) = (4, 3);
        (rows[2].lost, rows[2].lost_in_gaps) = (2, 2);
        let r = combine_repeats(&rows).unwrap().unwrap();
        assert_eq!((r.lost, r.lost_in_gaps), (6, 5), "loss adds up, gaps too");
        assert!(
            (r.latency_us.p50 - 2_000.0).abs() < 5.0,
            "{}",
            r.latency_us.p50
        );
        assert_eq!(r.bytes_per_delivery, 150.0);
        assert_eq!(r.deliveries, 31);
        let s = r.spread.unwrap();
        assert_eq!(s.repeats, 3);
        assert_eq!(
            (s.bytes_per_delivery.min, s.bytes_per_delivery.max),
            (100.0, 200.0)
        );
        assert!((s.latency_p50_us.min - 1_000.0).abs() < 5.0);
        assert_eq!(r.latency_histogram.len(), 3);
        assert_eq!(r.ratio_to_floor_p50, None);
    }

    #[test]
    fn one_row_is_itself_and_even_counts_take_the_middle_mean() {
        let one = row(1, 100.0, 1);
        assert_eq!(
            combine_repeats(std::slice::from_ref(&one)).unwrap(),
            Some(one)
        );
        assert_eq!(combine_repeats(&[]).unwrap(), None);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        let r = combine_repeats(&[row(1, 100.0, 1), row(1, 300.0, 1)])
            .unwrap()
            .unwrap();
        assert_eq!(r.bytes_per_delivery, 200.0);
    }
}
