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
    if let Some(connections) = c.connections {
        return format!(
            "scenario {}: {connections} connections per transport held {} s with no events, \
             short-poll interval {} ms, long-poll hold {} ms",
            c.scenario,
            format::number(c.idle_window_ms.unwrap_or(c.window_ms) as f64 / 1_000.0),
            c.poll_interval_ms,
            c.longpoll_timeout_ms,
        );
    }
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

/// The line that states the server's buffer settings, when the results record them.
pub fn settings_line(r: &Results) -> Option<String> {
    let s = r.config.server.as_ref()?;
    Some(format!(
        "server settings: WebSocket read buffer {} B, write buffer {} B; hyper max buffer {} B, \
         writev {}; SSE keep-alive {} ms; allocator {}",
        s.ws_read_buffer_bytes,
        s.ws_write_buffer_bytes,
        s.http_max_buf_bytes,
        if s.http_writev { "on" } else { "off" },
        s.sse_keep_alive_ms,
        s.allocator
    ))
}
