//! `rtbench run` measures a server in its own process, so the server's CPU and memory are its own:
//! this module starts `rtbench serve` as a child on ephemeral loopback ports and stops it again.

use anyhow::{Context, bail};
use rtbench_loadgen::Target;
use rtbench_proto::control::ListeningLine;
use rtbench_results::ServerFault;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server child; stopped (SIGTERM, then SIGKILL) when dropped.
pub struct ServerChild {
    child: Child,
    /// Where it listens.
    pub target: Target,
}

impl ServerChild {
    /// Starts `rtbench serve` on 127.0.0.1 port 0, pinned to `cpus` (none: not pinned), injecting
    /// `fault` (normally off), and waits for the line announcing its addresses.
    pub fn start(cpus: &[usize], fault: ServerFault) -> anyhow::Result<ServerChild> {
        let exe = std::env::current_exe().context("locating the rtbench executable")?;
        let mut cmd = Command::new(exe);
        cmd.args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--tcp-addr",
            "127.0.0.1:0",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
        if !cpus.is_empty() {
            let list: Vec<String> = cpus.iter().map(usize::to_string).collect();
            cmd.arg("--cpus").arg(list.join(","));
        }
        if !fault.is_off() {
            cmd.arg("--fault-delay-us").arg(fault.delay_us.to_string());
            cmd.arg("--fault-pad-bytes")
                .arg(fault.pad_bytes.to_string());
        }
        let mut child = cmd.spawn().context("starting the server process")?;
        let stdout = child.stdout.take().context("server stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(Duration::from_secs(15)) {
            Ok(line) if !line.is_empty() => line,
            _ => {
                let _ = child.kill();
                bail!("the server process did not report its addresses within 15 s");
            }
        };
        let listening: ListeningLine = serde_json::from_str(line.trim())
            .with_context(|| format!("server announced {line:?}"))?;
        let target = Target {
            http: listening.http.parse().context("server http address")?,
            tcp: listening.tcp.parse().context("server tcp address")?,
        };
        Ok(ServerChild { child, target })
    }

    /// Process id of the server.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child's pid; at worst the child has already exited.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
