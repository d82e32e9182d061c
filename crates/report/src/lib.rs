//! Views of rtbench results documents. Every view reads only [`rtbench_results::Results`], so
//! the terminal table, the Markdown summary and the HTML page can never disagree.
//!
//! - [`render_table`]: the terminal table `rtbench run` prints.
//! - [`render_markdown`] / [`render_markdown_runs`]: the summary for a README or a pull request.
//! - [`render_html`]: one self-contained page (inline CSS and SVG charts) for one or more runs.

mod charts;
mod columns;
pub mod data;
mod environment;
pub mod format;
mod html;
mod markdown;
pub mod param;
mod profiles;
pub mod rating;
mod table;
pub mod textbook;
pub mod transport;
pub mod warnings;

#[cfg(test)]
mod test_support;

pub use environment::{machine_line, reproduce_line, settings_line, workload_line};
pub use html::render_html;
pub use markdown::{render_markdown, render_markdown_runs};
pub use profiles::{conditions_line, faults_line};
pub use table::{View, render_table, render_table_view};

use rtbench_results::Results;

/// One results document and where it came from.
#[derive(Debug, Clone)]
pub struct Run {
    /// How errors and the page name it: its path, or `results.json` for a run just made.
    pub source: String,
    /// The document.
    pub results: Results,
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
