//! The measured textbook table from hand-made rows: ratings, verdicts and flips.

use super::*;
use crate::data::Dataset;
use crate::rating::Verdict;
use crate::test_support::{row, run};

fn base_rows(rate: f64) -> Vec<rtbench_results::Row> {
    vec![
        row("tcp", rate, 500, 500.0, 180.0),
        row("websocket", rate, 500, 600.0, 180.0),
        row("sse", rate, 500, 900.0, 200.0),
        row("long_poll", rate, 500, 1_200.0, 420.0),
        row("short_poll", rate, 500, 250_000.0, 200.0),
    ]
}

#[test]
fn each_cell_is_rated_from_its_ratio_to_the_floor() {
    let d = Dataset::new(&[run("a.json", base_rows(20.0))]).unwrap();
    let m = measure(&d);
    let techniques: Vec<&str> = m.rows.iter().map(|r| r.claim.technique).collect();
    assert_eq!(
        techniques,
        ["Short Polling", "Long Polling", "SSE", "WebSockets"]
    );
    let sp = &m.rows[0];
    assert_eq!(sp.latency.figure, "250 ms (500×)");
    assert_eq!(
        (sp.latency.rated, sp.latency.verdict),
        (Some("Alta"), Some(Verdict::Agrees))
    );
    assert_eq!(sp.overhead.figure, "200 B (1.11×)");
    assert_eq!(
        (sp.overhead.rated, sp.overhead.verdict),
        (Some("Muy Baja"), Some(Verdict::Lower(3)))
    );
    let lp = &m.rows[1];
    assert_eq!(
        (lp.latency.rated, lp.latency.verdict),
        (Some("Baja"), Some(Verdict::Lower(1)))
    );
    assert_eq!(
        (lp.overhead.rated, lp.overhead.verdict),
        (Some("Media"), Some(Verdict::Agrees))
    );
    assert_eq!(m.rows[2].latency.rated, Some("Baja"));
    assert_eq!(m.rows[3].latency.verdict, Some(Verdict::Agrees));
    assert_eq!(lp.other_cost, "requests 1 · server CPU 5 µs (1.00×)");
    assert_eq!(
        m.floor.as_deref(),
        Some("p50 500 µs, 180 B, 5 µs server CPU per delivery")
    );
    assert!(
        m.rows.iter().all(|r| r.latency.sweeps.is_empty()),
        "no sweep, no flip claimed"
    );
}

#[test]
fn a_rate_sweep_shows_where_short_polling_overhead_flips() {
    let low = vec![
        row("tcp", 2.0, 500, 400.0, 180.0),
        row("short_poll", 2.0, 500, 250_000.0, 900.0),
    ];
    let d = Dataset::new(&[run("base.json", base_rows(20.0)), run("low.json", low)]).unwrap();
    let m = measure(&d);
    assert_eq!(
        m.rows[0].overhead.sweeps,
        ["flips with event rate: agrees (Alta) at 2 events/s; disagrees (Muy Baja) at 20 events/s"]
    );
    assert_eq!(
        m.rows[0].latency.sweeps,
        ["holds across 2–20 events/s (Alta)"]
    );
    assert!(
        m.rows[1].overhead.sweeps.is_empty(),
        "long polling was not swept"
    );
}

#[test]
fn missing_transport_or_floor_is_said_not_guessed() {
    let d = Dataset::new(&[run(
        "a.json",
        vec![row("websocket", 20.0, 500, 600.0, 180.0)],
    )])
    .unwrap();
    let m = measure(&d);
    assert_eq!(m.rows[0].latency.verdict_text(), "not measured");
    assert_eq!(m.rows[3].latency.figure, "600 µs (–)");
    assert_eq!(
        m.rows[3].latency.verdict_text(),
        "no floor under this workload to rate against"
    );
    assert_eq!(m.floor, None);
}

#[test]
fn a_verdict_that_holds_while_the_level_moves_says_where_each_level_was() {
    let high = vec![
        row("tcp", 200.0, 500, 500.0, 180.0),
        row("long_poll", 200.0, 500, 600.0, 400.0),
    ];
    let d = Dataset::new(&[run("base.json", base_rows(20.0)), run("high.json", high)]).unwrap();
    assert_eq!(
        measure(&d).rows[1].latency.sweeps,
        ["disagrees across 20–200 events/s: Baja at 20 events/s, Muy Baja at 200 events/s"]
    );
}

#[test]
fn a_round_trip_sweep_shows_short_polling_latency_falling_to_media_alta() {
    let mut rows = Vec::new();
    for (cond, floor, poll) in [
        ("loopback", 500.0, 250_000.0),
        ("mobile", 150_000.0, 600_000.0),
    ] {
        for (t, p50) in [("tcp", floor), ("short_poll", poll)] {
            let mut r = row(t, 20.0, 500, p50, 180.0);
            r.conditions = cond.into();
            rows.push(r);
        }
    }
    let d = Dataset::new(&[run("a.json", rows)]).unwrap();
    assert_eq!(
        measure(&d).rows[0].latency.sweeps,
        [
            "flips with network conditions: agrees (Alta) at loopback; disagrees (Media-Alta) at mobile"
        ]
    );
}

/// Browser rows are points of their own: not merged into the Rust clients' point of the same
/// transport, rated in a row of their own after it, and labelled in the terminal table.
#[test]
fn browser_rows_stand_beside_the_rust_rows() {
    let mut rows = base_rows(20.0);
    let mut browser = row("websocket", 20.0, 500, 3_000.0, 181.0);
    browser.client = rtbench_results::Client::Browser;
    rows.push(browser);
    let r = run("a.json", rows);
    let d = Dataset::new(std::slice::from_ref(&r)).unwrap();
    assert_eq!(d.points.len(), 5);
    assert_eq!(d.browser.len(), 1);
    let ws = d
        .base_points()
        .into_iter()
        .find(|p| p.transport == Transport::WebSocket)
        .unwrap();
    assert!(
        ws.latency.p50 < 700.0,
        "the Rust point is not merged with the browser's"
    );
    assert_eq!(ws.deliveries, 1_000);
    let m = measure(&d);
    let techniques: Vec<&str> = m.rows.iter().map(|r| r.claim.technique).collect();
    assert_eq!(
        techniques,
        [
            "Short Polling",
            "Long Polling",
            "SSE",
            "WebSockets",
            "WebSockets (browser)"
        ]
    );
    assert_eq!(m.rows[4].latency.figure, "3.00 ms (6.00×)");
    assert_eq!(m.rows[4].overhead.figure, "181 B (1.01×)");
    let table = crate::render_table(&r.results);
    assert!(table.contains("websocket (browser)"), "{table}");
    assert!(table.contains("WebSockets (browser)"), "{table}");
}

#[test]
fn transports_beyond_the_chapter_get_a_part_of_their_own_rated_by_the_same_scales() {
    let d = Dataset::new(&[run("a.json", base_rows(20.0))]).unwrap();
    assert!(
        measure(&d).beyond.is_empty(),
        "only measured ones are shown"
    );
    let mut rows = base_rows(20.0);
    rows.push(row("socketio", 20.0, 500, 1_200.0, 420.0));
    let d = Dataset::new(&[run("a.json", rows.clone())]).unwrap();
    let m = measure(&d);
    assert_eq!(m.rows.len(), 4, "the chapter's part is unchanged");
    let sio: Vec<&str> = m.beyond.iter().map(|r| r.claim.technique).collect();
    assert_eq!(sio, ["Socket.IO"]);
    let r = &m.beyond[0];
    // The same ratios and thresholds as long polling's identical figures above.
    assert_eq!(r.latency.rated, Some("Baja"));
    assert_eq!(r.overhead.rated, Some("Media"));
    assert_eq!((r.latency.verdict, r.latency.claimed), (None, NO_CLAIM));
    assert_eq!(r.latency.verdict_text(), "beyond the chapter: no claim");
    let md = crate::render_markdown(&run("a.json", rows).results);
    assert!(md.contains("| *beyond the chapter* |"), "{md}");
    assert!(
        md.contains("| Socket.IO | – | 1.20 ms (2.40×) | Baja |"),
        "{md}"
    );
}
