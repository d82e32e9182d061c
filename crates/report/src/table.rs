//! The terminal table: one per kind of row (deliveries, idle), with the notes a reader must see.

use crate::columns::{notes, tables};
use crate::{machine_line, settings_line, workload_line};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};
use rtbench_results::Results;

/// Renders the comparison tables with the workload, machine and server-settings lines above them
/// and the notes below.
pub fn render_table(r: &Results) -> String {
    let mut out = format!("{}\n{}\n", workload_line(r), machine_line(r));
    if let Some(line) = settings_line(r) {
        out.push_str(&line);
        out.push('\n');
    }
    for (columns, rows) in tables(&r.rows) {
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_header(columns.headers);
        for row in rows {
            table.add_row((columns.cells)(row));
        }
        for i in 1..columns.headers.len() {
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
    out
}
