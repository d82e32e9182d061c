//! The Markdown summary, for a README or a pull-request comment.

use crate::columns::{HEADERS, cells};
use crate::profiles::{faults_line, groups, row_notes};
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
    if let Some(faults) = faults_line(r) {
        out.push_str(&format!("{}.\n\n", capitalise(&faults)));
    }
    for group in groups(r) {
        if let Some(heading) = &group.heading {
            out.push_str(&format!("## {}\n\n", capitalise(heading)));
        }
        out.push_str(&format!("| {} |\n", HEADERS.join(" | ")));
        let align: Vec<&str> = (0..HEADERS.len())
            .map(|i| if i == 0 { "---" } else { "---:" })
            .collect();
        out.push_str(&format!("| {} |\n", align.join(" | ")));
        for row in &group.rows {
            out.push_str(&format!("| {} |\n", cells(row).join(" | ")));
        }
        let notes = row_notes(&group.rows);
        if !notes.is_empty() {
            out.push('\n');
        }
        for note in notes {
            out.push_str(&format!("- {note}\n"));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "Latency counts from each event's scheduled publication time. Reproduce with `{}`.\n",
        r.command.join(" ")
    ));
    out
}

/// `Faults: ...` from `faults: ...`.
fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}
