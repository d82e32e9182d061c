//! What a row says about the conditions and faults it ran under: the conditions' name, the
//! reconnect count, the part of the loss the server announced, and notes in words. Gathered
//! before the row is built, so the row is built once.

use super::FaultReport;
use crate::config::LoadConfig;
use crate::recorder::Tally;
use rtbench_proto::control::ScheduleResponse;

/// A row's account of its conditions and faults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowNotes {
    /// The conditions' name (`loopback` when none were added).
    pub conditions: String,
    /// Times clients reconnected.
    pub reconnects: u64,
    /// Of the loss, events the server announced as gone with a gap notice.
    pub lost_in_gaps: u64,
    /// Notes in words (empty when nothing happened).
    pub notes: Vec<String>,
}

/// The notes of a phase whose server events ran on `schedule`, given the `lost` count its row
/// will carry.
pub fn annotate(
    config: &LoadConfig,
    tallies: &[&Tally],
    faults: &FaultReport,
    (schedule, counters_complete): (&ScheduleResponse, bool),
    lost: u64,
) -> RowNotes {
    // A fresh topic: the schedule's events are 1..=last (the phase checked first_seq is 1).
    let last = schedule.last_seq;
    let lost_in_gaps = tallies.iter().map(|t| t.lost_in_gaps(last)).sum();
    let mut notes = faults.notes(schedule);
    if !counters_complete {
        notes.push(
            "the server's counters could not be read before a restart: bytes, requests and server CPU \
             per delivery count only the restarted server's part of the window"
                .into(),
        );
    }
    if lost > 0 {
        notes.push(loss_note(lost, lost_in_gaps));
    }
    if let Some(e) = tallies.iter().find_map(|t| t.error.as_deref()) {
        notes.push(format!("first client error: {e}"));
    }
    RowNotes {
        conditions: config.conditions.name.clone(),
        reconnects: tallies.iter().map(|t| t.reconnects()).sum(),
        lost_in_gaps,
        notes,
    }
}

/// `lost N: …` — how much of the loss the server announced and how much never arrived.
fn loss_note(lost: u64, lost_in_gaps: u64) -> String {
    let unexplained = lost - lost_in_gaps.min(lost);
    let mut line = format!("lost {lost}: ");
    if lost_in_gaps > 0 {
        line.push_str(&format!(
            "{lost_in_gaps} announced by the server's gap notices (client behind the ring, or history a restarted server no longer had)"
        ));
    }
    if unexplained > 0 {
        if lost_in_gaps > 0 {
            line.push_str("; ");
        }
        line.push_str(&format!(
            "{unexplained} never received by the end of the drain, without a gap notice"
        ));
    }
    line
}
