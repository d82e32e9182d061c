//! Whether two results documents can be compared at all: the same workload, the same rows.
//! Comparing a 20-client run against a 100-client run would judge the workload, not the code.

use rtbench_results::{Results, Transport};

/// Why two documents cannot be compared. The gate's "unusable input" exit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Incompatible {
    /// A workload setting differs.
    #[error(
        "the runs measured different workloads ({setting}: baseline {baseline}, current {current}); \
         re-run with the baseline's settings or regenerate the baseline"
    )]
    Workload {
        /// The setting.
        setting: &'static str,
        /// Its value in the baseline.
        baseline: String,
        /// Its value in the current run.
        current: String,
    },
    /// A row of one run is missing from the other.
    #[error("the {missing_from} run has no row for {scenario}/{transport}")]
    MissingRow {
        /// `baseline` or `current`.
        missing_from: &'static str,
        /// Scenario of the row.
        scenario: String,
        /// Transport of the row.
        transport: Transport,
    },
    /// The baseline has no rows at all.
    #[error("the baseline has no rows")]
    Empty,
    /// No current run was given.
    #[error("no current results to compare")]
    NoCurrent,
    /// A current run's stack has no baseline among those given.
    #[error(
        "no baseline for stack {stack}: runs of different stacks are not compared (give a baseline          directory with {stack}/results.json)"
    )]
    NoBaselineForStack {
        /// The stack.
        stack: String,
    },
    /// Two or more baselines were given for one stack.
    #[error("more than one baseline for stack {stack}")]
    BaselinesForStack {
        /// The stack.
        stack: String,
    },
}

/// `tcp,sse`: transports by their names, as the command line takes them.
fn names(transports: &[Transport]) -> String {
    let names: Vec<&str> = transports.iter().map(|t| t.as_str()).collect();
    names.join(",")
}

/// The server engine a run measured; a run recorded without the server's settings predates the
/// lean engine, so hyper — the stock engine — served it.
fn engine(config: &rtbench_results::RunConfig) -> String {
    let engine = config.server.as_ref().map(|s| s.settings.http_engine);
    engine.unwrap_or_default().to_string()
}

/// Checks that `current` ran the workload of `baseline` and has the same rows.
pub fn check_compatible(baseline: &Results, current: &Results) -> Result<(), Incompatible> {
    let (b, c) = (&baseline.config, &current.config);
    let settings: [(&'static str, String, String); 11] = [
        ("scenario", b.scenario.clone(), c.scenario.clone()),
        ("clients", b.clients.to_string(), c.clients.to_string()),
        (
            "rate_per_s",
            b.rate_per_s.to_string(),
            c.rate_per_s.to_string(),
        ),
        (
            "payload_bytes",
            b.payload_bytes.to_string(),
            c.payload_bytes.to_string(),
        ),
        (
            "poll_interval_ms",
            b.poll_interval_ms.to_string(),
            c.poll_interval_ms.to_string(),
        ),
        (
            "longpoll_timeout_ms",
            b.longpoll_timeout_ms.to_string(),
            c.longpoll_timeout_ms.to_string(),
        ),
        (
            "warmup_ms",
            b.warmup_ms.to_string(),
            c.warmup_ms.to_string(),
        ),
        (
            "window_ms",
            b.window_ms.to_string(),
            c.window_ms.to_string(),
        ),
        ("transports", names(&b.transports), names(&c.transports)),
        // TLS records and handshakes are the stack's cost, not a regression of the code.
        ("stack", b.stack.to_string(), c.stack.to_string()),
        // The same for the server's engine (stock or lean): its cost is the stack's, too.
        ("http_engine", engine(b), engine(c)),
    ];
    for (setting, baseline, current) in settings {
        if baseline != current {
            return Err(Incompatible::Workload {
                setting,
                baseline,
                current,
            });
        }
    }
    if baseline.rows.is_empty() {
        return Err(Incompatible::Empty);
    }
    let pairs = [
        ("current", baseline, current),
        ("baseline", current, baseline),
    ];
    for (missing_from, have, lack) in pairs {
        if let Some(row) = have
            .rows
            .iter()
            .find(|r| lack.row(&r.scenario, r.transport).is_none())
        {
            return Err(Incompatible::MissingRow {
                missing_from,
                scenario: row.scenario.clone(),
                transport: row.transport,
            });
        }
    }
    Ok(())
}
