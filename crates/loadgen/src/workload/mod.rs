//! The shape of a workload beyond "one topic, pushed to everyone": rooms, arrival processes and
//! messages clients send upstream ([`SendFlow`]; their types and limits are the configuration's,
//! [`crate::config`]) and — for one phase — the concrete schedule built from them ([`Workload`]).
//!
//! Clients are grouped into rooms of `room_size` members in client order (the last room may be
//! smaller); each room is one topic. The server publishes `rate_per_s` events per second to every
//! room (rooms' fixed ticks are spread evenly over one period, or each room draws its own Poisson
//! arrivals). The first `senders_per_room` members of each room also publish: to the room, where
//! every member receives the message, or to the room's *input* topic (`<room>.in`), which no client
//! subscribes to — the server takes the message in and nobody receives it (a game's inputs).

mod arrivals;
pub(crate) mod launch;
mod schedule;
pub(crate) mod start;

pub(crate) use schedule::Workload;

// The types and limits live with the rest of the configuration, which validates them.
pub use crate::config::{
    Arrivals, MAX_BURST, MAX_BURST_GAP, MAX_SENDS, MAX_TOPICS, SendFlow, SendTo,
};

#[cfg(test)]
mod tests;
