//! `--loadgen-procs`, `--server-cpus` and the open-file limit, through the `rtbench` binary: a
//! phase split over two load-generator processes delivers exactly what one process delivers, with
//! the shards' histograms (and interval logs) merged into one; a run whose clients do not fit one process's open
//! files is spread over more (or refused in one line when the server could not hold them); bad
//! values are one line. Small and on loopback; nothing asserts a timing.

use rtbench_results::Results;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// `rtbench` with `args`, its open-file limit (soft and hard) set to `nofile` when given.
fn rtbench(args: &[&str], nofile: Option<u64>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rtbench"));
    cmd.args(args);
    if let Some(n) = nofile {
        // SAFETY: setrlimit(2) is async-signal-safe; the closure allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                let lim = libc::rlimit {
                    rlim_cur: n,
                    rlim_max: n,
                };
                match libc::setrlimit(libc::RLIMIT_NOFILE, &lim) {
                    0 => Ok(()),
                    _ => Err(std::io::Error::last_os_error()),
                }
            });
        }
    }
    cmd.output().expect("rtbench runs")
}

/// A short dashboard run of `transports` with `clients`, written to `out`, plus `extra` flags.
fn short_run(out: &Path, clients: u64, transports: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "run",
        "--quiet",
        "--clients",
        &clients.to_string(),
        "--rate",
        "10",
        "--warmup",
        "300ms",
        "--window",
        "1s",
        "--tail",
        "100ms",
        "--transports",
        transports,
        "--out",
        out.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn run_ok(args: &[String], nofile: Option<u64>) -> (Results, String) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = rtbench(&args, nofile);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "run failed: {stderr}");
    let dir = args[args.iter().position(|a| *a == "--out").unwrap() + 1];
    (
        Results::load(&Path::new(dir).join("results.json")).unwrap(),
        stderr,
    )
}

/// Asserts a failed run: non-zero exit, one line on stderr containing `needle`, no panic.
fn assert_one_line_error(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure, stderr: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr:?}");
    assert!(stderr.contains(needle), "{needle:?} not in {stderr:?}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn two_processes_deliver_what_one_delivers_and_their_histograms_merge() {
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (single, _) = run_ok(&short_run(one.path(), 50, "sse,websocket", &[]), None);
    let (split, _) = run_ok(
        &short_run(two.path(), 50, "sse,websocket", &["--loadgen-procs", "2"]),
        None,
    );
    assert_eq!(split.rows.len(), 2);
    for (a, b) in single.rows.iter().zip(&split.rows) {
        assert_eq!(a.transport, b.transport);
        assert_eq!(
            b.events, 10,
            "{}: events in a 1 s window at 10/s",
            b.transport
        );
        assert_eq!(
            (a.deliveries, b.deliveries),
            (50 * 10, 50 * 10),
            "{}: every client, every event, in either",
            b.transport
        );
        assert_eq!(
            (b.lost, b.duplicated, b.reordered, b.client_errors),
            (0, 0, 0, 0),
            "{}",
            b.transport
        );
        assert_eq!(
            b.latency_histogram.len(),
            b.deliveries,
            "{}: the merged histogram holds every delivery of both shards",
            b.transport
        );
        assert!(
            b.notes
                .iter()
                .any(|n| n.contains("2 load-generator processes")),
            "{:?}",
            b.notes
        );
        assert!(b.overload.loadgen_cpu_cores.is_some(), "{}", b.transport);
    }
    let placement = &split.environment.placement.description;
    assert!(placement.contains("(2 processes)"), "{placement}");
    // The shards' interval logs merge into the phase's: every receipt of the phase (warm-up and
    // tail too: 14 events scheduled at 10/s over 1.4 s, to 50 clients), and no shard file left.
    for t in ["sse", "websocket"] {
        let log = two.path().join(format!("latency-{t}.hlog"));
        let intervals = rtbench_loadgen::interval_log::read(&log).unwrap();
        let receipts: u64 = intervals.iter().map(|(_, h)| h.len()).sum();
        assert_eq!(receipts, 50 * 14, "{t}: {intervals:?}");
        assert!(intervals.len() >= 2, "{t}: one interval a second");
    }
    let leftovers: Vec<_> = std::fs::read_dir(two.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains(".shard"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn clients_beyond_one_processs_open_files_are_spread_over_more() {
    // An external server (with this test's own limit) holds the connections; the load generator
    // may open 400 files: 300 clients and the margin need 556, so 3 processes of 100.
    let mut server = Command::new(env!("CARGO_BIN_EXE_rtbench"))
        .args([
            "serve",
            "--quiet",
            "--addr",
            "127.0.0.1:0",
            "--tcp-addr",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("rtbench serve starts");
    let listening = listening_line(&mut server);
    let dir = tempfile::tempdir().unwrap();
    let http = listening["http"].as_str().unwrap().to_owned();
    let tcp = listening["tcp"].as_str().unwrap().to_owned();
    let mut args = short_run(
        dir.path(),
        300,
        "sse",
        &["--server-http", &http, "--server-tcp", &tcp],
    );
    args.retain(|a| a != "--quiet");
    let (results, stderr) = run_ok(&args, Some(400));
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        stderr.contains("spreading 300 clients over 3 load-generator processes"),
        "{stderr}"
    );
    let row = &results.rows[0];
    assert_eq!((row.deliveries, row.lost), (300 * 10, 0));
    assert!(
        results
            .environment
            .placement
            .description
            .contains("(3 processes)"),
        "{}",
        results.environment.placement.description
    );
}

/// The server's `{"http":…,"tcp":…}` line.
fn listening_line(server: &mut Child) -> serde_json::Value {
    let mut line = String::new();
    BufReader::new(server.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    serde_json::from_str(&line).unwrap()
}

#[test]
fn clients_the_server_could_not_hold_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let args = short_run(dir.path(), 300, "sse", &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_one_line_error(
        &rtbench(&args, Some(400)),
        "300 clients need 556 open files in the server process, over the open-file limit of 400",
    );
}

#[test]
fn bad_process_and_cpu_counts_are_one_line() {
    assert_one_line_error(
        &rtbench(&["run", "--loadgen-procs", "0"], None),
        "invalid value '0' for '--loadgen-procs <N>'",
    );
    assert_one_line_error(
        &rtbench(&["run", "--server-cpus", "4096"], None),
        "--server-cpus 4096 leaves no CPU for the load generator",
    );
    assert_one_line_error(
        &rtbench(&["run", "--server-cpus", "0"], None),
        "--server-cpus must be at least 1",
    );
    assert_one_line_error(
        &rtbench(&["run", "--scenario", "idle", "--loadgen-procs", "2"], None),
        "the idle scenario runs in one process",
    );
    assert_one_line_error(
        &rtbench(&["run", "--scenario", "chat", "--loadgen-procs", "2"], None),
        "--loadgen-procs above 1 must be used with a workload whose clients only receive",
    );
}
