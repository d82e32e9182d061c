//! The self-contained HTML page: an askama template (`templates/report.html`) filled from a context
//! built here out of the same data every other view reads. CSS is inlined and the charts are inline
//! SVG, so the file opens offline and travels alone as a CI artifact.

use crate::charts::{self, Section};
use crate::columns::{cells, headers, tables};
use crate::data::Dataset;
use crate::environment::{
    config_pairs, dirty_note, recorded_command, reproduce_line, utc, workload_line,
};
use crate::rating::{LATENCY, OVERHEAD};
use crate::textbook::{self, Cell};
use crate::{Beside, ReportError, Run, transport};
use askama::Template;

/// A textbook cell as the template shows it.
struct CellView {
    claimed: &'static str,
    figure: String,
    rated: &'static str,
    verdict: String,
    /// CSS class: `agrees`, `disagrees`, or empty when there is no verdict.
    class: &'static str,
    sweeps: Vec<String>,
}

impl CellView {
    fn of(c: &Cell) -> CellView {
        CellView {
            claimed: c.claimed,
            figure: c.figure.clone(),
            rated: c.rated.unwrap_or("–"),
            verdict: c.verdict_text(),
            class: match c.verdict {
                Some(v) if v.agrees() => "agrees",
                Some(_) => "disagrees",
                None => "",
            },
            sweeps: c.sweeps.clone(),
        }
    }
}

struct TextbookRowView {
    technique: &'static str,
    /// Latency, then overhead.
    cells: [CellView; 2],
    other: String,
    /// Deliveries/s per server core at the capacity bound, when a capacity document was given.
    per_core: Option<String>,
}

/// One table of a run: the delivery rows or the idle rows.
struct TableView {
    /// The network conditions the rows ran under, when the run has several profiles.
    heading: Option<String>,
    /// Column headers.
    headers: Vec<&'static str>,
    /// Cells, row by row.
    rows: Vec<Vec<String>>,
}

/// One run's tables and environment.
struct RunView {
    source: String,
    workload: String,
    tables: Vec<TableView>,
    notes: Vec<String>,
    /// Shown when it differs from the previous run's (always for the first).
    machine: Option<Vec<(String, String)>>,
    config: Vec<(String, String)>,
    reproduce: String,
    recorded: String,
    dirty: Option<String>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct Page {
    tool: String,
    headline: String,
    sources: Vec<String>,
    key: Vec<(String, String)>,
    textbook: Vec<TextbookRowView>,
    /// Whether the textbook table has the per-core column.
    per_core: bool,
    floor: Option<String>,
    scales: Vec<(&'static str, &'static str, Vec<String>)>,
    sections: Vec<Section>,
    runs: Vec<RunView>,
    css: &'static str,
}

/// The build as the machine table states it: profile and commit, a debug build in capitals.
fn build_words(r: &rtbench_results::Results) -> String {
    let e = &r.environment;
    let profile = match e.build_profile.as_str() {
        "" => "profile not recorded".to_string(),
        "debug" => "DEBUG build: figures not comparable to a release build's".to_string(),
        other => format!("{other} build"),
    };
    format!(
        "{profile}, commit {}",
        crate::environment::short_commit(&e.git_commit)
    )
}

fn run_view(run: &Run) -> RunView {
    let r = &run.results;
    let e = &r.environment;
    let mut notes = crate::warnings::run_notes(r);
    for row in &r.rows {
        if row.undelivered() + row.duplicated + row.reordered > 0 {
            notes.push(format!(
                "{}: {} lost, {} late, {} unpublished, {} duplicated, {} reordered deliveries.",
                row.transport,
                row.lost,
                row.overload.late,
                row.overload.unpublished,
                row.duplicated,
                row.reordered
            ));
        }
    }
    let machine = [
        ("CPU", e.cpu_model.clone()),
        ("cores", e.cores.to_string()),
        ("kernel", format!("Linux {}", e.kernel)),
        ("compiler", e.rustc.clone()),
        ("build", build_words(r)),
        ("placement", e.placement.description.clone()),
        ("tool", r.tool.clone()),
    ];
    let mut config = vec![
        ("commit".to_string(), e.git_commit.clone()),
        ("started".to_string(), utc(r.started_at_unix_s)),
    ];
    config.extend(config_pairs(r));
    RunView {
        source: run.source.clone(),
        workload: workload_line(r),
        tables: tables(r)
            .into_iter()
            .map(|t| TableView {
                heading: t.heading,
                headers: headers(&t.columns),
                rows: t
                    .rows
                    .into_iter()
                    .map(|row| cells(&t.columns, row))
                    .collect(),
            })
            .collect(),
        notes,
        machine: Some(
            machine
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        ),
        config,
        reproduce: reproduce_line(r),
        recorded: recorded_command(r),
        dirty: dirty_note(r),
    }
}

/// One view per run; a machine table only where it differs from the one shown before it.
fn run_views(runs: &[Run]) -> Vec<RunView> {
    let mut views: Vec<RunView> = runs.iter().map(run_view).collect();
    for i in (1..views.len()).rev() {
        if views[i].machine == views[i - 1].machine {
            views[i].machine = None;
        }
    }
    views
}

/// Renders one page for `runs`: the first run's workload is the base the headline charts and the
/// textbook table show; rows of the others add sweeps (or merge, when their workload is the same).
pub fn render_html(runs: &[Run]) -> Result<String, ReportError> {
    render_html_with(runs, &Beside::default())
}

/// The CPUs `results.json`'s placement gave the server (`None` when not pinned).
pub(crate) fn placement_cpus(run: &Run) -> Option<u32> {
    let n = run.results.environment.placement.server_cpus.len();
    (n > 0).then_some(n as u32)
}

/// The page's sections: the charts of the data, with latency over time after the latency section
/// and capacity after the cost section when `beside` holds them.
fn all_sections(
    runs: &[Run],
    data: &Dataset,
    beside: &Beside,
) -> Result<Vec<Section>, ReportError> {
    let mut sections = charts::sections(data)?;
    let after = |sections: &[Section], id: &str| {
        sections
            .iter()
            .position(|s| s.id == id)
            .map_or(sections.len(), |i| i + 1)
    };
    if let Some(curves) = &beside.capacity {
        let at = after(&sections, "cost");
        sections.insert(
            at,
            charts::capacity_section(curves, placement_cpus(&runs[0]))?,
        );
    }
    if let Some(logs) = &beside.latency {
        let at = after(&sections, "latency");
        let s = charts::latency_over_time(logs, &runs[0].source, &runs[0].results.config)?;
        sections.insert(at, s);
    }
    Ok(sections)
}

/// [`render_html`] with the sections of what lies beside the results (latency over time,
/// capacity) and, given a capacity document, deliveries/s per server core in the textbook table.
pub fn render_html_with(all: &[Run], beside: &Beside) -> Result<String, ReportError> {
    // Several stacks: the headline is the first stack's, the others sit beside it in their section.
    let stacks = crate::stacks::StackSection::of(all)?;
    let first = crate::stacks::split(all).into_iter().next().map(|g| g.runs);
    let runs = match (&stacks, &first) {
        (Some(_), Some(first)) => &first[..],
        _ => all,
    };
    let data = Dataset::new(runs)?;
    let capacity_rows = beside
        .capacity
        .as_ref()
        .map(|c| crate::capacity::table(c, placement_cpus(&runs[0])));
    let measured = textbook::measure_with(&data, capacity_rows.as_deref());
    let page = Page {
        tool: runs[0].results.tool.clone(),
        headline: format!(
            "stack {}; {}",
            crate::stacks::group_key(&runs[0].results),
            charts::describe(&data.base)
        ),
        sources: all.iter().map(|r| r.source.clone()).collect(),
        key: data
            .transports
            .iter()
            .map(|&t| (transport::label(t).to_string(), transport::colour_hex(t)))
            .collect(),
        textbook: measured
            .rows
            .iter()
            .chain(&measured.beyond)
            .map(|r| TextbookRowView {
                technique: r.claim.technique,
                cells: [CellView::of(&r.latency), CellView::of(&r.overhead)],
                other: r.other_cost.clone(),
                per_core: r.per_core.clone(),
            })
            .collect(),
        per_core: capacity_rows.is_some(),
        floor: measured.floor.clone(),
        scales: [LATENCY, OVERHEAD]
            .iter()
            .map(|s| (s.name, s.measure, s.rules()))
            .collect(),
        sections: {
            let mut sections = all_sections(runs, &data, beside)?;
            if let Some(s) = &stacks {
                sections.push(crate::stacks::html_section(s)?);
            }
            sections
        },
        runs: run_views(all),
        css: include_str!("../templates/report.css"),
    };
    page.render()
        .map_err(|e| ReportError::Template(e.to_string()))
}
