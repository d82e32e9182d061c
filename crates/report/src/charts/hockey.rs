//! The capacity "hockey stick": a figure of every step of the capacity search against the offered
//! deliveries/s (clients × events/s), log x, one line per transport in its colour through its
//! steps in order of load. A step that held is a filled dot, one whose load generator was
//! saturated a hollow ring (it says nothing about the server), one that broke a bound a cross.

use super::frame::{self, Drawing, Key};
use crate::ReportError;
use crate::capacity::{Curve, Step, Verdict};
use crate::format::whole;
use crate::transport;
use plotters::prelude::*;

/// What a hockey-stick chart plots on y.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    /// p99 delivery latency, log scale.
    P99,
    /// Server CPU over the window, cores, linear from 0.
    ServerCores,
}

impl Figure {
    fn of(self, s: &Step) -> f64 {
        match self {
            Figure::P99 => s.p99_us,
            Figure::ServerCores => s.server_cpu_cores,
        }
    }
}

const INK: RGBColor = RGBColor(0x44, 0x44, 0x44);

fn marks(area: &frame::Area, (x, y): (i32, i32), s: &Step, c: RGBColor) -> frame::Drawn {
    if s.loadgen_bound {
        area.draw(&Circle::new((x, y), 5, WHITE.filled()))?;
        area.draw(&Circle::new((x, y), 5, c.stroke_width(2)))?;
    } else if s.verdict == Verdict::Held {
        area.draw(&Circle::new((x, y), 5, c.filled()))?;
    }
    if matches!(s.verdict, Verdict::Broke(_)) {
        area.draw(&Cross::new((x, y), 6, c.stroke_width(2)))?;
    }
    Ok(())
}

fn keys() -> Vec<Key> {
    let step = |loadgen_bound: bool, verdict: Verdict| Step {
        offered: 0.0,
        clients: 0,
        rate_per_s: 0.0,
        deliveries_per_s: 0.0,
        p99_us: 0.0,
        lost: 0,
        server_cpu_cores: 0.0,
        server_rss_bytes: None,
        loadgen_cpu_cores: None,
        server_cpu_us_per_delivery: 0.0,
        client_cpu_us_per_delivery: 0.0,
        loadgen_bound,
        bisection: false,
        verdict,
    };
    [
        ("held", step(false, Verdict::Held)),
        ("load gen. bound", step(true, Verdict::LoadgenBound)),
        ("broke a bound", step(false, Verdict::Broke(String::new()))),
    ]
    .into_iter()
    .map(|(text, s)| Key {
        text: text.into(),
        mark: Box::new(move |area: &frame::Area, at: (i32, i32)| marks(area, at, &s, INK)),
    })
    .collect()
}

/// The steps of `c` in order of offered load, as (offered deliveries/s, figure, step).
fn points(c: &Curve, figure: Figure) -> Vec<(f64, f64, &Step)> {
    let mut pts: Vec<(f64, f64, &Step)> = c
        .steps
        .iter()
        .filter(|s| s.offered_deliveries_per_s() > 0.0)
        .map(|s| (s.offered_deliveries_per_s(), figure.of(s), s))
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    pts
}

/// Draws each curve's line and its steps' marks (y clamped to `y0`, the axis's bottom).
fn draw_curves<CT>(
    chart: &mut ChartContext<'_, SVGBackend<'_>, CT>,
    curves: &[&Curve],
    figure: Figure,
    y0: f64,
) -> frame::Drawn
where
    CT: plotters::coord::CoordTranslate<From = (f64, f64)>,
{
    for c in curves {
        let colour = transport::colour(c.transport);
        let pts: Vec<((f64, f64), &Step)> = points(c, figure)
            .into_iter()
            .map(|(x, y, s)| ((x, y.max(y0)), s))
            .collect();
        chart.draw_series(LineSeries::new(
            pts.iter().map(|p| p.0),
            colour.stroke_width(2),
        ))?;
        let held = pts
            .iter()
            .filter(|(_, s)| s.verdict == Verdict::Held && !s.loadgen_bound);
        chart.draw_series(held.map(|(at, _)| Circle::new(*at, 5, colour.filled())))?;
        // A ring over white, so the line through it does not fill it in.
        let hollow = || pts.iter().filter(|(_, s)| s.loadgen_bound);
        chart.draw_series(hollow().map(|(at, _)| Circle::new(*at, 5, WHITE.filled())))?;
        chart.draw_series(hollow().map(|(at, _)| Circle::new(*at, 5, colour.stroke_width(2))))?;
        let broke = pts
            .iter()
            .filter(|(_, s)| matches!(s.verdict, Verdict::Broke(_)));
        chart.draw_series(broke.map(|(at, _)| Cross::new(*at, 6, colour.stroke_width(2))))?;
    }
    Ok(())
}

/// Draws `figure` against offered deliveries/s for every curve.
pub fn hockey(curves: &[&Curve], figure: Figure) -> Result<Drawing, ReportError> {
    let all: Vec<(f64, f64)> = curves
        .iter()
        .flat_map(|c| points(c, figure).into_iter().map(|p| (p.0, p.1)))
        .collect();
    let (x0, x1) = frame::log_range(
        all.iter().map(|p| p.0).fold(f64::INFINITY, f64::min),
        all.iter().map(|p| p.0).fold(0.0, f64::max),
    );
    let y_hi = all.iter().map(|p| p.1).fold(0.0, f64::max);
    let names: Vec<_> = curves.iter().map(|c| c.transport).collect();
    let x_desc = "offered deliveries/s (clients × events/s), log scale";
    let x_ticks = frame::log_ticks(x0, x1);
    match figure {
        Figure::P99 => {
            // A step with no deliveries has p99 0: it sits on the axis, not a decade below.
            let lo = all
                .iter()
                .map(|p| p.1)
                .filter(|y| *y > 0.0)
                .fold(f64::INFINITY, f64::min);
            let (y0, y1) = frame::log_range(lo.min(y_hi).max(1.0), y_hi);
            frame::svg_keyed("capacity p99", &names, &keys(), |area| {
                let x = (x0..x1).log_scale().with_key_points(x_ticks.clone());
                let y = (y0..y1)
                    .log_scale()
                    .with_key_points(frame::log_ticks(y0, y1));
                let mut chart = frame::builder(area).build_cartesian_2d(x, y)?;
                let y_desc = "p99 delivery latency (log scale)";
                let tick = |v: &f64| whole(*v);
                frame::mesh(&mut chart, x_desc, y_desc, &tick, &frame::latency_tick)?;
                draw_curves(&mut chart, curves, figure, y0)
            })
        }
        Figure::ServerCores => {
            let y1 = (y_hi * 1.15).max(0.1);
            frame::svg_keyed("capacity server CPU", &names, &keys(), |area| {
                let x = (x0..x1).log_scale().with_key_points(x_ticks.clone());
                let mut chart = frame::builder(area).build_cartesian_2d(x, 0.0..y1)?;
                let tick = |v: &f64| whole(*v);
                let cores = |v: &f64| format!("{v:.2}");
                frame::mesh(&mut chart, x_desc, "server CPU, cores", &tick, &cores)?;
                draw_curves(&mut chart, curves, figure, 0.0)
            })
        }
    }
}
