//! `rtbench run --clients-in browser` end to end, through the built binary: 20 browser clients
//! of each HTTP transport on a small schedule give four rows with `client: browser`, nothing lost,
//! duplicated or reordered, the window's events only measured (not the warm-up's or the tail's),
//! their bytes per delivery and the browser's CPU measured; the printed table labels them.
//! Without Chromium, `--clients-in browser` is refused in one line before anything starts.
//!
//! No Chromium: the run is skipped with the reason printed (`.ci/run` sets
//! `RTBENCH_REQUIRE_REAL_CLIENTS=1`, which makes that a failure).

mod real_clients;

use real_clients::{runs, unavailable};
use rtbench_results::{Client, Results, Transport};
use std::path::Path;
use std::process::{Command, Output};

fn rtbench(args: &[&str], path: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rtbench"));
    command.args(args);
    if let Some(path) = path {
        command.env("PATH", path);
    }
    command.output().expect("rtbench runs")
}

#[test]
fn twenty_browser_clients_give_four_complete_browser_rows() {
    if !runs("chromium") {
        return unavailable("chromium is not installed (Debian: apt-get install chromium)");
    }
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().to_str().unwrap();
    // 20 events/s for 1.5 s: 30 events to each of 20 clients per transport, of which the 1 s
    // window holds 20 (5 of warm-up and 5 of tail are received, not measured).
    let out = rtbench(
        &[
            "run",
            "--clients-in",
            "browser",
            "--clients",
            "20",
            "--warmup",
            "250ms",
            "--window",
            "1s",
            "--tail",
            "250ms",
            "--out",
            out_dir,
        ],
        None,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = dir.path().join("results.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let results = Results::from_json(&text, Path::new("results.json")).unwrap();
    let transports: Vec<Transport> = results.rows.iter().map(|r| r.transport).collect();
    assert_eq!(
        transports,
        [
            Transport::WebSocket,
            Transport::Sse,
            Transport::LongPoll,
            Transport::ShortPoll
        ]
    );
    for row in &results.rows {
        let t = row.transport;
        assert_eq!(row.client, Client::Browser, "{t}");
        assert_eq!(row.clients, 20, "{t}");
        assert_eq!(row.events, 20, "{t}");
        assert_eq!(row.deliveries, 20 * 20, "{t}");
        assert_eq!(
            (row.lost, row.duplicated, row.reordered),
            (0, 0, 0),
            "{t}: {:?}",
            row.notes
        );
        assert_eq!(row.latency_histogram.len(), 20 * 20, "{t}");
        assert!(row.bytes_per_delivery > 0.0, "{t}");
        assert!(row.client_cpu_us_per_delivery > 0.0, "{t}: browser CPU");
        assert!(
            row.notes
                .iter()
                .any(|n| n.contains("cli CPU is browser CPU (all ")),
            "{t}: {:?}",
            row.notes
        );
        assert!(stdout.contains(&format!("{t} (browser)")), "{stdout}");
    }
    assert!(text.contains("\"client\": \"browser\""));
}

#[test]
fn browser_clients_without_chromium_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = rtbench(
        &[
            "run",
            "--clients-in",
            "rust,browser",
            "--out",
            dir.path().to_str().unwrap(),
        ],
        Some(dir.path().to_str().unwrap()),
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        "error: --clients-in browser: no chromium on PATH (Debian: apt-get install chromium)"
    );
    assert!(!dir.path().join("results.json").exists());
}
