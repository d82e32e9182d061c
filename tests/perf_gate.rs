//! The regression gate end to end, both ways: a second run of the unchanged tree passes
//! `rtbench compare`, and a run with the server's padding fault switched on fails it with the
//! regression exit code, naming the figure. Timings are not asserted here (tests assert
//! deterministic figures; scripts/perf-gate-selftest.sh shows the timing half on the CI profile).

use std::path::Path;
use std::process::{Command, Output};

fn rtbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rtbench"))
        .args(args)
        .output()
        .expect("rtbench runs")
}

/// A tiny run (3 transports, 3 clients, 1 s window) into `out`, with `extra` flags.
fn tiny_run(out: &Path, extra: &[&str]) {
    let mut args = vec![
        "run",
        "--quiet",
        "--transports",
        "tcp,websocket,long_poll",
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
        "--drain",
        "500ms",
        "--out",
    ];
    args.push(out.to_str().expect("UTF-8 temp path"));
    args.extend_from_slice(extra);
    let result = rtbench(&args);
    assert!(
        result.status.success(),
        "run failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );
}

/// `rtbench compare` with timing figures effectively ungated and a byte tolerance wide enough
/// for a 1 s window's edge effects; costs and delivery stay gated.
fn compare_costs(baseline: &Path, current: &Path) -> Output {
    rtbench(&[
        "compare",
        baseline.join("results.json").to_str().unwrap(),
        current.join("results.json").to_str().unwrap(),
        "--tolerance",
        "p50=1000000,cpu=1000000,bytes=10,requests=20,packets=50",
    ])
}

#[test]
fn the_gate_passes_an_unchanged_tree_and_fails_a_padded_one() {
    let dir = tempfile::tempdir().unwrap();
    let (base, same, padded) = (
        dir.path().join("base"),
        dir.path().join("same"),
        dir.path().join("padded"),
    );
    tiny_run(&base, &[]);
    tiny_run(&same, &[]);
    tiny_run(&padded, &["--server-fault-pad-bytes", "200"]);

    let pass = compare_costs(&base, &same);
    let text = String::from_utf8_lossy(&pass.stdout);
    assert_eq!(pass.status.code(), Some(0), "{text}");
    assert!(text.contains("PASS: none of"), "{text}");

    let fail = compare_costs(&base, &padded);
    let text = String::from_utf8_lossy(&fail.stdout);
    assert_eq!(fail.status.code(), Some(3), "{text}");
    for transport in ["tcp", "websocket", "long_poll"] {
        assert!(
            text.contains(&format!("regression: {transport} bytes_per_delivery")),
            "{text}"
        );
    }
    assert!(text.contains("injected a server fault"), "{text}");
    let recorded = rtbench_results::Results::load(&padded.join("results.json")).unwrap();
    assert_eq!(recorded.config.server_fault().pad_bytes, 200);
}

#[test]
fn unusable_inputs_exit_2_with_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("corrupt.json");
    std::fs::write(&corrupt, "{not json").unwrap();
    let corrupt = corrupt.to_str().unwrap();
    let missing = dir.path().join("missing.json");
    let missing = missing.to_str().unwrap();
    let other = dir.path().join("v9.json");
    std::fs::write(&other, r#"{"schema_version":9}"#).unwrap();
    let other = other.to_str().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["compare", corrupt, corrupt],
            "corrupt.json: not an rtbench results file",
        ),
        (&["compare", missing, missing], "missing.json: cannot read"),
        (
            &["compare", other, other],
            "v9.json: results schema version 9",
        ),
        (
            &["compare", other, other, "--tolerance", "speed=3"],
            "unknown tolerance 'speed'",
        ),
    ];
    for (args, needle) in cases {
        let out = rtbench(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr:?}");
        assert!(stderr.contains(needle), "{needle:?} not in {stderr:?}");
    }
}
