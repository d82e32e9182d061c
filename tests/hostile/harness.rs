//! The server under attack: a real `rtbench serve` child process per test, its addresses from the
//! JSON line it prints, its resources (RSS, threads, fds) read from `/proc/<pid>`, and a watchdog
//! that kills it the moment a bound is broken, so a test against a broken server fails in
//! milliseconds instead of eating the machine's memory. Plus a minimal blocking HTTP/1.1 client:
//! the attacks need byte-exact control of what is sent, which no HTTP client crate gives.

use rtbench_proto::control::ListeningLine;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::{Duration, Instant};

/// Bytes in a mebibyte.
pub const MIB: u64 = 1024 * 1024;

/// A running `rtbench serve`, killed when dropped.
pub struct Server {
    /// HTTP listener.
    pub http: SocketAddr,
    /// Raw-TCP listener.
    pub tcp: SocketAddr,
    /// Process id.
    pub pid: u32,
    child: Child,
    stderr: Option<ChildStderr>,
}

/// The server's two addresses, for an attack thread.
#[derive(Debug, Clone, Copy)]
pub struct Addrs {
    /// HTTP listener.
    pub http: SocketAddr,
    /// Raw-TCP listener.
    pub tcp: SocketAddr,
}

/// What the server process holds at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Anonymous resident memory (heap, stacks: `RssAnon` + `RssShmem`), bytes. The binary's
    /// file-backed code pages are left out: they fault in as new code paths first run, by an
    /// amount that depends on the build, and are not state a client can make the server keep.
    pub rss_bytes: u64,
    /// OS threads.
    pub threads: u64,
    /// Open file descriptors.
    pub fds: u64,
}

/// Most the server may grow above a baseline while attacked.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    /// RSS growth, bytes.
    pub rss_bytes: u64,
    /// Extra threads.
    pub threads: u64,
    /// Extra file descriptors.
    pub fds: u64,
}

impl Bound {
    /// `per_conn_bytes` of RSS per attacking connection plus `slack_bytes`, threads +4, fds one per
    /// attacking connection plus 16.
    pub fn per_connection(conns: u64, per_conn_bytes: u64, slack_bytes: u64) -> Bound {
        Bound {
            rss_bytes: conns * per_conn_bytes + slack_bytes,
            threads: 4,
            fds: conns + 16,
        }
    }
}

impl Server {
    /// Starts `rtbench serve` on loopback port 0 with `extra` flags; panics (test failure) if it
    /// does not announce its addresses within 10 s — e.g. because it does not know a flag.
    pub fn start(extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rtbench"))
            .args(["serve", "--quiet", "--addr", "127.0.0.1:0"])
            .args(["--tcp-addr", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rtbench serve starts");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        let read = BufReader::new(stdout).read_line(&mut line);
        if read.is_err() || line.trim().is_empty() {
            let _ = child.kill();
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            panic!("rtbench serve {extra:?} did not start: {err}");
        }
        let listening: ListeningLine = serde_json::from_str(line.trim()).expect("listening line");
        let stderr = child.stderr.take();
        Server {
            http: listening.http.parse().expect("http addr"),
            tcp: listening.tcp.parse().expect("tcp addr"),
            pid: listening.pid,
            child,
            stderr,
        }
    }

    /// What the process holds now.
    pub fn usage(&self) -> Usage {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .unwrap_or_else(|e| panic!("server process gone (crashed?): {e}"));
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        let fds = std::fs::read_dir(format!("/proc/{}/fd", self.pid))
            .map(|d| d.count() as u64)
            .unwrap_or(0);
        Usage {
            rss_bytes: (field("RssAnon:") + field("RssShmem:")) * 1024,
            threads: field("Threads:"),
            fds,
        }
    }

    /// Whether the process is still running (not exited, not aborted).
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Samples usage every 10 ms for `dur`; kills the server and fails the test the moment it
    /// holds more than `base` + `bound`, or if it died. Returns the highest usage seen.
    pub fn watch(&mut self, base: Usage, bound: Bound, dur: Duration) -> Usage {
        let end = Instant::now() + dur;
        let mut peak = base;
        loop {
            assert!(self.alive(), "server died: {}", self.stderr_text());
            let u = self.usage();
            peak.rss_bytes = peak.rss_bytes.max(u.rss_bytes);
            peak.threads = peak.threads.max(u.threads);
            peak.fds = peak.fds.max(u.fds);
            let over = u.rss_bytes > base.rss_bytes + bound.rss_bytes
                || u.threads > base.threads + bound.threads
                || u.fds > base.fds + bound.fds;
            if over {
                let _ = self.child.kill();
                panic!("server over its bound: base {base:?}, now {u:?}, bound {bound:?}");
            }
            if Instant::now() >= end {
                return peak;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Runs `attack` on its own thread while watching the server against `bound` (above the usage
    /// before the attack), then 300 ms more; fails if the attack takes longer than `max`.
    pub fn under_attack<T: Send + 'static>(
        &mut self,
        bound: Bound,
        max: Duration,
        attack: impl FnOnce(Addrs) -> T + Send + 'static,
    ) -> T {
        let base = self.usage();
        let addrs = Addrs {
            http: self.http,
            tcp: self.tcp,
        };
        let attacker = std::thread::spawn(move || attack(addrs));
        let end = Instant::now() + max;
        while !attacker.is_finished() {
            assert!(Instant::now() < end, "attack still running after {max:?}");
            self.watch(base, bound, Duration::from_millis(10));
        }
        self.watch(base, bound, Duration::from_millis(300));
        attacker.join().expect("attack thread")
    }

    /// Kills the server and returns everything it wrote on stderr.
    pub fn stderr_text(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut err = String::new();
        if let Some(mut e) = self.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        err
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response: status code (0 when the server closed without answering) and body bytes.
#[derive(Debug)]
pub struct Reply {
    /// Status code, 0 for none.
    pub status: u16,
    /// Everything after the head (still chunk-encoded if it was).
    pub body: Vec<u8>,
    /// Every byte received.
    pub raw: Vec<u8>,
}

/// Sends `raw` bytes on a fresh connection and reads until the server closes or 3 s pass.
pub fn raw_request(addr: SocketAddr, raw: &[u8]) -> Reply {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(3))).unwrap();
    let _ = s.write_all(raw);
    let mut got = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let end = Instant::now() + Duration::from_secs(3);
    while Instant::now() < end {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    parse_reply(&got)
}

/// The status and body of a raw HTTP/1.1 response (the first one, if several).
pub fn parse_reply(got: &[u8]) -> Reply {
    let status = got
        .strip_prefix(b"HTTP/1.1 ")
        .and_then(|r| std::str::from_utf8(r.get(..3)?).ok())
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = got
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| got[p + 4..].to_vec())
        .unwrap_or_default();
    Reply {
        status,
        body,
        raw: got.to_vec(),
    }
}

/// `method path` with `body` and `Connection: close`.
pub fn request(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> Reply {
    let mut raw = format!(
        "{method} {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(body);
    raw_request(addr, &raw)
}

/// `POST path` with a JSON body.
pub fn post_json(addr: SocketAddr, path: &str, json: &serde_json::Value) -> Reply {
    request(addr, "POST", path, json.to_string().as_bytes())
}

/// `GET path`.
pub fn get(addr: SocketAddr, path: &str) -> Reply {
    request(addr, "GET", path, b"")
}

/// Starts the server's publisher: `events` events of `payload_bytes` to `topic` at `rate_per_s`;
/// asserts it was accepted.
pub fn schedule(server: &Server, topic: &str, rate_per_s: f64, payload_bytes: u64, events: u64) {
    let reply = post_json(
        server.http,
        "/schedule",
        &serde_json::json!({"topic": topic, "rate_per_s": rate_per_s,
            "payload_bytes": payload_bytes, "events": events, "start_in_ms": 0}),
    );
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
}

/// Waits (up to 10 s) until `topic` has published `seq` — polled with `/poll` — so a test's
/// baseline is taken after the ring filled.
pub fn wait_published(server: &Server, topic: &str, seq: u64) {
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        let r = get(
            server.http,
            &format!("/poll?topic={topic}&after={}", seq - 1),
        );
        if r.status == 200 && contains(&r.body, b"\"seq\":") {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("topic {topic} never reached seq {seq}");
}

/// Whether `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
