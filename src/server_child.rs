//! `rtbench run` measures a server in its own process, so the server's CPU and memory are its own:
//! this module starts `rtbench serve` as a child on ephemeral loopback ports, stops it again, and
//! for `--restart-server-at` restarts it on the same addresses ([`ManagedServer`]).

use crate::cli::ServerTuning;
use anyhow::{Context, bail};
use rtbench_loadgen::{RestartServer, Target};
use rtbench_proto::control::ListeningLine;
use rtbench_results::ServerFault;
use std::future::Future;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a new server has to announce its addresses.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a stopping server has after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// How to start the server process.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    /// CPUs to pin it to (empty: not pinned).
    pub cpus: Vec<usize>,
    /// Serve the fault endpoints (`--fault-endpoints`).
    pub fault_endpoints: bool,
    /// The server's buffer settings.
    pub tuning: ServerTuning,
    /// Most topics it may create (`--max-topics`).
    pub max_topics: usize,
    /// Degradations to inject (normally off; tests the regression gate).
    pub fault: ServerFault,
    /// Leave out the server's startup line on stderr (`rtbench run -q`).
    pub quiet: bool,
}

/// A running server child; stopped (SIGTERM, then SIGKILL) when dropped.
#[derive(Debug)]
pub struct ServerChild {
    child: Child,
    /// Whether `child` was stopped and reaped (its pid must not be signalled again).
    stopped: bool,
    spec: ServerSpec,
    /// Where it listens.
    pub target: Target,
}

impl ServerChild {
    /// Starts `rtbench serve` on 127.0.0.1 port 0 and waits for the line announcing its addresses.
    pub fn start(spec: &ServerSpec) -> anyhow::Result<ServerChild> {
        let any: SocketAddr = ([127, 0, 0, 1], 0).into();
        Self::start_on(spec, any, any)
    }

    /// Starts `rtbench serve` listening on `http` and `tcp`.
    fn start_on(
        spec: &ServerSpec,
        http: SocketAddr,
        tcp: SocketAddr,
    ) -> anyhow::Result<ServerChild> {
        let exe = std::env::current_exe().context("locating the rtbench executable")?;
        let mut cmd = Command::new(exe);
        cmd.arg("serve")
            .args(["--addr", &http.to_string(), "--tcp-addr", &tcp.to_string()])
            .arg("--max-topics")
            .arg(spec.max_topics.to_string())
            .args(spec.tuning.to_args())
            .args(fault_args(spec.fault))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if !spec.cpus.is_empty() {
            let list: Vec<String> = spec.cpus.iter().map(usize::to_string).collect();
            cmd.arg("--cpus").arg(list.join(","));
        }
        if spec.fault_endpoints {
            cmd.arg("--fault-endpoints");
        }
        if spec.quiet {
            cmd.arg("--quiet");
        }
        let mut child = cmd.spawn().context("starting the server process")?;
        let stdout = child.stdout.take().context("server stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(line) if !line.is_empty() => line,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("the server process did not report its addresses within {START_TIMEOUT:?}");
            }
        };
        let listening: ListeningLine = serde_json::from_str(line.trim())
            .with_context(|| format!("server announced {line:?}"))?;
        let target = Target {
            http: listening.http.parse().context("server http address")?,
            tcp: listening.tcp.parse().context("server tcp address")?,
        };
        Ok(ServerChild {
            child,
            stopped: false,
            spec: spec.clone(),
            target,
        })
    }

    /// Process id of the server.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server: SIGTERM (it ends its streams and closes its connections), then SIGKILL
    /// after [`STOP_TIMEOUT`].
    fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        // SAFETY: kill(2) on our own child's pid, not yet reaped; at worst it has already exited.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the server and starts a new one on the same addresses; the new one's ring is empty.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop();
        let next = Self::start_on(&self.spec, self.target.http, self.target.tcp)
            .context("restarting the server on its addresses")?;
        // The old child is stopped and reaped: dropping it signals nothing.
        drop(std::mem::replace(self, next));
        Ok(())
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A server child shared with the load generator, which may restart it.
#[derive(Debug, Clone)]
pub struct ManagedServer(Arc<Mutex<ServerChild>>);

impl ManagedServer {
    /// Wraps a started child.
    pub fn new(child: ServerChild) -> ManagedServer {
        ManagedServer(Arc::new(Mutex::new(child)))
    }

    /// Where the server listens (the same across restarts).
    pub fn target(&self) -> Target {
        self.0
            .lock()
            .map(|c| c.target)
            .unwrap_or_else(|p| p.into_inner().target)
    }

    /// Process id of the current server process.
    pub fn pid(&self) -> u32 {
        self.0
            .lock()
            .map(|c| c.pid())
            .unwrap_or_else(|p| p.into_inner().pid())
    }
}

impl RestartServer for ManagedServer {
    fn restart(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>> {
        let shared = self.0.clone();
        Box::pin(async move {
            let restarted = tokio::task::spawn_blocking(move || {
                let mut child = shared
                    .lock()
                    .map_err(|_| "server handle poisoned".to_string())?;
                child.restart().map_err(|e| format!("{e:#}"))
            });
            restarted.await.map_err(|e| e.to_string())?
        })
    }
}

/// The `serve` flags that inject `fault` (none when it is off).
fn fault_args(fault: ServerFault) -> Vec<String> {
    if fault.is_off() {
        return Vec::new();
    }
    vec![
        format!("--fault-delay-us={}", fault.delay_us),
        format!("--fault-pad-bytes={}", fault.pad_bytes),
    ]
}
