//! Rows grouped by the network conditions they ran under — one table per profile — with the lines
//! that say what the conditions and faults were and what happened in each row.

use rtbench_results::{Results, Row};

/// The rows of one conditions profile, in run order.
pub(crate) struct Group<'a> {
    /// The line above the group's table (`None` for a plain loopback run, which needs none).
    pub(crate) heading: Option<String>,
    /// Its rows.
    pub(crate) rows: Vec<&'a Row>,
}

/// The rows grouped by `conditions`, groups in the order they first appear.
pub(crate) fn groups(r: &Results) -> Vec<Group<'_>> {
    let mut names: Vec<&str> = Vec::new();
    for row in &r.rows {
        if !names.contains(&row.conditions.as_str()) {
            names.push(&row.conditions);
        }
    }
    let plain = names.len() == 1 && names[0] == "loopback";
    names
        .into_iter()
        .map(|name| Group {
            heading: (!plain).then(|| conditions_line(r, name)),
            rows: r.rows.iter().filter(|row| row.conditions == name).collect(),
        })
        .collect()
}

/// `conditions continent: RTT 40 ms, ...`, from the document's record of the profile.
pub fn conditions_line(r: &Results, name: &str) -> String {
    let described = r.config.conditions.iter().find(|c| c.name == name);
    format!(
        "conditions {}",
        described.map_or(name, |c| c.description.as_str())
    )
}

/// `faults: ...` when the run injected any.
pub fn faults_line(r: &Results) -> Option<String> {
    r.config
        .faults
        .description
        .as_ref()
        .map(|d| format!("faults: {d}"))
}

/// `target http://…: …` on a `run --target`: what was measured where, and what was not.
pub fn target_line(r: &Results) -> Option<String> {
    let t = r.config.target.as_ref()?;
    let server = match t.pid {
        Some(pid) => format!("server CPU and RSS from /proc/{pid}"),
        None => "server CPU and RSS not measured (no --target-pid)".into(),
    };
    let stamped = match t.stamping.as_str() {
        "client" => {
            "events stamped by the load generator's publisher client and relayed by the target (client)"
        }
        _ => "events stamped by its publisher (server)",
    };
    Some(format!(
        "target {}: {stamped}, bytes counted at the load generator's sockets, HTTP requests not measured, {server}",
        t.url
    ))
}
