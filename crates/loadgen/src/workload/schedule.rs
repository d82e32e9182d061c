//! One phase's concrete schedule: the rooms with their topics, every server event and every
//! client message with its offset from time zero, and the counts the row is checked against.

use super::arrivals::offsets;
use crate::config::{Arrivals, SendTo};
use crate::config::{ConfigError, LoadConfig};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rtbench_proto::Transport;
use std::sync::Arc;

/// One room: a topic and the clients subscribed to it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Room {
    /// The topic every member subscribes to.
    pub(crate) topic: String,
    /// The topic members' messages go to when they send to the server (`<topic>.in`).
    pub(crate) input_topic: Option<String>,
    /// Index of the first member; members are consecutive clients.
    pub(crate) first: u32,
    /// Members.
    pub(crate) members: u32,
    /// The first `senders` members send.
    pub(crate) senders: u32,
}

/// The schedule of one phase; offsets are nanoseconds from the phase's time zero.
#[derive(Debug, Clone)]
pub(crate) struct Workload {
    /// Rooms in client order.
    pub(crate) rooms: Vec<Room>,
    /// Members per room (the last room may have fewer).
    pub(crate) room_size: u32,
    /// Server events: `(offset, room)`, by offset.
    pub(crate) pushes: Vec<(u64, u32)>,
    /// Client messages: `(offset, client)`, by offset.
    pub(crate) sends: Arc<[(u64, u32)]>,
    /// Per room, the events its topic will carry (server events and room messages): sequence
    /// numbers `1..=room_events[r]` on a fresh topic.
    pub(crate) room_events: Vec<u64>,
    /// Per room, the messages its input topic will carry.
    pub(crate) input_events: Vec<u64>,
    /// Whether client messages go to the room (and are received) or to the input topic.
    pub(crate) send_to: Option<SendTo>,
    /// The measured window `[from, to)` as offsets.
    pub(crate) window: (u64, u64),
}

impl Workload {
    /// Builds the schedule of `config` for `transport` on fresh, randomly named topics.
    pub(crate) fn build(
        transport: Transport,
        config: &LoadConfig,
    ) -> Result<Workload, ConfigError> {
        let tag = format!("rtbench-{transport}-{:08x}", rand::random::<u32>());
        Workload::build_tagged(config, tag)
    }

    /// The schedule of `config` on the topics named after `tag` (a room's topic is the tag, or
    /// `<tag>-<room>` when there are several): what a load-generator shard rebuilds from the
    /// coordinator's tag, event for event (the schedule depends only on `config` and its seed).
    pub(crate) fn build_tagged(config: &LoadConfig, tag: String) -> Result<Workload, ConfigError> {
        config.validate()?;
        let k = config.effective_room_size() as u32;
        let senders_per_room = config
            .send
            .as_ref()
            .map_or(0, |s| s.senders_per_room.unwrap_or(u64::from(k)) as u32);
        let to_server = matches!(config.send.as_ref().map(|s| s.to), Some(SendTo::Server));
        let count = config.rooms() as u32;
        let rooms: Vec<Room> = (0..count)
            .map(|r| {
                let topic = if count == 1 {
                    tag.clone()
                } else {
                    format!("{tag}-{r}")
                };
                let first = r * k;
                let members = k.min(config.clients as u32 - first);
                Room {
                    input_topic: to_server.then(|| format!("{topic}.in")),
                    topic,
                    first,
                    members,
                    senders: senders_per_room.min(members),
                }
            })
            .collect();
        let mut rng = StdRng::seed_from_u64(config.seed);
        let pushes = push_offsets(config, &rooms, &mut rng);
        let sends = send_offsets(config, &rooms, &mut rng);
        let mut room_events = vec![0u64; rooms.len()];
        let mut input_events = vec![0u64; rooms.len()];
        for &(_, r) in &pushes {
            room_events[r as usize] += 1;
        }
        for &(_, c) in &sends {
            let r = (c / k) as usize;
            match to_server {
                true => input_events[r] += 1,
                false => room_events[r] += 1,
            }
        }
        let from = config.warmup.as_nanos() as u64;
        Ok(Workload {
            rooms,
            room_size: k,
            pushes,
            sends: sends.into(),
            room_events,
            input_events,
            send_to: config.send.as_ref().map(|s| s.to),
            window: (from, from + config.window.as_nanos() as u64),
        })
    }

    /// The topic tag the rooms' topics are named after (see [`Workload::build_tagged`]).
    pub(crate) fn tag(&self) -> &str {
        let first = &self.rooms[0].topic;
        match self.rooms.len() {
            1 => first,
            _ => first.strip_suffix("-0").unwrap_or(first),
        }
    }

    /// Per room, how many of its members have ids in `clients` (a shard's range).
    pub(crate) fn members_in(&self, clients: &std::ops::Range<u32>) -> Vec<u32> {
        self.rooms
            .iter()
            .map(|r| {
                let (a, b) = (
                    r.first.max(clients.start),
                    (r.first + r.members).min(clients.end),
                );
                b.saturating_sub(a)
            })
            .collect()
    }

    /// The room client `client` belongs to.
    pub(crate) fn room_of(&self, client: u32) -> usize {
        (client / self.room_size) as usize
    }

    /// Whether client `client` sends.
    pub(crate) fn is_sender(&self, client: u32) -> bool {
        let room = &self.rooms[self.room_of(client)];
        client - room.first < room.senders
    }

    /// Events inside the window that fan out to a room: server events and room messages.
    pub(crate) fn events_in_window(&self) -> u64 {
        let pushes = count_in(self.pushes.iter().map(|p| p.0), self.window);
        match self.send_to {
            Some(SendTo::Room) => pushes + self.sends_in_window(),
            _ => pushes,
        }
    }

    /// Client messages scheduled inside the window.
    pub(crate) fn sends_in_window(&self) -> u64 {
        count_in(self.sends.iter().map(|s| s.0), self.window)
    }

    /// First receipts every member of every room should make (its own messages included).
    pub(crate) fn expected_receipts(&self) -> u64 {
        self.rooms
            .iter()
            .zip(&self.room_events)
            .map(|(room, events)| u64::from(room.members) * events)
            .sum()
    }

    /// Offset of the last scheduled event or message.
    pub(crate) fn last_offset(&self) -> u64 {
        let push = self.pushes.last().map_or(0, |p| p.0);
        let send = self.sends.last().map_or(0, |s| s.0);
        push.max(send)
    }

    /// An offset in the quiet gap around `edge`: halfway between the last event or message
    /// before `edge` and the first at or after it, so a scrape there counts exactly the events
    /// before `edge` and never competes with a fan-out it could avoid.
    pub(crate) fn quiet_point(&self, edge: u64) -> u64 {
        let prev = last_before(&self.pushes, edge).max(last_before(&self.sends, edge));
        let next = first_at_or_after(&self.pushes, edge)
            .into_iter()
            .chain(first_at_or_after(&self.sends, edge))
            .min();
        match (prev, next) {
            (Some(p), Some(n)) => p + (n - p) / 2,
            (None, Some(n)) => n.saturating_sub(1_000_000),
            (Some(_), None) | (None, None) => edge,
        }
    }
}

/// The last offset before `edge` in a list sorted by offset.
fn last_before(sorted: &[(u64, u32)], edge: u64) -> Option<u64> {
    let i = sorted.partition_point(|e| e.0 < edge);
    i.checked_sub(1).map(|j| sorted[j].0)
}

/// The first offset at or after `edge` in a list sorted by offset.
fn first_at_or_after(sorted: &[(u64, u32)], edge: u64) -> Option<u64> {
    let i = sorted.partition_point(|e| e.0 < edge);
    sorted.get(i).map(|e| e.0)
}

/// How many of `offsets` lie in `[from, to)`.
fn count_in(offsets: impl Iterator<Item = u64>, (from, to): (u64, u64)) -> u64 {
    offsets.filter(|o| (from..to).contains(o)).count() as u64
}

/// Server events of every room, by offset. Fixed ticks of room `r` are shifted by
/// `r / rooms` of a period, so rooms tick evenly spread rather than all at once.
fn push_offsets(config: &LoadConfig, rooms: &[Room], rng: &mut StdRng) -> Vec<(u64, u32)> {
    if config.rate_per_s <= 0.0 {
        return Vec::new();
    }
    let span_s = config.span().as_secs_f64();
    let period = super::arrivals::period_ns(config.rate_per_s);
    let mut all = Vec::new();
    let mut one = Vec::new();
    for r in 0..rooms.len() as u64 {
        one.clear();
        let phase = period * r / rooms.len() as u64;
        offsets(
            config.arrivals,
            config.rate_per_s,
            span_s,
            phase,
            rng,
            &mut one,
        );
        if config.arrivals == Arrivals::Fixed {
            debug_assert_eq!(one.len() as u64, config.scheduled_events());
        }
        all.extend(one.iter().map(|&o| (o, r as u32)));
    }
    all.sort_unstable();
    all
}

/// Messages of every sender, bursts expanded, by offset. A fixed sender starts at a random phase
/// within its period, like a fleet of independent clients.
fn send_offsets(config: &LoadConfig, rooms: &[Room], rng: &mut StdRng) -> Vec<(u64, u32)> {
    let Some(send) = &config.send else {
        return Vec::new();
    };
    let span_s = config.span().as_secs_f64();
    let period = super::arrivals::period_ns(send.rate_per_s);
    let gap = send.burst_gap.as_nanos() as u64;
    let mut all = Vec::new();
    let mut one = Vec::new();
    for room in rooms {
        for client in room.first..room.first + room.senders {
            one.clear();
            let phase = match send.arrivals {
                Arrivals::Fixed => rng.random_range(0..period.max(1)),
                Arrivals::Poisson => 0,
            };
            offsets(send.arrivals, send.rate_per_s, span_s, phase, rng, &mut one);
            for &start in &one {
                all.extend((0..u64::from(send.burst)).map(|i| (start + i * gap, client)));
            }
        }
    }
    all.sort_unstable();
    all
}
