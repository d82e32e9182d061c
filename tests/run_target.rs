//! `rtbench run --target URL` (docs/contract.md, "Measuring a target") against servers rtbench did
//! not write: the Node.js and Python reference servers (`tests/reference/mod.rs` installs and
//! starts them) measured on the four HTTP transports with nothing lost, bytes counted at the load
//! generator's sockets and agreeing with those sockets' kernel counts, server CPU "not measured"
//! without `--target-pid` and read from /proc with it; `rtbench compare` gates the results; and
//! targets that cannot be measured (down, HTML, events without the contract's fields) end in one
//! line and a non-zero exit.
//!
//! A missing Node.js, npm registry, python3-venv or PyPI skips the reference-server tests with the
//! reason printed; `RTBENCH_REQUIRE_REAL_CLIENTS=1` (set by `.ci/run`) makes that a failure.

mod real_clients;
mod reference;

use reference::{Node, Outcome, Python, rtbench};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;

/// The four HTTP transports, in the order `run` measures them by default.
const FOUR: [&str; 4] = ["websocket", "sse", "long_poll", "short_poll"];

/// One measuring run at a time in this test binary: on a 2-core machine, runs in parallel starve
/// each other's load generator, whose window edges then come late and leave bytes out of the
/// window (rows of a few bytes per delivery were seen with nine at once).
static ONE_RUN: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A small run against `url` into `out` (plus `extra` flags), one at a time ([`ONE_RUN`]).
fn run_target(url: &str, out: &Path, extra: &[&str]) -> Outcome {
    let _one = ONE_RUN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut args = vec![
        "run",
        "--target",
        url,
        "--clients",
        "3",
        "--rate",
        "40",
        "--warmup",
        "200ms",
        "--window",
        "800ms",
        "--tail",
        "100ms",
        "--drain",
        "2s",
        "--poll-interval",
        "50ms",
        "--wide",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    rtbench(&args)
}

fn results(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("results.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Every HTTP transport measured, nothing lost, duplicated or reordered, bytes counted at the
/// client and agreeing with the kernel's count of the same sockets; the target recorded, its
/// events stamped by its own publisher.
fn assert_measured(url: &str, out: &Path, run: &Outcome) -> serde_json::Value {
    assert_measured_stamped(url, out, run, "server")
}

/// [`assert_measured`], with events stamped by `stamping`.
fn assert_measured_stamped(
    url: &str,
    out: &Path,
    run: &Outcome,
    stamping: &str,
) -> serde_json::Value {
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let r = results(out);
    let rows = r["rows"].as_array().unwrap();
    let names: Vec<&str> = rows
        .iter()
        .map(|row| row["transport"].as_str().unwrap())
        .collect();
    assert_eq!(names, FOUR, "the raw-TCP floor is not in the contract");
    for row in rows {
        let name = row["transport"].as_str().unwrap();
        assert!(row["deliveries"].as_u64().unwrap() > 0, "{name}");
        for field in ["lost", "duplicated", "reordered"] {
            assert_eq!(row[field].as_u64(), Some(0), "{name} {field}");
        }
        let bytes = row["bytes_per_delivery"].as_f64().unwrap();
        assert!(bytes > 50.0, "{name}: {bytes} B per delivery");
        let off = row["meter_kernel_disagreement_pct"].as_f64().unwrap();
        assert!(
            off < 5.0,
            "{name}: client meter vs its sockets' kernel: {off}%"
        );
    }
    let target = &r["config"]["target"];
    assert_eq!(target["url"].as_str(), Some(url));
    assert_eq!(target["stamping"].as_str(), Some(stamping));
    assert_eq!(target["bytes_counted_at"].as_str(), Some("client"));
    r
}

#[test]
fn node_reference_server_measured_without_pid_cpu_not_measured() {
    let Some(node) = Node::start(&[]) else { return };
    let dir = tempfile::tempdir().unwrap();
    let run = run_target(&node.url(), dir.path(), &[]);
    let r = assert_measured(&node.url(), dir.path(), &run);
    assert!(r["config"]["target"]["pid"].is_null());
    for row in r["rows"].as_array().unwrap() {
        // Absent, not 0: nothing read the server's CPU or memory.
        assert_eq!(row["server_measured"].as_bool(), Some(false), "{row}");
        assert!(row.get("server_cpu_us_per_delivery").is_none(), "{row}");
        assert!(row["totals"].get("server_cpu_us").is_none(), "{row}");
        assert!(row["totals"].get("server_rss_bytes").is_none(), "{row}");
    }
    assert!(run.stdout.contains("not measured"), "{}", run.stdout);
    assert!(
        run.stdout.contains("server CPU and RSS not measured"),
        "{}",
        run.stdout
    );
    // The compare gate reads these results like any other run's.
    let json = dir.path().join("results.json");
    let gate = rtbench(&["compare", json.to_str().unwrap(), json.to_str().unwrap()]);
    assert_eq!(gate.code, Some(0), "{}{}", gate.stdout, gate.stderr);
}

#[test]
fn python_reference_server_measured_with_pid_has_server_cpu() {
    let Some(python) = Python::start(&[]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let pid = python.pid().to_string();
    let run = run_target(&python.url(), dir.path(), &["--target-pid", &pid]);
    let r = assert_measured(&python.url(), dir.path(), &run);
    assert_eq!(
        r["config"]["target"]["pid"].as_u64(),
        Some(python.pid().into())
    );
    let rows = r["rows"].as_array().unwrap();
    let cpu_us: u64 = rows
        .iter()
        .map(|row| row["totals"]["server_cpu_us"].as_u64().unwrap())
        .sum();
    assert!(cpu_us > 0, "the server's CPU over four windows, from /proc");
    assert!(
        rows.iter()
            .all(|row| row["totals"]["server_rss_bytes"].as_u64().unwrap_or(0) > 0),
        "RSS from /proc on every row"
    );
    assert!(!run.stdout.contains("not measured (no --target-pid)"));
}

#[test]
fn a_target_file_measures_a_server_with_other_paths_and_field_names() {
    let Some(node) = Node::start(&["--paths", "alt"]) else {
        return;
    };
    let file = reference::folder("node").join("alt-paths.toml");
    let dir = tempfile::tempdir().unwrap();
    let run = run_target(
        &node.url(),
        dir.path(),
        &["--target-file", file.to_str().unwrap()],
    );
    assert_measured(&node.url(), dir.path(), &run);
    // The same server without the file: the contract's URLs are not served there.
    let dir = tempfile::tempdir().unwrap();
    let out = run_target(&node.url(), dir.path(), &[]);
    assert_one_line(&out, "answered 404");
}

#[test]
fn client_stamping_against_the_node_server_needs_only_its_publish_endpoint() {
    let Some(node) = Node::start(&["--paths", "alt"]) else {
        return;
    };
    // The alt server's URLs, with a schedule endpoint it does not serve: only the client's
    // publisher can produce the events.
    let alt = std::fs::read_to_string(reference::folder("node").join("alt-paths.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("relay-only.toml");
    std::fs::write(
        &file,
        alt.replace(
            "schedule = \"/api/schedule\"",
            "schedule = \"/api/nowhere\"",
        ),
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let out_dir = dir.path().join("server");
    let run = run_target(&node.url(), &out_dir, &["--target-file", file]);
    assert_ne!(run.code, Some(0), "the server's publisher is not there");
    let out_dir = dir.path().join("client");
    std::fs::create_dir_all(&out_dir).unwrap();
    let run = run_target(
        &node.url(),
        &out_dir,
        &["--target-file", file, "--stamping", "client"],
    );
    assert_measured_stamped(&node.url(), &out_dir, &run, "client");
    assert!(
        run.stdout
            .contains("stamped by the load generator's publisher client"),
        "{}",
        run.stdout
    );
}

#[test]
fn client_stamping_against_rtbench_serve_delivers_everything() {
    let server = real_clients::Serve::start(&[]);
    let url = server.url("");
    let dir = tempfile::tempdir().unwrap();
    let run = run_target(&url, dir.path(), &["--stamping", "client"]);
    assert_measured_stamped(&url, dir.path(), &run, "client");
}

/// One line on stderr, non-zero exit, nothing written.
fn assert_one_line(out: &Outcome, says: &str) {
    assert_ne!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(out.code.is_some(), "killed at the limit: a hang");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains(says), "{}", out.stderr);
}

/// A server answering every request with `body` of `content_type`, on a thread.
fn fake_server(content_type: &'static str, body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(200) {
            let Ok(mut s) = stream else { return };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(answer.as_bytes());
        }
    });
    format!("http://{addr}")
}

#[test]
fn a_target_that_is_down_gets_one_line() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let out = run_target(&format!("http://127.0.0.1:{port}"), dir.path(), &[]);
    assert_one_line(&out, "is down");
}

#[test]
fn a_target_answering_html_gets_one_line() {
    let url = fake_server("text/html", "<!doctype html><title>hello</title>");
    let dir = tempfile::tempdir().unwrap();
    let out = run_target(&url, dir.path(), &[]);
    assert_one_line(&out, "text/html");
}

#[test]
fn a_target_sending_events_without_the_fields_gets_one_line() {
    let url = fake_server(
        "application/json",
        r#"{"seq":1,"dropped":0,"events":[{"id":1,"time":5,"data":"hello"}]}"#,
    );
    let dir = tempfile::tempdir().unwrap();
    let out = run_target(&url, dir.path(), &[]);
    assert_one_line(&out, "not an event batch");
}

#[test]
fn a_non_loopback_target_and_a_pid_without_a_target_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_target("http://192.0.2.1:80", dir.path(), &[]);
    assert_one_line(&out, "not a loopback address");
    let out = rtbench(&["run", "--target-pid", "1"]);
    assert_one_line(&out, "--target");
}
