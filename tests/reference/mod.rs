//! Shared by the tests that measure servers rtbench did not write (`reference-servers/`): the
//! reference servers as child processes (installed by the test itself: `npm ci` into the Node
//! server's folder, a venv under `target/` for the Python one), and `rtbench check` / `rtbench run`
//! as child processes bounded in time.

#![allow(dead_code)]

use crate::real_clients::{STEP, lines_of, runs, unavailable};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Longest one `rtbench check` or small `rtbench run` may take before the test calls it a hang.
pub const RUN_LIMIT: Duration = Duration::from_secs(180);

/// What a finished child said.
#[derive(Debug)]
pub struct Outcome {
    /// Its exit code (`None`: killed at [`RUN_LIMIT`]).
    pub code: Option<i32>,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
}

/// Runs the built `rtbench` with `args`, killing it after [`RUN_LIMIT`].
pub fn rtbench(args: &[&str]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_rtbench"))
        .args(args)
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("rtbench starts");
    let deadline = Instant::now() + RUN_LIMIT;
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Outcome {
        code,
        stdout: std::fs::read_to_string(out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(err_path).unwrap_or_default(),
    }
}

/// `rtbench check URL args…`.
pub fn check(url: &str, args: &[&str]) -> Outcome {
    let mut all = vec!["check", url];
    all.extend_from_slice(args);
    rtbench(&all)
}

/// The repository's `reference-servers/<name>` folder.
pub fn folder(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("reference-servers")
        .join(name)
}

/// A reference server child; killed when dropped.
pub struct Reference {
    child: Child,
    /// `host:port` of its HTTP listener.
    pub http: String,
}

impl Reference {
    /// `http://host:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.http)
    }

    /// Its process id (for `--target-pid`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts `command` and waits for its listening line `{"http":"host:port",...}`.
    fn start(mut command: Command) -> Reference {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the reference server starts");
        let lines = lines_of(child.stdout.take().unwrap());
        let line = lines.recv_timeout(STEP).expect("a listening line");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let http = v["http"].as_str().unwrap().to_string();
        Reference { child, http }
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Node.js reference server.
pub struct Node;

impl Node {
    /// Installs (once per test binary) and starts the Node server with `flags`; `None` (skipped,
    /// reason printed) when Node.js or the npm registry is not available.
    pub fn start(flags: &[&str]) -> Option<Reference> {
        static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
        let installed = INSTALLED.get_or_init(|| {
            if !runs("node") || !runs("npm") {
                return Err("node or npm is not installed".into());
            }
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(folder("node"))
                .status()
                .map_err(|e| e.to_string())?;
            if !status.success() {
                return Err(format!("npm ci failed ({status})"));
            }
            Ok(())
        });
        if let Err(why) = installed {
            unavailable(&format!("the Node reference server: {why}"));
            return None;
        }
        let mut command = Command::new("node");
        command
            .arg(folder("node").join("server.js"))
            .args(["--port", "0"])
            .args(flags);
        Some(Reference::start(command))
    }
}

/// The Python reference server.
pub struct Python;

impl Python {
    /// Installs (once per test binary: a venv under `target/` from the pinned
    /// `requirements.txt`) and starts the Python server with `flags`; `None` (skipped, reason
    /// printed) when python3-venv or PyPI is not available.
    pub fn start(flags: &[&str]) -> Option<Reference> {
        static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
        let python = match PYTHON.get_or_init(python_venv) {
            Ok(python) => python.clone(),
            Err(why) => {
                unavailable(&format!("the Python reference server: {why}"));
                return None;
            }
        };
        let mut command = Command::new(python);
        command
            .arg(folder("python").join("server.py"))
            .args(["--port", "0"])
            .args(flags);
        Some(Reference::start(command))
    }
}

fn python_venv() -> Result<PathBuf, String> {
    let requirements = folder("python").join("requirements.txt");
    crate::real_clients::venv::python_venv(
        "reference-python-venv",
        &["-r", &requirements.to_string_lossy()],
        "starlette, uvicorn, websockets",
    )
}
