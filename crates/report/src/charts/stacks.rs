//! The stack section's charts: one per figure (bytes, server CPU, memory per delivery or per
//! connection), a group of bars per transport with one bar per stack. A bar carries its value above
//! it and its stack's name under it, both written upwards so that neighbouring bars' labels never
//! run together, and a stack is never told by shade alone; the shade darkens from the first stack
//! to the last, in the transport's colour.

use super::frame::{self, Swatch};
use super::metric::Metric;
use super::{Chart, chart};
use crate::ReportError;
use crate::stacks::{Figures, StackSection};
use crate::transport;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rtbench_results::Transport;

/// Room under the x axis for a stack's name written upwards ("h2-tls-lean" and the axis title).
const STACK_LABEL_AREA_PX: u32 = 80;

/// The figure `metric` reads, in its axis unit.
fn value(metric: Metric, f: &Figures) -> Option<f64> {
    match metric {
        Metric::Bytes => Some(f.bytes_per_delivery),
        Metric::ServerCpu => Some(f.server_cpu_us_per_delivery),
        Metric::Memory => f.memory_per_connection_bytes.map(|b| b / 1_024.0),
        _ => None,
    }
}

/// The stack section's charts: bytes and server CPU always, memory when any stack measured it.
pub fn stack_charts(s: &StackSection) -> Result<Vec<Chart>, ReportError> {
    let mut out = Vec::new();
    for metric in [Metric::Bytes, Metric::ServerCpu, Metric::Memory] {
        let groups: Vec<(Transport, Vec<Option<f64>>)> = s
            .figures
            .iter()
            .map(|(t, per)| {
                let values = per
                    .iter()
                    .map(|f| f.as_ref().and_then(|f| value(metric, f)))
                    .collect();
                (*t, values)
            })
            .filter(|(_, v): &(Transport, Vec<Option<f64>>)| v.iter().any(Option::is_some))
            .collect();
        if groups.is_empty() {
            continue;
        }
        let caption = format!(
            "{} Bars left to right: {}. Lower is cheaper.",
            metric.caption(),
            s.stacks.join(", ")
        );
        out.push(chart(
            format!("stacks-{}", metric.id()),
            format!("{} by stack", metric.title()),
            caption,
            grouped(metric, &s.stacks, &groups)?,
        ));
    }
    Ok(out)
}

/// Draws a group of bars per transport, one bar per stack.
fn grouped(
    metric: Metric,
    stacks: &[String],
    groups: &[(Transport, Vec<Option<f64>>)],
) -> Result<frame::Drawing, ReportError> {
    let names: Vec<Transport> = groups.iter().map(|g| g.0).collect();
    let top = groups
        .iter()
        .flat_map(|g| g.1.iter().flatten())
        .fold(0.0, |a: f64, b| a.max(*b));
    // Headroom for the upright value labels over the tallest bar.
    let top = if top > 0.0 { top * 1.4 } else { 1.0 };
    let n = stacks.len().max(1) as f64;
    frame::svg(metric.title(), &names, Swatch::Square, |area| {
        let mut chart = frame::builder(area)
            .x_label_area_size(STACK_LABEL_AREA_PX)
            .build_cartesian_2d(0.0..groups.len() as f64, 0.0..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc(metric.axis())
            .x_desc("transport, one bar per stack")
            .y_label_formatter(&|v| crate::format::number(*v))
            .label_style((frame::FONT, frame::TICK_SIZE))
            .axis_desc_style((frame::FONT, frame::DESC_SIZE))
            .light_line_style(TRANSPARENT)
            .bold_line_style(RGBColor(0xE4, 0xE4, 0xE4))
            .draw()?;
        // Written upwards: a label starting at the bar's top runs up from it, a stack's name
        // ending at the axis runs down from it.
        let upright = TextStyle::from(
            (frame::FONT, frame::TICK_SIZE * 0.8)
                .into_font()
                .transform(FontTransform::Rotate270),
        );
        let above = upright.pos(Pos::new(HPos::Left, VPos::Center));
        let below = upright.pos(Pos::new(HPos::Right, VPos::Center));
        let width = 0.8 / n;
        for (i, (t, values)) in groups.iter().enumerate() {
            for (j, v) in values.iter().enumerate() {
                let Some(v) = v else { continue };
                let x = i as f64 + 0.1 + width * j as f64;
                let shade = 0.45 + 0.55 * (j as f64 + 1.0) / n;
                let colour = transport::colour(*t).mix(shade);
                let bar =
                    Rectangle::new([(x + 0.02, 0.0), (x + width - 0.02, *v)], colour.filled());
                chart.draw_series(std::iter::once(bar))?;
                let mid = x + width / 2.0;
                let text = EmptyElement::at((mid, *v))
                    + Text::new(metric.format(*v), (0, -4), above.clone());
                chart.draw_series(std::iter::once(text))?;
                let name = EmptyElement::at((mid, 0.0))
                    + Text::new(stacks[j].clone(), (0, 6), below.clone());
                chart.draw_series(std::iter::once(name))?;
            }
        }
        Ok(())
    })
}
