//! `rtbench serve --procs N --broker redis://…`: a server cluster. This process (the supervisor)
//! starts N `rtbench serve` processes that share the HTTP and raw-TCP ports (SO_REUSEPORT: the
//! kernel spreads new connections over them), or take one port each (`--ports`). They exchange
//! events through the broker and answer `GET /metrics` for the whole cluster
//! (`rtbench_server::broker`). The supervisor prints one listening line, the shared addresses,
//! once every member has announced itself, and stops them all on Ctrl-C or SIGTERM; a member that
//! dies ends the cluster. Each member has its own open-files limit (`--fd-budget`).

use crate::cli::ServeArgs;
use anyhow::{Context, bail};
use rtbench_proto::control::ListeningLine;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long one member has to announce its addresses.
const MEMBER_START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the members have to stop after SIGTERM before they are killed.
const MEMBER_STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// Sets this process's soft open-files limit to `budget` (at most the hard limit); returns it.
pub fn apply_fd_budget(budget: u64) -> anyhow::Result<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        bail!("--fd-budget: cannot read the open-files limit");
    }
    let soft = budget.min(lim.rlim_max);
    let set = libc::rlimit {
        rlim_cur: soft,
        rlim_max: lim.rlim_max,
    };
    // SAFETY: `set` is a valid rlimit whose soft limit is within the hard one.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &set) } != 0 {
        bail!("--fd-budget {budget}: setrlimit failed");
    }
    Ok(soft)
}

/// The broker settings of a member or a single process with a broker; `None` without one.
pub fn broker_config(
    cluster: &crate::cluster_args::ClusterArgs,
    private: Option<SocketAddr>,
) -> Option<rtbench_server::BrokerConfig> {
    Some(rtbench_server::BrokerConfig {
        url: cluster.broker.clone()?,
        cluster: cluster.cluster_id.clone(),
        member: cluster.member_index.zip(private),
    })
}

/// Runs the supervisor of `args.cluster.procs` members.
pub fn supervise(args: &ServeArgs, settings_json: &str) -> anyhow::Result<()> {
    let cluster = &args.cluster;
    let Some(broker) = &cluster.broker else {
        bail!(
            "--procs {}: the processes need a broker (--broker redis://HOST:PORT)",
            cluster.procs
        );
    };
    if args.tls.to_setting() == rtbench_proto::TlsSetting::SelfSigned {
        bail!("--procs: each process would make its own certificate; give --cert and --key");
    }
    crate::broker_child::check_reachable(broker)?;
    let cluster_id = format!("c{}", std::process::id());
    let mut members: Vec<Member> = Vec::new();
    let mut first: Option<ListeningLine> = None;
    for i in 0..cluster.procs {
        let (http, tcp) = member_addrs(args, first.as_ref(), i)?;
        let mut cmd = Command::new(std::env::current_exe().context("locating rtbench")?);
        cmd.arg("serve")
            .args(["--addr", &http.to_string(), "--tcp-addr", &tcp.to_string()])
            .args(["--settings-json", settings_json, "--broker", broker])
            .args([
                "--cluster-id",
                &cluster_id,
                "--member-index",
                &i.to_string(),
            ])
            .arg("--quiet")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if !cluster.ports {
            cmd.arg("--reuse-port");
        }
        if let Some(budget) = cluster.fd_budget {
            cmd.args(["--fd-budget", &budget.to_string()]);
        }
        if !args.cpus.is_empty() {
            let list: Vec<String> = args.cpus.iter().map(usize::to_string).collect();
            cmd.args(["--cpus", &list.join(",")]);
        }
        if let (0, Some(topic), Some(rate)) = (i, &args.publish_topic, args.publish_rate) {
            cmd.args([
                "--publish-topic",
                topic,
                "--publish-rate",
                &rate.to_string(),
            ]);
            cmd.args(["--publish-payload", &args.publish_payload.to_string()]);
        }
        let member = Member::start(cmd).with_context(|| format!("cluster member {i}"))?;
        first.get_or_insert_with(|| member.line.clone());
        members.push(member);
    }
    let line = ListeningLine {
        pid: std::process::id(),
        ..first.context("no member")?
    };
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", serde_json::to_string(&line)?)?;
    stdout.flush()?;
    drop(stdout);
    if !args.quiet {
        let pids: Vec<String> = members.iter().map(|m| m.line.pid.to_string()).collect();
        eprintln!(
            "rtbench serve: cluster of {} processes (pids {}) on http://{}, raw tcp {}, broker {broker}; Ctrl-C to stop",
            members.len(),
            pids.join(", "),
            line.http,
            line.tcp
        );
    }
    let outcome = wait_for_stop(&mut members);
    for member in &mut members {
        member.stop();
    }
    outcome
}

/// Member `i`'s addresses: the shared ones once member 0 has bound them, or its own.
fn member_addrs(
    args: &ServeArgs,
    first: Option<&ListeningLine>,
    i: u32,
) -> anyhow::Result<(SocketAddr, SocketAddr)> {
    let offset = |mut addr: SocketAddr| {
        if addr.port() != 0 {
            addr.set_port(addr.port().saturating_add(i as u16));
        }
        addr
    };
    match (args.cluster.ports, first) {
        (true, _) => Ok((offset(args.addr), offset(args.tcp_addr))),
        (false, None) => Ok((args.addr, args.tcp_addr)),
        (false, Some(line)) => Ok((
            line.http.parse().context("member 0's http address")?,
            line.tcp.parse().context("member 0's tcp address")?,
        )),
    }
}

/// Waits for Ctrl-C or SIGTERM; an error if a member exits first.
fn wait_for_stop(members: &mut [Member]) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("the supervisor's runtime")?;
    runtime.block_on(async {
        let mut signal = std::pin::pin!(rtbench_server::shutdown_signal());
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                () = &mut signal => return Ok(()),
                _ = tick.tick() => {}
            }
            for member in members.iter_mut() {
                if let Ok(Some(status)) = member.child.try_wait() {
                    member.reaped = true;
                    bail!("cluster member (pid {}) exited: {status}", member.line.pid);
                }
            }
        }
    })
}

/// One running member.
struct Member {
    child: Child,
    line: ListeningLine,
    reaped: bool,
}

impl Member {
    /// Starts `cmd` (dies with this process) and waits for its listening line.
    fn start(cmd: Command) -> anyhow::Result<Member> {
        let mut child = crate::server_child::spawn_dying_with_parent(cmd)
            .context("starting a server process")?;
        let stdout = child.stdout.take().context("member stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(MEMBER_START_TIMEOUT) {
            Ok(line) if !line.is_empty() => line,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("it did not announce its addresses (its error is above)");
            }
        };
        let line = serde_json::from_str(line.trim()).context("its listening line")?;
        Ok(Member {
            child,
            line,
            reaped: false,
        })
    }

    /// SIGTERM, then SIGKILL after [`MEMBER_STOP_TIMEOUT`]; reaps it.
    fn stop(&mut self) {
        if self.reaped {
            return;
        }
        self.reaped = true;
        // SAFETY: kill(2) on our own child, not yet reaped.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + MEMBER_STOP_TIMEOUT;
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
