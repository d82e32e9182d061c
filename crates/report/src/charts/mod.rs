//! The page's charts, one function per chart kind (one file each), grouped into sections. Which
//! charts appear is decided by the data alone: a figure nobody measured gets a sentence saying so,
//! never an empty chart.

mod bars;
mod cdf;
mod frame;
mod hockey;
pub mod metric;
mod spectrum;
mod stacks;
mod sweep;
mod timeline;
mod tradeoff;

pub use beside::{capacity as capacity_section, latency_over_time};
pub use stacks::stack_charts;

mod beside;

use crate::ReportError;
use crate::data::{Dataset, Param, Point, Workload};
use crate::format::number;
use metric::Metric;

/// One chart on the page.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Anchor id, unique on the page.
    pub id: String,
    /// Heading.
    pub title: String,
    /// One or two sentences saying what to read off it.
    pub caption: String,
    /// Transports drawn, one series each, in legend order.
    pub transports: Vec<rtbench_results::Transport>,
    /// The inline `<svg>`.
    pub svg: String,
}

/// A group of charts under one heading.
#[derive(Debug, Clone)]
pub struct Section {
    /// Anchor id.
    pub id: String,
    /// Heading.
    pub title: String,
    /// What the section shows, and for which workload.
    pub intro: String,
    /// The charts.
    pub charts: Vec<Chart>,
    /// Charts left out, each with the reason.
    pub skipped: Vec<String>,
    /// Tables under the charts (the capacity table).
    pub tables: Vec<Table>,
}

/// A table in a section.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// CSS class beside `rows` (`capacity`: its last column, the verdict, wraps).
    pub class: &'static str,
    /// Column headers.
    pub headers: Vec<String>,
    /// Cells, row by row.
    pub rows: Vec<Vec<String>>,
    /// Sentences under it.
    pub notes: Vec<String>,
}

impl Chart {
    /// The transports drawn, by their names, separated by spaces (`tcp websocket`).
    pub fn transport_names(&self) -> String {
        let names: Vec<&str> = self.transports.iter().map(|t| t.as_str()).collect();
        names.join(" ")
    }
}

fn chart(id: String, title: String, caption: String, d: frame::Drawing) -> Chart {
    Chart {
        id,
        title,
        caption,
        transports: d.transports,
        svg: d.svg,
    }
}

/// The workload in words: `100 clients, 20 events/s, 128 B payload, 500 ms short-poll interval;
/// scenario dashboard, loopback`.
pub fn describe(w: &Workload) -> String {
    let events = match w.rate_per_s > 0.0 {
        true => format!("{} events/s", number(w.rate_per_s)),
        false => "no server events (the clients' own messages only)".to_string(),
    };
    format!(
        "{} clients, {events}, {} B payload, {} ms short-poll interval; scenario {}, {}",
        w.clients, w.payload_bytes, w.poll_interval_ms, w.scenario, w.conditions
    )
}

fn latency(d: &Dataset, base: &[&Point]) -> Result<Section, ReportError> {
    let with_data: Vec<&Point> = base
        .iter()
        .copied()
        .filter(|p| !p.histogram.is_empty())
        .collect();
    let mut s = Section {
        id: "latency".into(),
        title: "Latency".into(),
        intro: format!(
            "Delivery latency under the base workload ({}), from the merged HdrHistograms; it counts from \
             each event's scheduled publication time.",
            describe(&d.base)
        ),
        charts: Vec::new(),
        skipped: Vec::new(),
        tables: Vec::new(),
    };
    if with_data.is_empty() {
        s.skipped
            .push("No deliveries were recorded, so there is no latency to plot.".into());
        return Ok(s);
    }
    let caption = "Each percentile from p50 to p99.99 sits at 1/(1−p) on a log axis, so the tail is as \
                   visible as the median.";
    s.charts.push(chart(
        "latency-spectrum".into(),
        "Latency by percentile".into(),
        caption.into(),
        spectrum::spectrum(&with_data)?,
    ));
    let caption =
        "Share of deliveries that arrived within a given latency; further left is faster.";
    s.charts.push(chart(
        "latency-cdf".into(),
        "Latency CDF".into(),
        caption.into(),
        cdf::cdf(&with_data)?,
    ));
    Ok(s)
}

fn bar_section<'a>(
    id: &'static str,
    title: &'static str,
    intro: String,
    metrics: &[Metric],
    pick: &dyn Fn(Metric) -> Vec<&'a Point>,
) -> Result<Section, ReportError> {
    let mut s = Section {
        id: id.into(),
        title: title.into(),
        intro,
        charts: Vec::new(),
        skipped: Vec::new(),
        tables: Vec::new(),
    };
    let mut missing = Vec::new();
    for &m in metrics {
        let pts = pick(m);
        if pts.is_empty() {
            missing.push(m.title());
            continue;
        }
        let caption = format!("{} Lower is cheaper.", m.caption());
        s.charts.push(chart(
            format!("cost-{}", m.id()),
            m.title().into(),
            caption,
            bars::bars(m, &pts)?,
        ));
    }
    if !missing.is_empty() {
        s.skipped.push(format!(
            "Not measured in this data, so not drawn: {}.",
            missing.join("; ")
        ));
    }
    Ok(s)
}

fn sweeps(d: &Dataset, base: &[&Point]) -> Result<Section, ReportError> {
    let mut s = Section {
        id: "sweeps".into(),
        title: "Sweeps".into(),
        intro: "Rows that differ from the base workload in one parameter only, drawn against it."
            .into(),
        charts: Vec::new(),
        skipped: Vec::new(),
        tables: Vec::new(),
    };
    for param in Param::ALL {
        let Some(points) = d.sweep(param) else {
            continue;
        };
        let refs: Vec<&Point> = match param {
            Param::PollInterval => base
                .iter()
                .copied()
                .filter(|p| !p.workload.reads_poll)
                .collect(),
            _ => Vec::new(),
        };
        for m in [Metric::LatencyP50, Metric::Bytes] {
            let title = format!("{} against {}", m.title(), param.name());
            let caption = match param {
                Param::PollInterval => {
                    "Short polling at each interval; dashed lines are the push transports \
                                        at the base workload, which do not poll."
                        .to_string()
                }
                _ => format!(
                    "Every transport measured at each {}; other parameters as in the base workload.",
                    match param {
                        Param::Clients => "number of clients",
                        Param::Payload => "payload size",
                        Param::Conditions => "network condition",
                        _ => param.name(),
                    }
                ),
            };
            let id = format!("sweep-{}-{}", param.name().replace(' ', "-"), m.id());
            s.charts.push(chart(
                id,
                title,
                caption,
                sweep::sweep(param, m, &points, &refs, &d.conditions)?,
            ));
        }
        if param == Param::PollInterval {
            let polls: Vec<&Point> = points
                .iter()
                .copied()
                .filter(|p| p.transport.spec().polled)
                .collect();
            let refs: Vec<&Point> = base
                .iter()
                .copied()
                .filter(|p| !p.transport.spec().polled)
                .collect();
            let caption = "Each short-poll interval buys latency with bytes; the other transports at the base \
                           workload for comparison.";
            s.charts.push(chart(
                "short-poll-tradeoff".into(),
                "Short polling: latency against overhead".into(),
                caption.into(),
                tradeoff::tradeoff(&polls, &refs)?,
            ));
        }
    }
    if s.charts.is_empty() {
        let other_scenarios = scenarios(d).len() > 1;
        s.skipped.push(match other_scenarios {
            true => "No rows differ from the base workload in one parameter only: the other \
                     scenarios are other workloads, each drawn in its own section. Run again with \
                     other --clients, --rate, --payload or --poll-interval and pass every \
                     results.json to rtbench report to draw sweeps."
                .into(),
            false => "Every row shares one workload. Run again with other --clients, --rate, \
                      --payload or --poll-interval and pass every results.json to rtbench report \
                      to draw sweeps."
                .into(),
        });
    }
    Ok(s)
}

/// The scenarios of the data, the base's first, then in the order first seen.
fn scenarios(d: &Dataset) -> Vec<&str> {
    let mut out = vec![d.base.scenario.as_str()];
    for p in &d.points {
        if !out.contains(&p.workload.scenario.as_str()) {
            out.push(&p.workload.scenario);
        }
    }
    out
}

/// For every scenario other than the base's (a page merging, say, dashboard and chat): its own
/// section with its latency and cost charts, under its own workload, so nothing is drawn for one
/// workload and read as another's.
fn other_workloads(d: &Dataset) -> Result<Vec<Section>, ReportError> {
    let mut out = Vec::new();
    for scenario in scenarios(d).into_iter().skip(1) {
        let Some(first) = d.points.iter().find(|p| p.workload.scenario == scenario) else {
            continue;
        };
        let mut other = d.clone();
        other.base = Workload {
            reads_poll: true,
            ..first.workload.clone()
        };
        let base = other.base_points();
        let mut s = latency(&other, &base)?;
        let cost = bar_section(
            "cost",
            "Cost per delivery",
            String::new(),
            &Metric::PER_DELIVERY,
            &|m| {
                base.iter()
                    .copied()
                    .filter(|p| m.value(p).is_some())
                    .collect()
            },
        )?;
        s.charts.extend(cost.charts);
        s.skipped.extend(cost.skipped);
        for c in &mut s.charts {
            c.id = format!("{scenario}-{}", c.id);
        }
        s.id = format!("workload-{scenario}");
        s.title = format!("Scenario {scenario}");
        s.intro = format!(
            "The rows of scenario {scenario}, another workload than the base: latency and cost \
             per delivery under {}.",
            describe(&other.base)
        );
        out.push(s);
    }
    Ok(out)
}

/// Every section of the page, in order.
pub fn sections(d: &Dataset) -> Result<Vec<Section>, ReportError> {
    let base = d.base_points();
    let cost_intro = format!(
        "What each delivery costs under the base workload ({}): bytes counted on the server's sockets \
         in both directions, headers and handshakes included.",
        describe(&d.base)
    );
    let cost = bar_section(
        "cost",
        "Cost per delivery",
        cost_intro,
        &Metric::PER_DELIVERY,
        &|m| {
            base.iter()
                .copied()
                .filter(|p| m.value(p).is_some())
                .collect()
        },
    )?;
    let first_with = |m: Metric| {
        let mut out: Vec<&Point> = Vec::new();
        for p in d.points.iter().filter(|p| m.value(p).is_some()) {
            if !out.iter().any(|q| q.transport == p.transport) {
                out.push(p);
            }
        }
        out.sort_by_key(|p| crate::transport::rank(p.transport));
        out
    };
    let holding_intro =
        "What holding clients costs while no event flows (idle scenario rows).".to_string();
    let holding = bar_section(
        "holding",
        "Holding clients",
        holding_intro,
        &Metric::HOLDING,
        &first_with,
    )?;
    let mut all = vec![latency(d, &base)?, cost];
    all.extend(other_workloads(d)?);
    all.extend([holding, sweeps(d, &base)?]);
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{row, run};

    #[test]
    fn optional_figures_get_a_chart_only_when_measured() {
        let mut sse = row("sse", 20.0, 500, 900.0, 200.0);
        sse.packets_per_delivery = Some(1.5);
        sse.memory_per_connection_bytes = Some(8_192.0);
        let d = Dataset::new(&[run(
            "a.json",
            vec![row("tcp", 20.0, 500, 500.0, 180.0), sse],
        )])
        .unwrap();
        let all = sections(&d).unwrap();
        let ids: Vec<&str> = all
            .iter()
            .flat_map(|s| s.charts.iter().map(|c| c.id.as_str()))
            .collect();
        assert!(
            ids.contains(&"cost-packets") && ids.contains(&"cost-memory"),
            "{ids:?}"
        );
        assert!(!ids.contains(&"cost-idle-bytes"));
        let memory = all
            .iter()
            .flat_map(|s| &s.charts)
            .find(|c| c.id == "cost-memory")
            .unwrap();
        assert_eq!(
            memory.transport_names(),
            "sse",
            "only transports that have the figure"
        );
        assert!(
            memory.svg.contains("8 KiB"),
            "the bar is labelled with its value and unit"
        );
        let holding = all.iter().find(|s| s.id == "holding").unwrap();
        assert_eq!(
            holding.skipped.len(),
            1,
            "one sentence for the three idle figures"
        );
    }

    #[test]
    fn a_merged_page_draws_each_scenario_under_its_own_workload() {
        let chat = |t: &str, p50: f64| {
            let mut r = row(t, 0.0, 500, p50, 300.0);
            r.scenario = "chat".into();
            r
        };
        let d = Dataset::new(&[
            run(
                "dash.json",
                vec![
                    row("tcp", 20.0, 500, 500.0, 180.0),
                    row("sse", 20.0, 500, 900.0, 200.0),
                ],
            ),
            run(
                "chat.json",
                vec![chat("tcp", 700.0), chat("websocket", 650.0)],
            ),
        ])
        .unwrap();
        let all = sections(&d).unwrap();
        let chat_section = all.iter().find(|s| s.id == "workload-chat").unwrap();
        let ids: Vec<&str> = chat_section.charts.iter().map(|c| c.id.as_str()).collect();
        assert!(
            ids.contains(&"chat-latency-cdf") && ids.contains(&"chat-cost-bytes"),
            "{ids:?}"
        );
        let cdf = chat_section
            .charts
            .iter()
            .find(|c| c.id == "chat-latency-cdf")
            .unwrap();
        assert_eq!(cdf.transport_names(), "tcp websocket", "only the chat rows");
        assert!(
            chat_section.intro.contains("no server events"),
            "{}",
            chat_section.intro
        );
        let latency = all.iter().find(|s| s.id == "latency").unwrap();
        assert_eq!(
            latency.charts[0].transport_names(),
            "tcp sse",
            "only the base rows"
        );
        let sweeps = all.iter().find(|s| s.id == "sweeps").unwrap();
        assert!(!sweeps.skipped[0].contains("Every row shares one workload"));
    }
}
