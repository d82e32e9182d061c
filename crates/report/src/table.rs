//! The terminal tables (one per kind of row: deliveries, idle) with the notes a reader must see,
//! and under them the measured textbook table in short.

use crate::columns::{cells, headers, notes, tables};
use crate::data::Dataset;
use crate::environment::{machine_line, settings_line, workload_line};
use crate::profiles::faults_line;
use crate::textbook::{Cell, measure};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};
use rtbench_results::Results;

/// Renders the comparison tables with the workload, machine and server-settings lines above them,
/// the notes below, and the measured textbook table last.
pub fn render_table(r: &Results) -> String {
    let mut out = format!("{}\n{}\n", workload_line(r), machine_line(r));
    if let Some(line) = settings_line(r) {
        out.push_str(&line);
        out.push('\n');
    }
    if let Some(line) = faults_line(r) {
        out.push_str(&line);
        out.push('\n');
    }
    for t in tables(r) {
        let (columns, rows) = (t.columns, t.rows);
        if let Some(heading) = t.heading {
            out.push_str(&format!("{heading}\n"));
        }
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_header(headers(&columns));
        for row in rows {
            table.add_row(cells(&columns, row));
        }
        for i in 1..columns.len() {
            if let Some(col) = table.column_mut(i) {
                col.set_cell_alignment(CellAlignment::Right);
            }
        }
        out.push_str(&table.to_string());
        out.push('\n');
    }
    for note in notes(&r.rows) {
        out.push_str(&format!("note: {note}\n"));
    }
    out.push_str(&textbook_table(r));
    out
}

fn short(c: &Cell) -> String {
    let verdict = match c.verdict {
        Some(v) if v.agrees() => "agrees".to_string(),
        Some(_) => "disagrees".to_string(),
        None => c.verdict_text(),
    };
    format!("{} → {} ({verdict})", c.claimed, c.rated.unwrap_or("–"))
}

/// The textbook's claims and the ratings this run gives them, one line per technique.
fn textbook_table(r: &Results) -> String {
    if r.rows.iter().all(|row| row.deliveries == 0) {
        return String::new();
    }
    let run = crate::Run {
        source: "results.json".into(),
        results: r.clone(),
    };
    let Ok(d) = Dataset::new(std::slice::from_ref(&run)) else {
        return String::new();
    };
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header([
        "textbook 7.3.1",
        "latency: book → measured",
        "overhead: book → measured",
    ]);
    let measured: Vec<_> = measure(&d)
        .rows
        .into_iter()
        .filter(|r| !r.latency.figure.is_empty())
        .collect();
    if measured.is_empty() {
        return String::new();
    }
    for row in measured {
        table.add_row([
            row.claim.technique.to_string(),
            short(&row.latency),
            short(&row.overhead),
        ]);
    }
    format!("{table}\n")
}
