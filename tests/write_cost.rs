//! `rtbench write-cost` end to end: bad input gets one clear line and a non-zero exit; a small
//! measurement prints its one line; a run with the floor records the calibration and prints the
//! floor's ratio to it.

use std::process::{Command, Output};

fn rtbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rtbench"))
        .args(args)
        .output()
        .expect("rtbench runs")
}

/// Asserts a failed command: non-zero exit, exactly one line on stderr containing `needle`.
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
fn bad_input_is_one_line_and_fails() {
    let cases: [(&[&str], &str); 7] = [
        (&["--clients", "0"], "--clients must be between 1"),
        (&[], "--clients <CLIENTS>"),
        (&["--clients", "many"], "--clients"),
        (
            &["--clients", "10", "--bytes", "3"],
            "--bytes must be between 5",
        ),
        (
            &["--clients", "10", "--events", "0"],
            "--events must be between 1",
        ),
        (
            &["--clients", "10", "--repetitions", "0"],
            "--repetitions must be between 1",
        ),
        (
            &["--clients", "10", "--writer-cpu", "4096"],
            "cpu 4096 is not one of this machine's",
        ),
    ];
    for (args, needle) in cases {
        let all: Vec<&str> = std::iter::once("write-cost")
            .chain(args.iter().copied())
            .collect();
        assert_one_line_error(&rtbench(&all), needle);
    }
}

#[test]
fn more_sockets_than_open_files_allow_is_one_line() {
    let out = rtbench(&["write-cost", "--clients", "1000000"]);
    assert_one_line_error(&out, "open files and the limit is");
}

#[test]
fn a_small_measurement_prints_one_line() {
    let out = rtbench(&[
        "write-cost",
        "--clients",
        "20",
        "--events",
        "3",
        "--repetitions",
        "1",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.starts_with(
            "plain write(): 180 B to each of 20 loopback sockets, 3 rounds 0 ms apart (after 20 warm-up) x 1"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("µs writer CPU per write"), "{stdout}");
}

#[test]
fn a_run_with_the_floor_records_the_calibration_and_prints_the_ratio() {
    let dir = tempfile::tempdir().unwrap();
    let out = rtbench(&[
        "run",
        "--transports",
        "tcp",
        "--clients",
        "3",
        "--rate",
        "20",
        "--warmup",
        "200ms",
        "--window",
        "500ms",
        "--tail",
        "100ms",
        "--drain",
        "2s",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "run failed: {stderr}");
    let results = rtbench_results::Results::load(&dir.path().join("results.json")).unwrap();
    let cost = results
        .environment
        .write_cost
        .expect("calibration recorded");
    let row = &results.rows[0];
    assert_eq!(cost.clients, 3);
    assert_eq!(cost.bytes, row.bytes_per_delivery.round() as usize);
    assert!(cost.ns_per_write > 0);
    assert!(stderr.contains("floor server CPU per delivery"), "{stderr}");
    assert!(stderr.contains("× a plain write()"), "{stderr}");
}
