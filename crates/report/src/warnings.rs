//! Run-level warnings every view prints under the tables: a debug build's figures, a transport
//! whose median came out below the raw-TCP floor's, and an idle window too short to show the
//! periodic traffic it claims to measure. Row-level notes ([`crate::columns::notes`]) follow them.

use crate::columns::{ms, notes as row_notes};
use crate::environment::debug_build_note;
use crate::format::ratio;
use rtbench_results::{Results, Row, ServerSettings, floor};

/// Every note of `r` a reader must see under its tables, run-level first.
pub fn run_notes(r: &Results) -> Vec<String> {
    let mut out: Vec<String> = debug_build_note(r).into_iter().collect();
    if let Some(window_ms) = r.config.idle_window_ms {
        let keep_alive_ms = r
            .config
            .server
            .as_ref()
            .map_or(ServerSettings::default().sse_keep_alive_ms, |s| {
                s.settings.sse_keep_alive_ms
            });
        out.extend(idle_window_warning(
            window_ms,
            keep_alive_ms,
            r.config.longpoll_timeout_ms,
        ));
    }
    out.extend(r.rows.iter().filter_map(|row| below_floor(&r.rows, row)));
    out.extend(row_notes(&r.rows));
    out
}

/// What an idle window of `window_ms` cannot show: SSE's keep-alives when it is shorter than the
/// keep-alive period, long polling's re-issued request when shorter than the hold.
pub fn idle_window_warning(window_ms: u64, keep_alive_ms: u64, hold_ms: u64) -> Option<String> {
    let mut missed = Vec::new();
    if window_ms < keep_alive_ms {
        missed.push(format!(
            "SSE's keep-alive ({} s)",
            crate::format::number(keep_alive_ms as f64 / 1_000.0)
        ));
    }
    if window_ms < hold_ms {
        missed.push(format!(
            "the long-poll hold ({} s)",
            crate::format::number(hold_ms as f64 / 1_000.0)
        ));
    }
    (!missed.is_empty()).then(|| {
        format!(
            "the idle window ({} s) is shorter than {}: those transports' periodic traffic may \
             not fall inside it, so their idle bytes, requests and CPU can read 0 although they \
             are not; use an idle window that is a whole multiple of both (the default 30 s is)",
            crate::format::number(window_ms as f64 / 1_000.0),
            missed.join(" and ")
        )
    })
}

/// A note when `row`'s median is below its floor's: beyond the repetitions' spread when both were
/// repeated (the p50 ranges do not overlap), or with no measured noise to judge it by otherwise.
fn below_floor(rows: &[Row], row: &Row) -> Option<String> {
    let r = row.ratio_to_floor_p50.filter(|r| *r < 1.0)?;
    let floor_row = floor::floor_row(rows, row).filter(|f| f.transport != row.transport)?;
    let head = format!(
        "{} ({}): median {} ms is {} the raw-TCP floor's {} ms",
        row.transport,
        row.scenario,
        ms(row.latency_us.p50),
        ratio(Some(r)),
        ms(floor_row.latency_us.p50)
    );
    match (row.spread, floor_row.spread) {
        (Some(mine), Some(floor)) if mine.latency_p50_us.max < floor.latency_p50_us.min => {
            Some(format!(
                "{head}, beyond the repetitions' spread (its medians {}–{} ms, the floor's {}–{} \
                 ms): here the floor is not a lower bound, the two clients and server paths \
                 differ by more than the framing",
                ms(mine.latency_p50_us.min),
                ms(mine.latency_p50_us.max),
                ms(floor.latency_p50_us.min),
                ms(floor.latency_p50_us.max)
            ))
        }
        (Some(_), Some(_)) => Some(format!(
            "{head}, within the repetitions' spread: no real difference"
        )),
        _ => Some(format!(
            "{head}; one run measures no noise to judge this by (--repeat 3 does)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_idle_windows_are_named() {
        assert_eq!(idle_window_warning(30_000, 15_000, 30_000), None);
        let w = idle_window_warning(10_000, 15_000, 30_000).unwrap();
        assert!(
            w.contains("SSE's keep-alive (15 s) and the long-poll hold (30 s)"),
            "{w}"
        );
        let w = idle_window_warning(20_000, 15_000, 30_000).unwrap();
        assert!(!w.contains("SSE") && w.contains("long-poll hold"), "{w}");
    }

    #[test]
    fn a_median_below_the_floor_is_said_and_judged_by_the_spread() {
        use crate::test_support::row;
        use rtbench_results::{MinMax, Spread};
        let spread = |min, max| Spread {
            repeats: 3,
            latency_p50_us: MinMax { min, max },
            ..Spread::default()
        };
        let tcp = row("tcp", 20.0, 500, 1_000.0, 180.0);
        let mut ws = row("websocket", 20.0, 500, 870.0, 180.0);
        ws.ratio_to_floor_p50 = Some(0.87);
        let rows = vec![tcp.clone(), ws.clone()];
        let note = below_floor(&rows, &rows[1]).unwrap();
        assert!(
            note.contains("0.87×") && note.contains("no noise"),
            "{note}"
        );
        assert_eq!(below_floor(&rows, &rows[0]), None, "the floor itself");

        let (mut tcp, mut ws) = (tcp, ws);
        tcp.spread = Some(spread(950.0, 1_050.0));
        ws.spread = Some(spread(850.0, 900.0));
        let rows = vec![tcp.clone(), ws.clone()];
        let note = below_floor(&rows, &rows[1]).unwrap();
        assert!(note.contains("beyond the repetitions' spread"), "{note}");
        ws.spread = Some(spread(850.0, 960.0));
        let rows = vec![tcp, ws];
        let note = below_floor(&rows, &rows[1]).unwrap();
        assert!(note.contains("within the repetitions' spread"), "{note}");
    }
}
