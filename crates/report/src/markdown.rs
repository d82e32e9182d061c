//! The Markdown summary, for a README or a pull-request comment.

use crate::columns::{cells, headers, tables};
use crate::data::Dataset;
use crate::environment::{machine_line, reproduce_line, settings_line, workload_line};
use crate::profiles::{faults_line, target_line};
use crate::rating::{LATENCY, OVERHEAD};
use crate::textbook::Cell;
use crate::{Beside, Run, textbook};
use rtbench_results::Results;

/// Renders the summary of one run: workload, machine, the table, the measured textbook table and
/// the command that reproduces it.
pub fn render_markdown(r: &Results) -> String {
    render_markdown_runs(&[Run {
        source: "results.json".into(),
        results: r.clone(),
    }])
}

/// Renders the summary of several runs: one table per run, then the measured textbook table of the
/// first run's workload with the flips the other runs show.
pub fn render_markdown_runs(runs: &[Run]) -> String {
    render_markdown_with(runs, &Beside::default())
}

/// [`render_markdown_runs`] with what lies beside the results: the capacity table, a line per
/// latency interval log, and deliveries/s per server core in the textbook table.
pub fn render_markdown_with(runs: &[Run], beside: &Beside) -> String {
    let mut out = String::from("# rtbench results\n\n");
    for run in runs {
        if runs.len() > 1 {
            out.push_str(&format!("## {}\n\n", run.source));
        }
        out.push_str(&run_section(&run.results));
    }
    let capacity_rows = match (&beside.capacity, runs.first()) {
        (Some(c), Some(first)) => Some(crate::capacity::table(
            c,
            crate::html::placement_cpus(first),
        )),
        _ => None,
    };
    if let (Some(rows), Some(c)) = (&capacity_rows, &beside.capacity) {
        out.push_str(&crate::markdown_beside::capacity_section(c, rows));
    }
    if let (Some(logs), Some(first)) = (&beside.latency, runs.first()) {
        out.push_str(&crate::markdown_beside::latency_section(
            logs,
            &first.source,
        ));
    }
    let first = crate::stacks::split(runs)
        .into_iter()
        .next()
        .map(|g| g.runs);
    match Dataset::new(first.as_deref().unwrap_or(runs)) {
        Ok(d) => out.push_str(&textbook_section(&textbook::measure_with(
            &d,
            capacity_rows.as_deref(),
        ))),
        Err(e) => out.push_str(&format!(
            "\nThe measured textbook table could not be made: {e}.\n"
        )),
    }
    match crate::stacks::StackSection::of(runs) {
        Ok(Some(s)) => out.push_str(&crate::stacks::markdown(&s)),
        Ok(None) => {}
        Err(e) => out.push_str(&format!("\nThe stack section could not be made: {e}.\n")),
    }
    out
}

fn run_section(r: &Results) -> String {
    let mut out = format!(
        "{}. Stack {}.\n\nMachine: {}.\n\n",
        workload_line(r),
        crate::stacks::group_key(r),
        machine_line(r)
    );
    if let Some(line) = settings_line(r) {
        out.push_str(&format!("{line}.\n\n"));
    }
    if let Some(cluster) = &r.cluster {
        out.push_str(&format!("{}.\n\n", cluster.summary()));
    }
    if let Some(line) = target_line(r) {
        out.push_str(&format!("{line}.\n\n"));
    }
    if let Some(line) = faults_line(r) {
        out.push_str(&format!("{line}.\n\n"));
    }
    for t in tables(r) {
        let (columns, rows) = (t.columns, t.rows);
        if let Some(heading) = t.heading {
            out.push_str(&format!("{heading}:\n\n"));
        }
        out.push_str(&format!("| {} |\n", headers(&columns).join(" | ")));
        let align: Vec<&str> = (0..columns.len())
            .map(|i| if i == 0 { "---" } else { "---:" })
            .collect();
        out.push_str(&format!("| {} |\n", align.join(" | ")));
        for row in rows {
            out.push_str(&format!("| {} |\n", cells(&columns, row).join(" | ")));
        }
        out.push('\n');
    }
    for note in crate::warnings::run_notes(r) {
        out.push_str(&format!("- **note**: {note}\n"));
    }
    if r.rows.iter().any(|row| row.connections.is_none()) {
        out.push_str("Latency counts from each event's scheduled publication time. ");
    }
    out.push_str(&format!("Reproduce with `{}`.\n\n", reproduce_line(r)));
    out
}

fn verdict(c: &Cell) -> String {
    match c.verdict {
        Some(v) if v.agrees() => "**agrees**".into(),
        _ => c.verdict_text(),
    }
}

fn textbook_section(m: &textbook::Measured) -> String {
    let mut out = String::from("## The textbook table, measured\n\n");
    out.push_str(
        "Chapter 7.3.1's ratings beside the measured figures. Each rating is derived from a ratio to the \
         raw-TCP floor under the same workload:\n\n",
    );
    for s in [LATENCY, OVERHEAD] {
        out.push_str(&format!(
            "- {} = {}: {}.\n",
            s.name,
            s.measure,
            s.rules().join("; ")
        ));
    }
    let per_core = m.rows.iter().any(|r| r.per_core.is_some());
    let (head, align) = match per_core {
        true => (" deliveries/s per server core at the bound |", "---:|"),
        false => ("", ""),
    };
    out.push_str(&format!(
        "\n| Técnica | Latencia (book) | p50 (× floor) | rated | verdict \
         | Sobrecarga (book) | bytes/delivery (× floor) | rated | verdict |{head} other cost per delivery |\n",
    ));
    out.push_str(&format!(
        "|---|---|---:|---|---|---|---:|---|---|{align}---|\n"
    ));
    let beyond_head = (!m.beyond.is_empty()).then_some(None);
    let beyond = beyond_head.into_iter().chain(m.beyond.iter().map(Some));
    for r in m.rows.iter().map(Some).chain(beyond) {
        let Some(r) = r else {
            // The part beyond the chapter: rated by the same scales, claimed nowhere.
            let cells = if per_core { 10 } else { 9 };
            out.push_str(&format!("| *beyond the chapter* |{}\n", " |".repeat(cells)));
            continue;
        };
        let (l, o) = (&r.latency, &r.overhead);
        let pc = r
            .per_core
            .as_ref()
            .map(|p| format!(" {p} |"))
            .unwrap_or_default();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |{pc} {} |\n",
            r.claim.technique,
            l.claimed,
            l.figure,
            l.rated.unwrap_or("–"),
            verdict(l),
            o.claimed,
            o.figure,
            o.rated.unwrap_or("–"),
            verdict(o),
            r.other_cost,
        ));
    }
    if let Some(floor) = &m.floor {
        out.push_str(&format!("\nFloor (raw TCP): {floor}.\n"));
    }
    let notes: Vec<String> = m
        .rows
        .iter()
        .flat_map(|r| {
            let lat = r
                .latency
                .sweeps
                .iter()
                .map(move |n| format!("- {}, latency: {n}.", r.claim.technique));
            let ovh = r
                .overhead
                .sweeps
                .iter()
                .map(move |n| format!("- {}, overhead: {n}.", r.claim.technique));
            lat.chain(ovh)
        })
        .collect();
    if !notes.is_empty() {
        out.push_str("\nAlong the sweeps in the data:\n\n");
        out.push_str(&notes.join("\n"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{row, run};

    #[test]
    fn one_run_has_its_table_and_the_measured_textbook_table() {
        let r = run(
            "a.json",
            vec![
                row("tcp", 20.0, 500, 500.0, 180.0),
                row("sse", 20.0, 500, 900.0, 200.0),
            ],
        );
        let md = render_markdown(&r.results);
        assert!(md.starts_with("# rtbench results\n\nscenario dashboard"));
        assert!(md.contains("| sse | 100 | 1000 |"), "{md}");
        assert!(md.contains(
            "| SSE | Baja | 900 µs (1.80×) | Baja | **agrees** | Baja | 200 B (1.11×) | Muy Baja |"
        ));
        assert!(
            md.contains("| WebSockets | Muy Baja |  | – | not measured |"),
            "{md}"
        );
        assert!(md.contains("Latencia = p50 delivery latency"), "{md}");
        assert!(
            !md.contains("## a.json"),
            "a single run has no per-file heading"
        );
    }
}
