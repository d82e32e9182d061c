//! Shards on other hosts (`rtbench run --remote-shards N --shard-listen ADDR:PORT`): the
//! coordinator listens, each `rtbench shard --coordinator HOST:PORT --index I` connects and says
//! [`ShardHello`], and once all N indices are there the phases speak the same
//! `ShardSpec` / `Ready` / `ShardStart` / `Done` lines over these connections
//! as over a local shard's stdin and stdout. A connection serves every phase of the run; the
//! coordinator closing it ends the shard.
//!
//! The wait is bounded: after `wait` the error names the indices still missing. A shard whose
//! version is not the coordinator's, whose index is out of range or already taken, is refused
//! with one line ([`Welcome::Refused`]), and the wait goes on for the right one.

use crate::error::LoadError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::net::TcpListener;

/// A remote shard's first line to the coordinator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardHello {
    /// Its index, from 0 (`--index`, or `JOB_COMPLETION_INDEX`).
    pub index: u32,
    /// Its host name.
    pub host: String,
    /// Its rtbench version; the coordinator refuses another.
    pub version: String,
}

/// The coordinator's answer to a [`ShardHello`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Welcome {
    /// The shard is in; phases' specs follow.
    Accepted {
        /// Shards of the run.
        shards: u32,
    },
    /// The shard is refused; the coordinator closes the connection.
    Refused {
        /// Why, in one line.
        why: String,
    },
}

/// Longest a connected shard may take to say hello.
const HELLO_WAIT: Duration = Duration::from_secs(10);
/// Longest hello line read (a line beyond it is not a shard's).
const MAX_HELLO_BYTES: u64 = 4_096;

/// One end of a coordinator–shard conversation, as the coordinator holds it.
pub(crate) struct Link {
    /// Lines to the shard.
    pub(crate) input: Box<dyn AsyncWrite + Send + Unpin>,
    /// Lines from the shard.
    pub(crate) output: Box<dyn AsyncBufRead + Send + Unpin>,
}

/// A connected remote shard.
pub(crate) struct Connection {
    /// Its index, from 0.
    pub(crate) index: u32,
    /// Its host name and address, as it said and as it connected: `shard-1 (10.0.0.2)`.
    pub(crate) host: String,
    /// The conversation.
    pub(crate) link: Link,
}

/// Every remote shard of a run, connected and greeted; phases borrow them in turn.
pub struct RemoteShards {
    /// The shards, by index; empty while a phase holds them, or after a phase failed.
    idle: tokio::sync::Mutex<Vec<Connection>>,
    /// How many.
    count: u32,
}

impl std::fmt::Debug for RemoteShards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RemoteShards({})", self.count)
    }
}

impl RemoteShards {
    /// Waits on `listener` until shards `0..count` have connected and said hello with
    /// `version`, at most `wait`.
    pub async fn accept(
        listener: TcpListener,
        count: u32,
        version: &str,
        wait: Duration,
    ) -> Result<RemoteShards, LoadError> {
        let mut joined: BTreeMap<u32, Connection> = BTreeMap::new();
        let deadline = tokio::time::Instant::now() + wait;
        while (joined.len() as u32) < count {
            let accepted = tokio::time::timeout_at(deadline, listener.accept()).await;
            let (stream, peer) = match accepted {
                Err(_) => return Err(missing(&joined, count, wait)),
                Ok(Err(e)) => return Err(LoadError::RemoteShards(format!("accepting: {e}"))),
                Ok(Ok(pair)) => pair,
            };
            let _ = stream.set_nodelay(true);
            let (read, write) = stream.into_split();
            let mut link = Link {
                input: Box::new(write),
                output: Box::new(BufReader::new(read)),
            };
            let hello = match read_hello(&mut link).await {
                Ok(hello) => hello,
                Err(why) => {
                    eprintln!("warning: a connection from {peer} is not a shard: {why}");
                    continue;
                }
            };
            let verdict = judge(&hello, &joined, count, version);
            let host = format!("{} ({})", hello.host, peer.ip());
            let welcome = match &verdict {
                Ok(()) => Welcome::Accepted { shards: count },
                Err(why) => {
                    eprintln!(
                        "warning: shard index {} from {host} refused: {why}",
                        hello.index
                    );
                    Welcome::Refused { why: why.clone() }
                }
            };
            let said = say(&mut link, &welcome).await;
            if verdict.is_ok() && said.is_ok() {
                let index = hello.index;
                joined.insert(index, Connection { index, host, link });
            }
        }
        Ok(RemoteShards {
            idle: tokio::sync::Mutex::new(joined.into_values().collect()),
            count,
        })
    }

    /// How many shards.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Every shard, by index, for one phase; an error when an earlier phase lost them.
    pub(crate) async fn take(&self) -> Result<Vec<Connection>, LoadError> {
        let all = std::mem::take(&mut *self.idle.lock().await);
        if all.len() as u32 != self.count {
            return Err(LoadError::RemoteShards(format!(
                "their connections were closed when an earlier phase failed ({} of {} left)",
                all.len(),
                self.count
            )));
        }
        Ok(all)
    }

    /// Hands the shards back after a phase that ended well.
    pub(crate) async fn give_back(&self, shards: Vec<Connection>) {
        *self.idle.lock().await = shards;
    }
}

/// Why `hello` may not join (`Ok`: it may).
fn judge(
    hello: &ShardHello,
    joined: &BTreeMap<u32, Connection>,
    count: u32,
    version: &str,
) -> Result<(), String> {
    if hello.version != version {
        return Err(format!(
            "it runs rtbench {}, the coordinator rtbench {version}",
            hello.version
        ));
    }
    if hello.index >= count {
        return Err(format!(
            "index {} is out of range: the run has {count} shards (0 to {})",
            hello.index,
            count - 1
        ));
    }
    if let Some(other) = joined.get(&hello.index) {
        return Err(format!(
            "index {} is already connected from {}",
            hello.index, other.host
        ));
    }
    Ok(())
}

/// The error for a wait that ended with shards missing.
fn missing(joined: &BTreeMap<u32, Connection>, count: u32, wait: Duration) -> LoadError {
    let absent: Vec<String> = (0..count)
        .filter(|i| !joined.contains_key(i))
        .map(|i| i.to_string())
        .collect();
    LoadError::RemoteShards(format!(
        "{} of {count} connected within {wait:?}; missing indices {}",
        joined.len(),
        absent.join(", ")
    ))
}

/// Reads a shard's hello line.
async fn read_hello(link: &mut Link) -> Result<ShardHello, String> {
    let mut line = String::new();
    let mut limited = (&mut link.output).take(MAX_HELLO_BYTES);
    match tokio::time::timeout(HELLO_WAIT, limited.read_line(&mut line)).await {
        Err(_) => Err(format!("no hello within {HELLO_WAIT:?}")),
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(0)) => Err("closed before saying hello".into()),
        Ok(Ok(_)) => serde_json::from_str(&line).map_err(|e| format!("bad hello ({e})")),
    }
}

/// Writes `value` as one JSON line on `link`.
pub(crate) async fn say<T: serde::Serialize>(link: &mut Link, value: &T) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    line.push(b'\n');
    link.input.write_all(&line).await?;
    link.input.flush().await
}
