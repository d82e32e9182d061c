//! The page and the summary with what lies beside the results: the capacity section and table,
//! the per-core figure in the textbook table, latency over time, and nothing of either when the
//! report did not look.

use crate::latency_log::{LatencyLogs, parse};
use crate::test_support::{hlog, row, run};
use crate::{Beside, render_html, render_html_with, render_markdown_with};

fn runs() -> Vec<crate::Run> {
    vec![run(
        "a/results.json",
        ["tcp", "websocket", "sse", "long_poll", "short_poll"]
            .iter()
            .map(|t| row(t, 20.0, 500, 900.0, 200.0))
            .collect(),
    )]
}

fn beside(with_log: bool) -> Beside {
    let logs = match with_log {
        true => vec![
            parse(
                "latency-sse.hlog",
                &hlog(1, "sse", &[&[1_000_000], &[3_000_000]]),
            )
            .unwrap(),
        ],
        false => Vec::new(),
    };
    Beside {
        latency: Some(LatencyLogs {
            logs,
            problems: Vec::new(),
        }),
        capacity: Some(crate::capacity::tests::curves()),
    }
}

#[test]
fn the_page_has_the_capacity_and_latency_over_time_sections_in_place() {
    let page = render_html_with(&runs(), &beside(true)).unwrap();
    let doc = scraper::Html::parse_document(&page);
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    let order: Vec<usize> = [
        "id=\"latency\"",
        "id=\"latency-over-time\"",
        "id=\"cost\"",
        "id=\"capacity\"",
    ]
    .iter()
    .map(|id| page.find(id).unwrap_or_else(|| panic!("{id} missing")))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    assert!(page.contains("id=\"latency-over-time-latency-sse\""));
    assert!(page.contains("<th>deliveries/s per server core at the bound</th>"));
    assert!(page.contains("<td class=\"num\">≥ 100,000 (load generator bound)</td>"));
    assert!(
        page.contains("<td>100,000 (÷ 1 server CPU)</td>"),
        "the capacity table"
    );
    let plain = render_html(&runs()).unwrap();
    for absent in [
        "id=\"capacity\"",
        "id=\"latency-over-time\"",
        "per server core",
    ] {
        assert!(
            !plain.contains(absent),
            "{absent} without a capacity document"
        );
    }
}

#[test]
fn the_summary_has_the_capacity_table_and_says_when_no_log_was_found() {
    let md = render_markdown_with(&runs(), &beside(false));
    assert!(
        md.contains("## Capacity\n\nFrom capacity.json (2 transports, 7 steps)"),
        "{md}"
    );
    assert!(
        md.contains("| WebSocket | 5,000 clients | 100,000 | 47 ms | 0.84 cores · 90.0 MiB | 8 µs · 9.5 µs | 100,000 (÷ 1 server CPU) | held up to 5,000 clients"),
        "{md}"
    );
    assert!(md.contains("| SSE | ≥ 5,000 clients | ≥ 100,000 |"), "{md}");
    assert!(
        md.contains("No latency-<transport>.hlog beside a/results.json"),
        "{md}"
    );
    assert!(
        md.contains("| verdict | deliveries/s per server core at the bound | other cost"),
        "{md}"
    );
    assert!(
        md.contains("| **agrees** | – | requests") || md.contains("| – | requests"),
        "{md}"
    );
    assert!(
        md.contains(" ≥ 100,000 (load generator bound) | requests"),
        "{md}"
    );
    let md = render_markdown_with(&runs(), &beside(true));
    assert!(
        md.contains("- `latency-sse.hlog`: 2 one-second intervals; worst p99 3.00 ms"),
        "{md}"
    );
}
