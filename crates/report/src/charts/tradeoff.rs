//! Short polling's trade-off: each poll interval is one point of (bytes per delivery, p50 latency),
//! labelled with its interval; the other transports sit beside it as single points at the base
//! workload, so the cost of buying latency with polls is read against what push transports pay.

use super::frame::{self, Drawing, Swatch};
use super::metric::Metric;
use crate::ReportError;
use crate::data::Point;
use crate::format::number;
use crate::transport;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rtbench_results::Transport;

/// Draws short-poll points `polls` (sorted by interval) and `references` on bytes × latency axes.
pub fn tradeoff(polls: &[&Point], references: &[&Point]) -> Result<Drawing, ReportError> {
    let xy = |p: &Point| (p.bytes_per_delivery, p.latency.p50);
    let all: Vec<(f64, f64)> = polls.iter().chain(references).map(|p| xy(p)).collect();
    let fold = |f: fn(&(f64, f64)) -> f64| {
        all.iter()
            .map(f)
            .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            })
    };
    let (x0, x1) = fold(|p| p.0);
    let (y0, y1) = fold(|p| p.1);
    let ((x0, x1), (y0, y1)) = (
        frame::log_range(x0.max(1e-3), x1),
        frame::log_range(y0.max(1e-3), y1),
    );
    let mut names: Vec<Transport> = polls
        .iter()
        .chain(references)
        .map(|p| p.transport)
        .collect();
    names.sort_by_key(|&t| transport::rank(t));
    names.dedup();
    frame::svg("short-poll trade-off", &names, Swatch::Line, |area| {
        let x = (x0..x1)
            .log_scale()
            .with_key_points(frame::log_ticks(x0, x1));
        let y = (y0..y1)
            .log_scale()
            .with_key_points(frame::log_ticks(y0, y1));
        let mut chart = frame::builder(area).build_cartesian_2d(x, y)?;
        let x_desc = format!("{}, log scale", Metric::Bytes.axis());
        frame::mesh(
            &mut chart,
            &x_desc,
            "p50 delivery latency, log scale",
            &|v| number(*v),
            &frame::latency_tick,
        )?;
        let label = TextStyle::from((frame::FONT, frame::TICK_SIZE).into_font())
            .pos(Pos::new(HPos::Left, VPos::Bottom));
        for p in references {
            let c = transport::colour(p.transport);
            chart.draw_series(std::iter::once(Circle::new(xy(p), 5, c.filled())))?;
        }
        // Every point of the line is the polled transport's.
        let c = transport::colour(polls.first().map_or(Transport::ShortPoll, |p| p.transport));
        chart.draw_series(
            LineSeries::new(polls.iter().map(|p| xy(p)), c.stroke_width(2)).point_size(4),
        )?;
        for p in polls {
            let ms = p.workload.poll_interval_ms;
            let text =
                EmptyElement::at(xy(p)) + Text::new(format!("{ms} ms"), (7, -5), label.clone());
            chart.draw_series(std::iter::once(text))?;
        }
        Ok(())
    })
}
