//! The `rtbench` binary end to end: bad input gets one clear line and a non-zero exit, and a short
//! real run writes a results document with a row per transport and nothing lost.

use std::path::Path;
use std::process::{Command, Output};

fn rtbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rtbench"))
        .args(args)
        .output()
        .expect("rtbench runs")
}

/// Asserts a failed run: non-zero exit, exactly one line on stderr containing `needle`, no panic.
fn assert_one_line_error(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure, stderr: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "not one line: {stderr:?}"
    );
    assert!(stderr.contains(needle), "{needle:?} not in {stderr:?}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn unknown_transport_is_one_line() {
    let out = rtbench(&["run", "--transports", "tcp,carrier_pigeon"]);
    assert_one_line_error(&out, "unknown transport 'carrier_pigeon'");
}

#[test]
fn zero_clients_is_one_line() {
    assert_one_line_error(
        &rtbench(&["run", "--clients", "0"]),
        "clients must be between 1",
    );
}

#[test]
fn zero_rate_is_one_line() {
    assert_one_line_error(
        &rtbench(&["run", "--rate", "0"]),
        "rate must be greater than 0",
    );
}

#[test]
fn bad_duration_is_one_line() {
    assert_one_line_error(&rtbench(&["run", "--window", "soon"]), "--window");
}

#[test]
fn unwritable_out_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let out_dir = file.join("sub");
    let out = rtbench(&["run", "--out", out_dir.to_str().unwrap()]);
    assert_one_line_error(&out, "cannot create --out");
}

#[test]
fn short_run_writes_results_with_every_transport_and_no_loss() {
    let dir = tempfile::tempdir().unwrap();
    let out = rtbench(&[
        "run",
        "--quiet",
        "--clients",
        "3",
        "--rate",
        "40",
        "--warmup",
        "200ms",
        "--window",
        "1s",
        "--tail",
        "100ms",
        "--poll-interval",
        "50ms",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "run failed: {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    for t in ["tcp", "websocket", "sse", "long_poll", "short_poll"] {
        assert!(stdout.contains(t), "table lacks {t}: {stdout}");
    }
    let results = rtbench_results::Results::load(&dir.path().join("results.json")).unwrap();
    assert_eq!(results.rows.len(), 5);
    for row in &results.rows {
        assert_eq!(
            row.events, 40,
            "{}: events in a 1 s window at 40/s",
            row.transport
        );
        assert_eq!(row.deliveries, 3 * 40, "{}", row.transport);
        assert_eq!(
            (row.lost, row.duplicated, row.reordered, row.client_errors),
            (0, 0, 0, 0),
            "{}",
            row.transport
        );
        assert!(row.bytes_per_delivery > 0.0, "{}", row.transport);
    }
    assert_eq!(
        results
            .row("dashboard", "tcp")
            .unwrap()
            .requests_per_delivery,
        0.0
    );
    assert!(
        results
            .row("dashboard", "long_poll")
            .unwrap()
            .requests_per_delivery
            > 0.0
    );
    assert!(Path::new(&dir.path().join("summary.md")).exists());
}
