//! The Markdown summary, for a README or a pull-request comment.

use crate::columns::{notes, tables};
use crate::{machine_line, settings_line, workload_line};
use rtbench_results::Results;

/// Renders the summary: title, workload, machine, the tables, notes, and the command that
/// reproduces it.
pub fn render_markdown(r: &Results) -> String {
    let mut out = String::from("# rtbench results\n\n");
    out.push_str(&format!(
        "{}.\n\nMachine: {}.\n\n",
        workload_line(r),
        machine_line(r)
    ));
    if let Some(line) = settings_line(r) {
        out.push_str(&format!("{line}.\n\n"));
    }
    for (columns, rows) in tables(&r.rows) {
        out.push_str(&format!("| {} |\n", columns.headers.join(" | ")));
        let align: Vec<&str> = (0..columns.headers.len())
            .map(|i| if i == 0 { "---" } else { "---:" })
            .collect();
        out.push_str(&format!("| {} |\n", align.join(" | ")));
        for row in rows {
            out.push_str(&format!("| {} |\n", (columns.cells)(row).join(" | ")));
        }
        out.push('\n');
    }
    for note in notes(&r.rows) {
        out.push_str(&format!("- **note**: {note}\n"));
    }
    if r.rows.iter().any(|row| row.connections.is_none()) {
        out.push_str("\nLatency counts from each event's scheduled publication time.");
    }
    out.push_str(&format!("\nReproduce with `{}`.\n", r.command.join(" ")));
    out
}
