//! What a row says about the conditions and faults it ran under: the conditions' name, the
//! reconnect count, the part of the loss the server announced, and notes in words.

use super::FaultReport;
use crate::config::LoadConfig;
use crate::recorder::Tally;
use rtbench_proto::control::ScheduleResponse;
use rtbench_results::Row;

/// Fills the row's `conditions`, `reconnects`, `lost_in_gaps` and `notes`.
pub fn annotate(
    row: &mut Row,
    config: &LoadConfig,
    tallies: &[&Tally],
    faults: &FaultReport,
    schedule: &ScheduleResponse,
    counters_complete: bool,
) {
    let (first, last) = (schedule.first_seq, schedule.last_seq);
    row.conditions = config.conditions.name.clone();
    row.reconnects = tallies.iter().map(|t| t.reconnects()).sum();
    row.lost_in_gaps = tallies.iter().map(|t| t.lost_in_gaps(first, last)).sum();
    row.notes = faults.notes(schedule);
    if !counters_complete {
        row.notes.push(
            "the server's counters could not be read before a restart: bytes, requests and server CPU \
             per delivery count only the restarted server's part of the window"
                .into(),
        );
    }
    if row.lost > 0 {
        let unexplained = row.lost - row.lost_in_gaps.min(row.lost);
        let mut line = format!("lost {}: ", row.lost);
        if row.lost_in_gaps > 0 {
            line.push_str(&format!(
                "{} announced by the server's gap notices (client behind the ring, or history a restarted server no longer had)",
                row.lost_in_gaps
            ));
        }
        if unexplained > 0 {
            if row.lost_in_gaps > 0 {
                line.push_str("; ");
            }
            line.push_str(&format!(
                "{unexplained} never received by the end of the drain, without a gap notice"
            ));
        }
        row.notes.push(line);
    }
    if let Some(e) = tallies.iter().find_map(|t| t.error.as_deref()) {
        row.notes.push(format!("first client error: {e}"));
    }
}
