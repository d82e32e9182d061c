//! Faults injected during a phase: dropped connections and a server restart.
//!
//! - **Drops**: every `drop_every`, `ceil(drop_fraction × clients)` connections are dropped, half
//!   closed by the server (`POST /faults/close`: the server drops random connections of the phase's
//!   transport without a goodbye) and half reset by clients (a chosen client aborts its connection
//!   with a TCP reset). Rounds run from the first scheduled event to the end of the measured window,
//!   so the tail and drain leave time to resume.
//! - **Restart**: at `restart_server_at` after the first scheduled event, the server process is
//!   restarted through [`crate::control::RestartServer`] and the rest of the schedule is resumed on
//!   it ([`restart`]).
//!
//! Clients resume as their real counterparts do ([`crate::clients`]); whatever cannot be resumed is
//! counted lost and explained in the row's notes.

pub mod notes;
mod plan;
pub mod restart;

pub use plan::{FaultPlan, MIN_DROP_EVERY};

use crate::control::{Control, Snapshot};
use restart::RestartRecord;
use rtbench_proto::Transport;
use rtbench_proto::control::ScheduleResponse;
use rtbench_proto::mono_now_ns;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// Longest [`FaultRun::finish`] waits for the fault task (a restart in progress) to end.
const FINISH_TIMEOUT: Duration = Duration::from_secs(30);
/// Most fault errors kept for the notes.
const MAX_ERRORS: usize = 3;

/// What happened in one phase.
#[derive(Debug, Clone, Default)]
pub struct FaultReport {
    /// Drop rounds run.
    pub rounds: u64,
    /// Connections the server closed.
    pub server_closed: u64,
    /// Connections clients were told to reset.
    pub client_resets: u64,
    /// The first few fault requests that failed.
    pub errors: Vec<String>,
    /// Server restarts.
    pub restarts: Vec<RestartRecord>,
}

impl FaultReport {
    fn error(&mut self, e: String) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(e);
        }
    }

    /// Whether the server was restarted between `t0` and `t1` (CLOCK_MONOTONIC ns).
    pub fn restarted_between(&self, t0: u64, t1: u64) -> bool {
        self.restarts
            .iter()
            .any(|r| (t0..t1).contains(&r.killed_at_ns))
    }

    /// The server's counters over the window `[m0, m1]`, summed across any restart inside it
    /// (a restarted server counts from zero; see [`restart::delta_across`]).
    pub fn window_delta(&self, m0: (&Snapshot, u64), m1: (&Snapshot, u64)) -> (Snapshot, bool) {
        restart::delta_across(m0, &self.restarts, m1)
    }

    /// Notes for the row: what was injected, and what it cost.
    pub fn notes(&self, schedule: &ScheduleResponse) -> Vec<String> {
        let mut notes = Vec::new();
        if self.rounds > 0 {
            notes.push(format!(
                "{} drop rounds: {} connections closed by the server, {} reset by clients",
                self.rounds, self.server_closed, self.client_resets
            ));
        }
        notes.extend(self.restarts.iter().map(|r| r.describe(schedule)));
        notes.extend(
            self.errors
                .iter()
                .map(|e| format!("fault request failed: {e}")),
        );
        notes
    }
}

/// A fault task running beside a phase.
#[derive(Debug)]
pub struct FaultRun {
    task: Option<JoinHandle<FaultReport>>,
}

/// What the fault task needs from the phase.
#[derive(Debug)]
pub struct PhaseFaults {
    /// The plan.
    pub plan: FaultPlan,
    /// The phase's transport.
    pub transport: Transport,
    /// The schedule the server answered.
    pub schedule: ScheduleResponse,
    /// Payload bytes per event (to resume the schedule after a restart).
    pub payload_bytes: usize,
    /// End of the measured window, CLOCK_MONOTONIC ns: no drop round starts after it.
    pub window_end_ns: u64,
    /// One reset handle per client, in client order.
    pub resets: Vec<Arc<Notify>>,
    /// The server's control plane.
    pub control: Control,
}

impl FaultRun {
    /// No faults: the phase's workload has no single schedule to fault against.
    pub fn none() -> FaultRun {
        FaultRun { task: None }
    }

    /// Starts the fault task (nothing when the plan is empty).
    pub fn start(faults: PhaseFaults) -> FaultRun {
        if faults.plan.is_none() {
            return FaultRun { task: None };
        }
        FaultRun {
            task: Some(tokio::spawn(run(faults))),
        }
    }

    /// Waits (bounded) for the fault task and returns its report.
    pub async fn finish(self) -> FaultReport {
        let Some(mut task) = self.task else {
            return FaultReport::default();
        };
        match tokio::time::timeout(FINISH_TIMEOUT, &mut task).await {
            Ok(Ok(report)) => report,
            Ok(Err(e)) => FaultReport {
                errors: vec![format!("fault task failed: {e}")],
                ..FaultReport::default()
            },
            Err(_) => {
                task.abort();
                FaultReport {
                    errors: vec!["fault task did not finish in time".into()],
                    ..FaultReport::default()
                }
            }
        }
    }
}

/// The fault timeline: drop rounds and the restart, in time order.
async fn run(f: PhaseFaults) -> FaultReport {
    let mut report = FaultReport::default();
    let start = f.schedule.start_mono_ns;
    let restart_at = f
        .plan
        .restart_server_at
        .map(|d| start + d.as_nanos() as u64);
    let every = f.plan.drop_every.as_nanos() as u64;
    let mut next_drop = if f.plan.drops() {
        Some(start + every)
    } else {
        None
    };
    let mut restart_at = restart_at;
    let clients = f.resets.len() as u64;
    loop {
        let next_round = next_drop.filter(|&t| t < f.window_end_ns);
        let (at, is_restart) = match (next_round, restart_at) {
            (Some(d), Some(r)) if r <= d => (r, true),
            (Some(d), _) => (d, false),
            (None, Some(r)) => (r, true),
            (None, None) => return report,
        };
        tokio::time::sleep(Duration::from_nanos(at.saturating_sub(mono_now_ns()))).await;
        if is_restart {
            restart_at = None;
            let record =
                restart::restart_and_resume(&f.control, &f.schedule, f.payload_bytes).await;
            report.restarts.push(record);
            continue;
        }
        next_drop = next_drop.map(|t| t + every);
        let (k, by_server) = f.plan.split(clients, report.rounds);
        report.rounds += 1;
        if by_server > 0 {
            match f.control.close_connections(f.transport, by_server).await {
                Ok(closed) => report.server_closed += closed,
                Err(e) => report.error(e.to_string()),
            }
        }
        for i in
            rand::seq::index::sample(&mut rand::rng(), clients as usize, (k - by_server) as usize)
        {
            f.resets[i].notify_one();
            report.client_resets += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_split_between_server_and_clients() {
        let plan = FaultPlan {
            drop_fraction: 0.1,
            drop_every: Duration::from_secs(2),
            restart_server_at: None,
        };
        assert_eq!(plan.split(100, 0), (10, 5));
        assert_eq!(plan.split(100, 1), (10, 5));
        assert_eq!(plan.split(5, 0), (1, 0), "ceil: at least one connection");
        assert_eq!(
            plan.split(5, 1),
            (1, 1),
            "an odd count alternates the extra one"
        );
        assert_eq!(plan.split(0, 0), (0, 0));
        let all = FaultPlan {
            drop_fraction: 1.0,
            ..plan.clone()
        };
        assert_eq!(all.split(7, 0), (7, 3));
        assert!(!FaultPlan::default().drops() && FaultPlan::default().is_none());
        assert_eq!(
            plan.describe().unwrap(),
            "10% of connections dropped every 2 s (half closed by the server, half reset by clients)"
        );
    }
}
