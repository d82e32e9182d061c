//! Each row's latency against the floor's: the ratio every report divides by.

use rtbench_proto::Transport;
use rtbench_results::Row;

/// Sets each row's `ratio_to_floor_p50` to its p50 over the floor row's p50 ([`Transport::FLOOR`])
/// of the same scenario under the same conditions.
pub fn fill_floor_ratios(rows: &mut [Row]) {
    let floors: Vec<(String, String, f64)> = rows
        .iter()
        .filter(|r| r.transport == Transport::FLOOR.as_str() && r.latency_us.p50 > 0.0)
        .map(|r| (r.scenario.clone(), r.conditions.clone(), r.latency_us.p50))
        .collect();
    for row in rows.iter_mut() {
        row.ratio_to_floor_p50 = floors
            .iter()
            .find(|(s, c, _)| *s == row.scenario && *c == row.conditions)
            .map(|(_, _, floor)| row.latency_us.p50 / floor);
    }
}
