//! The terminal table, and under it the measured textbook table in short.

use crate::columns::{HEADERS, cells};
use crate::data::Dataset;
use crate::environment::{machine_line, workload_line};
use crate::textbook::{Cell, measure};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};
use rtbench_results::Results;

/// Renders the comparison table with the workload and machine lines above it.
pub fn render_table(r: &Results) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(HEADERS);
    for row in &r.rows {
        table.add_row(cells(row));
    }
    for i in 1..HEADERS.len() {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut out = format!("{}\n{}\n", workload_line(r), machine_line(r));
    out.push_str(&table.to_string());
    out.push('\n');
    for row in r.rows.iter().filter(|row| row.client_errors > 0) {
        out.push_str(&format!(
            "note: {}: {} clients ended with an error\n",
            row.transport, row.client_errors
        ));
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
