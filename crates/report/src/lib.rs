//! Views of an rtbench results document. Every view reads only [`rtbench_results::Results`], so
//! the terminal table, the Markdown summary and the HTML report can never disagree.

mod columns;
pub mod format;
mod markdown;
mod table;

pub use markdown::render_markdown;
pub use table::render_table;

use rtbench_results::Results;

/// The line that states the workload, as a reader needs it to interpret the table.
pub fn workload_line(r: &Results) -> String {
    let c = &r.config;
    let mut parts = vec![format!("{} clients per transport", c.clients)];
    if c.room_size < c.clients {
        parts.push(format!("in rooms of {}", c.room_size));
    }
    if c.rate_per_s > 0.0 {
        let per = if c.room_size < c.clients {
            " per room"
        } else {
            ""
        };
        parts.push(format!(
            "server events {}/s{per}, {} B payload",
            format::number(c.rate_per_s),
            c.payload_bytes
        ));
    }
    if c.send_rate_per_s > 0.0 {
        parts.push(format!(
            "client messages {}/s per sender",
            format::number(c.send_rate_per_s)
        ));
    }
    parts.push(format!(
        "short-poll interval {} ms, {} s warm-up (discarded), {} s measured window",
        c.poll_interval_ms,
        format::number(c.warmup_ms as f64 / 1_000.0),
        format::number(c.window_ms as f64 / 1_000.0),
    ));
    if !c.sweep.is_empty() {
        parts.push(format!("sweep {}", c.sweep.join(" × ")));
    }
    if c.repeat > 1 {
        parts.push(format!(
            "each point {} times, transports interleaved (medians, min–max)",
            c.repeat
        ));
    }
    let about = match c.scenario_description.is_empty() {
        true => String::new(),
        false => format!(" ({})", c.scenario_description),
    };
    format!("scenario {}{about}: {}", c.scenario, parts.join(", "))
}

/// The line that states where the numbers were made.
pub fn machine_line(r: &Results) -> String {
    let e = &r.environment;
    format!(
        "{}, {} cores, Linux {}, {}, commit {}; {}",
        e.cpu_model, e.cores, e.kernel, e.rustc, e.git_commit, e.placement.description
    )
}

#[cfg(test)]
mod tests;
