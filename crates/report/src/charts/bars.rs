//! One figure per transport as bars: cost per delivery, memory per connection, idle cost. Each bar
//! carries its value above it and its transport's name under it, as the table spells it (so a bar
//! is never identified by colour alone); the legend names the colours too, in the same order.

use super::frame::{self, Drawing, Swatch};
use super::metric::Metric;
use crate::ReportError;
use crate::data::Point;
use crate::transport;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rtbench_results::Transport;

/// Draws `metric` for every point that has it, one bar per transport.
pub fn bars(metric: Metric, points: &[&Point]) -> Result<Drawing, ReportError> {
    let bars: Vec<(Transport, f64)> = points
        .iter()
        .filter_map(|p| Some((p.transport, metric.value(p)?)))
        .collect();
    let names: Vec<Transport> = bars.iter().map(|b| b.0).collect();
    let top = bars.iter().map(|b| b.1).fold(0.0, f64::max);
    let top = if top > 0.0 { top * 1.18 } else { 1.0 };
    frame::svg(metric.title(), &names, Swatch::Square, |area| {
        let mut chart =
            frame::builder(area).build_cartesian_2d(0.0..bars.len() as f64, 0.0..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc(metric.axis())
            .x_desc("transport")
            .y_label_formatter(&|v| crate::format::number(*v))
            .label_style((frame::FONT, frame::TICK_SIZE))
            .axis_desc_style((frame::FONT, frame::DESC_SIZE))
            .light_line_style(TRANSPARENT)
            .bold_line_style(RGBColor(0xE4, 0xE4, 0xE4))
            .draw()?;
        let label = TextStyle::from((frame::FONT, frame::TICK_SIZE).into_font())
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        let below = TextStyle::from((frame::FONT, frame::TICK_SIZE).into_font())
            .pos(Pos::new(HPos::Center, VPos::Top));
        for (i, (t, v)) in bars.iter().enumerate() {
            let x = i as f64;
            let bar = Rectangle::new(
                [(x + 0.18, 0.0), (x + 0.82, *v)],
                transport::colour(*t).filled(),
            );
            chart.draw_series(std::iter::once(bar))?;
            let text = EmptyElement::at((x + 0.5, *v))
                + Text::new(metric.format(*v), (0, -4), label.clone());
            chart.draw_series(std::iter::once(text))?;
            let name =
                EmptyElement::at((x + 0.5, 0.0)) + Text::new(t.as_str(), (0, 6), below.clone());
            chart.draw_series(std::iter::once(name))?;
        }
        Ok(())
    })
}
