//! The stack section: a run over several protocol stacks (`rtbench run --stack h1,h1-tls`) side by
//! side — bytes, server CPU and memory per delivery for every transport on every stack, as a table
//! and as charts — and the textbook table rated on each stack, with a verdict line for every
//! rating that flips between stacks (short polling's overhead under HTTP/2's HPACK, say).
//!
//! Runs are grouped by [`group_key`], the one place that says what makes two runs "the same
//! stack"; rows of different groups are never merged into one figure.

use crate::charts::{Section, Table};
use crate::data::{Dataset, Point};
use crate::format::number;
use crate::rating::{LATENCY, OVERHEAD};
use crate::textbook::{self, Measured};
use crate::{ReportError, Run};
use rtbench_results::{Results, Transport};

/// What makes two runs the same stack ([`rtbench_results::stack_key`], shared with the gate).
pub fn group_key(results: &Results) -> String {
    rtbench_results::stack_key(results)
}

/// The runs of one stack.
#[derive(Debug, Clone)]
pub struct StackRuns {
    /// Its [`group_key`].
    pub key: String,
    /// Its runs, in the order given.
    pub runs: Vec<Run>,
}

/// `runs` grouped by [`group_key`], groups in the order first seen.
pub fn split(runs: &[Run]) -> Vec<StackRuns> {
    let mut groups: Vec<StackRuns> = Vec::new();
    for run in runs {
        let key = group_key(&run.results);
        match groups.iter_mut().find(|g| g.key == key) {
            Some(g) => g.runs.push(run.clone()),
            None => groups.push(StackRuns {
                key,
                runs: vec![run.clone()],
            }),
        }
    }
    groups
}

/// One transport's figures on one stack.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// Wire bytes per delivery.
    pub bytes_per_delivery: f64,
    /// Server CPU per delivery, microseconds.
    pub server_cpu_us_per_delivery: f64,
    /// Server memory per open connection, bytes, when measured.
    pub memory_per_connection_bytes: Option<f64>,
}

/// The stack section's content, from two or more stacks.
#[derive(Debug, Clone)]
pub struct StackSection {
    /// The stacks, in the order first seen (the first is the headline's).
    pub stacks: Vec<String>,
    /// Per transport (in transport order), its figures on each stack (`None`: not measured there).
    pub figures: Vec<(Transport, Vec<Option<Figures>>)>,
    /// The textbook table measured on each stack, in `stacks` order.
    pub rated: Vec<Measured>,
    /// One sentence per rating that differs between stacks.
    pub flips: Vec<String>,
}

impl StackSection {
    /// The section for `runs` when they span two or more stacks; `None` for one stack.
    pub fn of(runs: &[Run]) -> Result<Option<StackSection>, ReportError> {
        let groups = split(runs);
        if groups.len() < 2 {
            return Ok(None);
        }
        let data = groups
            .iter()
            .map(|g| Dataset::new(&g.runs))
            .collect::<Result<Vec<_>, _>>()?;
        let bases: Vec<Vec<&Point>> = data.iter().map(Dataset::base_points).collect();
        let mut transports: Vec<Transport> = Vec::new();
        for t in data.iter().flat_map(|d| d.transports.iter().copied()) {
            if !transports.contains(&t) {
                transports.push(t);
            }
        }
        transports.sort_by_key(|&t| crate::transport::rank(t));
        let figures = transports
            .iter()
            .map(|&t| {
                let per_stack = bases
                    .iter()
                    .map(|b| b.iter().find(|p| p.transport == t).map(|p| figures(p)))
                    .collect();
                (t, per_stack)
            })
            .collect();
        let stacks: Vec<String> = groups.iter().map(|g| g.key.clone()).collect();
        let rated: Vec<Measured> = data.iter().map(textbook::measure).collect();
        let flips = flips(&stacks, &rated);
        Ok(Some(StackSection {
            stacks,
            figures,
            rated,
            flips,
        }))
    }

    /// The side-by-side table: a row per transport, bytes, CPU and (when measured) memory per
    /// connection per stack.
    pub fn table(&self) -> Table {
        let memory = self
            .figures
            .iter()
            .flat_map(|(_, per)| per.iter().flatten())
            .any(|f| f.memory_per_connection_bytes.is_some());
        let mut headers = vec!["transport".to_string()];
        let whats: &[&str] = match memory {
            true => &["B/delivery", "server CPU µs/delivery", "memory/conn"],
            false => &["B/delivery", "server CPU µs/delivery"],
        };
        for what in whats {
            headers.extend(self.stacks.iter().map(|s| format!("{what} {s}")));
        }
        let rows = self
            .figures
            .iter()
            .map(|(t, per)| {
                let mut row = vec![crate::transport::label(*t).to_string()];
                let cell = |f: &dyn Fn(&Figures) -> Option<String>| {
                    per.iter()
                        .map(|x| x.as_ref().and_then(f).unwrap_or_else(|| "–".into()))
                        .collect::<Vec<_>>()
                };
                row.extend(cell(&|f| Some(number(f.bytes_per_delivery))));
                row.extend(cell(&|f| Some(number(f.server_cpu_us_per_delivery))));
                if memory {
                    row.extend(cell(&|f| {
                        f.memory_per_connection_bytes
                            .map(|b| format!("{} KiB", number(b / 1_024.0)))
                    }));
                }
                row
            })
            .collect();
        Table {
            class: "",
            headers,
            rows,
            notes: Vec::new(),
        }
    }

    /// The textbook table rated on each stack: a row per technique and stack (the technique named
    /// on its first row), its latency and overhead rating with the figure behind each. Four
    /// columns whatever the number of stacks, so it fits a page.
    pub fn ratings_table(&self) -> Table {
        let headers = ["technique", "stack", LATENCY.name, OVERHEAD.name]
            .map(str::to_string)
            .to_vec();
        let techniques = self.rated.first().map_or(0, |m| m.rows.len());
        let mut rows = Vec::new();
        for i in 0..techniques {
            for (j, (stack, m)) in self.stacks.iter().zip(&self.rated).enumerate() {
                let Some(r) = m.rows.get(i) else { continue };
                let rating = |c: &textbook::Cell| {
                    c.rated
                        .map_or("–".into(), |l| format!("{l} ({})", c.figure))
                };
                let technique = match j {
                    0 => r.claim.technique.to_string(),
                    _ => String::new(),
                };
                rows.push(vec![
                    technique,
                    stack.clone(),
                    rating(&r.latency),
                    rating(&r.overhead),
                ]);
            }
        }
        Table {
            class: "",
            headers,
            rows,
            notes: self.flips.clone(),
        }
    }
}

fn figures(p: &Point) -> Figures {
    Figures {
        bytes_per_delivery: p.bytes_per_delivery,
        server_cpu_us_per_delivery: p.server_cpu_us_per_delivery,
        memory_per_connection_bytes: p.memory_per_connection_bytes,
    }
}

/// A sentence per (technique, scale) whose rating is not the same on every stack that rated it.
fn flips(stacks: &[String], rated: &[Measured]) -> Vec<String> {
    let mut out = Vec::new();
    let techniques = rated.first().map_or(0, |m| m.rows.len());
    for i in 0..techniques {
        for (scale, latency) in [(LATENCY, true), (OVERHEAD, false)] {
            let on: Vec<(&String, &textbook::Cell)> = stacks
                .iter()
                .zip(rated)
                .filter_map(|(s, m)| {
                    let r = m.rows.get(i)?;
                    let c = if latency { &r.latency } else { &r.overhead };
                    c.rated.map(|_| (s, c))
                })
                .collect();
            let first = on.first().and_then(|(_, c)| c.rated);
            if on.iter().all(|(_, c)| c.rated == first) {
                continue;
            }
            let parts: Vec<String> = on
                .iter()
                .map(|(s, c)| format!("{} on {s} ({})", c.rated.unwrap_or("–"), c.figure))
                .collect();
            out.push(format!(
                "{}'s {} rating flips between stacks: {}.",
                rated[0].rows[i].claim.technique,
                scale.name,
                parts.join(", ")
            ));
        }
    }
    out
}

/// The Markdown `## Stacks` section.
pub fn markdown(s: &StackSection) -> String {
    let mut out = format!(
        "## Stacks\n\nThe same workload on {} stacks, side by side (the tables above are the first \
         stack's; each stack's own tables are in its directory).\n\n",
        s.stacks.len()
    );
    for table in [s.table(), s.ratings_table()] {
        out.push_str(&format!("| {} |\n", table.headers.join(" | ")));
        let align: Vec<&str> = (0..table.headers.len())
            .map(|i| if i == 0 { "---" } else { "---:" })
            .collect();
        out.push_str(&format!("| {} |\n", align.join(" | ")));
        for row in &table.rows {
            out.push_str(&format!("| {} |\n", row.join(" | ")));
        }
        out.push('\n');
    }
    if s.flips.is_empty() {
        out.push_str("No textbook rating flips between these stacks.\n\n");
    }
    for flip in &s.flips {
        out.push_str(&format!("- **flips**: {flip}\n"));
    }
    out.push('\n');
    out
}

/// The HTML page's stack section: a chart per figure (bars per transport, one per stack), the
/// side-by-side table and the textbook table rated on each stack.
pub fn html_section(s: &StackSection) -> Result<Section, ReportError> {
    let mut charts = Vec::new();
    for chart in crate::charts::stack_charts(s)? {
        charts.push(chart);
    }
    Ok(Section {
        id: "stacks".into(),
        title: "Stacks".into(),
        intro: format!(
            "The same workload on {}: bytes, server CPU and memory per transport on each stack, \
             and the textbook table rated on each.",
            s.stacks.join(", ")
        ),
        charts,
        skipped: Vec::new(),
        tables: vec![s.table(), s.ratings_table()],
    })
}

/// Writes each stack chart as `stacks-<figure>.svg` in `dir`; the paths written.
pub fn write_charts(
    s: &StackSection,
    dir: &std::path::Path,
) -> Result<Vec<std::path::PathBuf>, ReportError> {
    let mut written = Vec::new();
    for chart in crate::charts::stack_charts(s)? {
        let path = dir.join(format!("{}.svg", chart.id));
        std::fs::write(&path, &chart.svg).map_err(|e| ReportError::Chart {
            chart: chart.id.clone(),
            reason: format!("writing {}: {e}", path.display()),
        })?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
#[path = "stacks_tests.rs"]
mod tests;
