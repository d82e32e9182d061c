//! What the command line may change on top of a scenario: single overrides (`--clients 50`) and
//! sweeps (`--sweep poll_interval=100ms,250ms,1s`), where each value is one point of the run.
//!
//! `rate` sets every rate of the scenario — the server's events per room and each sender's
//! messages — and `payload` every payload size, so a sweep of either moves the whole workload.

use crate::campaign::Point;
use crate::config::LoadConfig;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A sweep or override that cannot be used. Every message is one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SweepError {
    /// Not `KEY=V1,V2,...`.
    #[error("expected KEY=V1,V2,... with KEY one of {names}")]
    Shape {
        /// The knobs' names.
        names: String,
    },
    /// A key that names no knob.
    #[error("cannot sweep '{key}': expected one of {names}")]
    UnknownKnob {
        /// The key given.
        key: String,
        /// The knobs' names.
        names: String,
    },
    /// An empty value in the list.
    #[error("{key}: empty value in '{text}'")]
    EmptyValue {
        /// The knob's name.
        key: String,
        /// The whole argument.
        text: String,
    },
    /// A value that is not one of the knob's.
    #[error("{knob}={value}: {what}")]
    BadValue {
        /// The knob.
        knob: Knob,
        /// The value given.
        value: String,
        /// What is wrong with it.
        what: String,
    },
}

/// A parameter a sweep can vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Knob {
    /// Clients per transport.
    Clients,
    /// Short-poll interval.
    PollInterval,
    /// Payload bytes of server events and client messages.
    Payload,
    /// Server events per second per room, and messages per second per sender.
    Rate,
    /// Members per room.
    RoomSize,
}

impl Knob {
    /// Every knob, as named on the command line.
    pub const ALL: [(Knob, &'static str); 5] = [
        (Knob::Clients, "clients"),
        (Knob::PollInterval, "poll_interval"),
        (Knob::Payload, "payload"),
        (Knob::Rate, "rate"),
        (Knob::RoomSize, "room_size"),
    ];

    /// The knob's command-line name.
    pub fn name(self) -> &'static str {
        Knob::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("?", |(_, n)| n)
    }

    /// Checks that `value` is a value of this knob.
    fn check(self, value: &str) -> Result<(), SweepError> {
        let mut probe = LoadConfig::default();
        self.apply(&mut probe, value)
    }

    /// Sets this knob of `config` to `value`.
    pub fn apply(self, config: &mut LoadConfig, value: &str) -> Result<(), SweepError> {
        let bad = |what: &str| SweepError::BadValue {
            knob: self,
            value: value.to_string(),
            what: what.to_string(),
        };
        match self {
            Knob::Clients => config.clients = value.parse().map_err(|_| bad("not a count"))?,
            Knob::RoomSize => {
                config.room_size = Some(value.parse().map_err(|_| bad("not a count"))?)
            }
            Knob::Payload => {
                set_payload(config, value.parse().map_err(|_| bad("not a byte count"))?)
            }
            Knob::Rate => set_rate(config, value.parse().map_err(|_| bad("not a number"))?),
            Knob::PollInterval => {
                config.poll_interval = humantime::parse_duration(value)
                    .map_err(|e| bad(&format!("{e} (examples: 100ms, 1s)")))?
            }
        }
        Ok(())
    }
}

impl fmt::Display for Knob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Sets every rate of the scenario: server events per room (if it has any) and each sender's
/// messages (if it has any).
pub fn set_rate(config: &mut LoadConfig, rate_per_s: f64) {
    if config.rate_per_s != 0.0 || config.send.is_none() {
        config.rate_per_s = rate_per_s;
    }
    if let Some(send) = &mut config.send {
        send.rate_per_s = rate_per_s;
    }
}

/// Sets every payload size of the scenario: server events and client messages.
pub fn set_payload(config: &mut LoadConfig, bytes: usize) {
    config.payload_bytes = bytes;
    if let Some(send) = &mut config.send {
        send.payload_bytes = bytes;
    }
}

/// One `--sweep key=v1,v2,...`: a knob and its values, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepAxis {
    /// The swept knob.
    pub knob: Knob,
    /// Its values as written.
    pub values: Vec<String>,
}

impl FromStr for SweepAxis {
    type Err = SweepError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let names: Vec<&str> = Knob::ALL.iter().map(|(_, n)| *n).collect();
        let (key, values) = s.split_once('=').ok_or_else(|| SweepError::Shape {
            names: names.join(", "),
        })?;
        let key = key.trim().replace('-', "_");
        let knob = Knob::ALL
            .iter()
            .find(|(_, n)| *n == key)
            .map(|(k, _)| *k)
            .ok_or_else(|| SweepError::UnknownKnob {
                key: key.clone(),
                names: names.join(", "),
            })?;
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
        if values.iter().any(String::is_empty) {
            return Err(SweepError::EmptyValue {
                key,
                text: s.to_string(),
            });
        }
        for v in &values {
            knob.check(v)?;
        }
        Ok(SweepAxis { knob, values })
    }
}

impl fmt::Display for SweepAxis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.knob, self.values.join(","))
    }
}

/// The points of `axes` over `base`: every combination, the first axis varying slowest. No axes:
/// one point, `base` itself.
pub fn expand(base: &LoadConfig, axes: &[SweepAxis]) -> Result<Vec<Point>, SweepError> {
    let mut points = vec![Point {
        label: String::new(),
        config: base.clone(),
    }];
    for axis in axes {
        let mut next = Vec::with_capacity(points.len() * axis.values.len());
        for point in &points {
            for value in &axis.values {
                let mut config = point.config.clone();
                axis.knob.apply(&mut config, value)?;
                let pair = format!("{}={value}", axis.knob);
                let label = match point.label.is_empty() {
                    true => pair,
                    false => format!("{} {pair}", point.label),
                };
                next.push(Point { label, config });
            }
        }
        points = next;
    }
    Ok(points)
}

/// Command-line overrides of a scenario's values; `None` keeps the scenario's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// Clients per transport.
    pub clients: Option<u64>,
    /// Every rate ([`set_rate`]).
    pub rate: Option<f64>,
    /// Every payload size ([`set_payload`]).
    pub payload: Option<usize>,
    /// Members per room.
    pub room_size: Option<u64>,
    /// Short-poll interval.
    pub poll_interval: Option<Duration>,
    /// Long-poll hold.
    pub longpoll_timeout: Option<Duration>,
    /// Warm-up.
    pub warmup: Option<Duration>,
    /// Measured window.
    pub window: Option<Duration>,
    /// Unmeasured tail.
    pub tail: Option<Duration>,
    /// Longest drain.
    pub drain: Option<Duration>,
}

impl Overrides {
    /// Applies every override that is set to `config`.
    pub fn apply(&self, config: &mut LoadConfig) {
        if let Some(clients) = self.clients {
            config.clients = clients;
        }
        if let Some(rate) = self.rate {
            set_rate(config, rate);
        }
        if let Some(bytes) = self.payload {
            set_payload(config, bytes);
        }
        if let Some(k) = self.room_size {
            config.room_size = Some(k);
        }
        let durations = [
            (self.poll_interval, &mut config.poll_interval),
            (self.longpoll_timeout, &mut config.longpoll_timeout),
            (self.warmup, &mut config.warmup),
            (self.window, &mut config.window),
            (self.tail, &mut config.tail),
            (self.drain, &mut config.drain),
        ];
        for (value, field) in durations {
            if let Some(v) = value {
                *field = v;
            }
        }
    }
}
