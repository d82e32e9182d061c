//! Starting a phase's server events and, once it is over, checking what clients' messages the
//! server published.
//!
//! One room at a fixed rate (the dashboard) starts with `POST /schedule`, exactly as before
//! scenarios existed; any other server events (many rooms, Poisson arrivals) go as an explicit
//! `POST /plan`; with no server events, time zero is simply chosen a little ahead. Both requests
//! name fresh topics, so each room's events carry sequence numbers from 1.

use super::Workload;
use crate::config::LoadConfig;
use crate::config::{Arrivals, SendTo};
use crate::control::Control;
use crate::error::LoadError;
use rtbench_proto::control::{PlanRequest, ScheduleRequest, ScheduleResponse};
use rtbench_proto::mono_now_ns;

/// Lead time between scheduling and time zero, so the schedule is known to every client (and
/// every sender) before anything is published.
pub(crate) const SCHEDULE_LEAD_MS: u64 = 250;

impl Workload {
    /// Starts the server's events and returns time zero (CLOCK_MONOTONIC ns), with the server's
    /// answer when one fixed-rate schedule (`POST /schedule`) carries them all.
    pub(crate) async fn start(
        &self,
        config: &LoadConfig,
        control: &Control,
    ) -> Result<(u64, Option<ScheduleResponse>), LoadError> {
        if self.pushes.is_empty() {
            return Ok((mono_now_ns() + SCHEDULE_LEAD_MS * 1_000_000, None));
        }
        let not_fresh = |what: String| {
            LoadError::Control(format!("{what}: the phase's topics must be new and empty"))
        };
        if self.rooms.len() == 1 && config.arrivals == Arrivals::Fixed {
            let request = ScheduleRequest {
                topic: self.rooms[0].topic.clone(),
                rate_per_s: config.rate_per_s,
                payload_bytes: config.payload_bytes,
                events: self.pushes.len() as u64,
                start_in_ms: SCHEDULE_LEAD_MS,
            };
            let schedule = match crate::target::publisher::client_stamping() {
                true => crate::target::publisher::start(control, &request)?,
                false => control.schedule(&request).await?,
            };
            let expected_period = self.pushes.get(1).map_or(schedule.period_ns, |p| p.0);
            if schedule.first_seq != 1 || schedule.period_ns != expected_period {
                return Err(not_fresh(format!(
                    "schedule answered first_seq {} and period {} ns (expected 1 and {expected_period})",
                    schedule.first_seq, schedule.period_ns
                )));
            }
            return Ok((schedule.start_mono_ns, Some(schedule)));
        }
        if crate::target::publisher::client_stamping() {
            return Err(LoadError::Control(
                "--stamping client publishes one room at a fixed rate (the dashboard's events); \
                 this workload needs the server's POST /plan"
                    .into(),
            ));
        }
        let request = PlanRequest {
            topics: self.rooms.iter().map(|r| r.topic.clone()).collect(),
            payload_bytes: config.payload_bytes,
            start_in_ms: SCHEDULE_LEAD_MS,
            events: self
                .pushes
                .iter()
                .map(|&(offset, room)| (room, offset))
                .collect(),
        };
        let plan = control.plan(&request).await?;
        if plan.first_seqs.iter().any(|&s| s != 1) {
            return Err(not_fresh("plan answered first_seqs other than 1".into()));
        }
        Ok((plan.start_mono_ns, None))
    }

    /// Clients' messages of the whole phase that the server never published (a failed request,
    /// a broken socket): for every topic that receives them, what was scheduled minus what the
    /// topic holds. Call after the phase, when nothing is in flight.
    pub(crate) async fn sends_lost(&self, control: &Control) -> Result<u64, LoadError> {
        let mut lost = 0;
        for (r, room) in self.rooms.iter().enumerate() {
            let (topic, expected) = match (self.send_to, &room.input_topic) {
                (Some(SendTo::Room), _) => (&room.topic, self.room_events[r]),
                (Some(SendTo::Server), Some(input)) => (input, self.input_events[r]),
                _ => continue,
            };
            if room.senders == 0 {
                continue;
            }
            lost += expected - control.published(topic, expected).await?;
        }
        Ok(lost)
    }
}
