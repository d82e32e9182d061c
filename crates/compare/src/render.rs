//! The comparison as a terminal table or as Markdown for a pull-request comment: one line per
//! figure (baseline, current, delta, limit, verdict), then the verdict and the regressions.

use crate::check::Check;
use crate::{Comparison, Verdict};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};
use rtbench_results::format::number;

/// Column headers of both views.
const HEADERS: [&str; 7] = [
    "transport",
    "metric",
    "baseline",
    "current",
    "delta",
    "limit",
    "verdict",
];

/// Which files were compared, as the header names them.
#[derive(Debug, Clone, Copy)]
pub struct Names<'a> {
    /// The baseline file.
    pub baseline: &'a str,
    /// The current file.
    pub current: &'a str,
}

fn cells(c: &Check) -> [String; 7] {
    let value = |v: Option<f64>| v.map_or_else(|| "–".into(), number);
    [
        c.transport.to_string(),
        c.metric.clone(),
        value(c.baseline),
        value(c.current),
        c.delta(),
        c.limit(),
        c.verdict.word().to_string(),
    ]
}

/// The closing verdict line.
fn verdict_line(cmp: &Comparison) -> String {
    let failed = cmp.regressions().count();
    let runs = if cmp.runs > 1 {
        format!(" in all {} runs", cmp.runs)
    } else {
        String::new()
    };
    if failed == 0 {
        format!(
            "PASS: none of {} gated figures regressed{runs} (tolerances: {})",
            cmp.gated(),
            cmp.tolerances
        )
    } else {
        format!(
            "FAIL: {failed} of {} gated figures regressed{runs} (tolerances: {})",
            cmp.gated(),
            cmp.tolerances
        )
    }
}

/// What the `current` column holds when several runs were judged together.
fn runs_line(cmp: &Comparison) -> Option<String> {
    (cmp.runs > 1).then(|| {
        format!(
            "{} current runs of one tree: 'current' is the best run for costs and timings, the \
             worst for delivery",
            cmp.runs
        )
    })
}

/// One line per regression: `websocket p50 ÷ tcp: 1.2 → 4.6 (+283.3%, limit ≤ +75%)`.
fn regression_lines(cmp: &Comparison) -> Vec<String> {
    cmp.regressions()
        .map(|c| {
            let [_, _, b, cur, delta, limit, _] = cells(c);
            format!(
                "{} {}: {b} → {cur} ({delta}, limit {limit})",
                c.transport, c.metric
            )
        })
        .collect()
}

/// The terminal view.
pub fn render_text(cmp: &Comparison, names: Names<'_>) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(HEADERS);
    for c in &cmp.checks {
        table.add_row(cells(c));
    }
    for i in 2..5 {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut out = format!(
        "baseline: {}\ncurrent:  {}\n",
        names.baseline, names.current
    );
    for note in runs_line(cmp).iter().chain(&cmp.notes) {
        out.push_str(&format!("note: {note}\n"));
    }
    out.push_str(&table.to_string());
    out.push('\n');
    out.push_str(&verdict_line(cmp));
    out.push('\n');
    for line in regression_lines(cmp) {
        out.push_str(&format!("  regression: {line}\n"));
    }
    out
}

/// The Markdown view, for a pull-request comment.
pub fn render_markdown(cmp: &Comparison, names: Names<'_>) -> String {
    let title = if cmp.passed() {
        "✅ pass"
    } else {
        "❌ regression"
    };
    let mut out = format!(
        "### rtbench performance gate: {title}\n\nBaseline `{}`, current `{}`.\n\n",
        names.baseline, names.current
    );
    for note in runs_line(cmp).iter().chain(&cmp.notes) {
        out.push_str(&format!("> **Note:** {note}\n\n"));
    }
    out.push_str(&format!("**{}**\n\n", verdict_line(cmp)));
    for line in regression_lines(cmp) {
        out.push_str(&format!("- {line}\n"));
    }
    if !cmp.passed() {
        out.push('\n');
    }
    out.push_str(&format!("| {} |\n", HEADERS.join(" | ")));
    out.push_str("| --- | --- | ---: | ---: | ---: | --- | --- |\n");
    for c in &cmp.checks {
        let mut cells = cells(c);
        if c.verdict == Verdict::Regression {
            cells[6] = format!("**{}**", cells[6]);
        }
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}
