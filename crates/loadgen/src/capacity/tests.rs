//! The search's decisions on made-up rows: where the ramp stops, where bisection lands, and that
//! a `loadgen-bound` step is never capacity.

use super::*;
use rtbench_results::histogram::new_histogram;
use rtbench_results::{Latency, Overload, Row, Totals};
use std::cell::RefCell;

/// A row at `offered` clients with p99 `p99_ms`, `lost` events lost, marked `bound` or not.
fn row(offered: f64, p99_ms: f64, lost: u64, bound: bool) -> Row {
    Row {
        scenario: "capacity".into(),
        transport: Transport::Sse,
        conditions: "loopback".into(),
        clients: offered as u64,
        rate_per_s: 20.0,
        payload_bytes: 128,
        poll_interval_ms: 500,
        room_size: offered as u64,
        senders: 0,
        send_rate_per_s: 0.0,
        events: 20,
        sends: 0,
        sends_lost: 0,
        deliveries: 20 * offered as u64,
        lost,
        duplicated: 0,
        reordered: 0,
        lost_in_gaps: 0,
        notes: Vec::new(),
        overload: Overload {
            loadgen_bound: bound,
            ..Overload::default()
        },
        client_errors: 0,
        reconnects: 0,
        latency_us: Latency {
            p99: p99_ms * 1e3,
            ..Latency::default()
        },
        ratio_to_floor_p50: None,
        bytes_per_delivery: 0.0,
        requests_per_delivery: 0.0,
        server_cpu_us_per_delivery: 0.0,
        server_measured: true,
        client_cpu_us_per_delivery: 0.0,
        packets_per_delivery: None,
        kernel_bytes_per_delivery: None,
        meter_kernel_disagreement_pct: None,
        connections: None,
        memory_per_connection_bytes: None,
        memory_per_connection_at_connect_bytes: None,
        kernel_socket_memory_per_connection_bytes: None,
        idle_bytes_per_client_s: None,
        idle_requests_per_client_s: None,
        idle_server_cpu_us_per_client_s: None,
        spread: None,
        totals: Totals {
            window_us: 1_000_000,
            ..Totals::default()
        },
        client: rtbench_results::Client::Rust,
        latency_histogram: new_histogram(),
        ack: None,
        shards: Vec::new(),
    }
}

fn plan(bisections: u32) -> Plan {
    Plan {
        axis: Axis::Clients,
        steps: vec![10.0, 20.0, 40.0, 80.0, 160.0],
        bisections,
        bounds: Bounds::default(),
    }
}

/// Runs the search on a server whose rows `at(offered)` gives; the loads measured, in order.
fn run(plan: &Plan, at: impl Fn(f64) -> Row) -> (Curve, Vec<f64>) {
    let asked = RefCell::new(Vec::new());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (curve, rows) = rt
        .block_on(search(Transport::Sse, plan, |offered| {
            asked.borrow_mut().push(offered);
            let r = at(offered);
            async move { Ok(r) }
        }))
        .unwrap();
    assert_eq!(rows.len(), curve.steps.len());
    (curve, asked.into_inner())
}

#[test]
fn the_ramp_stops_at_the_first_broken_step_and_bisects_below_it() {
    // Holds up to 50 clients (p99 5 ms), then p99 600 ms: more than 250 ms above the lightest.
    let server = |c: f64| row(c, if c <= 50.0 { 5.0 } else { 600.0 }, 0, false);
    let (curve, asked) = run(&plan(0), server);
    assert_eq!(
        asked,
        [10.0, 20.0, 40.0, 80.0],
        "nothing after the first broken step"
    );
    assert_eq!(curve.capacity, Some(40.0));
    assert!(
        matches!(&curve.steps[3].verdict, Verdict::Broke(why) if why.contains("above the lightest"))
    );
    let (curve, asked) = run(&plan(3), server);
    assert_eq!(
        asked[4..],
        [60.0, 50.0, 55.0],
        "bisection between 40 and 80"
    );
    assert_eq!(curve.capacity, Some(50.0));
    assert_eq!(curve.capacity_step().unwrap().clients, 50);
    assert!(!curve.loadgen_limited);
}

#[test]
fn any_loss_or_an_absolute_bound_breaks_a_step() {
    let (curve, asked) = run(&plan(0), |c| row(c, 5.0, u64::from(c >= 20.0), false));
    assert_eq!((asked.len(), curve.capacity), (2, Some(10.0)));
    let mut p = plan(0);
    p.bounds.p99_max_ms = Some(100.0);
    let (curve, _) = run(&p, |c| row(c, c, 0, false)); // p99 in ms = clients
    assert_eq!(curve.capacity, Some(80.0), "160 ms is above 100 ms");
    let (curve, _) = run(&plan(0), |c| row(c, 5.0, 1, false));
    assert_eq!(curve.capacity, None, "even the lightest step lost events");
}

#[test]
fn a_loadgen_bound_step_is_never_capacity_and_ends_the_ramp() {
    let (curve, asked) = run(&plan(4), |c| row(c, 5.0, 0, c >= 40.0));
    assert_eq!(
        asked,
        [10.0, 20.0, 40.0],
        "no bisection past the load generator's limit"
    );
    assert_eq!(curve.capacity, Some(20.0));
    assert!(curve.loadgen_limited);
    assert_eq!(curve.steps[2].verdict, Verdict::LoadgenBound);
    // In bisection too: 60 broke, 50 was loadgen-bound.
    let (curve, asked) = run(&plan(3), |c| {
        row(c, if c <= 50.0 { 5.0 } else { 600.0 }, 0, c == 50.0)
    });
    assert_eq!(asked[4..], [60.0, 50.0], "no bisection past 50");
    assert!(matches!(curve.steps[4].verdict, Verdict::Broke(_)));
    assert_eq!(
        curve.capacity,
        Some(40.0),
        "50 held its bounds but was loadgen-bound"
    );
    assert!(curve.loadgen_limited);
}

#[test]
fn a_step_that_breaks_while_the_load_generator_is_saturated_is_loadgen_bound() {
    // 40 clients lost events and blew p99, but the load generator was saturated: the loss may be
    // its own, so the ramp ends there as loadgen-bound and bisection does not use it as the
    // first step that broke.
    let (curve, asked) = run(&plan(4), |c| {
        let broken = c >= 40.0;
        row(
            c,
            if broken { 900.0 } else { 5.0 },
            u64::from(broken),
            broken,
        )
    });
    assert_eq!(
        asked,
        [10.0, 20.0, 40.0],
        "no bisection towards a loadgen-bound step"
    );
    assert_eq!(curve.steps[2].verdict, Verdict::LoadgenBound);
    assert_eq!(curve.capacity, Some(20.0));
    assert!(curve.loadgen_limited);
}
