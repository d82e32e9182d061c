//! The capacity table from made-up curves: which step is the capacity, what per core divides by,
//! and that a load-generator-bound transport is never given a server figure.

use super::*;

/// A step at `clients` clients (20 events/s) with `p99_ms`, `server_cores`, and a verdict.
pub(crate) fn step(clients: u64, p99_ms: f64, server_cores: f64, verdict: Verdict) -> Step {
    Step {
        offered: clients as f64,
        clients,
        rate_per_s: 20.0,
        deliveries_per_s: clients as f64 * 20.0,
        p99_us: p99_ms * 1e3,
        lost: 0,
        server_cpu_cores: server_cores,
        server_rss_bytes: Some(90 << 20),
        loadgen_cpu_cores: Some(0.5),
        server_cpu_us_per_delivery: 8.0,
        client_cpu_us_per_delivery: 9.5,
        loadgen_bound: verdict == Verdict::LoadgenBound,
        bisection: false,
        verdict,
    }
}

/// WebSocket held 5,000 clients and broke at 7,500; SSE held 5,000 then its load generator
/// saturated at 10,000.
pub(crate) fn curves() -> Vec<Curve> {
    let broke =
        Verdict::Broke("p99 1460.0 ms is more than 250 ms above the lightest step's".into());
    vec![
        Curve {
            transport: Transport::Sse,
            axis: "clients".into(),
            steps: vec![
                step(1_000, 20.0, 0.2, Verdict::Held),
                step(5_000, 50.0, 0.8, Verdict::Held),
                step(10_000, 80.0, 0.9, Verdict::LoadgenBound),
            ],
            capacity: Some(5_000.0),
            loadgen_limited: true,
            server_cpus: None,
        },
        Curve {
            transport: Transport::WebSocket,
            axis: "clients".into(),
            steps: vec![
                step(1_000, 20.0, 0.2, Verdict::Held),
                step(5_000, 47.0, 0.84, Verdict::Held),
                step(10_000, 3_600.0, 0.98, broke.clone()),
                step(7_500, 1_460.0, 0.95, broke),
            ],
            capacity: Some(5_000.0),
            loadgen_limited: false,
            server_cpus: Some(1),
        },
    ]
}

#[test]
fn the_table_states_capacity_per_core_and_who_gave_out() {
    let rows = table(&curves(), None);
    assert_eq!(
        rows.iter().map(|r| r.transport).collect::<Vec<_>>(),
        [Transport::WebSocket, Transport::Sse],
        "transport order"
    );
    let ws = &rows[0];
    assert_eq!(ws.held.as_ref().unwrap().clients, 5_000);
    assert_eq!(ws.per_core, Some((100_000.0, Cores::Given(1))));
    assert_eq!(ws.per_core_text(), "100,000 (÷ 1 server CPU)");
    assert!(
        ws.verdict.starts_with("held up to 5,000 clients (100,000 deliveries/s); broke at 7,500 clients because p99 1460.0 ms"),
        "the lightest broken step, bisection included: {}",
        ws.verdict
    );
    let sse = &rows[1];
    assert!(sse.lower_bound);
    assert_eq!(
        sse.per_core,
        Some((100_000.0 / 0.8, Cores::Measured(0.8))),
        "no CPU count recorded: divided by the cores measured"
    );
    assert_eq!(sse.per_core_text(), "≥ 125,000 (load generator bound)");
    assert!(
        sse.verdict
            .starts_with("LOADGEN-BOUND: held ≥ 5,000 clients")
            && sse.verdict.contains("saturated at 10,000 clients")
            && sse.verdict.contains("not the server's capacity"),
        "{}",
        sse.verdict
    );
    let cells = cells(sse);
    assert_eq!(cells[1], "≥ 5,000 clients");
    assert_eq!(
        cells[5], "8 µs · 9.5 µs",
        "server beside client CPU per delivery"
    );
}

#[test]
fn the_placement_counts_when_the_curve_does_not_and_the_curve_wins_when_it_does() {
    let rows = table(&curves(), Some(2));
    assert_eq!(rows[1].per_core, Some((50_000.0, Cores::Given(2))));
    assert_eq!(rows[0].per_core, Some((100_000.0, Cores::Given(1))));
}

#[test]
fn a_transport_that_broke_at_once_or_never_says_so() {
    let mut c = curves().remove(1);
    c.steps.drain(..2);
    c.capacity = None;
    let r = &table(&[c], None)[0];
    assert!(r.held.is_none() && r.per_core.is_none());
    assert_eq!(r.per_core_text(), "–");
    assert!(
        r.verdict
            .starts_with("broke at the lightest step, 7,500 clients"),
        "{}",
        r.verdict
    );
    let mut c = curves().remove(1);
    c.steps.truncate(2);
    let r = &table(&[c], None)[0];
    assert!(
        r.verdict.contains("the capacity is above the last step"),
        "{}",
        r.verdict
    );
}

#[test]
fn a_broken_step_with_a_saturated_load_generator_is_not_clean_evidence() {
    let mut c = curves().remove(1);
    c.steps[3].loadgen_bound = true;
    let r = &table(&[c], None)[0];
    assert!(r.verdict.contains("not clean evidence"), "{}", r.verdict);
}

#[test]
fn a_document_that_is_not_one_names_its_file() {
    let dir = std::env::temp_dir().join(format!("rtbench-capacity-doc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("capacity.json");
    std::fs::write(&path, b"{\"rows\": []}").unwrap();
    let e = load(&path).unwrap_err().to_string();
    assert!(e.contains("capacity.json: not a capacity document"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
