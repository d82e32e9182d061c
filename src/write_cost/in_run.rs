//! The floor's ratio in `rtbench run`: once the run's own server has stopped, the plain-`write()`
//! calibration is measured at the floor row's client count, frame size and pace (one round per
//! event interval, so the sockets are as cold as the server's), on the server's CPU (drained from
//! the load generator's), recorded in the results (`environment.write_cost`) and printed as one
//! line beside the table. It runs by itself when it should take at most [`AUTO_BUDGET`] (the
//! dashboard's 100 clients at 20 events/s: about 0.2 s); longer ones need `--calibrate-write`
//! (5,000 clients at 2 events/s: about 2.5 s). Nothing is measured for a run without the floor or
//! against a server given by address (its CPU is not ours to pin).

use super::{BYTES_RANGE, DEFAULT_WARMUP_ROUNDS, Params, measure};
use rtbench_proto::Transport;
use rtbench_results::{Results, Row, WriteCost};
use std::time::Duration;

/// Longest calibration a run makes without `--calibrate-write`.
const AUTO_BUDGET: Duration = Duration::from_secs(2);
/// Writer CPU per write assumed when estimating a calibration's duration, µs.
const ESTIMATE_US_PER_WRITE: f64 = 8.0;
/// Counted rounds of the calibration in a run, one per repetition (the median is kept).
const RUN_REPETITIONS: usize = 3;
/// Longest pause before a counted round, whatever the event rate.
const MAX_PACE: Duration = Duration::from_secs(1);

/// The floor row the calibration is for: the one with most clients that delivered something.
fn floor_row(results: &Results) -> Option<&Row> {
    results
        .rows
        .iter()
        .filter(|r| r.transport == Transport::Tcp && r.deliveries > 0)
        .max_by_key(|r| r.clients)
}

/// `results` with the plain-`write()` calibration recorded, when the run had the floor and its own
/// server (`own_server`) and the calibration is short or `forced` (a note says why not, unless
/// `quiet`); a calibration that fails is a warning, never the run's failure.
pub(crate) fn with_calibration(
    mut results: Results,
    (own_server, forced, quiet): (bool, bool, bool),
) -> Results {
    let Some(row) = floor_row(&results).filter(|_| own_server) else {
        return results;
    };
    let clients = usize::try_from(row.clients).unwrap_or(usize::MAX);
    let bytes =
        (row.bytes_per_delivery.round() as usize).clamp(*BYTES_RANGE.start(), *BYTES_RANGE.end());
    let pace = if row.rate_per_s > 0.0 {
        Duration::from_secs_f64(1.0 / row.rate_per_s).min(MAX_PACE)
    } else {
        MAX_PACE
    };
    let writes = clients.saturating_mul(DEFAULT_WARMUP_ROUNDS + RUN_REPETITIONS);
    let estimate = Duration::from_secs_f64(writes as f64 * ESTIMATE_US_PER_WRITE / 1e6)
        + pace * RUN_REPETITIONS as u32;
    if estimate > AUTO_BUDGET && !forced {
        if quiet {
            return results;
        }
        eprintln!(
            "note: the floor's plain-write() calibration would take about {:.1} s: not measured \
             (--calibrate-write measures it)",
            estimate.as_secs_f64()
        );
        return results;
    }
    let placement = &results.environment.placement;
    let params = Params {
        clients,
        bytes,
        events: 1,
        repetitions: RUN_REPETITIONS,
        warmup_rounds: DEFAULT_WARMUP_ROUNDS,
        interval: pace,
        writer_cpu: placement.server_cpus.first().copied(),
        reader_cpu: placement.loadgen_cpus.first().copied(),
    };
    match measure(&params) {
        Ok(cost) => {
            results.environment.write_cost = Some(WriteCost {
                clients: row.clients,
                bytes,
                interval_ms: u64::try_from(pace.as_millis()).unwrap_or(u64::MAX),
                ns_per_write: (cost.median_us * 1000.0).round() as u64,
            });
        }
        Err(e) => eprintln!("warning: the plain-write() calibration of the floor failed: {e:#}"),
    }
    results
}

/// "floor server CPU per delivery X µs = R× a plain write()", when the results hold both.
pub(crate) fn floor_ratio_line(results: &Results) -> Option<String> {
    let cost = results.environment.write_cost.as_ref()?;
    let row = results
        .rows
        .iter()
        .find(|r| r.transport == Transport::Tcp && r.clients == cost.clients && r.deliveries > 0)?;
    if cost.ns_per_write == 0 {
        return None;
    }
    let server_us = row.server_cpu_us_per_delivery;
    Some(format!(
        "floor server CPU per delivery {server_us:.2} µs = {:.2}× a plain write() ({:.2} µs, {} B to \
         each of {} loopback sockets every {} ms)",
        server_us / cost.us_per_write(),
        cost.us_per_write(),
        cost.bytes,
        cost.clients,
        cost.interval_ms
    ))
}

/// Prints [`floor_ratio_line`] on stderr (stdout may carry the JSON document), unless `quiet`.
pub(crate) fn print_floor_ratio(results: &Results, quiet: bool) {
    if let Some(line) = floor_ratio_line(results).filter(|_| !quiet) {
        eprintln!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ratio_line_needs_the_calibration_and_its_row() {
        let path = std::path::Path::new("reports/baseline/results.json");
        let mut results =
            Results::from_json(include_str!("../../reports/baseline/results.json"), path).unwrap();
        // The committed baseline may carry a calibration of its own: start without one.
        results.environment.write_cost = None;
        assert_eq!(floor_ratio_line(&results), None, "no calibration recorded");
        let row = floor_row(&results)
            .expect("the baseline has the floor")
            .clone();
        results.environment.write_cost = Some(WriteCost {
            clients: row.clients,
            bytes: 179,
            interval_ms: 50,
            ns_per_write: (row.server_cpu_us_per_delivery * 500.0).round() as u64,
        });
        let line = floor_ratio_line(&results).unwrap();
        assert!(line.contains("= 2.00× a plain write()"), "{line}");
        results.environment.write_cost.as_mut().unwrap().clients += 1;
        assert_eq!(
            floor_ratio_line(&results),
            None,
            "no row at that client count"
        );
    }
}
