//! Scenarios: the chapter's use cases as workloads, one TOML file each (`benches/scenarios/`):
//! `dashboard`, `notifications`, `chat`, `game`, `collaboration` — or a file of one's own.
//!
//! [`load`] takes a built-in name or, failing that, a path, and reads the file strictly
//! ([`file`] documents the format): an unknown key, a missing one, a zero or negative rate, a room
//! larger than the client count — any of them is a one-line error naming the file and the key, and
//! nothing runs. [`knobs`] applies command-line overrides and sweeps on top of a scenario.

pub mod builtin;
mod file;
pub mod knobs;

use crate::config::LoadConfig;
use crate::config::MAX_CLIENTS;
use crate::config::SendFlow;
use rtbench_proto::limits::{MAX_PAYLOAD_BYTES, MAX_SCHEDULE_RATE_PER_S};
use std::path::Path;

/// A scenario read from its file.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Its name: the built-in's, or the file's stem.
    pub name: String,
    /// The file it came from, as a person finds it.
    pub file: String,
    /// The file's text.
    pub text: String,
    /// Its one-line description.
    pub description: String,
    /// Its workload, every transport, with the file's values.
    pub config: LoadConfig,
}

/// A scenario that cannot be used. Every message is one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// Neither a built-in name nor a readable file.
    #[error(
        "scenario '{spec}' is not a built-in ({builtins}) and cannot be read as a file: {reason}"
    )]
    NotFound {
        /// What was asked for.
        spec: String,
        /// The built-in names.
        builtins: String,
        /// Why the file could not be read.
        reason: String,
    },
    /// The file is not valid TOML or does not have the scenario's shape.
    #[error("{file}:{line}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line of the error.
        line: usize,
        /// What is wrong, naming the key and its table.
        message: String,
    },
    /// A value is out of range, or values contradict each other.
    #[error("{file}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// What is wrong, naming the key.
        message: String,
    },
}

/// The scenario `spec` names: a built-in ([`builtin::names`]) or else a path to a scenario file.
pub fn load(spec: &str) -> Result<Scenario, ScenarioError> {
    if let Some((file, text)) = builtin::get(spec) {
        return parse(spec, file, text);
    }
    let path = Path::new(spec);
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::NotFound {
        spec: spec.to_string(),
        builtins: builtin::names()
            .chain([crate::idle::SCENARIO])
            .collect::<Vec<_>>()
            .join(", "),
        reason: e.to_string(),
    })?;
    let name = path
        .file_stem()
        .map_or_else(|| spec.to_string(), |s| s.to_string_lossy().into_owned());
    parse(&name, spec, &text)
}

/// Reads scenario `name` from `text`; `file` names it in errors.
pub fn parse(name: &str, file: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let doc = file::parse(text).map_err(|(line, message)| ScenarioError::Syntax {
        file: file.to_string(),
        line,
        message,
    })?;
    let invalid = |message: String| ScenarioError::Invalid {
        file: file.to_string(),
        message,
    };
    check(&doc).map_err(|e| invalid(e.to_string()))?;
    let config = to_config(name, &doc);
    config.validate().map_err(|e| invalid(e.to_string()))?;
    Ok(Scenario {
        name: name.to_string(),
        file: file.to_string(),
        text: text.to_string(),
        description: doc.description,
        config,
    })
}

/// A scenario file's value out of its range, naming the key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BadValue {
    /// `clients` out of range.
    #[error("clients must be between 1 and {MAX_CLIENTS} (got {0})")]
    Clients(u64),
    /// `room_size = 0`.
    #[error("room_size must be at least 1 (got 0)")]
    EmptyRoom,
    /// A room larger than the client count.
    #[error("room_size ({room_size}) is larger than clients ({clients})")]
    RoomOverClients {
        /// Members per room.
        room_size: u64,
        /// Clients.
        clients: u64,
    },
    /// Neither `[push]` nor `[send]`.
    #[error("needs a [push] table, a [send] table, or both: nothing would be published")]
    NothingPublished,
    /// A rate that is not positive and finite, or too high (`key`: `push.rate_per_s`, ...).
    #[error("{key} must be greater than 0 and at most {MAX_SCHEDULE_RATE_PER_S} (got {got})")]
    Rate {
        /// The key.
        key: &'static str,
        /// The value given.
        got: f64,
    },
    /// `push.payload_bytes` too large.
    #[error("push.payload_bytes must be at most {MAX_PAYLOAD_BYTES} (got {0})")]
    Payload(usize),
    /// `send.senders_per_room` outside the room.
    #[error("send.senders_per_room ({senders}) must be between 1 and room_size ({room_size})")]
    Senders {
        /// The value given.
        senders: u64,
        /// Members per room.
        room_size: u64,
    },
    /// `send.burst = 0`.
    #[error("send.burst must be at least 1 (got 0)")]
    EmptyBurst,
    /// `timing.window = 0`.
    #[error("timing.window must be longer than 0")]
    EmptyWindow,
}

/// Checks the file's values against their ranges, naming the key of the first bad one.
fn check(doc: &file::ScenarioFile) -> Result<(), BadValue> {
    let rate_ok = |r: f64| r.is_finite() && r > 0.0 && r <= MAX_SCHEDULE_RATE_PER_S;
    if !(1..=MAX_CLIENTS).contains(&doc.clients) {
        return Err(BadValue::Clients(doc.clients));
    }
    let room_size = doc.room_size.unwrap_or(doc.clients);
    if room_size == 0 {
        return Err(BadValue::EmptyRoom);
    }
    if room_size > doc.clients {
        return Err(BadValue::RoomOverClients {
            room_size,
            clients: doc.clients,
        });
    }
    if doc.push.is_none() && doc.send.is_none() {
        return Err(BadValue::NothingPublished);
    }
    if let Some(push) = &doc.push {
        if !rate_ok(push.rate_per_s) {
            return Err(BadValue::Rate {
                key: "push.rate_per_s",
                got: push.rate_per_s,
            });
        }
        if push.payload_bytes > MAX_PAYLOAD_BYTES {
            return Err(BadValue::Payload(push.payload_bytes));
        }
    }
    if let Some(send) = &doc.send {
        if !rate_ok(send.rate_per_s) {
            return Err(BadValue::Rate {
                key: "send.rate_per_s",
                got: send.rate_per_s,
            });
        }
        if let Some(senders) = send.senders_per_room.filter(|&n| n == 0 || n > room_size) {
            return Err(BadValue::Senders { senders, room_size });
        }
        if send.burst == Some(0) {
            return Err(BadValue::EmptyBurst);
        }
    }
    if doc.timing.window.is_some_and(|w| w.is_zero()) {
        return Err(BadValue::EmptyWindow);
    }
    Ok(())
}

/// The workload a checked file describes.
fn to_config(name: &str, doc: &file::ScenarioFile) -> LoadConfig {
    let d = LoadConfig::default();
    let (polling, timing) = (&doc.polling, &doc.timing);
    LoadConfig {
        scenario: name.to_string(),
        clients: doc.clients,
        rate_per_s: doc.push.as_ref().map_or(0.0, |p| p.rate_per_s),
        payload_bytes: doc
            .push
            .as_ref()
            .map_or(d.payload_bytes, |p| p.payload_bytes),
        arrivals: doc.push.as_ref().map_or(d.arrivals, |p| p.arrivals),
        room_size: doc.room_size,
        send: doc.send.as_ref().map(|s| SendFlow {
            senders_per_room: s.senders_per_room,
            rate_per_s: s.rate_per_s,
            arrivals: s.arrivals,
            payload_bytes: s.payload_bytes,
            burst: s.burst.unwrap_or(1),
            burst_gap: s.burst_gap.unwrap_or_default(),
            to: s.to,
        }),
        seed: doc.seed.unwrap_or(d.seed),
        poll_interval: polling.poll_interval.unwrap_or(d.poll_interval),
        longpoll_timeout: polling.longpoll_timeout.unwrap_or(d.longpoll_timeout),
        warmup: timing.warmup.unwrap_or(d.warmup),
        window: timing.window.unwrap_or(d.window),
        tail: timing.tail.unwrap_or(d.tail),
        drain: timing.drain.unwrap_or(d.drain),
        ..d
    }
}

#[cfg(test)]
mod tests;
