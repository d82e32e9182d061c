//! `rtbench merge OUT SHARD_RESULT...`: merges load-generator shards' results of one phase (the
//! `*.hlog.shardN.json` files `rtbench run --remote-shards` keeps) with the merge the coordinator
//! uses ([`rtbench_loadgen::shard::merge`]): histograms added, counters summed, each shard's
//! per-client loss checks kept. Writes the merged JSON to OUT and prints one line.

use anyhow::Context;
use rtbench_loadgen::shard::files::merge_files;
use std::path::PathBuf;

/// `rtbench merge`'s arguments.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Where the merged result goes (JSON).
    pub out: PathBuf,
    /// The shards' result files.
    #[arg(required = true, num_args = 1..)]
    pub shard_results: Vec<PathBuf>,
}

/// Runs the command.
pub fn merge(args: MergeArgs) -> anyhow::Result<()> {
    let merged = merge_files(&args.shard_results)?;
    let text = serde_json::to_string_pretty(&merged).context("the merged result")?;
    std::fs::write(&args.out, text).with_context(|| format!("writing {}", args.out.display()))?;
    let l = &merged.latency_us;
    let pm = l
        .uncertainty_us
        .map(|u| format!(" ± {u:.1} µs"))
        .unwrap_or_default();
    println!(
        "{} shards: {} window deliveries, p50 {:.1} µs{pm}, p99 {:.1} µs{pm}, lost/dup/reord {}/{}/{}; wrote {}",
        merged.shards,
        merged.window_deliveries,
        l.p50,
        l.p99,
        merged.lost,
        merged.duplicated,
        merged.reordered,
        args.out.display()
    );
    Ok(())
}
