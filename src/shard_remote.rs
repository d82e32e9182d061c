//! `rtbench shard --coordinator HOST:PORT --index I`: a load-generator shard on another host than
//! the coordinator (`docs/distributed.md`). It connects (retrying until `--connect-wait-s`, as a
//! pod may start before the coordinator listens), says hello (index, host name, version), and
//! then runs every phase the coordinator sends over the connection exactly as a local shard runs
//! one from stdin ([`rtbench_loadgen::shard::child::serve`]). The coordinator closing the
//! connection ends it; so does [`IDLE_WAIT`] without a phase.

use anyhow::{Context, bail};
use rtbench_loadgen::shard::{ShardHello, ShardSpec, Welcome, child, host_name};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Longest wait between two phases' specs (a run's phases follow each other within seconds; a
/// capacity search's server restarts take longer).
const IDLE_WAIT: Duration = Duration::from_secs(1_800);
/// Pause between two attempts to reach the coordinator.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

/// `rtbench shard`'s flags.
#[derive(Debug, clap::Args)]
pub struct ShardArgs {
    /// Run as a shard of `rtbench run --remote-shards N --shard-listen ADDR:PORT` on another host:
    /// connect to the coordinator at HOST:PORT (without it the shard is a child of
    /// `rtbench run --loadgen-procs N` and reads its spec from stdin).
    #[arg(long, value_name = "HOST:PORT")]
    pub coordinator: Option<String>,
    /// This shard's index, from 0 [default: the environment's JOB_COMPLETION_INDEX, as a
    /// Kubernetes Indexed Job sets it].
    #[arg(long, value_name = "I", requires = "coordinator")]
    pub index: Option<u32>,
    /// How long to keep trying to reach the coordinator, seconds.
    #[arg(
        long,
        value_name = "S",
        default_value_t = 300,
        requires = "coordinator"
    )]
    pub connect_wait_s: u64,
}

/// The shard's index: `--index`, else `JOB_COMPLETION_INDEX`.
fn index(args: &ShardArgs) -> anyhow::Result<u32> {
    if let Some(i) = args.index {
        return Ok(i);
    }
    let Ok(text) = std::env::var("JOB_COMPLETION_INDEX") else {
        bail!(
            "rtbench shard --coordinator needs --index I (or JOB_COMPLETION_INDEX in the environment)"
        );
    };
    text.trim()
        .parse()
        .with_context(|| format!("JOB_COMPLETION_INDEX {text:?} is not an index"))
}

/// Runs the shard until the coordinator is done with it.
pub fn run(addr: &str, args: &ShardArgs) -> anyhow::Result<()> {
    crate::rlimit::raise_open_files_limit();
    let index = index(args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the shard's runtime")?;
    let wait = Duration::from_secs(args.connect_wait_s);
    let outcome = runtime.block_on(serve(addr, index, wait));
    runtime.shutdown_timeout(Duration::from_millis(100));
    outcome
}

/// Connects to `addr`, retrying for at most `wait`.
async fn connect(addr: &str, wait: Duration) -> anyhow::Result<TcpStream> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) if tokio::time::Instant::now() + RETRY_PAUSE >= deadline => {
                bail!("cannot reach the coordinator at {addr} within {wait:?}: {e}")
            }
            Err(_) => tokio::time::sleep(RETRY_PAUSE).await,
        }
    }
}

/// Says hello as shard `index`, then runs phases until the coordinator closes.
async fn serve(addr: &str, index: u32, wait: Duration) -> anyhow::Result<()> {
    let stream = connect(addr, wait).await?;
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let hello = ShardHello {
        index,
        host: host_name(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let mut line = serde_json::to_vec(&hello)?;
    line.push(b'\n');
    write.write_all(&line).await?;
    let mut answer = String::new();
    read.read_line(&mut answer)
        .await
        .context("reading the coordinator's welcome")?;
    match serde_json::from_str::<Welcome>(&answer) {
        Ok(Welcome::Accepted { shards }) => {
            eprintln!("shard {index} of {shards} joined the coordinator at {addr}")
        }
        Ok(Welcome::Refused { why }) => {
            bail!("the coordinator at {addr} refused shard {index}: {why}")
        }
        Err(_) => bail!("the coordinator at {addr} closed without a welcome"),
    }
    let mut phases = 0u32;
    loop {
        let mut spec_line = String::new();
        let read_spec = read.read_line(&mut spec_line);
        match tokio::time::timeout(IDLE_WAIT, read_spec).await {
            Err(_) => bail!("no phase from the coordinator within {IDLE_WAIT:?}"),
            Ok(Err(e)) => bail!("reading the coordinator: {e}"),
            Ok(Ok(0)) => break,
            Ok(Ok(_)) => {}
        }
        let spec: ShardSpec = serde_json::from_str(&spec_line).context("the phase's spec")?;
        phases += 1;
        if let Err(e) = child::serve(spec, &mut read, &mut write).await {
            eprintln!("warning: shard {index}, phase {phases}: {e}");
        }
    }
    eprintln!("shard {index}: the coordinator is done after {phases} phase(s)");
    Ok(())
}
