//! The workload a row was measured under, and the parameters a set of runs can sweep: clients,
//! event rate, payload, short-poll interval and network conditions.

use crate::format::number;
use rtbench_results::Row;
use rtbench_results::floor::FloorKey;

/// Network conditions in order of round-trip time, as the load generator names them; other names
/// follow in the order they first appear.
pub const CONDITIONS_ORDER: [&str; 4] = ["loopback", "lan", "continent", "mobile"];

/// What a transport was asked to do: the parameters a sweep can vary, plus the scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// Scenario name.
    pub scenario: String,
    /// Network conditions between clients and server.
    pub conditions: String,
    /// Position of `conditions` in the dataset's conditions, lowest round-trip time first.
    pub conditions_rank: usize,
    /// Clients subscribed.
    pub clients: u64,
    /// Events published per second.
    pub rate_per_s: f64,
    /// Payload bytes per event.
    pub payload_bytes: usize,
    /// Short-poll interval of the run, milliseconds.
    pub poll_interval_ms: u64,
    /// Whether the transport reads the poll interval (short polling only).
    pub reads_poll: bool,
}

/// A workload parameter that a set of runs can sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// Clients per transport.
    Clients,
    /// Events per second.
    Rate,
    /// Payload bytes per event.
    Payload,
    /// Short-poll interval.
    PollInterval,
    /// Network conditions (added round-trip time, bandwidth), by rank.
    Conditions,
}

impl Param {
    /// Every parameter, in the order the page shows sweeps.
    pub const ALL: [Param; 5] = [
        Param::Clients,
        Param::Rate,
        Param::Payload,
        Param::PollInterval,
        Param::Conditions,
    ];

    /// Axis title with its unit.
    pub fn axis(self) -> &'static str {
        match self {
            Param::Clients => "clients per transport",
            Param::Rate => "event rate (events/s)",
            Param::Payload => "payload (bytes per event)",
            Param::PollInterval => "short-poll interval (ms)",
            Param::Conditions => "network conditions (by round-trip time)",
        }
    }

    /// What the parameter is called in a sentence.
    pub fn name(self) -> &'static str {
        match self {
            Param::Clients => "clients",
            Param::Rate => "event rate",
            Param::Payload => "payload",
            Param::PollInterval => "poll interval",
            Param::Conditions => "network conditions",
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Param::Clients => " clients",
            Param::Rate => " events/s",
            Param::Payload => " B payload",
            Param::PollInterval => " ms poll interval",
            Param::Conditions => "",
        }
    }

    /// A value as a reader says it: `100 clients`, `20 events/s`, `500 ms poll interval`, or the
    /// name of the conditions of that rank in `conditions`.
    pub fn describe(self, v: f64, conditions: &[String]) -> String {
        match self {
            Param::Conditions => conditions
                .get(v as usize)
                .cloned()
                .unwrap_or_else(|| "?".into()),
            _ => format!("{}{}", number(v), self.unit()),
        }
    }

    /// A range of values: `2–200 events/s`, `lan–mobile`, or one value when both ends are equal.
    pub fn range(self, lo: f64, hi: f64, conditions: &[String]) -> String {
        if lo == hi {
            return self.describe(lo, conditions);
        }
        match self {
            Param::Conditions => format!(
                "{}–{}",
                self.describe(lo, conditions),
                self.describe(hi, conditions)
            ),
            _ => format!("{}–{}{}", number(lo), number(hi), self.unit()),
        }
    }

    /// This parameter's value in `w` (`None`: the transport does not read the poll interval).
    pub fn of(self, w: &Workload) -> Option<f64> {
        match self {
            Param::Clients => Some(w.clients as f64),
            Param::Rate => Some(w.rate_per_s),
            Param::Payload => Some(w.payload_bytes as f64),
            Param::PollInterval => w.reads_poll.then_some(w.poll_interval_ms as f64),
            Param::Conditions => Some(w.conditions_rank as f64),
        }
    }
}

impl Workload {
    /// The workload of `row`; `conditions_rank` is set once every row's conditions are known.
    pub fn of(row: &Row) -> Workload {
        Workload {
            scenario: row.scenario.clone(),
            conditions: row.conditions.clone(),
            conditions_rank: 0,
            clients: row.clients,
            rate_per_s: row.rate_per_s,
            payload_bytes: row.payload_bytes,
            poll_interval_ms: row.poll_interval_ms,
            reads_poll: row.transport.spec().polled,
        }
    }

    /// What its floor must share ([`rtbench_results::floor::FloorKey`]).
    pub fn floor_key(&self) -> FloorKey {
        FloorKey {
            scenario: self.scenario.clone(),
            conditions: self.conditions.clone(),
            clients: self.clients,
            rate_per_s: self.rate_per_s,
            payload_bytes: self.payload_bytes,
            poll_interval_ms: self.poll_interval_ms,
        }
    }

    /// True when `other` is the same workload in everything but `except`; the poll interval is only
    /// compared when both sides read it.
    pub fn matches(&self, other: &Workload, except: Option<Param>) -> bool {
        let same = |p: Param| match (p.of(self), p.of(other)) {
            (Some(a), Some(b)) => except == Some(p) || a == b,
            _ => true,
        };
        self.scenario == other.scenario
            && (except == Some(Param::Conditions) || self.conditions == other.conditions)
            && Param::ALL.iter().all(|&p| same(p))
    }
}

/// The conditions in `names`, known ones in round-trip order first, then the rest as they come.
pub fn order_conditions<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for n in names {
        if !seen.iter().any(|s| s == n) {
            seen.push(n.to_string());
        }
    }
    let rank = |n: &String| {
        CONDITIONS_ORDER
            .iter()
            .position(|k| k == n)
            .unwrap_or(CONDITIONS_ORDER.len())
    };
    seen.sort_by_key(rank);
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_sort_by_round_trip_and_name_their_rank() {
        let order = order_conditions(["mobile", "custom", "loopback", "mobile", "lan"].into_iter());
        assert_eq!(order, ["loopback", "lan", "mobile", "custom"]);
        assert_eq!(Param::Conditions.range(0.0, 2.0, &order), "loopback–mobile");
        assert_eq!(Param::Rate.range(2.0, 200.0, &order), "2–200 events/s");
        assert_eq!(
            Param::PollInterval.describe(500.0, &order),
            "500 ms poll interval"
        );
    }
}
