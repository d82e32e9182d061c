//! The terminal table.

use crate::columns::{HEADERS, cells};
use crate::{machine_line, workload_line};
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
    out
}
