//! `rtbench check` (docs/contract.md) against real servers: rtbench's own `rtbench serve`, the
//! Node.js reference server (`reference-servers/node`, installed here with `npm ci`), the Python
//! one (`reference-servers/python`, a venv under `target/`), and the Node server's two
//! deliberately broken variants, which must fail exactly the clauses they break; and against
//! targets that cannot be checked (down, answering HTML, events without the contract's fields),
//! which must end in one clear line and a non-zero exit, never a hang.
//!
//! A missing Node.js, npm registry, python3-venv or PyPI skips those tests with the reason printed;
//! `RTBENCH_REQUIRE_REAL_CLIENTS=1` (set by `.ci/run`) makes that a failure.

mod real_clients;
mod reference;

use real_clients::Serve;
use reference::{Node, Python, check, rtbench};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpListener;

/// The ring both servers are started with: small, so the gap clauses can overflow it quickly.
const RING: &str = "256";

/// The ids of the clauses that failed, from the check's table.
fn failed(stdout: &str) -> BTreeSet<String> {
    stdout
        .lines()
        .filter_map(|l| {
            let mut cols = l.split_whitespace();
            let id = cols.next()?;
            (cols.next()? == "FAIL").then(|| id.to_string())
        })
        .collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

fn assert_all_pass(out: &reference::Outcome) {
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(failed(&out.stdout).is_empty(), "{}", out.stdout);
    assert!(
        out.stdout.contains("21 passed, 0 failed, 0 skipped"),
        "{}",
        out.stdout
    );
}

#[test]
fn rtbench_serve_passes_every_clause() {
    let server = Serve::start(&["--ring-capacity", RING]);
    assert_all_pass(&check(&server.url(""), &[]));
}

#[test]
fn the_node_reference_server_passes_every_clause() {
    let Some(node) = Node::start(&["--ring", RING]) else {
        return;
    };
    assert_all_pass(&check(&node.url(), &[]));
}

#[test]
fn the_python_reference_server_passes_every_clause() {
    let Some(python) = Python::start(&["--ring", RING]) else {
        return;
    };
    assert_all_pass(&check(&python.url(), &[]));
}

#[test]
fn the_node_server_ignoring_the_cursor_fails_resume_and_gap() {
    let Some(node) = Node::start(&["--ring", RING, "--ignore-cursor"]) else {
        return;
    };
    let out = check(&node.url(), &["--clause-timeout", "3s"]);
    assert_eq!(out.code, Some(1), "{}", out.stdout);
    // Push transports resume only once, so only the resume and gap clauses see the cursor
    // ignored; polls send their cursor on every request, so their live delivery repeats too.
    let mut expected = set(&["long_poll.order", "short_poll.order"]);
    for t in ["websocket", "sse", "long_poll", "short_poll"] {
        expected.insert(format!("{t}.resume"));
        expected.insert(format!("{t}.gap"));
    }
    assert_eq!(failed(&out.stdout), expected, "{}", out.stdout);
}

#[test]
fn the_node_server_dropping_every_100th_event_fails_order_only() {
    let Some(node) = Node::start(&["--ring", RING, "--drop-every", "100"]) else {
        return;
    };
    let out = check(&node.url(), &["--clause-timeout", "3s"]);
    assert_eq!(out.code, Some(1), "{}", out.stdout);
    let expected = set(&[
        "websocket.order",
        "sse.order",
        "long_poll.order",
        "short_poll.order",
    ]);
    assert_eq!(failed(&out.stdout), expected, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("expected seq 100, got 101 (events lost)"),
        "{}",
        out.stdout
    );
}

/// One clear line on stderr, exit 2, nothing on stdout.
fn assert_one_line(out: &reference::Outcome, says: &str) {
    assert_eq!(out.code, Some(2), "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains(says), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

#[test]
fn a_target_that_is_down_gets_one_line() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let out = check(&format!("http://127.0.0.1:{port}"), &[]);
    assert_one_line(&out, "is down");
}

#[test]
fn a_non_loopback_target_is_refused_before_any_traffic() {
    let out = check("http://192.0.2.1:80", &[]);
    assert_one_line(&out, "not a loopback address");
}

/// A server answering every request with `status` and `body` of `content_type`, on a thread.
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
fn a_target_answering_html_gets_one_line() {
    let url = fake_server("text/html", "<!doctype html><title>hello</title>");
    let out = check(&url, &[]);
    assert_one_line(&out, "answered text/html");
}

#[test]
fn events_without_the_contract_fields_fail_with_the_reason() {
    // Publishes "work" ({"seq":1}) but polls answer events with other field names.
    let url = fake_server(
        "application/json",
        r#"{"seq":1,"dropped":0,"events":[{"id":1,"time":5,"data":"x"}]}"#,
    );
    let out = check(
        &url,
        &["--transports", "short_poll", "--clause-timeout", "2s"],
    );
    assert_eq!(out.code, Some(1), "{}{}", out.stdout, out.stderr);
    assert!(
        failed(&out.stdout).contains("short_poll.order"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(r#"not {"dropped":N,"events":[...]} of events {"seq","t_pub_ns","payload"}"#),
        "{}",
        out.stdout
    );
}

#[test]
fn a_target_that_accepts_and_never_answers_gets_a_timeout_line() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let held = std::thread::spawn(move || {
        // Hold the accepted connection open, silent, until the check gave up.
        let (conn, _) = listener.accept().unwrap();
        std::thread::sleep(std::time::Duration::from_secs(3));
        drop(conn);
    });
    let out = check(&url, &["--clause-timeout", "1s"]);
    assert_one_line(&out, "no answer within 1s");
    held.join().unwrap();
}

/// The committed target file of the Node server's `--paths alt` variant.
fn alt_paths_file() -> String {
    reference::folder("node")
        .join("alt-paths.toml")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn a_target_file_lets_the_check_pass_a_server_with_other_paths_and_fields() {
    let Some(node) = Node::start(&["--ring", RING, "--paths", "alt"]) else {
        return;
    };
    let file = alt_paths_file();
    let out = check(&node.url(), &["--target-file", &file]);
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("20 passed, 0 failed, 1 skipped"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("bad.no_topic       skipped"),
        "{}",
        out.stdout
    );
    // Without the file the contract's URLs are used, and the server does not serve them.
    let out = check(&node.url(), &[]);
    assert_eq!(out.code, Some(2), "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("answered 404"), "{}", out.stderr);
}

#[test]
fn a_bad_target_file_gets_one_line_per_problem_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.toml");
    std::fs::write(
        &file,
        "[urls]\nshort_poll = \"/poll?after={cursor}\"\nsse = \"sse?topic={topic}\"\n",
    )
    .unwrap();
    let out = check(
        "http://127.0.0.1:9",
        &["--target-file", file.to_str().unwrap()],
    );
    assert_eq!(out.code, Some(2), "{}{}", out.stdout, out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stderr);
    assert!(lines[0].contains("urls.short_poll: '/poll?after={cursor}' has no {topic}"));
    assert!(lines[1].contains("urls.sse: 'sse?topic={topic}' must start with '/'"));
    std::fs::write(&file, "[paths]\nsse = \"/sse?topic={topic}\"\n").unwrap();
    let out = rtbench(&[
        "run",
        "--target",
        "http://127.0.0.1:9",
        "--target-file",
        file.to_str().unwrap(),
    ]);
    assert_ne!(out.code, Some(0));
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("unknown field `paths`"),
        "{}",
        out.stderr
    );
}

/// Every ```yaml block of docs/contract.md, parsed by PyYAML into JSON; `None` (skipped, reason
/// printed) without python3's yaml module.
fn contract_workflows() -> Option<Vec<serde_json::Value>> {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/contract.md"),
    )
    .unwrap();
    let blocks: Vec<&str> = doc
        .split("```yaml\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap())
        .collect();
    assert!(blocks.len() >= 2, "the check and the compare workflows");
    let parse = "import json, sys, yaml\nprint(json.dumps([yaml.safe_load(b) for b in json.load(sys.stdin)]))";
    let mut child = match std::process::Command::new("python3")
        .args(["-c", parse])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            real_clients::unavailable(&format!("python3 for the YAML check: {e}"));
            return None;
        }
    };
    let input = serde_json::to_vec(&blocks).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("No module named 'yaml'") {
        real_clients::unavailable("python3's yaml module (Debian: python3-yaml)");
        return None;
    }
    assert!(
        out.status.success(),
        "a workflow is not valid YAML: {stderr}"
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn the_documented_ci_workflows_are_valid_yaml_running_check_and_compare() {
    let Some(workflows) = contract_workflows() else {
        return;
    };
    let runs: Vec<Vec<String>> = workflows
        .iter()
        .map(|w| {
            // PyYAML reads the `on:` key as YAML 1.1's boolean true.
            assert!(w["name"].is_string() && !w["true"].is_null(), "{w}");
            let jobs = w["jobs"].as_object().expect("jobs");
            jobs.values()
                .flat_map(|job| job["steps"].as_array().expect("steps").iter())
                .filter_map(|step| step["run"].as_str().map(str::to_string))
                .collect()
        })
        .collect();
    let has = |needle: &str| runs.iter().any(|w| w.iter().any(|r| r.contains(needle)));
    assert!(has("rtbench check http://127.0.0.1:8080"), "{runs:?}");
    assert!(
        has("rtbench run --target http://127.0.0.1:8080 --target-pid"),
        "{runs:?}"
    );
    assert!(
        has("rtbench compare bench/rtbench-baseline.json rtbench-out/results.json"),
        "{runs:?}"
    );
}
