//! Shared by the tests that drive `rtbench serve` with clients rtbench did not write (curl,
//! Python libraries, Chromium): the server as a child process of the built binary, a publisher,
//! line readers with deadlines, and the rule for a missing client (skip with the reason printed,
//! or fail when `RTBENCH_REQUIRE_REAL_CLIENTS=1`, as `.ci/run` sets, so CI cannot skip silently).

#![allow(dead_code)]

pub mod venv;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// Longest any one step (a server start, a line, a client's setup) may take.
pub const STEP: Duration = Duration::from_secs(30);

/// Whether a missing client fails the test instead of skipping it.
pub fn required() -> bool {
    std::env::var("RTBENCH_REQUIRE_REAL_CLIENTS").is_ok_and(|v| v == "1")
}

/// Skips (printing `reason`) or, under [`required`], fails.
pub fn unavailable(reason: &str) {
    assert!(!required(), "RTBENCH_REQUIRE_REAL_CLIENTS=1 but {reason}");
    eprintln!("SKIPPED: {reason}");
}

/// `rtbench serve` on 127.0.0.1, any free ports; killed when dropped.
pub struct Serve {
    child: Child,
    /// `host:port` of its HTTP listener.
    pub http: String,
}

impl Serve {
    /// Starts the built binary with `flags` and waits for its listening line.
    pub fn start(flags: &[&str]) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rtbench"))
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--tcp-addr",
                "127.0.0.1:0",
                "-q",
            ])
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("rtbench serve starts");
        let lines = lines_of(child.stdout.take().unwrap());
        let line = lines.recv_timeout(STEP).expect("a listening line");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let http = v["http"].as_str().unwrap().to_string();
        Serve { child, http }
    }

    /// `http://host:port` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http)
    }

    /// Publishes `payload` to `topic` (`POST /publish`); its sequence number.
    pub fn publish(&self, topic: &str, payload: &str) -> u64 {
        let mut s = TcpStream::connect(&self.http).unwrap();
        s.set_read_timeout(Some(STEP)).unwrap();
        let request = format!(
            "POST /publish?topic={topic} HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\
             content-length: {}\r\n\r\n{payload}",
            payload.len()
        );
        s.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        let body = answer.split("\r\n\r\n").nth(1).unwrap();
        serde_json::from_str::<serde_json::Value>(body).unwrap()["seq"]
            .as_u64()
            .unwrap()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The lines `out` writes, read on a thread of their own.
pub fn lines_of(out: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// A client child process whose stdout lines are read; killed when dropped.
pub struct Client {
    child: Child,
    lines: Receiver<String>,
}

impl Client {
    /// Starts `command` with stdout piped.
    pub fn spawn(mut command: Command) -> Client {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the client starts");
        let out: ChildStdout = child.stdout.take().unwrap();
        Client {
            child,
            lines: lines_of(out),
        }
    }

    /// The next line that `pick` turns into a value, skipping the others; panics after [`STEP`].
    pub fn next<T>(&self, mut pick: impl FnMut(&str) -> Option<T>) -> T {
        let deadline = Instant::now() + STEP;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|e| panic!("no line from the client in time: {e}"));
            if let Some(v) = pick(&line) {
                return v;
            }
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `(seq, payload)` of a canonical event body, if `text` is one.
pub fn event(text: &str) -> Option<(u64, String)> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    Some((v["seq"].as_u64()?, v["payload"].as_str()?.to_string()))
}

/// Whether `program` runs (`program --version` exits 0).
pub fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
