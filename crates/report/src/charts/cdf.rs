//! The latency CDF: the share of deliveries that arrived within each latency, on a log latency axis.

use super::frame::{self, Drawing, Swatch};
use crate::ReportError;
use crate::data::Point;
use crate::transport;
use plotters::prelude::*;
use rtbench_results::Transport;

const SAMPLES: usize = 200;

/// (latency µs, percent of deliveries at or below it) for one histogram.
fn cdf_of(p: &Point) -> Vec<(f64, f64)> {
    (0..=SAMPLES)
        .map(|i| {
            let q = i as f64 / SAMPLES as f64;
            (
                p.histogram.value_at_quantile(q).max(1) as f64 / 1_000.0,
                q * 100.0,
            )
        })
        .collect()
}

/// Draws the CDF of every point (one line per transport).
pub fn cdf(points: &[&Point]) -> Result<Drawing, ReportError> {
    let series: Vec<(&Point, Vec<(f64, f64)>)> = points.iter().map(|p| (*p, cdf_of(p))).collect();
    let xs = series.iter().flat_map(|(_, s)| s.iter().map(|v| v.0));
    let (lo, hi) = xs.fold((f64::INFINITY, 0.0f64), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    });
    let (x0, x1) = frame::log_range(lo, hi);
    let names: Vec<Transport> = points.iter().map(|p| p.transport).collect();
    frame::svg("latency CDF", &names, Swatch::Line, |area| {
        let x = (x0..x1)
            .log_scale()
            .with_key_points(frame::log_ticks(x0, x1));
        let mut chart = frame::builder(area).build_cartesian_2d(x, 0.0..100.0)?;
        frame::mesh(
            &mut chart,
            "delivery latency (log scale)",
            "deliveries at or below (%)",
            &frame::latency_tick,
            &|v| format!("{v:.0}%"),
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
