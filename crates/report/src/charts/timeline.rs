//! Latency over time for one phase: p50, p99 and max of each one-second interval of its `.hlog`
//! against seconds since the phase's time zero, on a log latency axis, in the transport's colour
//! (p50 solid, p99 dashed, max thin and light). Warm-up and tail are shaded, so what falls in the
//! measured window is plain to see; a freeze, a fault's drops or a restart shows where it happened.

use super::frame::{self, Drawing, Key};
use crate::ReportError;
use crate::latency_log::LatencyLog;
use crate::transport;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The phase's parts, seconds from time zero: warm-up ends, window ends, tail ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Phases {
    /// End of the warm-up (start of the window).
    pub warmup_end_s: f64,
    /// End of the window (start of the tail).
    pub window_end_s: f64,
    /// End of the tail (the last event's schedule).
    pub tail_end_s: f64,
}

const SHADE: RGBColor = RGBColor(0xF1, 0xF1, 0xF1);

fn keys(colour: RGBColor) -> Vec<Key> {
    let line = move |style: ShapeStyle, dashed: bool| {
        Box::new(move |area: &frame::Area, (x, y): (i32, i32)| {
            match dashed {
                true => area.draw(&PathElement::new(vec![(x - 12, y), (x - 5, y)], style))?,
                false => area.draw(&PathElement::new(vec![(x - 12, y), (x + 12, y)], style))?,
            }
            if dashed {
                area.draw(&PathElement::new(vec![(x + 2, y), (x + 12, y)], style))?;
            }
            Ok(())
        }) as frame::Mark
    };
    vec![
        Key {
            text: "p50".into(),
            mark: line(colour.stroke_width(3), false),
        },
        Key {
            text: "p99".into(),
            mark: line(colour.stroke_width(2), true),
        },
        Key {
            text: "max".into(),
            mark: line(colour.mix(0.6).stroke_width(1), false),
        },
    ]
}

/// Shades warm-up and tail between `y0` and `y1`, and names the three parts at the top.
fn shade<CT>(
    chart: &mut ChartContext<'_, SVGBackend<'_>, CT>,
    area: &frame::Area,
    p: Phases,
    (y0, y1): (f64, f64),
) -> frame::Drawn
where
    CT: plotters::coord::CoordTranslate<From = (f64, f64)>,
{
    let shaded = [(0.0, p.warmup_end_s), (p.window_end_s, p.tail_end_s)];
    chart.draw_series(
        shaded
            .iter()
            .filter(|(a, b)| b > a)
            .map(|&(a, b)| Rectangle::new([(a, y0), (b, y1)], SHADE.filled())),
    )?;
    let style = TextStyle::from((frame::FONT, frame::TICK_SIZE).into_font())
        .color(&RGBColor(0x66, 0x66, 0x66))
        .pos(Pos::new(HPos::Center, VPos::Top));
    let mid = |a: f64, b: f64| (a + b) / 2.0;
    let labels = [
        ("warm-up", mid(0.0, p.warmup_end_s)),
        ("window", mid(p.warmup_end_s, p.window_end_s)),
        ("tail", mid(p.window_end_s, p.tail_end_s)),
    ];
    let (_, top) = chart.plotting_area().map_coordinate(&(0.0, y1));
    for (text, at) in labels {
        let (x, _) = chart.plotting_area().map_coordinate(&(at, y1));
        if x > 0 {
            area.draw(&Text::new(text, (x, top + 4), style.clone()))?;
        }
    }
    Ok(())
}

/// Draws one log; `phases` shades warm-up and tail when the run recorded them.
pub fn timeline(log: &LatencyLog, phases: Option<Phases>) -> Result<Drawing, ReportError> {
    let pts = &log.intervals;
    let end_s = pts.iter().map(|p| p.start_s + 1.0).fold(1.0, f64::max);
    let x1 = phases.map_or(end_s, |p| end_s.max(p.tail_end_s)).ceil();
    let lo = pts.iter().map(|p| p.p50_us).fold(f64::INFINITY, f64::min);
    let hi = pts.iter().map(|p| p.max_us).fold(0.0, f64::max);
    let (y0, y1) = frame::log_range(lo.max(1.0), hi);
    let colour = transport::colour(log.transport);
    let title = format!("latency over time: {}", log.file);
    frame::svg_keyed(&title, &[log.transport], &keys(colour), |area| {
        let y = (y0..y1)
            .log_scale()
            .with_key_points(frame::log_ticks(y0, y1));
        let mut chart = frame::builder(area).build_cartesian_2d(0.0..x1, y)?;
        if let Some(p) = phases {
            shade(&mut chart, area, p, (y0, y1))?;
        }
        frame::mesh(
            &mut chart,
            "seconds since the phase's time zero (each point: one 1-second interval)",
            "delivery latency (log scale)",
            &second_label,
            &frame::latency_tick,
        )?;
        let at = |f: fn(&crate::latency_log::Interval) -> f64| {
            pts.iter().map(move |p| (p.start_s + 0.5, f(p).max(y0)))
        };
        chart.draw_series(LineSeries::new(
            at(|p| p.max_us),
            colour.mix(0.6).stroke_width(1),
        ))?;
        chart.draw_series(DashedLineSeries::new(
            at(|p| p.p99_us),
            7,
            4,
            colour.stroke_width(2),
        ))?;
        chart.draw_series(LineSeries::new(at(|p| p.p50_us), colour.stroke_width(3)))?;
        Ok(())
    })
}

/// A time tick's label: whole seconds only (a tick between two whole seconds would otherwise print
/// the same rounded number twice).
fn second_label(s: &f64) -> String {
    if (s - s.round()).abs() < 1e-6 {
        format!("{s:.0}")
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::second_label;

    #[test]
    fn only_whole_seconds_are_labelled() {
        assert_eq!(second_label(&0.0), "0");
        assert_eq!(second_label(&2.0), "2");
        assert_eq!(second_label(&2.5), "");
        assert_eq!(second_label(&600.0), "600");
    }
}
