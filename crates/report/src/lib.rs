//! Views of rtbench results documents. Every view reads only [`rtbench_results::Results`], so
//! the terminal table, the Markdown summary and the HTML page can never disagree.
//!
//! - [`render_table`]: the terminal table `rtbench run` prints.
//! - [`render_markdown`] / [`render_markdown_runs`]: the summary for a README or a pull request.
//! - [`render_html`]: one self-contained page (inline CSS and SVG charts) for one or more runs.
//! - [`render_html_with`] / [`render_markdown_with`]: the same, with what lies [`Beside`] the
//!   results (latency interval logs, the capacity document) in their own sections.

pub mod capacity;
mod charts;
mod columns;
pub mod data;
mod environment;
pub mod format;
mod html;
pub mod latency_log;
mod markdown;
mod markdown_beside;
pub mod param;
mod profiles;
pub mod rating;
pub mod stacks;
mod table;
pub mod textbook;
pub mod transport;
pub mod warnings;

#[cfg(test)]
mod test_support;

pub use environment::{machine_line, reproduce_line, settings_line, workload_line};
pub use html::{render_html, render_html_with};
pub use markdown::{render_markdown, render_markdown_runs, render_markdown_with};
pub use profiles::{conditions_line, faults_line, target_line};
pub use table::{View, render_table, render_table_view};

use rtbench_results::Results;
use std::path::Path;

/// One results document and where it came from.
#[derive(Debug, Clone)]
pub struct Run {
    /// How errors and the page name it: its path, or `results.json` for a run just made.
    pub source: String,
    /// The document.
    pub results: Results,
}

/// What the report reads beside the results files: the first file's latency interval logs and
/// a capacity document. The default (nothing looked for) leaves both sections off the page.
#[derive(Debug, Clone, Default)]
pub struct Beside {
    /// The interval logs beside the first results file; `None` when not looked for.
    pub latency: Option<latency_log::LatencyLogs>,
    /// The capacity curves, when a capacity document was found or given.
    pub capacity: Option<Vec<capacity::Curve>>,
}

impl Beside {
    /// Reads what lies beside `results` (a results file that started at `run_started_unix_s`):
    /// its `latency-*.hlog` files, and `capacity_path` or else a `capacity.json` beside it.
    /// Unreadable interval logs become sentences on the page; an unreadable capacity document is
    /// an error naming it.
    pub fn load(
        results: &Path,
        run_started_unix_s: u64,
        capacity_path: Option<&Path>,
    ) -> Result<Beside, capacity::BadCapacity> {
        let dir = results
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let found = dir.join("capacity.json");
        let capacity = match capacity_path {
            Some(p) => Some(capacity::load(p)?),
            None if found.is_file() => Some(capacity::load(&found)?),
            None => None,
        };
        Ok(Beside {
            latency: Some(latency_log::read_dir(dir, run_started_unix_s)),
            capacity,
        })
    }
}

/// Why a report could not be made from the given results.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// No results were given.
    #[error("no results files given")]
    NoRuns,
    /// A results file has no rows.
    #[error("{file}: no rows to report")]
    Empty {
        /// The file.
        file: String,
    },
    /// A row's latency histogram does not merge with another's.
    #[error("{file}: {transport} row: {reason}")]
    Histogram {
        /// The file.
        file: String,
        /// The row's transport.
        transport: rtbench_results::Transport,
        /// What was wrong.
        reason: String,
    },
    /// A chart could not be drawn.
    #[error("drawing the {chart} chart: {reason}")]
    Chart {
        /// Which chart.
        chart: String,
        /// What went wrong.
        reason: String,
    },
    /// The page template failed.
    #[error("rendering the page: {0}")]
    Template(String),
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod beside_tests;
