//! A server restart in the middle of a phase, and what it costs.
//!
//! The server's counters are read, the server process is restarted (through the
//! [`crate::control::RestartServer`] the caller supplied: a child process, or an in-process server
//! in a test), and once it answers, the rest of the schedule is resumed on it with the original
//! sequence numbers and scheduled times (`POST /schedule/resume`). The restarted server's ring starts
//! empty: events the old one published that a client had not yet read, and events due while it was
//! down, are gone. A client resuming with an older cursor is told so by a gap notice, which the
//! recorder counts as loss with its cause; the row's notes say what happened.

use crate::control::{Control, Snapshot, TransportCounters};
use rtbench_proto::control::ScheduleResponse;
use rtbench_proto::faults::ResumeRequest;
use rtbench_proto::mono_now_ns;
use std::time::Duration;

/// How long after the restarted server answers its first resumed event is scheduled, so the
/// resume request is in before it is due.
const RESUME_LEAD_NS: u64 = 100_000_000;
/// Longest wait for the restarted server to answer `/healthz`.
const HEALTHY_TIMEOUT: Duration = Duration::from_secs(15);

/// One restart, as it happened.
#[derive(Debug, Clone, Default)]
pub struct RestartRecord {
    /// When the restart began, CLOCK_MONOTONIC ns (the counters were read just before).
    pub killed_at_ns: u64,
    /// When the restarted server answered, CLOCK_MONOTONIC ns (0 if it never did).
    pub ready_at_ns: u64,
    /// The server's counters just before the restart (`None` if they could not be read).
    pub pre: Option<Snapshot>,
    /// First event the restarted server publishes (`None` if none was left or the resume failed).
    pub from_seq: Option<u64>,
    /// Why the restart or the resume failed, if it did.
    pub error: Option<String>,
}

/// First sequence number scheduled at or after `t_ns`, if the schedule has one.
pub fn seq_at_or_after(schedule: &ScheduleResponse, t_ns: u64) -> Option<u64> {
    let k = t_ns
        .saturating_sub(schedule.start_mono_ns)
        .div_ceil(schedule.period_ns.max(1));
    let seq = schedule.first_seq.checked_add(k)?;
    (seq <= schedule.last_seq).then_some(seq)
}

/// Restarts the server and resumes the schedule on it.
pub async fn restart_and_resume(
    control: &Control,
    schedule: &ScheduleResponse,
    payload_bytes: usize,
) -> RestartRecord {
    let pre = control.scrape().await.ok();
    let mut record = RestartRecord {
        killed_at_ns: mono_now_ns(),
        pre,
        ..RestartRecord::default()
    };
    if let Err(e) = control.restart_server().await {
        record.error = Some(format!("restart failed: {e}"));
        return record;
    }
    if !control.wait_healthy(HEALTHY_TIMEOUT).await {
        record.error = Some(format!(
            "restarted server did not answer within {HEALTHY_TIMEOUT:?}"
        ));
        return record;
    }
    record.ready_at_ns = mono_now_ns();
    let Some(from_seq) = seq_at_or_after(schedule, record.ready_at_ns + RESUME_LEAD_NS) else {
        return record;
    };
    let request = ResumeRequest {
        topic: schedule.topic.clone(),
        payload_bytes,
        start_mono_ns: schedule.start_mono_ns,
        period_ns: schedule.period_ns,
        first_seq: schedule.first_seq,
        from_seq,
        last_seq: schedule.last_seq,
    };
    match control.resume(&request).await {
        Ok(_) => record.from_seq = Some(from_seq),
        Err(e) => record.error = Some(format!("resuming the schedule failed: {e}")),
    }
    record
}

impl RestartRecord {
    /// One line for the row's notes.
    pub fn describe(&self, schedule: &ScheduleResponse) -> String {
        let at_s = self.killed_at_ns.saturating_sub(schedule.start_mono_ns) as f64 / 1e9;
        let mut line = format!("server restarted {at_s:.1} s after the first event");
        if let Some(e) = &self.error {
            line.push_str(&format!(": {e}; every later event is lost"));
            return line;
        }
        let down_s = self.ready_at_ns.saturating_sub(self.killed_at_ns) as f64 / 1e9;
        line.push_str(&format!(
            ", answering again {down_s:.2} s later; its ring was lost: "
        ));
        match (self.from_seq, seq_at_or_after(schedule, self.killed_at_ns)) {
            (Some(from), Some(unpublished)) => line.push_str(&format!(
                "events #{unpublished}–#{} (due while it was down or before the resume) were never \
                 published, and events before them that a client had not read yet are gone; resumed \
                 at #{from}; clients were told by gap notices (counted in lost)",
                from - 1
            )),
            _ => line.push_str("no event was left to resume"),
        }
        line
    }
}

fn add(a: TransportCounters, b: TransportCounters) -> TransportCounters {
    TransportCounters {
        bytes_sent: a.bytes_sent + b.bytes_sent,
        bytes_received: a.bytes_received + b.bytes_received,
        http_requests: a.http_requests + b.http_requests,
        // Kernel per-socket counts and gauges are not stitched across a restart.
        ..TransportCounters::default()
    }
}

fn sub(a: TransportCounters, b: TransportCounters) -> TransportCounters {
    TransportCounters {
        bytes_sent: a.bytes_sent.saturating_sub(b.bytes_sent),
        bytes_received: a.bytes_received.saturating_sub(b.bytes_received),
        http_requests: a.http_requests.saturating_sub(b.http_requests),
        ..TransportCounters::default()
    }
}

/// `later − earlier`, counter by counter.
fn delta(later: &Snapshot, earlier: &Snapshot) -> Snapshot {
    Snapshot {
        transports: std::array::from_fn(|i| sub(later.transports[i], earlier.transports[i])),
        server_cpu_us: later.server_cpu_us.saturating_sub(earlier.server_cpu_us),
        ..Snapshot::default()
    }
}

/// The server's counters over a window from scrape `m0` (taken at `t0` ns) to `m1` (at `t1`), as
/// one delta. A restart inside the window splits it: the old server's part up to the scrape taken
/// just before the restart, plus the new server's counters from zero. Returns `false` with the
/// delta when a pre-restart scrape failed and that part is missing.
pub fn delta_across(
    (m0, t0): (&Snapshot, u64),
    restarts: &[RestartRecord],
    (m1, t1): (&Snapshot, u64),
) -> (Snapshot, bool) {
    let mut total = Snapshot::default();
    let mut from = m0.clone();
    let mut complete = true;
    for r in restarts
        .iter()
        .filter(|r| (t0..t1).contains(&r.killed_at_ns))
    {
        match &r.pre {
            Some(pre) => total = sum(&total, &delta(pre, &from)),
            None => complete = false,
        }
        from = Snapshot::default();
    }
    (sum(&total, &delta(m1, &from)), complete)
}

fn sum(a: &Snapshot, b: &Snapshot) -> Snapshot {
    Snapshot {
        transports: std::array::from_fn(|i| add(a.transports[i], b.transports[i])),
        server_cpu_us: a.server_cpu_us + b.server_cpu_us,
        ..Snapshot::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(bytes: u64, cpu: u64) -> Snapshot {
        let mut s = Snapshot {
            server_cpu_us: cpu,
            ..Snapshot::default()
        };
        s.transports[2].bytes_sent = bytes;
        s
    }

    #[test]
    fn window_counters_add_up_across_a_restart() {
        let restart = |at, pre| RestartRecord {
            killed_at_ns: at,
            pre,
            ..RestartRecord::default()
        };
        let (m0, m1) = (snap(100, 10), snap(30, 4));
        // No restart in the window: a plain difference.
        let (d, ok) = delta_across(
            (&snap(100, 10), 0),
            &[restart(50, None)],
            (&snap(160, 19), 40),
        );
        assert_eq!(
            (d.transports[2].bytes_sent, d.server_cpu_us, ok),
            (60, 9, true)
        );
        // Restart at 20: old server 100 → 150, new server 0 → 30.
        let (d, ok) = delta_across((&m0, 0), &[restart(20, Some(snap(150, 15)))], (&m1, 40));
        assert_eq!(
            (d.transports[2].bytes_sent, d.server_cpu_us, ok),
            (80, 9, true)
        );
        // The pre-restart scrape failed: only the new server's part, flagged.
        let (d, ok) = delta_across((&m0, 0), &[restart(20, None)], (&m1, 40));
        assert_eq!((d.transports[2].bytes_sent, ok), (30, false));
    }

    #[test]
    fn sequence_at_a_time() {
        let s = ScheduleResponse {
            topic: "t".into(),
            start_mono_ns: 1_000,
            period_ns: 100,
            first_seq: 1,
            last_seq: 10,
        };
        assert_eq!(seq_at_or_after(&s, 0), Some(1));
        assert_eq!(seq_at_or_after(&s, 1_000), Some(1));
        assert_eq!(seq_at_or_after(&s, 1_001), Some(2));
        assert_eq!(seq_at_or_after(&s, 1_900), Some(10));
        assert_eq!(seq_at_or_after(&s, 1_901), None);
    }
}
