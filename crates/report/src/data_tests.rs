//! Merging rows into points, the base workload, floors and sweeps.

use super::*;
use crate::test_support::{row, run};
use rtbench_results::Transport;

#[test]
fn repeated_rows_merge_and_each_row_meets_the_floor_of_its_own_run() {
    let runs = [
        run(
            "a.json",
            vec![
                row("tcp", 20.0, 500, 50.0, 180.0),
                row("short_poll", 20.0, 500, 250_000.0, 200.0),
            ],
        ),
        run(
            "b.json",
            vec![
                row("tcp", 20.0, 100, 70.0, 190.0),
                row("short_poll", 20.0, 100, 50_000.0, 400.0),
            ],
        ),
        run("c.json", vec![row("tcp", 20.0, 500, 60.0, 190.0)]),
    ];
    let d = Dataset::new(&runs).unwrap();
    assert_eq!(
        d.points.len(),
        4,
        "a.json and c.json's tcp rows are one experiment"
    );
    let tcp = d.floor_for(&d.base).unwrap();
    assert_eq!(
        (tcp.rows, tcp.deliveries, tcp.workload.poll_interval_ms),
        (2, 2_000, 500)
    );
    assert!((tcp.bytes_per_delivery - 185.0).abs() < 1e-9);
    assert_eq!(tcp.histogram.len(), 2_000);
    let base: Vec<(&str, u64)> = d
        .base_points()
        .iter()
        .map(|p| (p.transport.as_str(), p.workload.poll_interval_ms))
        .collect();
    assert_eq!(base, [("tcp", 500), ("short_poll", 500)]);
    let sweep = d.sweep(Param::PollInterval).unwrap();
    assert_eq!(
        sweep
            .iter()
            .map(|p| p.workload.poll_interval_ms)
            .collect::<Vec<_>>(),
        [100, 500]
    );
    let floor_100 = d.floor_for(&sweep[0].workload).unwrap();
    assert_eq!(
        floor_100.workload.poll_interval_ms, 100,
        "b.json's own floor"
    );
    assert!((floor_100.latency.p50 - 70.0).abs() < 0.1);
    assert!(d.sweep(Param::Rate).is_none());
}

#[test]
fn rate_sweep_keeps_every_transport_and_sorts_by_value() {
    let runs = [
        run(
            "a.json",
            vec![
                row("websocket", 20.0, 500, 60.0, 180.0),
                row("tcp", 20.0, 500, 50.0, 180.0),
            ],
        ),
        run(
            "b.json",
            vec![
                row("tcp", 2.0, 500, 40.0, 180.0),
                row("websocket", 2.0, 500, 45.0, 180.0),
            ],
        ),
    ];
    let d = Dataset::new(&runs).unwrap();
    assert_eq!(d.transports, [Transport::Tcp, Transport::WebSocket]);
    let s = d.sweep(Param::Rate).unwrap();
    let got: Vec<(&str, f64)> = s
        .iter()
        .map(|p| (p.transport.as_str(), p.workload.rate_per_s))
        .collect();
    assert_eq!(
        got,
        [
            ("tcp", 2.0),
            ("tcp", 20.0),
            ("websocket", 2.0),
            ("websocket", 20.0)
        ]
    );
    assert_eq!(
        d.floor_for(&s[3].workload).unwrap().workload.rate_per_s,
        20.0
    );
}

#[test]
fn a_run_without_rows_names_the_file() {
    let err = Dataset::new(&[run("empty.json", vec![])])
        .unwrap_err()
        .to_string();
    assert!(err.contains("empty.json"), "{err}");
}

#[test]
fn conditions_sweep_in_round_trip_order_and_each_meets_its_own_floor() {
    let mut rows = Vec::new();
    for (cond, floor, sse) in [
        ("mobile", 80_000.0, 90_000.0),
        ("loopback", 500.0, 600.0),
        ("lan", 900.0, 1_000.0),
    ] {
        for (t, p50) in [("tcp", floor), ("sse", sse)] {
            let mut r = row(t, 20.0, 500, p50, 180.0);
            r.conditions = cond.into();
            rows.push(r);
        }
    }
    let d = Dataset::new(&[run("a.json", rows)]).unwrap();
    assert_eq!(d.conditions, ["loopback", "lan", "mobile"]);
    assert_eq!(
        d.base.conditions, "mobile",
        "the first row's conditions are the base"
    );
    let s = d.sweep(Param::Conditions).unwrap();
    let got: Vec<(&str, &str)> = s
        .iter()
        .map(|p| (p.transport.as_str(), p.workload.conditions.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("tcp", "loopback"),
            ("tcp", "lan"),
            ("tcp", "mobile"),
            ("sse", "loopback"),
            ("sse", "lan"),
            ("sse", "mobile")
        ]
    );
    let floor = d.floor_for(&s[4].workload).unwrap();
    assert_eq!(floor.workload.conditions, "lan");
    assert_eq!(d.range(Param::Conditions, 0.0, 1.0), "loopback–lan");
}

#[test]
fn server_cpu_not_measured_is_no_figure_on_the_page_nor_in_the_table() {
    let mut sse = row("sse", 20.0, 500, 300.0, 199.0);
    sse.server_measured = false;
    sse.server_cpu_us_per_delivery = 0.0;
    let runs = [run("target.json", vec![sse])];
    let d = Dataset::new(&runs).unwrap();
    let p = &d.points[0];
    assert!(!p.server_measured);
    assert_eq!(crate::charts::metric::Metric::ServerCpu.value(p), None);
    let cells = crate::columns::cells(
        &crate::columns::columns(&runs[0].results),
        &runs[0].results.rows[0],
    );
    assert_eq!(
        cells[cells.len() - 2],
        crate::columns::NOT_MEASURED,
        "srv µs/deliv: {cells:?}"
    );
}
