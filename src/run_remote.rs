//! `rtbench run --remote-shards N --shard-listen ADDR:PORT`: the coordinator's side of shards on
//! other hosts ([`rtbench_loadgen::shard::remote`], `docs/distributed.md`). The listener is bound
//! before the server starts (a shard that connects early waits in its backlog); rtbench's own
//! server listens on ADDR too, so the shards reach it; every phase is split N ways.

use crate::cli::RunArgs;
use anyhow::{Context, bail};
use rtbench_loadgen::Campaign;
use rtbench_loadgen::shard::remote::RemoteShards;
use std::sync::Arc;
use std::time::Duration;

/// The coordinator's listener, bound (`None` without `--remote-shards`). One line when its
/// address is not one shards can be sent to.
pub fn listen(args: &RunArgs) -> anyhow::Result<Option<std::net::TcpListener>> {
    let Some(addr) = args.shard_listen.filter(|_| args.remote_shards.is_some()) else {
        return Ok(None);
    };
    if addr.ip().is_unspecified() && args.server_http.is_none() {
        bail!(
            "--shard-listen {addr}: give an address of this host the shards can reach (rtbench's server listens on it too), not {}",
            addr.ip()
        );
    }
    let listener =
        std::net::TcpListener::bind(addr).with_context(|| format!("--shard-listen {addr}"))?;
    listener.set_nonblocking(true)?;
    Ok(Some(listener))
}

/// A fresh control token for rtbench's own server when it listens where the shards reach it
/// (its `/schedule` and `/plan` answer a non-loopback listener only with one); `None` otherwise.
pub fn control_token(args: &RunArgs) -> Option<String> {
    if args.remote_shards.is_none() || args.server_http.is_some() {
        return None;
    }
    let mut bytes = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    if read.is_err() {
        // The clock's nanoseconds and the pid: unguessable enough for a run's lifetime.
        let seed = rtbench_proto::mono_now_ns() ^ u64::from(std::process::id()) << 32;
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
    }
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Splits every point `--remote-shards` ways; the load-generator processes of the run.
pub fn procs(args: &RunArgs, campaign: &mut Campaign, local: u32) -> u32 {
    let Some(n) = args.remote_shards else {
        return local;
    };
    for point in &mut campaign.points {
        point.config.loadgen_procs = n;
    }
    n
}

/// Waits until every shard has connected and said hello.
pub fn accept(
    runtime: &tokio::runtime::Runtime,
    args: &RunArgs,
    listener: Option<std::net::TcpListener>,
) -> anyhow::Result<Option<Arc<RemoteShards>>> {
    let (Some(listener), Some(n)) = (listener, args.remote_shards) else {
        return Ok(None);
    };
    let wait = Duration::from_secs(args.shard_wait_s);
    if !args.quiet {
        eprintln!(
            "waiting up to {wait:?} for {n} shards: rtbench shard --coordinator {} --index I",
            listener.local_addr()?
        );
    }
    let shards = runtime.block_on(async {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        RemoteShards::accept(listener, n, env!("CARGO_PKG_VERSION"), wait)
            .await
            .map_err(anyhow::Error::from)
    })?;
    Ok(Some(Arc::new(shards)))
}
