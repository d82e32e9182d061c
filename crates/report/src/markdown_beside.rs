//! The Markdown summary's sections from files beside the results: the capacity table and one line
//! per latency interval log (the charts themselves are on the HTML page).

use crate::capacity::{self, CapacityRow, Curve};
use crate::format::latency_us;
use crate::latency_log::LatencyLogs;

/// `## Capacity`: the capacity table and what it cannot say.
pub fn capacity_section(curves: &[Curve], rows: &[CapacityRow]) -> String {
    let mut out = String::from("## Capacity\n\n");
    let steps: usize = curves.iter().map(|c| c.steps.len()).sum();
    out.push_str(&format!(
        "From capacity.json ({} transports, {steps} steps): the highest offered load that held; a \
         LOADGEN-BOUND figure is a lower bound, not the server's capacity. Charts on the HTML page.\n\n",
        curves.len()
    ));
    out.push_str(&format!("| {} |\n", capacity::HEADERS.join(" | ")));
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---|\n");
    for r in rows {
        out.push_str(&format!("| {} |\n", capacity::cells(r).join(" | ")));
    }
    match capacity::rss_note(rows) {
        Some(note) => out.push_str(&format!("\n{note}\n\n")),
        None => out.push('\n'),
    }
    out
}

/// `## Latency over time`: per interval log, its intervals and its worst second; or why none.
pub fn latency_section(logs: &LatencyLogs, source: &str) -> String {
    let mut out = String::from("## Latency over time\n\n");
    if logs.logs.is_empty() && logs.problems.is_empty() {
        out.push_str(&format!(
            "No latency-<transport>.hlog beside {source}: latency over time is not drawn.\n\n"
        ));
        return out;
    }
    for log in &logs.logs {
        let worst = log
            .intervals
            .iter()
            .max_by(|a, b| a.p99_us.total_cmp(&b.p99_us));
        if let Some(w) = worst {
            out.push_str(&format!(
                "- `{}`: {} one-second interval{}; worst p99 {} (max {}) in the second from {:.0} s.\n",
                log.file,
                log.intervals.len(),
                if log.intervals.len() == 1 { "" } else { "s" },
                latency_us(w.p99_us),
                latency_us(w.max_us),
                w.start_s
            ));
        }
    }
    for p in &logs.problems {
        out.push_str(&format!("- not drawn: {p}.\n"));
    }
    out.push('\n');
    out
}
