//! `rtbench run --target URL`: measure a server rtbench did not write (`docs/contract.md`). The
//! target is checked before anything runs (it publishes, and a poll gives the event back with the
//! contract's fields) so a target that is down, answers HTML or sends other fields ends in one
//! line; then the run is an ordinary run against an external server, except that bytes are
//! counted at the load generator's sockets and the server's CPU and RSS come from `/proc/PID`
//! (`--target-pid`) or are recorded as not measured.

use crate::cli::RunArgs;
use crate::cli::target::Stamping;
use anyhow::bail;
use rtbench_loadgen::target;
use rtbench_results::{Row, TargetRun};
use std::time::Duration;

/// Time limit of each preflight request.
const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(5);

/// A run against a target: what the results record.
#[derive(Debug, Clone)]
pub struct TargetMode {
    /// The URL as given.
    pub url: String,
    /// `--target-pid`.
    pub pid: Option<u32>,
    /// Who stamps the events (`--stamping`).
    pub stamping: Stamping,
}

impl TargetMode {
    /// The results' record of it.
    pub fn record(&self) -> TargetRun {
        TargetRun {
            url: self.url.clone(),
            stamping: self.stamping.as_str().into(),
            bytes_counted_at: "client".into(),
            pid: self.pid,
        }
    }
}

/// Without `--target-pid` the target's CPU and RSS were not measured: the rows say so, and their
/// server figures are left out of the results rather than written as 0.
pub fn mark_unmeasured(rows: &mut [Row], mode: Option<&TargetMode>) {
    if mode.is_some_and(|m| m.pid.is_none()) {
        for row in rows {
            row.server_measured = false;
            row.server_cpu_us_per_delivery = 0.0;
            row.totals.server_cpu_us = 0;
            row.totals.server_rss_bytes = None;
        }
    }
}

/// With `--target`: refuses what a target run cannot do, checks the target, points the run at it
/// as an external server (`--server-http`) and leaves the raw-TCP floor out (not part of the
/// contract). `None` without `--target`.
pub fn prepare(args: &mut RunArgs) -> anyhow::Result<Option<TargetMode>> {
    let Some(url) = args.target.clone() else {
        return Ok(None);
    };
    let addr = target::loopback_addr(&url)?;
    target::spec::install_file(args.target_args.target_file.as_deref())
        .map_err(|e| anyhow::anyhow!(e.lines.join("\nerror: ")))?;
    if args.scenario == "idle" {
        bail!("--target measures workloads with events; the idle scenario needs rtbench's server");
    }
    if args.drop_every.is_some() || args.restart_server_at.is_some() {
        bail!("--target: fault injection needs rtbench's own server's fault endpoints");
    }
    if let Some(pid) = args.target_pid
        && target::process::usage(pid).is_none()
    {
        bail!("--target-pid {pid}: no such process in /proc");
    }
    let client_stamping = args.target_args.stamping == Stamping::Client;
    if client_stamping
        && args
            .payload
            .is_some_and(|p| p < rtbench_loadgen::upstream::stamp::MIN_SEND_PAYLOAD_BYTES)
    {
        bail!(
            "--stamping client: payloads carry the stamp and need at least {} bytes",
            rtbench_loadgen::upstream::stamp::MIN_SEND_PAYLOAD_BYTES
        );
    }
    target::publisher::set_client_stamping(client_stamping);
    let before = args.transports.len();
    args.transports.retain(|t| t.http_path().is_some());
    if args.transports.is_empty() {
        bail!("--target: no HTTP transport to measure (the raw-TCP floor is not in the contract)");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(target::preflight_run(addr, PREFLIGHT_TIMEOUT))?;
    if args.transports.len() < before && !args.quiet {
        eprintln!("--target: the raw-TCP floor is not part of the contract; its row is left out");
    }
    args.server_http = Some(addr);
    args.server_tcp = Some(addr);
    Ok(Some(TargetMode {
        url,
        pid: args.target_pid,
        stamping: args.target_args.stamping,
    }))
}
