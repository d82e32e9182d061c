//! The terminal table.

use crate::columns::{HEADERS, cells};
use crate::profiles::{faults_line, groups, row_notes};
use crate::{machine_line, workload_line};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};
use rtbench_results::{Results, Row};

/// Renders the comparison table — one per network-conditions profile — with the workload and
/// machine lines above and each row's notes below.
pub fn render_table(r: &Results) -> String {
    let mut out = format!("{}\n{}\n", workload_line(r), machine_line(r));
    if let Some(faults) = faults_line(r) {
        out.push_str(&faults);
        out.push('\n');
    }
    for group in groups(r) {
        if let Some(heading) = &group.heading {
            out.push_str(&format!("\n{heading}\n"));
        }
        out.push_str(&one_table(&group.rows));
        for note in row_notes(&group.rows) {
            out.push_str(&format!("note: {note}\n"));
        }
    }
    out
}

/// One table of rows.
fn one_table(rows: &[&Row]) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(HEADERS);
    for row in rows {
        table.add_row(cells(row));
    }
    for i in 1..HEADERS.len() {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut out = table.to_string();
    out.push('\n');
    out
}
