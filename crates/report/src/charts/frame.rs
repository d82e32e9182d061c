//! What every chart shares: the SVG canvas, fonts, the legend strip on the right (outside the plot,
//! so it never covers data), axis ranges and tick positions.

use crate::ReportError;
use crate::transport;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rtbench_results::Transport;
use std::error::Error;

/// Canvas width, pixels.
pub const WIDTH: u32 = 660;
/// Canvas height, pixels.
pub const HEIGHT: u32 = 380;
/// Width of the legend strip at the right, pixels.
const LEGEND_WIDTH: u32 = 150;
/// Font family of every label.
pub const FONT: &str = "sans-serif";
/// Tick labels (plotters draws text at size / 1.24 in SVG, so this is ~12 px).
pub const TICK_SIZE: f64 = 15.0;
/// Axis titles.
pub const DESC_SIZE: f64 = 16.5;

/// The area a chart draws its plot on.
pub type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
/// What a drawing step returns.
pub type Drawn = Result<(), Box<dyn Error>>;

/// How a legend entry marks its transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Swatch {
    /// A line, for line charts.
    Line,
    /// A filled square, for bars and single points.
    Square,
}

/// A finished chart: its SVG and the transports it draws (as its legend lists them).
#[derive(Debug, Clone)]
pub struct Drawing {
    /// The `<svg>` element.
    pub svg: String,
    /// Transports drawn, in legend order.
    pub transports: Vec<Transport>,
}

/// Draws a chart into an SVG string: `plot` gets the area left of the legend, and the legend lists
/// `transports` in order, each in its own colour.
pub fn svg(
    chart: &str,
    transports: &[Transport],
    swatch: Swatch,
    plot: impl FnOnce(&Area) -> Drawn,
) -> Result<Drawing, ReportError> {
    draw(chart, (transports, swatch, &[]), plot)
}

fn draw(
    chart: &str,
    (transports, swatch, keys): (&[Transport], Swatch, &[Key]),
    plot: impl FnOnce(&Area) -> Drawn,
) -> Result<Drawing, ReportError> {
    let mut out = String::new();
    let fail = |e: &dyn std::fmt::Display| ReportError::Chart {
        chart: chart.into(),
        reason: e.to_string(),
    };
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let (left, right) = root.split_horizontally(WIDTH - LEGEND_WIDTH);
        plot(&left).map_err(|e| fail(&e))?;
        legend(&right, transports, swatch).map_err(|e| fail(&e))?;
        keys_legend(&right, transports.len(), keys).map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))?;
    }
    Ok(Drawing {
        svg: out,
        transports: transports.to_vec(),
    })
}

/// Draws a legend's sample mark centred at a pixel of the legend strip.
pub type Mark = Box<dyn Fn(&Area, (i32, i32)) -> Drawn>;

/// A legend entry below the transports: a sample mark and what it means (`p99`, `hollow:
/// load generator bound`).
pub struct Key {
    /// What the mark means.
    pub text: String,
    /// Draws the sample mark centred at the point given.
    pub mark: Mark,
}

/// [`svg`] with `keys` listed in the legend under the transports (line swatches).
pub fn svg_keyed(
    chart: &str,
    transports: &[Transport],
    keys: &[Key],
    plot: impl FnOnce(&Area) -> Drawn,
) -> Result<Drawing, ReportError> {
    draw(chart, (transports, Swatch::Line, keys), plot)
}

fn legend(area: &Area, transports: &[Transport], swatch: Swatch) -> Drawn {
    let style =
        TextStyle::from((FONT, TICK_SIZE).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, t) in transports.iter().enumerate() {
        let y = 28 + 24 * i as i32;
        let c = transport::colour(*t);
        match swatch {
            Swatch::Line => {
                area.draw(&PathElement::new(vec![(4, y), (28, y)], c.stroke_width(3)))?
            }
            Swatch::Square => area.draw(&Rectangle::new([(10, y - 7), (24, y + 7)], c.filled()))?,
        }
        area.draw(&Text::new(
            transport::label(*t).to_string(),
            (34, y),
            style.clone(),
        ))?;
    }
    Ok(())
}

fn keys_legend(area: &Area, below: usize, keys: &[Key]) -> Drawn {
    let style =
        TextStyle::from((FONT, TICK_SIZE).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    let top = 28 + 24 * below as i32 + if below > 0 { 12 } else { 0 };
    for (i, k) in keys.iter().enumerate() {
        let y = top + 24 * i as i32;
        (k.mark)(area, (16, y))?;
        area.draw(&Text::new(k.text.clone(), (34, y), style.clone()))?;
    }
    Ok(())
}

/// Draws the mesh: light grid, tick labels from the formatters, an axis title with units on each axis.
pub fn mesh<X, Y>(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<X, Y>>,
    x_desc: &str,
    y_desc: &str,
    x_fmt: &dyn Fn(&X::ValueType) -> String,
    y_fmt: &dyn Fn(&Y::ValueType) -> String,
) -> Drawn
where
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged + ValueFormatter<Y::ValueType>,
{
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(x_fmt)
        .y_label_formatter(y_fmt)
        .label_style((FONT, TICK_SIZE))
        .axis_desc_style((FONT, DESC_SIZE))
        .light_line_style(TRANSPARENT)
        .bold_line_style(RGBColor(0xE4, 0xE4, 0xE4))
        .draw()?;
    Ok(())
}

/// The builder every chart starts from: margins and label areas sized for the fonts above.
pub fn builder<'a, 'b>(area: &'a Area<'b>) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut b = ChartBuilder::on(area);
    b.margin_top(16)
        .margin_right(18)
        .margin_left(6)
        .x_label_area_size(50)
        .y_label_area_size(84);
    b
}

/// Tick positions on a log axis from `lo` to `hi`, labelled at every decade and between: 1-2-5
/// steps (1-1.5-2-3-5-7 on a narrow range); 1-3 steps when 1-2-5 would give more than
/// [`MAX_TICKS`]; only then powers of ten, and every n-th of those on a very wide range.
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let within = |steps: &[f64]| {
        let mut out = Vec::new();
        let mut decade = 10f64.powf(lo.log10().floor());
        while decade <= hi {
            out.extend(
                steps
                    .iter()
                    .map(|m| decade * m)
                    .filter(|v| *v >= lo * 0.999 && *v <= hi * 1.001),
            );
            decade *= 10.0;
        }
        out
    };
    let mut all = within(&[1.0, 2.0, 5.0]);
    if all.len() < 4 {
        all = within(&[1.0, 1.5, 2.0, 3.0, 5.0, 7.0]);
    }
    if all.len() > MAX_TICKS {
        all = within(&[1.0, 3.0]);
    }
    if all.len() > MAX_TICKS {
        all.retain(|v| (v.log10() - v.log10().round()).abs() < 1e-9);
    }
    if all.len() > MAX_TICKS {
        let step = all.len().div_ceil(MAX_TICKS - 1);
        all = all.into_iter().step_by(step).collect();
    }
    all
}

/// Most tick labels on one log axis.
pub const MAX_TICKS: usize = 10;

/// A latency tick label in one format for every tick: the unit that keeps the number at least 1,
/// no trailing zeros (`500 µs`, `1 ms`, `1.5 ms`, `20 ms`, `2 s`).
pub fn latency_tick(us: &f64) -> String {
    let trim = |v: f64| {
        let text = format!("{v:.2}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        text.to_string()
    };
    if *us < 1_000.0 {
        format!("{} µs", trim(*us))
    } else if *us < 1_000_000.0 {
        format!("{} ms", trim(us / 1_000.0))
    } else {
        format!("{} s", trim(us / 1_000_000.0))
    }
}

/// A range around `[lo, hi]` for a log axis: widened by a quarter on each side.
pub fn log_range(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = (lo.max(1e-9), hi.max(lo * 1.01));
    (lo / 1.25, hi * 1.25)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_ticks_share_one_format() {
        let labels: Vec<String> = [500.0, 1_000.0, 1_500.0, 10_000.0, 2_000_000.0]
            .iter()
            .map(latency_tick)
            .collect();
        assert_eq!(labels, ["500 µs", "1 ms", "1.5 ms", "10 ms", "2 s"]);
    }

    #[test]
    fn log_ticks_stay_few_and_inside() {
        assert_eq!(log_ticks(40.0, 600.0), [50.0, 100.0, 200.0, 500.0]);
        // 0.5 ms to 600 ms (a percentile chart with short polling): every decade and between,
        // so the fast transports' medians (under 2 ms) can be read.
        assert_eq!(
            log_ticks(500.0, 600_000.0),
            [500.0, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5]
        );
        assert_eq!(
            log_ticks(100.0, 6_000_000.0),
            [100.0, 300.0, 1e3, 3e3, 1e4, 3e4, 1e5, 3e5, 1e6, 3e6]
        );
        assert!(log_ticks(1.0, 1e12).len() <= MAX_TICKS);
        assert_eq!(
            log_ticks(140.0, 520.0),
            [150.0, 200.0, 300.0, 500.0],
            "narrow ranges get more steps"
        );
    }
}
