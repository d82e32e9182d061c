//! The Markdown summary, for a README or a pull-request comment.

use crate::columns::{HEADERS, cells};
use crate::{machine_line, workload_line};
use rtbench_results::Results;

/// Renders the summary: title, workload, machine, the table, and the command that reproduces it.
pub fn render_markdown(r: &Results) -> String {
    let mut out = String::from("# rtbench results\n\n");
    out.push_str(&format!(
        "{}.\n\nMachine: {}.\n\n",
        workload_line(r),
        machine_line(r)
    ));
    out.push_str(&format!("| {} |\n", HEADERS.join(" | ")));
    let align: Vec<&str> = (0..HEADERS.len())
        .map(|i| if i == 0 { "---" } else { "---:" })
        .collect();
    out.push_str(&format!("| {} |\n", align.join(" | ")));
    for row in &r.rows {
        out.push_str(&format!("| {} |\n", cells(row).join(" | ")));
    }
    out.push_str(&format!(
        "\nLatency counts from each event's scheduled publication time. Reproduce with `{}`.\n",
        r.command.join(" ")
    ));
    out
}
