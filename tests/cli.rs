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
fn unknown_scenario_is_one_line() {
    let out = rtbench(&["run", "--scenario", "no-such-scenario"]);
    assert_one_line_error(&out, "scenario 'no-such-scenario' is not a built-in");
}

#[test]
fn bad_scenario_file_is_one_line_naming_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.toml");
    let good = "description = \"x\"\nclients = 10\n[push]\nrate_per_s = 5\narrivals = \"fixed\"\npayload_bytes = 64\n";
    std::fs::write(&file, format!("{good}rooms = 2\n")).unwrap();
    let path = file.to_str().unwrap();
    let out = rtbench(&["run", "--scenario", path]);
    assert_one_line_error(&out, "mine.toml:7: unknown key `rooms` in [push]");
    std::fs::write(&file, good.replace("rate_per_s = 5", "rate_per_s = -5")).unwrap();
    let out = rtbench(&["run", "--scenario", path]);
    assert_one_line_error(&out, "mine.toml: push.rate_per_s must be greater than 0");
    std::fs::write(&file, format!("room_size = 20\n{good}")).unwrap();
    let out = rtbench(&["run", "--scenario", path]);
    assert_one_line_error(
        &out,
        "mine.toml: room_size (20) is larger than clients (10)",
    );
}

#[test]
fn bad_sweep_repeat_and_room_are_one_line() {
    let out = rtbench(&["run", "--sweep", "speed=1,2"]);
    assert_one_line_error(&out, "cannot sweep 'speed'");
    let out = rtbench(&["run", "--repeat", "0"]);
    assert_one_line_error(&out, "repeat must be between 1 and 100");
    let out = rtbench(&["run", "--scenario", "chat", "--clients", "5"]);
    assert_one_line_error(
        &out,
        "room size must be between 1 and the client count (5) (got 10)",
    );
    let out = rtbench(&["run", "--sweep", "clients=10,0"]);
    assert_one_line_error(&out, "sweep point clients=0: clients must be between 1");
}

#[test]
fn a_swept_and_repeated_chat_gives_one_row_per_point_and_transport() {
    let dir = tempfile::tempdir().unwrap();
    let out = rtbench(&[
        "run",
        "--quiet",
        "--scenario",
        "chat",
        "--clients",
        "4",
        "--room-size",
        "2",
        "--rate",
        "5",
        "--transports",
        "websocket,short_poll",
        "--sweep",
        "poll_interval=40ms,80ms",
        "--repeat",
        "2",
        "--warmup",
        "200ms",
        "--window",
        "600ms",
        "--tail",
        "100ms",
        "--drain",
        "2s",
        "--wide",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "run failed: {stderr}");
    // Only where the results went: no progress, not even the server child's startup line (and,
    // from a debug build, its warning, which --quiet does not silence).
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("warning: this rtbench is a debug build"))
        .collect();
    assert_eq!(lines.len(), 1, "--quiet: {stderr}");
    assert!(lines[0].starts_with("wrote "), "--quiet: {stderr}");
    let results = rtbench_results::Results::load(&dir.path().join("results.json")).unwrap();
    assert_eq!(results.config.sweep, ["poll_interval=40ms,80ms"]);
    assert_eq!((results.config.repeat, results.config.room_size), (2, 2));
    assert_eq!(results.config.scenario_file, "benches/scenarios/chat.toml");
    let shape: Vec<(u64, &str)> = results
        .rows
        .iter()
        .map(|r| (r.poll_interval_ms, r.transport.as_str()))
        .collect();
    assert_eq!(
        shape,
        [
            (40, "websocket"),
            (40, "short_poll"),
            (80, "websocket"),
            (80, "short_poll")
        ]
    );
    for row in &results.rows {
        assert_eq!(row.spread.unwrap().repeats, 2, "{}", row.transport);
        assert_eq!(
            (row.undelivered(), row.duplicated, row.reordered),
            (0, 0, 0)
        );
        assert_eq!(row.sends_lost, 0);
        assert!(row.sends > 0 && row.deliveries > 0);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("poll ms") && stdout.contains("p50 min–max"),
        "{stdout}"
    );
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
            (
                row.undelivered(),
                row.duplicated,
                row.reordered,
                row.client_errors
            ),
            (0, 0, 0, 0),
            "{}",
            row.transport
        );
        assert!(row.bytes_per_delivery > 0.0, "{}", row.transport);
        assert!(row.kernel_bytes_per_delivery.is_some(), "{}", row.transport);
        assert!(row.packets_per_delivery.unwrap() > 0.0, "{}", row.transport);
        assert!(
            row.meter_kernel_disagreement_pct.is_some(),
            "{}",
            row.transport
        );
    }
    assert_eq!(
        results
            .row("dashboard", rtbench_proto::Transport::Tcp)
            .unwrap()
            .requests_per_delivery,
        0.0
    );
    assert!(
        results
            .row("dashboard", rtbench_proto::Transport::LongPoll)
            .unwrap()
            .requests_per_delivery
            > 0.0
    );
    assert!(Path::new(&dir.path().join("summary.md")).exists());
}

#[test]
fn too_many_idle_connections_is_one_line() {
    let out = rtbench(&["run", "--scenario", "idle", "--connections", "1000000"]);
    assert_one_line_error(&out, "connections must be between 1 and");
}

#[test]
fn bad_server_buffer_is_one_line() {
    let out = rtbench(&["run", "--http-max-buf", "10"]);
    assert_one_line_error(&out, "http max buffer must be between 8192");
}

#[test]
fn idle_scenario_writes_a_row_per_transport() {
    let dir = tempfile::tempdir().unwrap();
    let out = rtbench(&[
        "run",
        "--quiet",
        "--scenario",
        "idle",
        "--connections",
        "20",
        "--idle-window",
        "500ms",
        "--poll-interval",
        "50ms",
        "--longpoll-timeout",
        "200ms",
        "--ws-read-buffer",
        "2048",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "run failed: {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("RSS/conn idle"), "{stdout}");
    assert!(
        stderr.contains("warning: the idle window (0.5 s) is shorter than SSE's keep-alive (15 s)"),
        "{stderr}"
    );
    assert!(stdout.contains("note: the idle window (0.5 s)"), "{stdout}");
    let results = rtbench_results::Results::load(&dir.path().join("results.json")).unwrap();
    assert_eq!(results.config.connections, Some(20));
    let server = results.config.server.as_ref().expect("settings recorded");
    assert_eq!(
        (
            server.settings.ws_read_buffer_bytes,
            server.allocator.as_str()
        ),
        (2048, "jemalloc")
    );
    assert_eq!(results.rows.len(), 5);
    for row in &results.rows {
        assert_eq!(row.connections, Some(20), "{}", row.transport);
        assert!(
            row.memory_per_connection_bytes.is_some(),
            "{}",
            row.transport
        );
        assert!(row.idle_bytes_per_client_s.is_some(), "{}", row.transport);
        assert!(
            row.idle_requests_per_client_s.is_some(),
            "{}",
            row.transport
        );
        assert!(
            row.idle_server_cpu_us_per_client_s.is_some(),
            "{}",
            row.transport
        );
    }
}

#[test]
fn unknown_conditions_profile_is_one_line() {
    assert_one_line_error(
        &rtbench(&["run", "--conditions", "moon"]),
        "unknown conditions profile 'moon'",
    );
}

#[test]
fn bad_fault_flags_are_one_line() {
    assert_one_line_error(
        &rtbench(&["run", "--drop-fraction", "2", "--drop-every", "1s"]),
        "--drop-fraction",
    );
    assert_one_line_error(&rtbench(&["run", "--drop-fraction", "0.1"]), "--drop-every");
    assert_one_line_error(&rtbench(&["run", "--bandwidth", "fast"]), "--bandwidth");
    assert_one_line_error(
        &rtbench(&["run", "--drop-fraction", "0.1", "--drop-every", "1ms"]),
        "drop every must be at least",
    );
    assert_one_line_error(
        &rtbench(&["run", "--restart-server-at", "1h"]),
        "restart-server-at must be after the first event",
    );
    assert_one_line_error(
        &rtbench(&["run", "--conditions", "lan,continent", "--rtt", "10ms"]),
        "--rtt, --jitter and --bandwidth change one profile",
    );
    assert_one_line_error(
        &rtbench(&[
            "run",
            "--restart-server-at",
            "1s",
            "--server-http",
            "127.0.0.1:9",
            "--server-tcp",
            "127.0.0.1:9",
        ]),
        "--restart-server-at restarts a server rtbench started itself",
    );
}

/// With stderr not a terminal (here a pipe, as in CI), progress is plain lines: one per phase and
/// stage, no escape codes, and the finished phase's summary.
#[test]
fn progress_without_a_terminal_is_plain_lines_per_stage() {
    let dir = tempfile::tempdir().unwrap();
    let out = rtbench(&[
        "run",
        "--transports",
        "tcp,sse",
        "--clients",
        "2",
        "--rate",
        "20",
        "--warmup",
        "800ms",
        "--window",
        "800ms",
        "--tail",
        "100ms",
        "--drain",
        "1s",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "run failed: {stderr}");
    assert!(!stderr.contains('\u{1b}'), "escape codes in {stderr:?}");
    // Which stages a line is printed for depends on when the 250 ms ticker runs (a busy machine
    // can starve it past a whole stage); what does not: each phase's stage lines are plain, name
    // its transport, come in the phases' order, each stage at most once, and the phase ends in
    // its one result line.
    const STAGES: [&str; 6] = [
        "connecting",
        "starting",
        "warm-up",
        "window",
        "tail",
        "drain",
    ];
    for transport in ["tcp", "sse"] {
        let seen: Vec<usize> = stderr
            .lines()
            .filter(|l| l.contains(&format!("· {transport} ·")))
            .map(|l| {
                STAGES
                    .iter()
                    .position(|s| l.contains(&format!("· {s} ·")))
                    .unwrap_or_else(|| panic!("a stage line without a stage: {l}"))
            })
            .collect();
        assert!(!seen.is_empty(), "{transport}: no stage line: {stderr}");
        assert!(
            seen.windows(2).all(|w| w[0] < w[1]),
            "{transport}: stages out of order or repeated: {stderr}"
        );
        let results = stderr
            .lines()
            .filter(|l| l.contains(&format!("· {transport}: ")) && l.contains("deliveries"))
            .count();
        assert_eq!(results, 1, "{transport}: one result line: {stderr}");
    }
    assert!(!stderr.contains("try /sse"), "the child's banner: {stderr}");
}
