//! The floor's ratio in `rtbench run`: once the run's own server has stopped, the plain-`write()`
//! calibration is measured at the floor row's client count and frame size, on the server's CPU
//! (drained from the load generator's), recorded in the results (`environment.write_cost`) and
//! printed as one line beside the table. Bounded to [`RUN_BUDGET_WRITES`] writes (warm-up
//! included), so it costs at most about 2 s: a floor with more clients than that allows (about
//! 9,000) is not calibrated in the run (`scripts/write-cost.sh` measures it). Nothing is measured
//! for a run without the floor or against a server given by address (its CPU is not ours to pin).

use super::{BYTES_RANGE, DEFAULT_WARMUP_ROUNDS, Params, measure};
use rtbench_proto::Transport;
use rtbench_results::{Results, Row, WriteCost};

/// Most writes the calibration of a run makes, warm-up and all repetitions together: about 1.5 s
/// at 6 µs a write (about the floor server's own cost at 5,000 clients here).
const RUN_BUDGET_WRITES: usize = 250_000;
/// Repetitions of the calibration in a run (the median is kept).
const RUN_REPETITIONS: usize = 3;
/// Fewest and most counted rounds per repetition.
const RUN_EVENTS: std::ops::RangeInclusive<usize> = 2..=20;

/// The floor row the calibration is for: the one with most clients that delivered something.
fn floor_row(results: &Results) -> Option<&Row> {
    results
        .rows
        .iter()
        .filter(|r| r.transport == Transport::Tcp && r.deliveries > 0)
        .max_by_key(|r| r.clients)
}

/// `results` with the plain-`write()` calibration recorded, when the run had the floor and its own
/// server (`own_server`); a calibration that fails is a warning, never the run's failure.
pub(crate) fn with_calibration(mut results: Results, own_server: bool) -> Results {
    let Some(row) = floor_row(&results).filter(|_| own_server) else {
        return results;
    };
    let clients = usize::try_from(row.clients).unwrap_or(usize::MAX);
    let warmup = clients.saturating_mul(DEFAULT_WARMUP_ROUNDS);
    let left = RUN_BUDGET_WRITES.saturating_sub(warmup) / (RUN_REPETITIONS * clients.max(1));
    if left < *RUN_EVENTS.start() {
        eprintln!(
            "note: the plain-write() calibration of the floor is not measured in a run of {clients} \
             clients (over 2 s); scripts/write-cost.sh {clients} measures it"
        );
        return results;
    }
    let bytes =
        (row.bytes_per_delivery.round() as usize).clamp(*BYTES_RANGE.start(), *BYTES_RANGE.end());
    let placement = &results.environment.placement;
    let params = Params {
        clients,
        bytes,
        events: left.min(*RUN_EVENTS.end()),
        repetitions: RUN_REPETITIONS,
        warmup_rounds: DEFAULT_WARMUP_ROUNDS,
        writer_cpu: placement.server_cpus.first().copied(),
        reader_cpu: placement.loadgen_cpus.first().copied(),
    };
    match measure(&params) {
        Ok(cost) => {
            results.environment.write_cost = Some(WriteCost {
                clients: row.clients,
                bytes,
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
        "floor server CPU per delivery {server_us:.2} µs = {:.2}× a plain write() ({:.2} µs, {} B to each of {} loopback sockets)",
        server_us / cost.us_per_write(),
        cost.us_per_write(),
        cost.bytes,
        cost.clients
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
        assert_eq!(floor_ratio_line(&results), None, "no calibration recorded");
        let row = floor_row(&results)
            .expect("the baseline has the floor")
            .clone();
        results.environment.write_cost = Some(WriteCost {
            clients: row.clients,
            bytes: 179,
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
