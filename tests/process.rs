//! Process hygiene of `rtbench run`'s server child: it never outlives `run` (SIGTERM to `run`
//! stops it and closes its stderr), and its death mid-run ends `run` at once with its status.
//!
//! The child is found from `/proc` (the `rtbench` process whose parent is `run`). Every wait is
//! bounded; the runs' windows are long so the signals land mid-phase.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Upper bound on any wait in these tests.
const LIMIT: Duration = Duration::from_secs(30);

/// Starts `rtbench run` with a 30 s window on the floor only, stderr piped.
fn start_run(out: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_rtbench"))
        .args([
            "run",
            "--transports",
            "tcp",
            "--clients",
            "2",
            "--window",
            "30s",
        ])
        .arg("--out")
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rtbench runs")
}

/// `(pid, ppid, state)` of process `pid`, from `/proc/PID/stat`, if it exists.
fn stat(pid: u32) -> Option<(u32, u32, char)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid ..."; comm may hold spaces, so split after the last ')'.
    let (_, rest) = text.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((pid, ppid, state))
}

/// The live children of `parent`.
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(stat)
        .filter(|&(_, ppid, state)| ppid == parent && state != 'Z')
        .map(|(pid, _, _)| pid)
        .collect()
}

/// Waits (bounded) for `run` to have its server child up, and a little into the phase.
fn server_child_of(run: &Child) -> u32 {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let [pid] = children_of(run.id())[..] {
            // Into the measured phase: the server is up, the load generator connected.
            std::thread::sleep(Duration::from_secs(3));
            return pid;
        }
        assert!(Instant::now() < deadline, "no server child appeared");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether process `pid` is gone (or a zombie nobody reaped yet).
fn gone(pid: u32) -> bool {
    stat(pid).is_none_or(|(_, _, state)| state == 'Z')
}

/// Reads `run`'s stderr to its end on a thread: the receiver gets it once every holder closed it.
fn collect_stderr(run: &mut Child) -> mpsc::Receiver<String> {
    let mut stderr = run.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        let _ = tx.send(text);
    });
    rx
}

/// Waits (bounded by `limit`) for `run` to exit; its status, or a kill and a failure.
fn wait_exit(run: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = run.try_wait().unwrap() {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = run.kill();
            let _ = run.wait();
            panic!("rtbench run did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) on a process this test started (or its child, found alive just before).
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, signal) }, 0);
}

#[test]
fn sigterm_to_run_mid_phase_leaves_no_server_and_closes_stderr() {
    let out = tempfile::tempdir().unwrap();
    let mut run = start_run(out.path());
    let stderr = collect_stderr(&mut run);
    let server = server_child_of(&run);
    signal(run.id(), libc::SIGTERM);
    let status = wait_exit(&mut run, LIMIT);
    assert!(!status.success(), "{status}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !gone(server) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(gone(server), "server child {server} outlived rtbench run");
    let text = stderr
        .recv_timeout(Duration::from_secs(5))
        .expect("stderr closed: no process still holds it");
    assert!(text.contains("SIGTERM"), "{text}");
    assert!(!text.contains("panicked"), "{text}");
}

#[test]
fn a_killed_server_ends_run_at_once_with_its_status() {
    let out = tempfile::tempdir().unwrap();
    let mut run = start_run(out.path());
    let stderr = collect_stderr(&mut run);
    let server = server_child_of(&run);
    let killed_at = Instant::now();
    signal(server, libc::SIGKILL);
    let status = wait_exit(&mut run, LIMIT);
    let took = killed_at.elapsed();
    assert!(!status.success(), "{status}");
    assert!(took < Duration::from_secs(2), "run went on for {took:?}");
    let text = stderr.recv_timeout(Duration::from_secs(5)).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains(&format!("pid {server}")) && l.contains("died"))
        .unwrap_or_else(|| panic!("no line about the dead server in {text:?}"));
    assert!(line.contains("signal: 9"), "{line}");
}
