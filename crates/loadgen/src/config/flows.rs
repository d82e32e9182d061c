//! The workload's shape beyond "one topic, pushed to everyone", as configuration: rooms, arrival
//! processes and messages clients send upstream ([`SendFlow`]), with their limits and their
//! validation. The concrete schedule built from them is [`crate::workload`]'s.

use super::{ConfigError, LoadConfig, check};
use crate::upstream::stamp::MIN_SEND_PAYLOAD_BYTES;
use rtbench_proto::limits::{MAX_PAYLOAD_BYTES, MAX_PLAN_EVENTS, MAX_SCHEDULE_RATE_PER_S};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Most upstream messages one phase may schedule.
pub const MAX_SENDS: u64 = 2_000_000;
/// Most messages in one burst.
pub const MAX_BURST: u32 = 1_000;
/// Most topics one phase may use: the server's default topic limit.
pub const MAX_TOPICS: u64 = 10_000;
/// Longest gap between the messages of a burst.
pub const MAX_BURST_GAP: Duration = Duration::from_secs(60);

/// How the events of a flow are spaced in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arrivals {
    /// Every 1/rate, from a start that is fixed (server events) or random (each sender's phase).
    Fixed,
    /// Independent exponential gaps of mean 1/rate: a Poisson process.
    Poisson,
}

impl Arrivals {
    /// `fixed` or `poisson`.
    pub fn as_str(self) -> &'static str {
        match self {
            Arrivals::Fixed => "fixed",
            Arrivals::Poisson => "poisson",
        }
    }
}

/// Where clients' messages go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SendTo {
    /// To the sender's room: every member receives it (chat, collaboration).
    Room,
    /// To the room's input topic, which no client subscribes to (a game's inputs).
    Server,
}

/// Messages clients publish upstream.
#[derive(Debug, Clone, PartialEq)]
pub struct SendFlow {
    /// Members of each room that send (`None`: every member).
    pub senders_per_room: Option<u64>,
    /// Bursts per second per sender (one message each when `burst` is 1).
    pub rate_per_s: f64,
    /// How a sender's bursts are spaced.
    pub arrivals: Arrivals,
    /// Payload bytes per message; at least [`MIN_SEND_PAYLOAD_BYTES`], for the sender's stamp.
    pub payload_bytes: usize,
    /// Messages per burst.
    pub burst: u32,
    /// Time between the messages of one burst.
    pub burst_gap: Duration,
    /// Where the messages go.
    pub to: SendTo,
}

impl LoadConfig {
    /// Members per room: `room_size`, or every client.
    pub fn effective_room_size(&self) -> u64 {
        self.room_size.unwrap_or(self.clients)
    }

    /// Rooms (topics receiving server events or room messages).
    pub fn rooms(&self) -> u64 {
        self.clients.div_ceil(self.effective_room_size().max(1))
    }

    /// Clients that send upstream.
    pub fn senders(&self) -> u64 {
        let Some(send) = &self.send else { return 0 };
        let k = self.effective_room_size().max(1);
        let per_room = send.senders_per_room.unwrap_or(k).min(k);
        let full_rooms = self.clients / k;
        let last_room = self.clients % k;
        full_rooms * per_room + last_room.min(per_room)
    }

    /// Upstream messages per second per sender (0 when clients only receive).
    pub fn send_rate_per_s(&self) -> f64 {
        self.send
            .as_ref()
            .map_or(0.0, |s| s.rate_per_s * f64::from(s.burst))
    }

    /// Warm-up, window and tail: the scheduled part of a phase.
    pub(crate) fn span(&self) -> Duration {
        self.warmup + self.window + self.tail
    }
}

/// Checks the room and send settings of `c` and the size of the schedule they make.
pub(super) fn validate(c: &LoadConfig) -> Result<(), ConfigError> {
    let k = c.effective_room_size();
    check(
        (1..=c.clients).contains(&k),
        "room size",
        format!("between 1 and the client count ({})", c.clients),
        k,
    )?;
    let push_events = if c.rate_per_s > 0.0 {
        c.scheduled_events()
    } else {
        0
    };
    let one_fixed_room = c.rooms() == 1 && c.arrivals == Arrivals::Fixed;
    let planned = push_events.saturating_mul(c.rooms());
    check(
        one_fixed_room || planned <= MAX_PLAN_EVENTS as u64,
        "rooms × server events",
        format!("at most {MAX_PLAN_EVENTS}"),
        planned,
    )?;
    let mut receipts = push_events.saturating_mul(c.clients);
    let mut topics = c.rooms();
    if let Some(send) = &c.send {
        validate_send(c, send)?;
        let per_sender =
            (c.span().as_secs_f64() * send.rate_per_s).ceil() as u64 * u64::from(send.burst);
        let sends = per_sender.saturating_mul(c.senders());
        check(
            sends <= MAX_SENDS,
            "senders × messages",
            format!("at most {MAX_SENDS}"),
            sends,
        )?;
        match send.to {
            SendTo::Room => receipts = receipts.saturating_add(sends.saturating_mul(k)),
            SendTo::Server => topics *= 2,
        }
    }
    check(
        topics <= MAX_TOPICS,
        "topics (rooms, and their input topics)",
        format!("at most {MAX_TOPICS}"),
        topics,
    )?;
    check(
        receipts <= super::MAX_EXPECTED_DELIVERIES,
        "expected receipts (events × room members)",
        format!("at most {}", super::MAX_EXPECTED_DELIVERIES),
        receipts,
    )
}

fn validate_send(c: &LoadConfig, send: &SendFlow) -> Result<(), ConfigError> {
    let k = c.effective_room_size();
    let rate = send.rate_per_s;
    check(
        rate.is_finite() && rate > 0.0 && rate <= MAX_SCHEDULE_RATE_PER_S,
        "send rate",
        format!("greater than 0 and at most {MAX_SCHEDULE_RATE_PER_S} per second"),
        rate,
    )?;
    check(
        (MIN_SEND_PAYLOAD_BYTES..=MAX_PAYLOAD_BYTES).contains(&send.payload_bytes),
        "send payload",
        format!(
            "between {MIN_SEND_PAYLOAD_BYTES} (the sender's stamp) and {MAX_PAYLOAD_BYTES} bytes"
        ),
        send.payload_bytes,
    )?;
    check(
        (1..=MAX_BURST).contains(&send.burst),
        "burst",
        format!("between 1 and {MAX_BURST} messages"),
        send.burst,
    )?;
    check(
        send.burst_gap <= MAX_BURST_GAP,
        "burst gap",
        "at most 60s",
        format!("{:?}", send.burst_gap),
    )?;
    let senders = send.senders_per_room.unwrap_or(k);
    check(
        (1..=k).contains(&senders),
        "senders per room",
        format!("between 1 and the room size ({k})"),
        senders,
    )?;
    match send.to {
        SendTo::Room => check(
            k >= 2,
            "room size",
            "at least 2 when clients send to their room (someone must receive)",
            k,
        ),
        SendTo::Server => check(
            c.rate_per_s > 0.0,
            "rate",
            "greater than 0 when clients send to the server (otherwise nobody receives anything)",
            c.rate_per_s,
        ),
    }
}
