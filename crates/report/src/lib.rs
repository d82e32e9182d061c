//! Views of an rtbench results document. Every view reads only [`rtbench_results::Results`], so
//! the terminal table, the Markdown summary and the HTML report can never disagree.

mod columns;
pub mod format;
mod markdown;
mod profiles;
mod table;

pub use markdown::render_markdown;
pub use profiles::{conditions_line, faults_line};
pub use table::render_table;

use rtbench_results::Results;

/// The line that states the workload, as a reader needs it to interpret the table.
pub fn workload_line(r: &Results) -> String {
    let c = &r.config;
    format!(
        "scenario {}: {} clients per transport, {} events/s, {} B payload, short-poll interval {} ms, \
         {} s warm-up (discarded), {} s measured window",
        c.scenario,
        c.clients,
        format::number(c.rate_per_s),
        c.payload_bytes,
        c.poll_interval_ms,
        format::number(c.warmup_ms as f64 / 1_000.0),
        format::number(c.window_ms as f64 / 1_000.0),
    )
}

/// The line that states where the numbers were made.
pub fn machine_line(r: &Results) -> String {
    let e = &r.environment;
    format!(
        "{}, {} cores, Linux {}, {}, commit {}; {}",
        e.cpu_model, e.cores, e.kernel, e.rustc, e.git_commit, e.placement.description
    )
}
