//! Latency by percentile, HdrHistogram style: x is 1/(1−p) on a log axis, so p50, p90, p99, p99.9
//! and p99.99 are evenly spaced and the tail gets the room it deserves.

use super::frame::{self, Drawing, Swatch};
use crate::ReportError;
use crate::data::Point;
use crate::transport;
use plotters::prelude::*;
use rtbench_results::Transport;

/// x positions (1/(1−p)) from p50 to p99.99.
const X_FROM: f64 = 2.0;
const X_TO: f64 = 10_000.0;
const SAMPLES: usize = 120;

/// The percentile a position stands for, as a label: `50%`, `99.9%`.
fn percentile_label(x: f64) -> String {
    let p = 100.0 * (1.0 - 1.0 / x);
    let s = format!("{p:.2}");
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}

/// (1/(1−p), latency µs) along the spectrum of one histogram.
fn spectrum_of(p: &Point) -> Vec<(f64, f64)> {
    (0..=SAMPLES)
        .map(|i| {
            let x = X_FROM * (X_TO / X_FROM).powf(i as f64 / SAMPLES as f64);
            (
                x,
                p.histogram.value_at_quantile(1.0 - 1.0 / x) as f64 / 1_000.0,
            )
        })
        .collect()
}

/// Draws the spectrum of every point (one line per transport).
pub fn spectrum(points: &[&Point]) -> Result<Drawing, ReportError> {
    let series: Vec<(&Point, Vec<(f64, f64)>)> =
        points.iter().map(|p| (*p, spectrum_of(p))).collect();
    let ys = series.iter().flat_map(|(_, s)| s.iter().map(|v| v.1));
    let (lo, hi) = ys.fold((f64::INFINITY, 0.0f64), |(lo, hi), y| {
        (lo.min(y), hi.max(y))
    });
    let (y0, y1) = frame::log_range(lo.max(0.001), hi);
    let names: Vec<Transport> = points.iter().map(|p| p.transport).collect();
    frame::svg("latency spectrum", &names, Swatch::Line, |area| {
        let x = (X_FROM..X_TO)
            .log_scale()
            .with_key_points(vec![2.0, 10.0, 100.0, 1_000.0, 10_000.0]);
        let y = (y0..y1)
            .log_scale()
            .with_key_points(frame::log_ticks(y0, y1));
        let mut chart = frame::builder(area).build_cartesian_2d(x, y)?;
        frame::mesh(
            &mut chart,
            "percentile (log scale of 1/(1−p))",
            "delivery latency (log scale)",
            &|v| percentile_label(*v),
            &frame::latency_tick,
        )?;
        for (p, s) in series {
            chart.draw_series(LineSeries::new(
                s,
                transport::colour(p.transport).stroke_width(2),
            ))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::percentile_label;

    #[test]
    fn positions_name_their_percentiles() {
        assert_eq!(percentile_label(2.0), "50%");
        assert_eq!(percentile_label(10.0), "90%");
        assert_eq!(percentile_label(1_000.0), "99.9%");
        assert_eq!(percentile_label(10_000.0), "99.99%");
    }
}
