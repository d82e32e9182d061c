//! A figure against a swept workload parameter (clients, rate, payload, poll interval, network
//! conditions): one line per transport through its measured points, both axes on log scales with
//! ticks at the swept values (conditions sit evenly spaced, in round-trip order, under their names).
//! Transports that do not read the parameter (everything but short polling, for the poll interval)
//! are drawn as dashed reference lines at their base-workload value.

use super::frame::{self, Drawing, Swatch};
use super::metric::Metric;
use crate::ReportError;
use crate::data::{Param, Point};
use crate::format::number;
use crate::transport;
use plotters::prelude::*;
use rtbench_results::Transport;

/// Draws `metric` against `param`: `points` are the sweep (sorted by transport, then value) and
/// `references` the transports drawn as flat lines.
pub fn sweep(
    param: Param,
    metric: Metric,
    points: &[&Point],
    references: &[&Point],
    conditions: &[String],
) -> Result<Drawing, ReportError> {
    // Conditions are ranks 0, 1, 2…: placed at 10^rank so they sit evenly on the log axis.
    let to_axis = |v: f64| {
        if param == Param::Conditions {
            10f64.powf(v)
        } else {
            v
        }
    };
    let tick = |x: &f64| match param {
        Param::Conditions => param.describe(x.log10().round(), conditions),
        _ => number(*x),
    };
    let at = |p: &Point| Some((to_axis(param.of(&p.workload)?), metric.value(p)?));
    let mut names: Vec<Transport> = Vec::new();
    let mut lines: Vec<(Transport, Vec<(f64, f64)>)> = Vec::new();
    for p in points {
        let Some(xy) = at(p) else { continue };
        match lines.iter_mut().find(|l| l.0 == p.transport) {
            Some(l) => l.1.push(xy),
            None => lines.push((p.transport, vec![xy])),
        }
    }
    let flat: Vec<(Transport, f64)> = references
        .iter()
        .filter_map(|p| Some((p.transport, metric.value(p)?)))
        .collect();
    names.extend(lines.iter().map(|l| l.0).chain(flat.iter().map(|f| f.0)));
    names.sort_by_key(|&t| transport::rank(t));
    let mut xs: Vec<f64> = lines.iter().flat_map(|l| l.1.iter().map(|p| p.0)).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let ys: Vec<f64> = lines
        .iter()
        .flat_map(|l| l.1.iter().map(|p| p.1))
        .chain(flat.iter().map(|f| f.1))
        .collect();
    let (x0, x1) = frame::log_range(xs[0], xs[xs.len() - 1]);
    let lo = ys.iter().copied().fold(f64::INFINITY, f64::min);
    let (y0, y1) = frame::log_range(lo.max(1e-3), ys.iter().copied().fold(0.0, f64::max));
    let title = format!("{} against {}", metric.title(), param.name());
    frame::svg(&title, &names, Swatch::Line, |area| {
        let x = (x0..x1).log_scale().with_key_points(xs.clone());
        let y = (y0..y1)
            .log_scale()
            .with_key_points(frame::log_ticks(y0, y1));
        let mut chart = frame::builder(area).build_cartesian_2d(x, y)?;
        let x_desc = match param {
            Param::Conditions => param.axis().to_string(),
            _ => format!("{}, log scale", param.axis()),
        };
        let y_desc = format!("{}, log scale", metric.axis());
        frame::mesh(&mut chart, &x_desc, &y_desc, &tick, &|v| metric.format(*v))?;
        for (t, v) in &flat {
            let style = transport::colour(*t).stroke_width(2);
            chart.draw_series(DashedLineSeries::new(vec![(x0, *v), (x1, *v)], 8, 6, style))?;
        }
        for (t, pts) in &lines {
            let c = transport::colour(*t);
            chart.draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)).point_size(4))?;
        }
        Ok(())
    })
}
