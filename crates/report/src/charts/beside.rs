//! The sections drawn from files beside the results: latency over time (the `.hlog` interval
//! logs) and capacity (`capacity.json`). Neither is on the page unless the report looked for them.

use super::hockey::{Figure, hockey};
use super::timeline::{Phases, timeline};
use super::{Section, Table, chart};
use crate::ReportError;
use crate::capacity::{self, Curve};
use crate::latency_log::LatencyLogs;
use rtbench_results::RunConfig;

/// The phase's parts, from the run's configuration (`None` when it recorded no window).
fn phases(c: &RunConfig) -> Option<Phases> {
    let s = |ms: u64| ms as f64 / 1e3;
    (c.window_ms > 0).then(|| Phases {
        warmup_end_s: s(c.warmup_ms),
        window_end_s: s(c.warmup_ms + c.window_ms),
        tail_end_s: s(c.warmup_ms + c.window_ms + c.tail_ms),
    })
}

/// Latency over time: one chart per interval log found beside `source` (the first results file),
/// or one sentence saying why there is none.
pub fn latency_over_time(
    logs: &LatencyLogs,
    source: &str,
    config: &RunConfig,
) -> Result<Section, ReportError> {
    let mut s = Section {
        id: "latency-over-time".into(),
        title: "Latency over time".into(),
        intro: format!(
            "p50, p99 and max of each one-second interval of the HdrHistogram interval logs \
             (latency-<transport>.hlog) beside {source}, by the time receipts arrived, warm-up \
             and tail shaded. A freeze, a fault's drops or a restart shows where it happened."
        ),
        charts: Vec::new(),
        skipped: Vec::new(),
        tables: Vec::new(),
    };
    let phases = phases(config);
    for log in &logs.logs {
        let suffix = match log.label.is_empty() {
            true => String::new(),
            false => format!(" ({})", log.label),
        };
        let caption = format!(
            "{}{suffix}: {} intervals, {} receipts. Spikes in max with a flat p99 are single \
             late deliveries; p99 rising with them is the whole population waiting.",
            log.file,
            log.intervals.len(),
            crate::format::whole(log.intervals.iter().map(|i| i.count as f64).sum())
        );
        s.charts.push(chart(
            format!("latency-over-time-{}", log.file.trim_end_matches(".hlog")),
            format!("{}{suffix}", crate::transport::label(log.transport)),
            caption,
            timeline(log, phases)?,
        ));
    }
    if logs.logs.is_empty() && logs.problems.is_empty() {
        s.skipped.push(format!(
            "No latency-<transport>.hlog beside {source}, so latency over time is not drawn \
             (rtbench run writes one per phase; capacity steps do not)."
        ));
    }
    for p in &logs.problems {
        s.skipped.push(format!("Not drawn: {p}."));
    }
    Ok(s)
}

/// The capacity section: the hockey sticks and the capacity table.
pub fn capacity(curves: &[Curve], placement_cpus: Option<u32>) -> Result<Section, ReportError> {
    let rows = capacity::table(curves, placement_cpus);
    let mut s = Section {
        id: "capacity".into(),
        title: "Capacity".into(),
        intro:
            "The capacity search (rtbench run --capacity-steps, capacity.json): each transport's \
                offered load was raised step by step until a step broke a bound, then bisected. \
                A hollow ring is a step whose load generator was saturated: it says nothing about \
                the server, and is never counted as capacity. A cross broke a bound."
                .into(),
        charts: Vec::new(),
        skipped: Vec::new(),
        tables: Vec::new(),
    };
    let mut drawn: Vec<&Curve> = curves
        .iter()
        .filter(|c| c.steps.iter().any(|s| s.offered_deliveries_per_s() > 0.0))
        .collect();
    drawn.sort_by_key(|c| crate::transport::rank(c.transport));
    if drawn.is_empty() {
        s.skipped
            .push("capacity.json holds no measured step, so nothing is drawn.".into());
    } else {
        s.charts.push(chart(
            "capacity-p99".into(),
            "p99 latency against offered load".into(),
            "The hockey stick: flat while the transport keeps up, then rising steeply where it \
             does not. Both axes log."
                .into(),
            hockey(&drawn, Figure::P99)?,
        ));
        s.charts.push(chart(
            "capacity-server-cpu".into(),
            "Server CPU against offered load".into(),
            "Server CPU over each step's window, in cores: where it flattens at the server's \
             cores, the server is saturated."
                .into(),
            hockey(&drawn, Figure::ServerCores)?,
        ));
    }
    let mut notes: Vec<String> = capacity::rss_note(&rows)
        .map(str::to_string)
        .into_iter()
        .collect();
    if rows.iter().any(|r| r.lower_bound) {
        notes.push(
            "LOADGEN-BOUND: the load generator saturated before the server broke a bound, so the \
             figure is a lower bound of the server's capacity, not its capacity; a bigger load \
             machine would move it up."
                .into(),
        );
    }
    s.tables.push(Table {
        class: "capacity",
        headers: capacity::HEADERS.iter().map(|h| h.to_string()).collect(),
        rows: rows.iter().map(capacity::cells).collect(),
        notes,
    });
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency_log::parse;
    use crate::test_support::hlog;

    /// Circles in `svg` of `colour`: (filled, hollow).
    fn circles(svg: &str, colour: &str) -> (usize, usize) {
        let filled = format!("fill=\"{colour}\" stroke=\"none\"");
        let hollow = format!("fill=\"none\" stroke=\"{colour}\"");
        let of = |needle: &str| {
            svg.lines()
                .filter(|l| l.starts_with("<circle") && l.contains(needle))
                .count()
        };
        (of(&filled), of(&hollow))
    }

    #[test]
    fn loadgen_bound_steps_are_hollow_and_broken_steps_crossed() {
        let s = capacity(&crate::capacity::tests::curves(), None).unwrap();
        let ids: Vec<&str> = s.charts.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["capacity-p99", "capacity-server-cpu"]);
        for c in &s.charts {
            assert_eq!(c.transport_names(), "websocket sse");
            // SSE: two steps held, the third saturated its load generator.
            assert_eq!(circles(&c.svg, "#009E73"), (2, 1), "{}", c.id);
            // WebSocket: two held, two broke (crosses, no ring).
            assert_eq!(circles(&c.svg, "#0072B2"), (2, 0), "{}", c.id);
            let crosses = c
                .svg
                .lines()
                .filter(|l| l.starts_with("<line") && l.contains("stroke=\"#0072B2\""))
                .count();
            assert_eq!(crosses, 4, "two strokes per broken step: {}", c.id);
            assert_eq!(circles(&c.svg, "#444444"), (1, 1), "legend: held, ring");
        }
        let t = &s.tables[0];
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0][0], "WebSocket");
        assert_eq!(t.rows[0][6], "100,000 (÷ 1 server CPU)");
        assert_eq!(t.rows[1][6], "≥ 125,000 (load generator bound)");
        assert!(t.notes.iter().any(|n| n.starts_with("LOADGEN-BOUND")));
    }

    #[test]
    fn one_latency_chart_per_log_with_warmup_and_tail_shaded() {
        let text = hlog(
            1_700_000_000,
            "sse",
            &[&[1_000_000], &[2_000_000, 90_000_000]],
        );
        let logs = LatencyLogs {
            logs: vec![parse("latency-sse.hlog", &text).unwrap()],
            problems: vec!["latency-tcp.hlog: unreadable after 0 intervals (x)".into()],
        };
        let mut config = crate::test_support::run("a.json", Vec::new())
            .results
            .config;
        config.tail_ms = 500;
        let s = latency_over_time(&logs, "a.json", &config).unwrap();
        assert_eq!(s.charts.len(), 1);
        let c = &s.charts[0];
        assert_eq!(c.id, "latency-over-time-latency-sse");
        assert_eq!(c.transport_names(), "sse");
        for key in [">p50<", ">p99<", ">max<", ">warm-up<", ">window<", ">tail<"] {
            let squeezed: String = c.svg.split_whitespace().collect();
            assert!(squeezed.contains(key), "{key} missing");
        }
        let shaded = c.svg.matches("fill=\"#F1F1F1\"").count();
        assert_eq!(shaded, 2, "warm-up and tail");
        assert_eq!(
            s.skipped,
            ["Not drawn: latency-tcp.hlog: unreadable after 0 intervals (x)."]
        );
        let none = latency_over_time(&LatencyLogs::default(), "a.json", &config).unwrap();
        assert!(none.charts.is_empty());
        assert!(none.skipped[0].starts_with("No latency-<transport>.hlog beside a.json"));
    }
}
