//! A Python virtual environment under `target/` with packages from PyPI, for the tests that run
//! Python programs rtbench did not write (client libraries, the reference server, the Kubernetes
//! schema validator). Made once and reused while its packages import; the reason when python3-venv
//! or PyPI is not available, for the caller to skip with ([`super::unavailable`]).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The `python` of the venv `name` (under the test target's temporary directory), with `pip
/// install <pip_args>` done; ready when `python -c "import <imports>"` succeeds.
pub fn python_venv(name: &str, pip_args: &[&str], imports: &str) -> Result<PathBuf, String> {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let python = venv.join("bin").join("python");
    let ready = |python: &Path| {
        Command::new(python)
            .args(["-c", &format!("import {imports}")])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if ready(&python) {
        return Ok(python);
    }
    run(
        "python3 -m venv (Debian: apt-get install python3-venv)",
        Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
    )?;
    run(
        &format!("pip install {}", pip_args.join(" ")),
        Command::new(venv.join("bin").join("pip"))
            .args([
                "install",
                "--disable-pip-version-check",
                "--quiet",
                "--timeout",
                "20",
                "--retries",
                "1",
            ])
            .args(pip_args),
    )?;
    match ready(&python) {
        true => Ok(python),
        false => Err(format!("the venv cannot import {imports}")),
    }
}

/// Runs `command` to its end; what went wrong when it did not succeed.
fn run(what: &str, command: &mut Command) -> Result<(), String> {
    let out = command
        .output()
        .map_err(|e| format!("{what} did not start: {e}"))?;
    match out.status.success() {
        true => Ok(()),
        false => Err(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
    }
}
