//! The report end to end: every `rtbench run` writes index.html beside results.json; `rtbench report`
//! rebuilds index.html and summary.md from saved results (merging several files into one page), and
//! a file from an older schema, a corrupt one or a missing one gets one clear line naming the file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rtbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rtbench"))
        .args(args)
        .output()
        .expect("rtbench runs")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/report/tests/fixtures")
        .join(name)
}

/// Asserts a failure with exactly one line on stderr that contains every needle, and no panic.
fn assert_one_line_error(out: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure, stderr: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "not one line: {stderr:?}"
    );
    for needle in needles {
        assert!(stderr.contains(needle), "{needle:?} not in {stderr:?}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn report_merges_several_files_into_one_page() {
    let dir = tempfile::tempdir().unwrap();
    let (base, rate2) = (fixture("base.json"), fixture("rate2.json"));
    let out_dir = dir.path().join("page");
    let out = rtbench(&[
        "report",
        base.to_str().unwrap(),
        rate2.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(out_dir.join("index.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("The textbook table, measured"));
    assert!(
        html.contains("id=\"sweep-event-rate-latency-p50\""),
        "two rates make a sweep"
    );
    let md = std::fs::read_to_string(out_dir.join("summary.md")).unwrap();
    assert!(md.contains("## The textbook table, measured"));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("short_poll"),
        "the terminal table too"
    );
}

#[test]
fn report_without_out_writes_beside_the_first_file() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("results.json");
    std::fs::copy(fixture("poll100.json"), &json).unwrap();
    let out = rtbench(&["report", json.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("index.html").exists() && dir.path().join("summary.md").exists());
}

#[test]
fn older_schema_is_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old-results.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("base.json")).unwrap()).unwrap();
    doc["schema_version"] = 0.into();
    std::fs::write(&old, doc.to_string()).unwrap();
    let good = fixture("base.json");
    let out = rtbench(&[
        "report",
        good.to_str().unwrap(),
        old.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_one_line_error(&out, &[old.to_str().unwrap(), "schema version 0"]);
    assert!(
        !dir.path().join("index.html").exists(),
        "no page from a bad set of files"
    );
}

#[test]
fn corrupt_or_missing_file_is_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("truncated.json");
    let text = std::fs::read_to_string(fixture("base.json")).unwrap();
    std::fs::write(&bad, &text[..text.len() / 2]).unwrap();
    let out = rtbench(&["report", bad.to_str().unwrap()]);
    assert_one_line_error(
        &out,
        &[bad.to_str().unwrap(), "not an rtbench results file"],
    );

    let missing = dir.path().join("nope.json");
    assert_one_line_error(
        &rtbench(&["report", missing.to_str().unwrap()]),
        &[missing.to_str().unwrap(), "cannot read"],
    );
    assert_one_line_error(&rtbench(&["report"]), &["RESULTS.json"]);
}

#[test]
fn a_bad_histogram_is_one_line_naming_the_file_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad-histogram.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("base.json")).unwrap()).unwrap();
    doc["rows"][2]["latency_histogram"] = "not a histogram".into();
    std::fs::write(&bad, doc.to_string()).unwrap();
    assert_one_line_error(
        &rtbench(&["report", bad.to_str().unwrap()]),
        &[bad.to_str().unwrap(), "sse row"],
    );
}

#[test]
fn every_run_writes_index_html_beside_its_results() {
    let dir = tempfile::tempdir().unwrap();
    // An earlier run's leftovers in --out: removed, so the page shows only this run's.
    std::fs::write(dir.path().join("latency-short_poll.hlog"), "stale").unwrap();
    std::fs::write(dir.path().join("capacity.json"), "[]").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let out = rtbench(&[
        "run",
        "--quiet",
        "--clients",
        "2",
        "--rate",
        "40",
        "--warmup",
        "200ms",
        "--window",
        "1s",
        "--tail",
        "100ms",
        "--transports",
        "tcp,websocket",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(dir.path().join("index.html")).expect("index.html written");
    assert!(
        html.contains("<code>results.json</code>"),
        "the page names the results file beside it"
    );
    assert!(html.contains("id=\"latency-spectrum\""));
    for t in ["tcp", "websocket"] {
        assert!(
            html.contains(&format!("id=\"latency-over-time-latency-{t}\"")),
            "the run's own page draws {t}'s latency over time"
        );
    }
    assert!(!dir.path().join("latency-short_poll.hlog").exists());
    assert!(!dir.path().join("capacity.json").exists());
    assert!(
        !html.contains("id=\"capacity\""),
        "no stale capacity section"
    );
    assert!(
        dir.path().join("notes.txt").exists(),
        "nothing else is touched"
    );
    let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(md.contains("| WebSockets | Muy Baja |"), "{md}");
}

/// Every committed results file (the example's base, its sweeps, the CI baseline).
fn committed_results() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports");
    let mut files = vec![
        root.join("example/results.json"),
        root.join("baseline/results.json"),
    ];
    for entry in std::fs::read_dir(root.join("example/sweeps")).unwrap() {
        files.push(entry.unwrap().path().join("results.json"));
    }
    files
}

#[test]
fn the_default_table_fits_120_columns_and_wide_gives_every_column() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().to_str().unwrap();
    for file in committed_results() {
        let file = file.to_str().unwrap();
        let compact = Command::new(env!("CARGO_BIN_EXE_rtbench"))
            .env("COLUMNS", "80")
            .args(["report", file, "--out", out_dir])
            .output()
            .unwrap();
        assert!(compact.status.success(), "{file}");
        let text = String::from_utf8_lossy(&compact.stdout);
        for line in text.lines() {
            assert!(line.chars().count() <= 120, "{file}: {line}");
        }
        assert!(
            text.contains("p50 ms") && !text.contains("cli CPU"),
            "{text}"
        );
        let wide = rtbench(&["report", file, "--out", out_dir, "--wide"]);
        let text = String::from_utf8_lossy(&wide.stdout);
        assert!(text.contains("cli CPU µs/deliv"), "{text}");
        assert!(text.contains("p99.9"), "{text}");
        assert!(text.lines().any(|l| l.chars().count() > 120), "{text}");
    }
}

#[test]
fn format_json_prints_the_document_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let base = fixture("base.json");
    let out = rtbench(&[
        "report",
        base.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(out.status.success());
    let printed: rtbench_results::Results = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, rtbench_results::Results::load(&base).unwrap());
}

#[test]
fn out_dash_and_out_file_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let base = fixture("base.json");
    let out = Command::new(env!("CARGO_BIN_EXE_rtbench"))
        .current_dir(dir.path())
        .args(["report", base.to_str().unwrap(), "--out", "-"])
        .output()
        .unwrap();
    assert_one_line_error(&out, &["--format json"]);
    assert!(!dir.path().join("-").exists());
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let out = rtbench(&[
        "report",
        base.to_str().unwrap(),
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_one_line_error(&out, &["is a file, not a directory"]);
}

#[test]
fn a_missing_file_names_its_cause_once() {
    let out = rtbench(&["report", "nonexist.json"]);
    assert_one_line_error(&out, &["nonexist.json: cannot read"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("No such file").count(), 1, "{stderr}");
}

/// A capacity document written with the load generator's own types (so the report's reading of
/// it cannot drift from what `rtbench run --capacity-steps` writes): WebSocket held 5,000 clients
/// and broke at 10,000; SSE's load generator saturated at 10,000.
fn capacity_json() -> Vec<u8> {
    use rtbench_loadgen::capacity::{Axis, Curve, Step, Verdict};
    use rtbench_proto::Transport;
    let step = |clients: u64, p99_ms: f64, cores: f64, verdict: Verdict| Step {
        offered: clients as f64,
        clients,
        rate_per_s: 20.0,
        deliveries_per_s: clients as f64 * 20.0,
        p99_us: p99_ms * 1e3,
        lost: 0,
        late: 0,
        unpublished: 0,
        server_cpu_cores: cores,
        server_rss_bytes: Some(64 << 20),
        loadgen_cpu_cores: Some(0.6),
        loadgen_lag_p99_us: Some(1_000.0),
        server_cpu_us_per_delivery: 8.4,
        client_cpu_us_per_delivery: 9.0,
        loadgen_bound: verdict == Verdict::LoadgenBound,
        bisection: false,
        verdict,
    };
    let curves = vec![
        Curve {
            transport: Transport::WebSocket,
            axis: Axis::Clients,
            steps: vec![
                step(1_000, 20.0, 0.2, Verdict::Held),
                step(5_000, 47.1, 0.84, Verdict::Held),
                step(
                    10_000,
                    3_600.0,
                    0.98,
                    Verdict::Broke("53470 events not delivered".into()),
                ),
            ],
            capacity: Some(5_000.0),
            loadgen_limited: false,
            server_cpus: Some(1),
        },
        Curve {
            transport: Transport::Sse,
            axis: Axis::Clients,
            steps: vec![
                step(1_000, 20.0, 0.2, Verdict::Held),
                step(10_000, 80.0, 0.9, Verdict::LoadgenBound),
            ],
            capacity: Some(1_000.0),
            loadgen_limited: true,
            server_cpus: None,
        },
    ];
    serde_json::to_vec_pretty(&curves).unwrap()
}

/// Writes `latency-sse.hlog` into `dir` with the load generator's own interval-log writer.
fn write_sse_log(dir: &Path) {
    use rtbench_loadgen::interval_log::IntervalLog;
    use rtbench_loadgen::latency_sink::LatencySink;
    use std::sync::Arc;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let sink = Arc::new(LatencySink::new());
        let path = dir.join("latency-sse.hlog");
        let start = rtbench_proto::mono_now_ns();
        let log = IntervalLog::start(sink.clone(), path, start, "sse".into()).unwrap();
        sink.record(0, start, 1_500_000);
        sink.record(1, start, 40_000_000);
        log.finish().await.unwrap();
    });
}

#[test]
fn report_draws_capacity_and_latency_over_time_from_the_files_beside_the_results() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.json");
    std::fs::copy(fixture("base.json"), &results).unwrap();
    std::fs::write(dir.path().join("capacity.json"), capacity_json()).unwrap();
    write_sse_log(dir.path());
    let out = rtbench(&["report", results.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    for id in [
        "id=\"capacity-p99\"",
        "id=\"capacity-server-cpu\"",
        "id=\"latency-over-time-latency-sse\"",
    ] {
        assert!(html.contains(id), "{id} missing");
    }
    assert!(
        html.contains("fill=\"none\" stroke=\"#009E73\""),
        "SSE's saturated step is hollow"
    );
    let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(
        md.contains("| WebSocket | 5,000 clients | 100,000 | 47 ms | 0.84 cores · 64.0 MiB | 8.4 µs · 9 µs | 100,000 (÷ 1 server CPU) | held up to 5,000 clients (100,000 deliveries/s); broke at 10,000 clients because 53470 events not delivered |"),
        "{md}"
    );
    assert!(md.contains("| SSE | ≥ 1,000 clients |"), "{md}");
    assert!(
        md.contains("≥ 20,000 (load generator bound) |"),
        "per core in the textbook table: {md}"
    );
    assert!(
        md.contains("- `latency-sse.hlog`: 1 one-second interval; worst p99 40"),
        "{md}"
    );
}

#[test]
fn a_capacity_document_given_among_the_files_is_read_and_missing_logs_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let capacity = dir.path().join("capacity.json");
    std::fs::write(&capacity, capacity_json()).unwrap();
    let out_dir = dir.path().join("page");
    let base = fixture("base.json");
    let out = rtbench(&[
        "report",
        base.to_str().unwrap(),
        capacity.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = std::fs::read_to_string(out_dir.join("summary.md")).unwrap();
    assert!(md.contains("## Capacity"), "{md}");
    let missing: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("No latency-"))
        .collect();
    assert_eq!(missing.len(), 1, "{md}");
    let html = std::fs::read_to_string(out_dir.join("index.html")).unwrap();
    assert!(html.contains("<p class=\"skipped\">No latency-&#60;transport&#62;.hlog beside"));

    std::fs::write(&capacity, b"[{\"transport\": \"sse\"}]").unwrap();
    let out = rtbench(&["report", base.to_str().unwrap(), capacity.to_str().unwrap()]);
    assert_one_line_error(&out, &["capacity.json", "not a capacity document"]);
}
