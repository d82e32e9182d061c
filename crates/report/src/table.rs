//! The terminal tables (one per kind of row: deliveries, idle) with the notes a reader must see,
//! and under them the measured textbook table in short.
//!
//! The default view is compact: the figures a reader needs first, units in the headers, every
//! line at most [`MAX_LINE`] characters (prose is word-wrapped, tables are narrow), so it reads at
//! 80 or 120 columns and in CI logs. [`View::Wide`] (`--wide`) prints every column.

use crate::columns::{cells, headers, tables_with};
use crate::data::Dataset;
use crate::environment::{machine_line, settings_line, workload_line};
use crate::profiles::{faults_line, target_line};
use crate::textbook::{Cell, measure};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};
use rtbench_results::Results;

/// Longest line of the compact view's prose, characters.
pub const MAX_LINE: usize = 120;

/// The compact table's style: no outer border, a double rule under the header, dotted column
/// separators (comfy-table's `UTF8_NO_BORDERS` without the rules between
/// rows; a space draws nothing).
const COMPACT_PRESET: &str = "     ═╪ ┆          ";

/// Which columns the terminal table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// The figures a reader needs first, at most [`MAX_LINE`] characters a line.
    #[default]
    Compact,
    /// Every column (kernel counts, every percentile, client CPU, …): 200–300 characters wide.
    Wide,
}

/// `line` broken at spaces into lines of at most `width` characters (a longer word stays whole).
/// Hand-written: a dozen lines, where the `textwrap` crate would add a dependency for one call.
fn wrap(line: &str, width: usize) -> String {
    let mut out = String::new();
    let mut current = String::new();
    for word in line.split(' ') {
        let len = current.chars().count() + word.chars().count();
        if !current.is_empty() && len + 1 > width {
            out.push_str(current.trim_end());
            out.push('\n');
            current = format!("  {word}");
        } else {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        }
    }
    out.push_str(&current);
    out.push('\n');
    out
}

/// [`render_table_view`] in the compact view.
pub fn render_table(r: &Results) -> String {
    render_table_view(r, View::Compact)
}

/// Renders the comparison tables with the workload, machine and server-settings lines above them,
/// the notes below, and the measured textbook table last.
pub fn render_table_view(r: &Results, view: View) -> String {
    let width = match view {
        View::Compact => MAX_LINE,
        View::Wide => usize::MAX,
    };
    let mut out = wrap(
        &format!(
            "stack {} · {}",
            crate::stacks::group_key(r),
            workload_line(r)
        ),
        width,
    );
    out.push_str(&wrap(&machine_line(r), width));
    if let Some(line) = settings_line(r) {
        out.push_str(&wrap(&line, width));
    }
    if let Some(cluster) = &r.cluster {
        out.push_str(&wrap(&cluster.summary(), width));
    }
    if let Some(line) = target_line(r) {
        out.push_str(&wrap(&line, width));
    }
    if let Some(line) = faults_line(r) {
        out.push_str(&wrap(&line, width));
    }
    for t in tables_with(r, view == View::Wide) {
        let (columns, rows) = (t.columns, t.rows);
        if let Some(heading) = t.heading {
            out.push_str(&wrap(&heading, width));
        }
        let mut table = Table::new();
        table
            .load_preset(match view {
                View::Compact => COMPACT_PRESET,
                View::Wide => UTF8_FULL_CONDENSED,
            })
            .set_header(headers(&columns));
        for row in rows {
            table.add_row(cells(&columns, row));
        }
        for i in 1..columns.len() {
            if let Some(col) = table.column_mut(i) {
                col.set_cell_alignment(CellAlignment::Right);
            }
        }
        for line in table.to_string().lines() {
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    for note in crate::warnings::run_notes(r) {
        out.push_str(&wrap(&format!("note: {note}"), width));
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
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(MAX_LINE as u16)
        .set_header([
            "textbook 7.3.1",
            "latency: book → measured",
            "overhead: book → measured",
        ]);
    let m = measure(&d);
    let measured: Vec<_> = m
        .rows
        .into_iter()
        .chain(m.beyond)
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
