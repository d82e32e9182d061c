//! `rtbench run --server-procs N --broker redis`: the run's server as a cluster of N processes
//! (`rtbench serve --procs N`), and the private `redis-server` between them that `run` starts on
//! an ephemeral loopback port and stops at the end ([`RedisChild`]).

use crate::cluster_args::{ClusterSpec, RunClusterArgs};
use anyhow::{Context, bail};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long `redis-server` has to answer PING after it starts.
const REDIS_START_TIMEOUT: Duration = Duration::from_secs(10);

/// These flags for `scenario`: the `cluster` scenario runs 3 processes and a private Redis
/// unless the flags say otherwise.
pub fn for_scenario(args: &RunClusterArgs, scenario: &str) -> RunClusterArgs {
    let mut args = args.clone();
    if scenario == "cluster" {
        args.broker.get_or_insert_with(|| "redis".into());
        if args.server_procs == 1 {
            args.server_procs = 3;
        }
    }
    args
}

/// The broker to start for the run, and the cluster's spec; `(None, None)` for one process.
pub fn start(args: &RunClusterArgs) -> anyhow::Result<(Option<RedisChild>, Option<ClusterSpec>)> {
    let Some(broker) = &args.broker else {
        if args.server_procs > 1 {
            bail!("--server-procs {}: give --broker redis", args.server_procs);
        }
        return Ok((None, None));
    };
    let (child, url) = match broker.as_str() {
        "redis" => {
            let child = RedisChild::start()?;
            let url = child.url();
            (Some(child), url)
        }
        url if url.starts_with("redis://") => {
            check_reachable(url)?;
            (None, url.to_string())
        }
        other => bail!("--broker {other}: `redis` or redis://HOST:PORT"),
    };
    let spec = ClusterSpec {
        procs: args.server_procs,
        broker_url: url,
        fd_budget: args.server_fd_budget,
    };
    Ok((child, Some(spec)))
}

/// A private `redis-server` on a loopback port; killed when dropped.
#[derive(Debug)]
pub struct RedisChild {
    child: Child,
    addr: SocketAddr,
}

impl RedisChild {
    /// Starts `redis-server` (no persistence) on a free loopback port and waits, at most 10 s,
    /// until it answers PING.
    pub fn start() -> anyhow::Result<RedisChild> {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .context("finding a free port for redis-server")?
            .port();
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--loglevel", "warning"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let child = crate::server_child::spawn_dying_with_parent(cmd).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => anyhow::anyhow!(
                "--broker redis: redis-server is not installed (Debian: apt-get install redis-server)"
            ),
            _ => anyhow::anyhow!("--broker redis: cannot start redis-server: {e}"),
        })?;
        let mut redis = RedisChild { child, addr };
        let deadline = Instant::now() + REDIS_START_TIMEOUT;
        while !ping(addr) {
            if let Ok(Some(status)) = redis.child.try_wait() {
                bail!("--broker redis: redis-server exited at start ({status})");
            }
            if Instant::now() > deadline {
                bail!(
                    "--broker redis: redis-server did not answer on {addr} within {REDIS_START_TIMEOUT:?}"
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(redis)
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// Fails with one line unless the Redis server of `url` (`redis://HOST:PORT[/DB]`) answers
/// PING within a second or two; a URL this cannot read is left to the server to judge.
pub fn check_reachable(url: &str) -> anyhow::Result<()> {
    use std::net::ToSocketAddrs;
    let host_port = url
        .trim_start_matches("redis://")
        .split(['/', '?'])
        .next()
        .unwrap_or_default();
    let Some(addr) = host_port.to_socket_addrs().ok().and_then(|mut a| a.next()) else {
        return Ok(());
    };
    if !ping(addr) {
        bail!("cannot reach the broker at {url}: no Redis answered PING on {addr}");
    }
    Ok(())
}

/// Whether a Redis server answers PING on `addr`.
fn ping(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut answer = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && &answer == b"+PONG\r\n"
}

impl Drop for RedisChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_needs_a_broker_and_one_process_needs_none() {
        let args = RunClusterArgs {
            server_procs: 3,
            ..RunClusterArgs::default()
        };
        let err = start(&args).unwrap_err().to_string();
        assert!(err.contains("--broker"), "{err}");
        let one = RunClusterArgs {
            server_procs: 1,
            ..RunClusterArgs::default()
        };
        assert_eq!(start(&one).unwrap().1, None);
        let unreachable = RunClusterArgs {
            server_procs: 2,
            broker: Some("redis://127.0.0.1:1".into()),
            server_fd_budget: None,
        };
        let err = start(&unreachable).unwrap_err().to_string();
        assert!(err.contains("cannot reach the broker"), "{err}");
        let spec = ClusterSpec {
            procs: 2,
            broker_url: "redis://127.0.0.1:7".into(),
            fd_budget: Some(500),
        };
        assert_eq!(
            spec.serve_args(),
            [
                "--procs",
                "2",
                "--broker",
                "redis://127.0.0.1:7",
                "--fd-budget",
                "500"
            ]
        );
    }
}
