//! Clients nobody here wrote, against a real `rtbench serve` child: `curl -N` on `/sse` (and its
//! resume with `Last-Event-ID`), Python's `websockets` on `/ws`, and `sseclient-py` on `/sse`.
//! Each must receive a published sequence in order with its payloads: 5 events published before
//! it connects (replayed from its cursor), then 7 while it is connected.
//!
//! The Python libraries are installed by this test into a venv under `target/` (pip from PyPI).
//! A client that cannot be had (no curl, no network for pip) skips its test with the reason
//! printed; `.ci/run` sets `RTBENCH_REQUIRE_REAL_CLIENTS=1`, which makes that a failure.

mod real_clients;

use real_clients::{Client, Serve, event, runs, unavailable};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Events published before the client connects.
const BEFORE: u64 = 5;
/// Events in all.
const TOTAL: u64 = 12;

fn payload(seq: u64) -> String {
    format!("third-party-{seq}")
}

/// Publishes [`BEFORE`] events to `topic`, starts the client, reads them, publishes the rest and
/// reads those: all [`TOTAL`] must arrive in order with their payloads. `pick` reads one
/// delivery from a line of the client's output.
fn receives_the_sequence(
    server: &Serve,
    topic: &str,
    start: impl FnOnce() -> Client,
    pick: fn(&str) -> Option<(u64, String)>,
) {
    for seq in 1..=BEFORE {
        assert_eq!(server.publish(topic, &payload(seq)), seq);
    }
    let client = start();
    let mut got: Vec<(u64, String)> = (1..=BEFORE).map(|_| client.next(pick)).collect();
    for seq in BEFORE + 1..=TOTAL {
        assert_eq!(server.publish(topic, &payload(seq)), seq);
    }
    got.extend((BEFORE + 1..=TOTAL).map(|_| client.next(pick)));
    let expected: Vec<(u64, String)> = (1..=TOTAL).map(|s| (s, payload(s))).collect();
    assert_eq!(got, expected);
}

/// An event from an SSE `data:` line.
fn sse_data(line: &str) -> Option<(u64, String)> {
    event(line.strip_prefix("data: ")?)
}

fn curl(args: &[&str]) -> Client {
    let mut command = Command::new("curl");
    command.args(["-sN", "--max-time", "60"]).args(args);
    Client::spawn(command)
}

#[test]
fn curl_receives_an_sse_sequence_in_order_and_resumes_with_last_event_id() {
    if !runs("curl") {
        return unavailable("curl is not installed");
    }
    let server = Serve::start(&[]);
    let url = server.url("/sse?topic=curl");
    receives_the_sequence(&server, "curl", || curl(&[&url]), sse_data);
    let resumed = curl(&["-H", "Last-Event-ID: 9", &url]);
    let after_9: Vec<u64> = (10..=TOTAL).map(|_| resumed.next(sse_data).0).collect();
    assert_eq!(after_9, (10..=TOTAL).collect::<Vec<_>>());
}

/// A Python with `websockets` and `sseclient-py`, in a venv this test makes under `target/`;
/// the reason when it cannot be had.
fn python_with_clients() -> Result<PathBuf, String> {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PYTHON.get_or_init(make_venv).clone()
}

fn make_venv() -> Result<PathBuf, String> {
    real_clients::venv::python_venv(
        "third-party-venv",
        &["websockets>=13,<18", "sseclient-py>=1.8,<2"],
        "websockets, sseclient",
    )
}

fn python_client(python: &Path, script: &str, url: &str) -> Client {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/real_clients")
        .join(script);
    let mut command = Command::new(python);
    command.arg(script).arg(url).arg(TOTAL.to_string());
    Client::spawn(command)
}

#[test]
fn python_websockets_receives_the_sequence_in_order() {
    let python = match python_with_clients() {
        Ok(python) => python,
        Err(reason) => return unavailable(&reason),
    };
    let server = Serve::start(&[]);
    let url = format!("ws://{}/ws?topic=pyws", server.http);
    let start = || python_client(&python, "ws_client.py", &url);
    receives_the_sequence(&server, "pyws", start, event);
}

#[test]
fn python_sseclient_receives_the_sequence_in_order() {
    let python = match python_with_clients() {
        Ok(python) => python,
        Err(reason) => return unavailable(&reason),
    };
    let server = Serve::start(&[]);
    let url = server.url("/sse?topic=pysse");
    let start = || python_client(&python, "sse_client.py", &url);
    receives_the_sequence(&server, "pysse", start, event);
}
