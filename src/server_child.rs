//! `rtbench run` measures a server in its own process, so the server's CPU and memory are its own:
//! this module starts `rtbench serve` as a child on ephemeral loopback ports, stops it again, and
//! for `--restart-server-at` restarts it on the same addresses ([`ManagedServer`]).
//!
//! The child gets its settings as one value (`serve --settings-json`, the same
//! [`ServerSettings`] its `GET /settings` answers), never outlives `run`, and its death is noticed
//! at once: a watcher thread prints one line with its exit status and ends `run` (see `guard.rs`).

mod guard;

use crate::cli::ServerTuning;
use anyhow::{Context, bail};
use guard::{Deaths, Exit, STOP_TIMEOUT};
use rtbench_loadgen::stack::ClientTls;
use rtbench_loadgen::{RestartServer, Target};
use rtbench_proto::control::ListeningLine;
use rtbench_proto::{ServerFault as Fault, ServerSettings, TlsSetting};
use rtbench_results::ServerFault;
use std::future::Future;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Starts `cmd` as a child that dies with this process (`PR_SET_PDEATHSIG`, from the
/// process-long spawner thread of `guard.rs`): how load-generator shards are started.
pub fn spawn_dying_with_parent(cmd: Command) -> std::io::Result<Child> {
    guard::spawn(cmd)
}

/// How long a new server has to announce its addresses.
const START_TIMEOUT: Duration = Duration::from_secs(15);

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
    /// TLS on its HTTP listener (`crate::stacks`); its certificate is what the target trusts.
    pub tls: TlsSetting,
    /// The control endpoints' token (needed on a non-loopback address: `run --remote-shards`).
    pub control_token: Option<String>,
    /// Several processes and their broker (`serve --procs`), or one process.
    pub cluster: Option<crate::cluster_args::ClusterSpec>,
}

impl ServerSpec {
    /// The server's settings: the tuning flags, the topic limit, the fault endpoints and faults.
    pub fn settings(&self) -> ServerSettings {
        let tuned = self.tuning.to_config();
        ServerSettings {
            max_topics: self.max_topics,
            fault_endpoints: self.fault_endpoints,
            fault: Fault {
                delay_us: self.fault.delay_us,
                pad_bytes: self.fault.pad_bytes,
            },
            tls: self.tls.clone(),
            limits: rtbench_proto::settings::ServerLimits {
                control_token: self.control_token.clone(),
                ..tuned.limits.clone()
            },
            ..tuned
        }
    }
}

/// A running server child; stopped (SIGTERM, then SIGKILL) when dropped.
#[derive(Debug)]
pub struct ServerChild {
    child: Child,
    /// Whether `child` was stopped and reaped (its pid must not be signalled again).
    stopped: bool,
    spec: ServerSpec,
    /// Its exit, as its watcher thread sees it.
    exit: Arc<Exit>,
    /// Where an unexpected exit of this child or of its restarts is published.
    deaths: Deaths,
    /// Where it listens.
    pub target: Target,
}

impl ServerChild {
    /// Starts `rtbench serve` on 127.0.0.1 port 0 and waits for the line announcing its addresses.
    pub fn start(spec: &ServerSpec) -> anyhow::Result<ServerChild> {
        let any: SocketAddr = ([127, 0, 0, 1], 0).into();
        Self::start_on(spec, any, any, Arc::new(watch::Sender::new(None)))
    }

    /// Starts `rtbench serve` on `ip` (ports chosen), for clients on other hosts
    /// (`run --remote-shards`).
    pub fn start_at(spec: &ServerSpec, ip: std::net::IpAddr) -> anyhow::Result<ServerChild> {
        let any = SocketAddr::new(ip, 0);
        Self::start_on(spec, any, any, Arc::new(watch::Sender::new(None)))
    }

    /// Starts `rtbench serve` listening on `http` and `tcp`; an unexpected exit goes to `deaths`.
    fn start_on(
        spec: &ServerSpec,
        http: SocketAddr,
        tcp: SocketAddr,
        deaths: Deaths,
    ) -> anyhow::Result<ServerChild> {
        let exe = std::env::current_exe().context("locating the rtbench executable")?;
        let settings = serde_json::to_string(&spec.settings()).context("server settings")?;
        let mut cmd = Command::new(exe);
        cmd.arg("serve")
            .args(["--addr", &http.to_string(), "--tcp-addr", &tcp.to_string()])
            .arg("--settings-json")
            .arg(settings)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if !spec.cpus.is_empty() {
            let list: Vec<String> = spec.cpus.iter().map(usize::to_string).collect();
            cmd.arg("--cpus").arg(list.join(","));
        }
        if spec.quiet {
            cmd.arg("--quiet");
        }
        if let Some(cluster) = &spec.cluster {
            cmd.args(cluster.serve_args());
        }
        let mut child = guard::spawn(cmd).context("starting the server process")?;
        let exit = guard::watch_child(child.id(), deaths.clone());
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
                exit.expect();
                let _ = child.kill();
                let _ = child.wait();
                guard::forget(child.id());
                bail!("the server process did not report its addresses within {START_TIMEOUT:?}");
            }
        };
        let listening: ListeningLine = serde_json::from_str(line.trim())
            .with_context(|| format!("server announced {line:?}"))?;
        let trust = match &listening.tls_cert_pem {
            Some(pem) => Some(
                ClientTls::trusting(pem)
                    .context("server certificate")?
                    .leak(),
            ),
            None => None,
        };
        let target = Target::plain(
            listening.http.parse().context("server http address")?,
            listening.tcp.parse().context("server tcp address")?,
        )
        .with_tls(trust);
        Ok(ServerChild {
            child,
            stopped: false,
            spec: spec.clone(),
            exit,
            deaths,
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
        self.exit.expect();
        let pid = self.child.id();
        self.reap();
        guard::forget(pid);
    }

    /// SIGTERM, then SIGKILL after [`STOP_TIMEOUT`]; reaps the child.
    fn reap(&mut self) {
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
        let next = Self::start_on(
            &self.spec,
            self.target.http,
            self.target.tcp,
            self.deaths.clone(),
        )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::ServerTuning;
    use rtbench_proto::HttpEngine;

    #[test]
    fn the_child_gets_every_setting_of_its_spec() {
        let spec = ServerSpec {
            cpus: vec![1],
            fault_endpoints: true,
            tuning: ServerTuning {
                ws_read_buffer: 2048,
                ws_write_buffer: 16,
                http_max_buf: 16384,
                http_writev: false,
                http_engine: vec![HttpEngine::Lean],
            },
            max_topics: 42,
            fault: ServerFault {
                delay_us: 5,
                pad_bytes: 6,
            },
            quiet: true,
            tls: TlsSetting::SelfSigned,
            control_token: Some("t".into()),
            cluster: None,
        };
        let expected = ServerSettings {
            max_topics: 42,
            ws_read_buffer_bytes: 2048,
            ws_write_buffer_bytes: 16,
            http_max_buf_bytes: 16384,
            http_writev: false,
            http_engine: HttpEngine::Lean,
            fault_endpoints: true,
            fault: Fault {
                delay_us: 5,
                pad_bytes: 6,
            },
            tls: TlsSetting::SelfSigned,
            limits: rtbench_proto::settings::ServerLimits {
                control_token: Some("t".into()),
                ..Default::default()
            },
            ..ServerSettings::default()
        };
        assert_eq!(spec.settings(), expected);
    }
}
