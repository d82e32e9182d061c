//! The server cluster (`serve --procs N --broker redis://…`, `run --server-procs N --broker redis`)
//! through the `rtbench` binary, with a private `redis-server` on a loopback port: every transport
//! delivers in order through three processes; a client that reconnects to another process resumes
//! without loss; drops across processes lose nothing; a missing broker is one clear line; no
//! process opens more files than its budget. Needs `redis-server` (`.ci/run` installs it).
//! Small and on loopback; nothing asserts a timing.

use rtbench_results::Results;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A private redis-server, killed when dropped.
struct Redis(Child, u16);

impl Redis {
    fn start() -> Redis {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (apt-get install redis-server)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Redis(child, port)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.1)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `rtbench serve --procs N` on ephemeral ports; stopped (SIGTERM) when dropped.
struct Cluster {
    child: Child,
    http: SocketAddr,
}

impl Cluster {
    fn start(redis: &Redis, procs: u32, extra: &[&str]) -> Cluster {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rtbench"))
            .args([
                "serve",
                "--quiet",
                "--addr",
                "127.0.0.1:0",
                "--tcp-addr",
                "127.0.0.1:0",
            ])
            .args(["--procs", &procs.to_string(), "--broker", &redis.url()])
            .args(extra)
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let json: serde_json::Value = serde_json::from_str(&line).expect("a listening line");
        let http = json["http"].as_str().unwrap().parse().unwrap();
        Cluster { child, http }
    }

    /// The members' process ids (the supervisor's children).
    fn member_pids(&self) -> Vec<u32> {
        // Any of the supervisor's threads may have spawned them.
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.child.id())).unwrap();
        let mut pids = Vec::new();
        for task in tasks {
            let text = std::fs::read_to_string(task.unwrap().path().join("children")).unwrap();
            pids.extend(text.split_whitespace().map(|p| p.parse::<u32>().unwrap()));
        }
        pids
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request with `Connection: close`; the whole answer.
fn request(addr: SocketAddr, head: &str, body: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "{head} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// `rtbench` with `args`; its output.
fn rtbench(args: &[&str], path: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rtbench"));
    cmd.args(args);
    if let Some(path) = path {
        cmd.env("PATH", path);
    }
    cmd.output().unwrap()
}

/// A short dashboard run of `transports` (default: the default list) through a 3-process cluster with its
/// own redis; its results.
fn cluster_run(out: &Path, transports: Option<&str>, extra: &[&str]) -> Results {
    let mut args = vec![
        "run",
        "--quiet",
        "--clients",
        "12",
        "--rate",
        "10",
        "--warmup",
        "300ms",
        "--window",
        "1s",
        "--tail",
        "200ms",
        "--server-procs",
        "3",
        "--broker",
        "redis",
        "--out",
        out.to_str().unwrap(),
    ];
    if let Some(transports) = transports {
        args.extend(["--transports", transports]);
    }
    args.extend(extra);
    let output = rtbench(&args, None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "run failed: {stderr}");
    Results::load(&out.join("results.json")).unwrap()
}

#[test]
fn every_transport_delivers_in_order_through_three_processes() {
    let dir = tempfile::tempdir().unwrap();
    let all: Vec<&str> = (rtbench_proto::Transport::ALL.iter())
        .map(|t| t.as_str())
        .collect();
    let results = cluster_run(dir.path(), Some(&all.join(",")), &[]);
    assert_eq!(results.rows.len(), rtbench_proto::Transport::ALL.len());
    for row in &results.rows {
        let checks = (row.lost, row.duplicated, row.reordered);
        assert_eq!(checks, (0, 0, 0), "{}", row.transport);
        // Every client receives every event of the window: 12 clients × 10 events.
        assert_eq!(row.deliveries, 12 * 10, "{}", row.transport);
    }
}

#[test]
fn drops_across_three_processes_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let flags = ["--drop-fraction", "0.5", "--drop-every", "300ms"];
    let results = cluster_run(dir.path(), Some("websocket,sse,long_poll"), &flags);
    for row in &results.rows {
        assert!(
            row.reconnects > 0,
            "{}: no client was dropped",
            row.transport
        );
        let checks = (row.lost, row.duplicated, row.reordered);
        assert_eq!(checks, (0, 0, 0), "{}", row.transport);
        assert_eq!(row.deliveries, 12 * 10, "{}", row.transport);
    }
}

/// Reads `count` SSE events of topic `r` from `http`, resuming after `last` (`Last-Event-ID`),
/// and, while the stream is open, which member of the cluster holds it. Panics on a gap notice.
fn sse_read(http: SocketAddr, last: u64, count: usize) -> (String, Vec<u64>) {
    let mut s = TcpStream::connect(http).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let resume = match last {
        0 => String::new(),
        n => format!("Last-Event-ID: {n}\r\n"),
    };
    write!(s, "GET /sse?topic=r HTTP/1.1\r\nHost: x\r\n{resume}\r\n").unwrap();
    let mut reader = BufReader::new(s);
    let mut seqs = Vec::new();
    let mut line = String::new();
    while seqs.len() < count {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "stream ended");
        assert!(!line.starts_with("event: gap"), "events lost: {line}");
        if let Some(id) = line.strip_prefix("id: ") {
            seqs.push(id.trim().parse().unwrap());
        }
    }
    let metrics = request(http, "GET /metrics", "");
    let holder = metrics
        .lines()
        .filter(|l| l.starts_with("rtbench_member_connections_open{") && l.contains("\"sse\""))
        .find(|l| l.ends_with(" 1"))
        .and_then(|l| l.split('"').nth(1))
        .expect("one member holds the stream")
        .to_string();
    (holder, seqs)
}

#[test]
fn a_client_that_reconnects_to_another_process_resumes_without_loss() {
    let redis = Redis::start();
    let cluster = Cluster::start(&redis, 3, &[]);
    let schedule =
        r#"{"topic":"r","rate_per_s":50,"payload_bytes":8,"events":2000,"start_in_ms":0}"#;
    let answer = request(cluster.http, "POST /schedule", schedule);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let (mut holder, first) = sse_read(cluster.http, 0, 3);
    let mut last = *first.last().unwrap();
    let mut moves = 0;
    // Each reconnect lands on another process with probability 2/3; 30 tries miss all with
    // probability 3^-30.
    for _ in 0..30 {
        let (now, seqs) = sse_read(cluster.http, last, 3);
        assert_eq!(seqs, [last + 1, last + 2, last + 3], "resumed after {last}");
        last += 3;
        moves += usize::from(now != holder);
        holder = now;
        if moves >= 2 {
            return;
        }
    }
    panic!("no reconnect landed on another process");
}

/// Asserts a failed command: non-zero exit, one line on stderr containing `needle` (besides
/// the debug build's warning).
fn assert_one_line_error(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure, stderr: {stderr}");
    let lines = (stderr.trim_end().lines())
        .filter(|l| !l.starts_with("warning: this rtbench is a debug build"))
        .count();
    assert_eq!(lines, 1, "{stderr:?}");
    assert!(stderr.contains(needle), "{needle:?} not in {stderr:?}");
}

#[test]
fn a_missing_broker_is_one_clear_line() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nobody = format!("redis://127.0.0.1:{port}");
    let ephemeral = ["--addr", "127.0.0.1:0", "--tcp-addr", "127.0.0.1:0"];
    for procs in ["1", "3"] {
        let mut args = vec!["serve", "--procs", procs, "--broker", &nobody];
        args.extend(ephemeral);
        assert_one_line_error(&rtbench(&args, None), "cannot reach the broker");
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let no_broker = rtbench(&["run", "--server-procs", "2", "--out", out], None);
    assert_one_line_error(&no_broker, "--broker");
    let no_redis = rtbench(
        &["run", "--broker", "redis", "--out", out],
        Some("/nonexistent"),
    );
    assert_one_line_error(&no_redis, "redis-server is not installed");
}

#[test]
fn no_process_opens_more_files_than_its_budget() {
    let redis = Redis::start();
    let cluster = Cluster::start(&redis, 2, &["--fd-budget", "64"]);
    let pids = cluster.member_pids();
    assert_eq!(pids.len(), 2);
    // 200 connections: about 100 for each process, more than its budget.
    let conns: Vec<TcpStream> = (0..200)
        .filter_map(|_| TcpStream::connect(cluster.http).ok())
        .collect();
    assert!(conns.len() > 128, "only {} connected", conns.len());
    // The sockets a process holds (a file it inherited from its parent is not its own doing).
    let fds = |pid: u32| {
        let dir = std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap();
        (dir.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok()))
            .filter(|target| target.to_string_lossy().starts_with("socket:"))
            .count()
    };
    // Let the accept loops take what they can (bounded: 3 s).
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline && pids.iter().any(|&p| fds(p) < 60) {
        std::thread::sleep(Duration::from_millis(50));
    }
    for &pid in &pids {
        let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
        let line = limits
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .unwrap();
        assert_eq!(line.split_whitespace().nth(3), Some("64"), "{line}");
        assert!(fds(pid) <= 64, "pid {pid} holds {} sockets", fds(pid));
        assert!(
            fds(pid) >= 48,
            "pid {pid} took only {} connections' worth",
            fds(pid)
        );
    }
}
