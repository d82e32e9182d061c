//! `rtbench shard`: one load-generator shard of `rtbench run --loadgen-procs N`
//! ([`rtbench_loadgen::shard`]), and the [`ShardSpawner`] with which `run` starts them; with
//! `--coordinator HOST:PORT` a shard on another host of `rtbench run --remote-shards N`
//! ([`rtbench_loadgen::shard::remote`], `docs/distributed.md`).
//!
//! A shard reads its spec (one JSON line) from stdin, raises its open-file limit, pins itself to
//! its CPU before its runtime starts a thread, runs its clients on a one-thread runtime, and
//! writes its reports to stdout. It dies with `run` (`PR_SET_PDEATHSIG`) and, whatever happens,
//! within the phase's length plus a minute of its start.

use crate::placement;
use anyhow::Context;
use rtbench_loadgen::shard::{ShardSpec, SpawnShard, child};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Slack on a shard's whole lifetime beyond its connect timeout, its wait for time zero, its
/// schedule and its drain.
const LIFETIME_SLACK: Duration = Duration::from_secs(60);

/// Starts shards as `rtbench shard` children of this executable.
#[derive(Debug, Clone)]
pub struct ShardSpawner {
    /// This executable.
    exe: PathBuf,
    /// The load generator's CPUs.
    cpus: Vec<usize>,
}

impl ShardSpawner {
    /// A spawner of this executable, pinning shards round-robin to `cpus`.
    pub fn new(cpus: Vec<usize>) -> anyhow::Result<ShardSpawner> {
        let exe = std::env::current_exe().context("finding rtbench's own executable")?;
        Ok(ShardSpawner { exe, cpus })
    }
}

impl SpawnShard for ShardSpawner {
    fn cpus(&self) -> Vec<usize> {
        self.cpus.clone()
    }

    fn spawn(&self) -> std::io::Result<Child> {
        let mut cmd = Command::new(&self.exe);
        cmd.arg("shard")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        crate::server_child::spawn_dying_with_parent(cmd)
    }
}

/// Runs the command: a remote shard with `--coordinator`, else a local one.
pub fn shard(args: crate::shard_remote::ShardArgs) -> anyhow::Result<()> {
    match args.coordinator.clone() {
        Some(addr) => crate::shard_remote::run(&addr, &args),
        None => local(),
    }
}

/// A local shard: its spec from stdin, its reports to stdout.
fn local() -> anyhow::Result<()> {
    crate::rlimit::raise_open_files_limit();
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the shard's spec")?;
    let spec: ShardSpec = serde_json::from_str(&line).context("the shard's spec")?;
    let c = &spec.config;
    let lifetime = Duration::from_nanos(
        c.connect_timeout_ns + c.warmup_ns + c.window_ns + c.tail_ns + c.drain_ns,
    ) + child::START_WAIT_SLACK
        + LIFETIME_SLACK;
    let shard = spec.shard;
    std::thread::Builder::new()
        .name("shard-lifetime".into())
        .spawn(move || {
            std::thread::sleep(lifetime);
            eprintln!(
                "error: load-generator shard {shard} outlived its phase ({lifetime:?}): stopping"
            );
            std::process::exit(1);
        })
        .context("starting the shard's lifetime watchdog")?;
    if let Some(cpu) = spec.cpu {
        placement::pin_current_thread(&[cpu])?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the shard's runtime")?;
    let outcome = runtime.block_on(child::serve(
        spec,
        tokio::io::BufReader::new(tokio::io::stdin()),
        tokio::io::stdout(),
    ));
    // Stdin's reader thread may still be blocked in a read that never ends: do not wait for it.
    runtime.shutdown_timeout(Duration::from_millis(100));
    Ok(outcome?)
}
